/**
 * The rows that describe the backend to ProxySQL: its servers, the replication or Aurora hostgroups that keep
 * writer and readers apart, and the pool settings per hostgroup. buildProxySqlConfig (./build.ts) puts them in
 * the configuration; each default here states the measurement or source behind it.
 */
import { READER_HOSTGROUP, userHostgroups, WRITER_HOSTGROUP } from '../constants';
import type { AuroraBackendSpec as AuroraSpec, BackendSpec as Spec, EndpointsBackendSpec as EndpointsSpec } from './build';
import { DeployValue, MySqlAwsAuroraHostgroup, MySqlHostgroupAttributes, MySqlReplicationHostgroup, MySqlServer } from './model';

// Hosts, ports and the Aurora domain may be values the entrypoint fills in (DeployValue): they are only copied here.
type AuroraBackendSpec = AuroraSpec<DeployValue>;
type BackendSpec = Spec<DeployValue>;
type EndpointsBackendSpec = EndpointsSpec<DeployValue>;

/**
 * The backend pool, chosen by measuring through a real ProxySQL (2.7.1) with backend TLS under a Lambda-like
 * fleet (BENCHMARKS.md, "Through a real ProxySQL"). Together with the per-server cap
 * (DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER) and the last-resort reader cap below:
 * - free_connections_pct 50: keep half the cap idle per server. At 100 every connection a burst opened stayed
 *   (2,000 sessions starting in one second: 59 kept for good); at 10 a burst above 2 per server opened new TLS
 *   connections that were closed again on return (MySQL_HostGroups_Manager.cpp destroys free connections above
 *   free_connections_pct * max_connections / 100).
 * - no connection throttle: ProxySQL counts every request that finds no free connection against
 *   throttle_connections_per_sec (MySrvConnList.cpp, new_connections_now++ before the check), so at 20/s the
 *   requests queued behind a failover used the budget up and the first write on the new writer came 779 ms after
 *   the flip instead of 133 ms. The cap bounds the connection count instead.
 * - no warming: it would open free_connections_pct of the cap per server before reusing any connection.
 */
export const BACKEND_POOL = {
  freeConnectionsPct: 50,
  /** ProxySQL's own default (no throttle); stated because a hostgroup_attributes row needs a value. */
  throttleConnectionsPerSec: 1_000_000,
  connectionWarming: false,
} as const;

/** The pool settings as a mysql_hostgroup_attributes row states them (a row overrides the globals). */
const POOL_ATTRIBUTES = {
  freeConnectionsPct: BACKEND_POOL.freeConnectionsPct,
  connectionWarming: BACKEND_POOL.connectionWarming,
  throttleConnectionsPerSec: BACKEND_POOL.throttleConnectionsPerSec,
};

/**
 * How often ProxySQL asks the backends who the writer is: read_only on every server (endpoints), or Aurora's
 * replica_host_status on one instance (Aurora: it queries one instance per check, lib/MySQL_Monitor.cpp). With the
 * default 1000 ms the first write on a new writer came up to ~0.7-1.1 s after the flip; detection waits for the
 * next check, so the interval bounds it. The cost is one small query per interval per task (and per server
 * for read_only): 10 per second, negligible for any RDS or Aurora instance.
 */
export const FAILOVER_CHECK = {
  intervalMs: 100,
  /** Aurora's `check_timeout_ms` (80-3000 in mysql_aws_aurora_hostgroups). */
  timeoutMs: 80,
  /**
   * `mysql-monitor_read_only_timeout`: 100 is ProxySQL's minimum (100-600000, lib/MySQL_Thread.cpp). The 80 rendered
   * before was refused: 2.7.1 logged 'Impossible to set variable monitor_read_only_timeout with value "80". Resetting
   * to current "800"' (test/fixtures/proxysql-variables/proxysql-2.7.1-refused-variables.log), so it ran with 800.
   */
  readOnlyTimeoutMs: 100,
  timeoutsBeforeReadOnly: 10,
} as const;

/**
 * The writer's pool as a last-resort reader: a quarter of the cap (at least 2). With the full cap, every read burst
 * that found the replicas' pools busy opened connections to the writer for a handful of reads (20 connections
 * for 189 reads of 47,000 in a measured cold start of 2,000 sessions); when every replica is down, reads still
 * have the writer, queued on these connections.
 */
export function lastResortReaderCap(maxConnections: number): number {
  return Math.max(2, Math.ceil(maxConnections / 4));
}

/** Weight of replicas in the reader hostgroup, against the writer's 1 there: the writer serves reads only when no replica can. */
export const REPLICA_READ_WEIGHT = 1000;
export const WRITER_READ_WEIGHT = 1;

