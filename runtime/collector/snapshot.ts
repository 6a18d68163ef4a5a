/**
 * One task's figures line (written by its agent container from ProxySQL's admin interface, src/config/figures.ts),
 * reduced to what the collector publishes: gauges as they are, counters as running totals (turned into deltas
 * against the previous round in ./aggregate.ts), and one row per (hostgroup, server). Names are those of a real
 * ProxySQL 2.7.1's admin tables (test/fixtures/proxysql-2.7.1*).
 */
import { FIGURES_GLOBALS, FIGURES_MEMORY_GLOBALS, FIGURES_VERSION, SERVER_STATUS_CODES } from '../../src/config/figures';
import { SERVER_STATUS_ONLINE } from '../../src/config/metrics';
import { WRITER_HOSTGROUP } from '../../src/constants';

/** Counters of the whole task (stats_mysql_global running totals), by the key ./aggregate.ts publishes them under. */
export const TASK_COUNTERS = {
  clientConnectionsCreated: FIGURES_GLOBALS.clientConnectionsCreated,
  clientConnectionsAborted: FIGURES_GLOBALS.clientConnectionsAborted,
  queryErrors: FIGURES_GLOBALS.queryErrors,
  hostgroupLockedQueries: FIGURES_GLOBALS.hostgroupLockedQueries,
  poolGetFailures: FIGURES_GLOBALS.poolGetFailures,
  maxConnectTimeouts: FIGURES_GLOBALS.maxConnectTimeouts,
} as const;

export type TaskCounterKey = keyof typeof TASK_COUNTERS;

/** One row of ProxySQL's connection pool: a server in a hostgroup, as this task sees it. */
export interface ServerRow {
  readonly hostgroup: number;
  /** `host:port`. */
  readonly endpoint: string;
  readonly used: number;
  readonly free: number;
  /** 1 ONLINE, 2 SHUNNED, 3 OFFLINE_SOFT, 4 OFFLINE_HARD, 5 SHUNNED_REPLICATION_LAG; undefined for a status not known here. */
  readonly status?: number;
  readonly latencyUs?: number;
  /** Running totals: failed connection attempts, queries routed to it. */
  readonly connectErrorsTotal: number;
  readonly queriesTotal: number;
}

export interface TaskSnapshot {
  readonly clientConnections: number;
  /** `mysql-max_connections`, when known. */
  readonly maxConnections?: number;
  readonly sessionsInTransaction: number;
  readonly sessionsLockedToHostgroup: number;
  readonly memoryBytes: number;
  readonly counters: Readonly<Record<TaskCounterKey, number>>;
  readonly servers: readonly ServerRow[];
}

/**
 * Reads a figures line's JSON (what follows the marker); throws when it is not one this collector knows, so a
 * truncated or foreign line is a read failure, never data.
 */
export function figuresSnapshot(json: string): TaskSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`not a figures line: ${(error as Error).message}`);
  }
  const record = parsed as { v?: unknown; global?: unknown; memory?: unknown; maxConnections?: unknown; servers?: unknown };
  if (typeof record !== 'object' || record === null || record.v !== FIGURES_VERSION) throw new Error(`not a figures line of version ${FIGURES_VERSION}`);
  const global = (typeof record.global === 'object' && record.global !== null ? record.global : {}) as Record<string, unknown>;
  const memory = (typeof record.memory === 'object' && record.memory !== null ? record.memory : {}) as Record<string, unknown>;
  const clientConnections = numberOf(global[FIGURES_GLOBALS.clientConnections]);
  if (clientConnections === undefined) throw new Error(`no ${FIGURES_GLOBALS.clientConnections}: not ProxySQL's stats_mysql_global`);
  const counters = Object.fromEntries(Object.entries(TASK_COUNTERS).map(([key, name]) => [key, numberOf(global[name]) ?? 0])) as Record<TaskCounterKey, number>;
  const memoryBytes =
    FIGURES_MEMORY_GLOBALS.reduce((sum, name) => sum + (numberOf(global[name]) ?? 0), 0) +
    Object.values(memory).reduce<number>((sum, value) => sum + (numberOf(value) ?? 0), 0);
  return {
    clientConnections,
    maxConnections: numberOf(record.maxConnections),
    sessionsInTransaction: numberOf(global[FIGURES_GLOBALS.sessionsInTransaction]) ?? 0,
    sessionsLockedToHostgroup: numberOf(global[FIGURES_GLOBALS.sessionsLockedToHostgroup]) ?? 0,
    memoryBytes,
    counters,
    servers: serverRows(record.servers),
  };
}

/** stats_mysql_connection_pool rows: [hostgroup, srv_host, srv_port, status, ConnUsed, ConnFree, ConnERR, Queries, Latency_us]. */
function serverRows(rows: unknown): ServerRow[] {
  if (!Array.isArray(rows)) throw new Error('no servers array: not a figures line');
  const out: ServerRow[] = [];
  for (const row of rows) {
    if (!Array.isArray(row) || row.length < 9) throw new Error('a servers row is not [hostgroup, host, port, status, used, free, err, queries, latency]');
    const [hostgroup, host, port, status, used, free, err, queries, latency] = row as unknown[];
    const hg = numberOf(hostgroup);
    if (hg === undefined || !Number.isInteger(hg) || typeof host !== 'string' || host === '') throw new Error('a servers row has no hostgroup or host');
    out.push({
      hostgroup: hg,
      endpoint: `${host}:${numberOf(port) ?? ''}`,
      used: numberOf(used) ?? 0,
      free: numberOf(free) ?? 0,
      status: typeof status === 'string' ? SERVER_STATUS_CODES[status] : undefined,
      latencyUs: numberOf(latency),
      connectErrorsTotal: numberOf(err) ?? 0,
      queriesTotal: numberOf(queries) ?? 0,
    });
  }
  return out.sort((a, b) => a.hostgroup - b.hostgroup || a.endpoint.localeCompare(b.endpoint));
}

/** A finite number from a JSON number or ProxySQL's text value; undefined otherwise. */
function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Servers of this task that are not ONLINE (a row without a status is not counted: nothing says it is down). */
export function serversNotOnline(snapshot: TaskSnapshot): number {
  return snapshot.servers.filter((s) => s.status !== undefined && s.status !== SERVER_STATUS_ONLINE).length;
}

/** The ONLINE servers of the writer hostgroup: this task's view of the writer. */
export function writerEndpoints(snapshot: TaskSnapshot): string[] {
  return snapshot.servers.filter((s) => s.hostgroup === WRITER_HOSTGROUP && s.status === SERVER_STATUS_ONLINE).map((s) => s.endpoint);
}
