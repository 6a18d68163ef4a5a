/**
 * One task's ProxySQL `/metrics`, reduced to what the collector publishes: gauges as they are, counters as running
 * totals (turned into deltas against the previous scrape in ./aggregate.ts), and one row per (hostgroup, server).
 * Series names and labels are those of a real ProxySQL 2.7.1 (test/fixtures/proxysql-2.7.1*).
 */
import { SERVER_STATUS_ONLINE } from '../../src/config/metrics';
import { WRITER_HOSTGROUP } from '../../src/constants';
import { Sample } from './prometheus';

/** Counters of the whole task, by the key ./aggregate.ts publishes them under. */
export const TASK_COUNTERS = {
  clientConnectionsCreated: { series: 'proxysql_client_connections_total', labels: { status: 'created' } },
  clientConnectionsAborted: { series: 'proxysql_client_connections_total', labels: { status: 'aborted' } },
  queryErrors: { series: 'proxysql_generated_error_packets_total' },
  hostgroupLockedQueries: { series: 'proxysql_hostgroup_locked_queries_total' },
  poolGetFailures: { series: 'proxysql_connpool_get_conn_failure_total' },
  maxConnectTimeouts: { series: 'proxysql_max_connect_timeouts_total' },
} as const;

export type TaskCounterKey = keyof typeof TASK_COUNTERS;

/**
 * The memory ProxySQL accounts for itself, refreshed on a scrape at most every admin-prometheus_memory_metrics_interval
 * (61 s). Not `proxysql_jemalloc_bytes`: ProxySQL refreshes jemalloc's statistics (mallctl "epoch") only when the admin
 * table stats_memory_metrics is read, so on /metrics they stay at their first value. Not the thread stacks: reserved
 * address space, not memory in use. The task's memory as a whole is ECS's MemoryUtilization.
 */
export const MEMORY_SERIES = [
  'proxysql_connpool_memory_bytes',
  'proxysql_sqlite3_memory_bytes',
  'proxysql_query_digest_memory_bytes',
  'proxysql_auth_memory_bytes',
  'proxysql_mysql_query_rules_memory_bytes',
  'proxysql_mysql_firewall_users_table_bytes',
  'proxysql_mysql_firewall_users_config_bytes',
  'proxysql_mysql_firewall_rules_table_bytes',
  'proxysql_mysql_firewall_rules_config_bytes',
  'proxysql_mysql_frontend_buffers_bytes',
  'proxysql_mysql_backend_buffers_bytes',
  'proxysql_mysql_session_internal_bytes',
  'proxysql_query_cache_memory_bytes',
  'prepare_stmt_metadata_memory_bytes',
  'prepare_stmt_backend_memory_bytes',
] as const;

/** One row of ProxySQL's connection pool: a server in a hostgroup, as this task sees it. */
export interface ServerRow {
  readonly hostgroup: number;
  /** `host:port`. */
  readonly endpoint: string;
  readonly used: number;
  readonly free: number;
  /** 1 ONLINE, 2 SHUNNED, 3 OFFLINE_SOFT, 4 OFFLINE_HARD, 5 SHUNNED_REPLICATION_LAG; undefined when not exposed. */
  readonly status?: number;
  readonly latencyUs?: number;
  /** Running totals: failed connection attempts, queries routed to it. */
  readonly connectErrorsTotal: number;
  readonly queriesTotal: number;
}

export interface TaskSnapshot {
  readonly clientConnections: number;
  /** `mysql-max_connections`, when exposed. */
  readonly maxConnections?: number;
  readonly sessionsInTransaction: number;
  readonly sessionsLockedToHostgroup: number;
  readonly memoryBytes: number;
  readonly counters: Readonly<Record<TaskCounterKey, number>>;
  readonly servers: readonly ServerRow[];
}

/** Reads a task's samples; throws when the scrape is not ProxySQL's /metrics (no client connection gauge). */
export function taskSnapshot(samples: readonly Sample[]): TaskSnapshot {
  const byName = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  const find = (series: string, labels: Readonly<Record<string, string>> = {}) =>
    (byName.get(series) ?? []).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const clientConnections = find('proxysql_client_connections_connected');
  if (clientConnections === undefined) throw new Error('no proxysql_client_connections_connected: not a ProxySQL /metrics page');
  const counters = Object.fromEntries(
    Object.entries(TASK_COUNTERS).map(([key, c]) => [key, find(c.series, 'labels' in c ? c.labels : {}) ?? 0]),
  ) as Record<TaskCounterKey, number>;
  return {
    clientConnections,
    maxConnections: find('proxysql_mysql_max_connections'),
    sessionsInTransaction: find('proxysql_active_transactions') ?? 0,
    sessionsLockedToHostgroup: find('proxysql_client_connections_hostgroup_locked') ?? 0,
    memoryBytes: MEMORY_SERIES.reduce((sum, series) => sum + finite(find(series)), 0),
    counters,
    servers: serverRows(byName),
  };
}

/** The (hostgroup, endpoint) rows of the connpool series; a row exists when any of them names it. */
function serverRows(byName: ReadonlyMap<string, Sample[]>): ServerRow[] {
  const rows = new Map<string, { hostgroup: number; endpoint: string; used: number; free: number; status?: number; latencyUs?: number; connectErrorsTotal: number; queriesTotal: number }>();
  const row = (s: Sample) => {
    const hostgroup = Number(s.labels.hostgroup);
    const endpoint = s.labels.endpoint;
    if (!Number.isInteger(hostgroup) || !endpoint) return undefined;
    const key = `${hostgroup}|${endpoint}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { hostgroup, endpoint, used: 0, free: 0, connectErrorsTotal: 0, queriesTotal: 0 }));
    return r;
  };
  const each = (series: string, apply: (r: NonNullable<ReturnType<typeof row>>, s: Sample) => void) => {
    for (const s of byName.get(series) ?? []) {
      const r = row(s);
      if (r) apply(r, s);
    }
  };
  each('proxysql_connpool_conns', (r, s) => {
    if (s.labels.status === 'used') r.used = finite(s.value);
    else if (s.labels.status === 'free') r.free = finite(s.value);
  });
  each('proxysql_connpool_conns_status', (r, s) => (r.status = s.value));
  each('proxysql_connpool_conns_latency_us', (r, s) => (r.latencyUs = s.value));
  each('proxysql_connpool_conns_total', (r, s) => {
    if (s.labels.status === 'err') r.connectErrorsTotal = finite(s.value);
  });
  each('proxysql_connpool_conns_queries_total', (r, s) => (r.queriesTotal = finite(s.value)));
  return [...rows.values()].sort((a, b) => a.hostgroup - b.hostgroup || a.endpoint.localeCompare(b.endpoint));
}

/** Servers of this task that are not ONLINE (a row without a status is not counted: nothing says it is down). */
export function serversNotOnline(snapshot: TaskSnapshot): number {
  return snapshot.servers.filter((s) => s.status !== undefined && s.status !== SERVER_STATUS_ONLINE).length;
}

/** The ONLINE servers of the writer hostgroup: this task's view of the writer. */
export function writerEndpoints(snapshot: TaskSnapshot): string[] {
  return snapshot.servers.filter((s) => s.hostgroup === WRITER_HOSTGROUP && s.status === SERVER_STATUS_ONLINE).map((s) => s.endpoint);
}

function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}