export interface BackendRows {
  servers: MySqlServer[];
  replicationHostgroups: MySqlReplicationHostgroup[];
  auroraHostgroups: MySqlAwsAuroraHostgroup[];
  hostgroupAttributes: MySqlHostgroupAttributes[];
}

/**
 * The rows for `users` application users: user 0 writes through WRITER_HOSTGROUP, each further user through a
 * writer hostgroup of its own (userHostgroups), the same writer server with its own cap of `maxConnections`, so that
 * one user's pinned sessions cannot take another user's pool. Reads share READER_HOSTGROUP. Each further writer
 * hostgroup comes with a pair row (replication or Aurora) and a reader hostgroup that holds the readers for that
 * pair only: ProxySQL moves a server between the two hostgroups of a pair (lib/MySQL_HostGroups_Manager.cpp,
 * read_only_action_v2 walks every pair a server is in; the Aurora monitor checks each pair), so every user's writer
 * hostgroup follows a failover the way the first one does.
 */
export function buildBackend(backend: BackendSpec, maxConnections: number, users = 1): BackendRows {
  const rows = backend.kind === 'aurora' ? auroraRows(backend, maxConnections) : endpointRows(backend, maxConnections);
  for (let index = 1; index < users; index++) {
    const pool = backend.kind === 'aurora' ? auroraUserPool(backend, maxConnections, index) : endpointUserPool(backend, maxConnections, index);
    rows.servers.push(...pool.servers);
    rows.replicationHostgroups.push(...pool.replicationHostgroups);
    rows.auroraHostgroups.push(...pool.auroraHostgroups);
    rows.hostgroupAttributes.push(...pool.hostgroupAttributes);
  }
  return rows;
}

/** The comment of a further user's writer pool rows. */
function userPoolComment(index: number): string {
  return `users[${index}]'s own writer pool`;
}

/**
 * Aurora: seed the instances we know (the monitor connects only to servers already in the writer or reader
 * hostgroup and then follows replica_host_status). The writer is also seeded in the reader hostgroup at
 * weight 1: ProxySQL evaluates writer_is_also_reader only on a topology change (maintainer in
 * sysown/proxysql#5592), and without the writer there, reads fail with 9001 once every reader is gone.
 */
function auroraRows(backend: AuroraBackendSpec, maxConnections: number): BackendRows {
  const [writer, ...readers] = backend.instanceEndpoints;
  const server = auroraServer(backend, maxConnections);
  return {
    servers: [
      server(WRITER_HOSTGROUP, writer, WRITER_READ_WEIGHT, 'seed: writer at deploy time; the Aurora monitor follows failovers'),
      server(READER_HOSTGROUP, writer, WRITER_READ_WEIGHT, 'writer as last-resort reader', lastResortReaderCap(maxConnections)),
      ...readers.map((reader) => server(READER_HOSTGROUP, reader, REPLICA_READ_WEIGHT, 'reader')),
    ],
    replicationHostgroups: [],
    auroraHostgroups: [
      auroraPair(backend, WRITER_HOSTGROUP, READER_HOSTGROUP, true, 'Aurora auto-discovery: instances and the writer from information_schema.replica_host_status'),
    ],
    hostgroupAttributes: [WRITER_HOSTGROUP, READER_HOSTGROUP].map((hostgroupId) => auroraAttributes(backend, maxConnections, hostgroupId, 'pool settings, and defaults for discovered Aurora instances')),
  };
}

/** A further user's writer pool on Aurora: the seed writer, the other instances in the pair's reader hostgroup, its own pair. */
function auroraUserPool(backend: AuroraBackendSpec, maxConnections: number, index: number): BackendRows {
  const [writer, ...readers] = backend.instanceEndpoints;
  const { writer: writerHostgroup, reader: readerHostgroup } = userHostgroups(index);
  const server = auroraServer(backend, maxConnections);
  const comment = userPoolComment(index);
  return {
    servers: [server(writerHostgroup, writer, WRITER_READ_WEIGHT, comment), ...readers.map((reader) => server(readerHostgroup, reader, REPLICA_READ_WEIGHT, comment))],
    replicationHostgroups: [],
    // The pair's reader hostgroup serves nothing: the writer need not be in it.
    auroraHostgroups: [auroraPair(backend, writerHostgroup, readerHostgroup, false, comment)],
    hostgroupAttributes: [auroraAttributes(backend, maxConnections, writerHostgroup, comment)],
  };
}

function auroraServer(backend: AuroraBackendSpec, maxConnections: number) {
  return (hostgroup: number, address: string | DeployValue, weight: number, comment: string, cap = maxConnections): MySqlServer => ({
    hostgroup,
    address,
    port: backend.port,
    weight,
    maxConnections: cap,
    useSsl: backend.useTls,
    comment,
  });
}

function auroraPair(backend: AuroraBackendSpec, writerHostgroup: number, readerHostgroup: number, writerIsAlsoReader: boolean, comment: string): MySqlAwsAuroraHostgroup {
  return {
    writerHostgroup,
    readerHostgroup,
    active: true,
    auroraPort: backend.port,
    domainName: backend.domainName,
    maxLagMs: backend.maxReplicaLagMs,
    checkIntervalMs: FAILOVER_CHECK.intervalMs,
    checkTimeoutMs: FAILOVER_CHECK.timeoutMs,
    writerIsAlsoReader,
    newReaderWeight: REPLICA_READ_WEIGHT,
    comment,
  };
}

/** Discovered instances take these defaults; they do not inherit use_ssl from the seed (sysown/proxysql#2861). */
function auroraAttributes(backend: AuroraBackendSpec, maxConnections: number, hostgroupId: number, comment: string): MySqlHostgroupAttributes {
  return {
    hostgroupId,
    ...POOL_ATTRIBUTES,
    serversDefaults: JSON.stringify({ use_ssl: backend.useTls ? 1 : 0, max_connections: maxConnections }),
    comment,
  };
}

/** Endpoints: the writer in both hostgroups (weight 1 among readers), replicas in the reader hostgroup. */
function endpointRows(backend: EndpointsBackendSpec, maxConnections: number): BackendRows {
  const base = { maxConnections, useSsl: backend.useTls };
  return {
    servers: [
      { ...base, hostgroup: WRITER_HOSTGROUP, address: backend.writer.host, port: backend.writer.port, weight: REPLICA_READ_WEIGHT, comment: 'writer' },
      {
        ...base,
        hostgroup: READER_HOSTGROUP,
        address: backend.writer.host,
        port: backend.writer.port,
        weight: WRITER_READ_WEIGHT,
        maxConnections: lastResortReaderCap(maxConnections),
        comment: 'writer as last-resort reader',
      },
      ...backend.readers.map((reader) => ({
        ...base,
        hostgroup: READER_HOSTGROUP,
        address: reader.host,
        port: reader.port,
        weight: REPLICA_READ_WEIGHT,
        maxReplicationLag: backend.maxReplicaLagSeconds,
        comment: 'reader',
      })),
    ],
    replicationHostgroups: [
      {
        writerHostgroup: WRITER_HOSTGROUP,
        readerHostgroup: READER_HOSTGROUP,
        checkType: backend.checkType,
        comment: 'roles follow read_only: a promoted replica becomes the writer',
      },
    ],
    auroraHostgroups: [],
    hostgroupAttributes: [endpointWriterAttributes(backend, WRITER_HOSTGROUP), { hostgroupId: READER_HOSTGROUP, ...POOL_ATTRIBUTES, comment: 'pool settings' }],
  };
}

/** A further user's writer pool: the writer, the replicas in the pair's reader hostgroup (never routed to), its own pair. */
function endpointUserPool(backend: EndpointsBackendSpec, maxConnections: number, index: number): BackendRows {
  const { writer: writerHostgroup, reader: readerHostgroup } = userHostgroups(index);
  const comment = userPoolComment(index);
  const base = { maxConnections, useSsl: backend.useTls, comment };
  return {
    servers: [
      { ...base, hostgroup: writerHostgroup, address: backend.writer.host, port: backend.writer.port, weight: REPLICA_READ_WEIGHT },
      ...backend.readers.map((reader) => ({ ...base, hostgroup: readerHostgroup, address: reader.host, port: reader.port, weight: REPLICA_READ_WEIGHT })),
    ],
    replicationHostgroups: [{ writerHostgroup, readerHostgroup, checkType: backend.checkType, comment }],
    auroraHostgroups: [],
    hostgroupAttributes: [endpointWriterAttributes(backend, writerHostgroup)],
  };
}

/**
 * A promoted replica keeps its max_replication_lag in its copy in the writer hostgroup, and with replication
 * stopped its lag reads NULL, which ProxySQL counts as mysql-monitor_slave_lag_when_null (60 s): the new writer
 * would be shunned and every write would fail (sysown/proxysql#4107, #3897). In a writer hostgroup a missing lag
 * counts as 0 instead; readers with broken replication are still shunned.
 */
function endpointWriterAttributes(backend: EndpointsBackendSpec, hostgroupId: number): MySqlHostgroupAttributes {
  const lag = backend.maxReplicaLagSeconds > 0;
  return {
    hostgroupId,
    ...POOL_ATTRIBUTES,
    ...(lag ? { hostgroupSettings: JSON.stringify({ monitor_slave_lag_when_null: 0 }) } : {}),
    comment: lag ? 'pool settings; never shun the writer for a NULL replication lag after a promotion' : 'pool settings',
  };
}
