/**
 * What a run through a real ProxySQL measures on the proxy itself: its backend connection pool (sampled from the
 * admin table stats_mysql_connection_pool every 250 ms), a few global counters, and, for a failover, a write probe
 * every 20 ms through the proxy.
 */
import * as mysql from 'mysql2/promise';
import { ITEMS_TABLE, closeQuietly, connectionOptions, Credentials, now } from './workload';
import { Endpoint } from './options';
import { errorKey } from './stats';

export const POOL_SAMPLE_INTERVAL_MS = 250;
export const PROBE_INTERVAL_MS = 20;

export interface PoolServer {
  hostgroup: number;
  server: string;
  /** Highest ConnUsed + ConnFree seen for this server in this hostgroup. */
  peak: number;
  /** ConnERR at the end of the run. */
  connErrors: number;
  queries: number;
}

export interface PoolFigures {
  /** Median of the sampled totals (ConnUsed + ConnFree over every hostgroup and server) over the second half of the run. */
  steady: number;
  /** Highest sampled total. */
  peak: number;
  samples: number;
  servers: PoolServer[];
  /** stats_mysql_global counters at the end (delta over the run where the counter is cumulative). */
  global: Record<string, number>;
}

const GLOBAL_COUNTERS = [
  'Server_Connections_created',
  'Server_Connections_aborted',
  'Server_Connections_delayed',
  'ConnPool_get_conn_failure',
  'ConnPool_get_conn_immediate',
  'ConnPool_get_conn_success',
  'Client_Connections_created',
  'Client_Connections_aborted',
  'Questions',
  'max_connect_timeouts',
  'hostgroup_locked_queries',
];

interface PoolRow extends mysql.RowDataPacket {
  hostgroup: string;
  srv_host: string;
  srv_port: string;
  ConnUsed: string;
  ConnFree: string;
  ConnERR: string;
  Queries: string;
}

async function globals(conn: mysql.Connection): Promise<Record<string, number>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT Variable_Name AS n, Variable_Value AS v FROM stats_mysql_global');
  const out: Record<string, number> = {};
  for (const row of rows) if (GLOBAL_COUNTERS.includes(String(row.n))) out[String(row.n)] = Number(row.v);
  return out;
}

/** Samples the pool until stop(); stop() returns the figures. */
export async function startPoolSampler(admin: () => Promise<mysql.Connection>) {
  const conn = await admin();
  conn.on('error', () => undefined);
  const before = await globals(conn);
  const totals: Array<[number, number]> = [];
  const servers = new Map<string, PoolServer>();
  const t0 = now();
  let busy = false;
  const sample = async () => {
    if (busy) return;
    busy = true;
    try {
      const [rows] = await conn.query<PoolRow[]>(
        'SELECT hostgroup, srv_host, srv_port, ConnUsed, ConnFree, ConnERR, Queries FROM stats_mysql_connection_pool',
      );
      let total = 0;
      for (const row of rows) {
        const key = `${row.hostgroup} ${row.srv_host}:${row.srv_port}`;
        const open = Number(row.ConnUsed) + Number(row.ConnFree);
        total += open;
        const entry = servers.get(key) ?? { hostgroup: Number(row.hostgroup), server: `${row.srv_host}:${row.srv_port}`, peak: 0, connErrors: 0, queries: 0 };
        entry.peak = Math.max(entry.peak, open);
        entry.connErrors = Number(row.ConnERR);
        entry.queries = Number(row.Queries);
        servers.set(key, entry);
      }
      totals.push([now() - t0, total]);
    } catch {
      // a sample lost to a busy admin thread; the next one counts
    } finally {
      busy = false;
    }
  };
  await sample();
  const timer = setInterval(() => void sample(), POOL_SAMPLE_INTERVAL_MS);
  return {
    async stop(): Promise<PoolFigures> {
      clearInterval(timer);
      await sample();
      const after = await globals(conn).catch(() => ({}) as Record<string, number>);
      await closeQuietly(conn);
      const end = totals.length ? totals[totals.length - 1][0] : 0;
      const secondHalf = totals.filter(([t]) => t >= end / 2).map(([, n]) => n).sort((a, b) => a - b);
      const global: Record<string, number> = {};
      for (const name of GLOBAL_COUNTERS) if (name in after) global[name] = after[name] - (before[name] ?? 0);
      return {
        steady: secondHalf.length ? secondHalf[Math.floor((secondHalf.length - 1) / 2)] : 0,
        peak: Math.max(0, ...totals.map(([, n]) => n)),
        samples: totals.length,
        servers: [...servers.values()].sort((a, b) => a.hostgroup - b.hostgroup || a.server.localeCompare(b.server)),
        global,
      };
    },
  };
}

export interface ProbeWrite {
  /** performance.now() when the INSERT was sent and when it ended */
  startedAt: number;
  endedAt: number;
  error?: string;
}

/**
 * One session that INSERTs every PROBE_INTERVAL_MS through the proxy, as a Lambda retrying writes would: on a lost
 * connection it reconnects at once. Every attempt is kept, so the failover window can be read off it afterwards.
 */
export function startWriteProbe(target: Endpoint, creds: Credentials) {
  const writes: ProbeWrite[] = [];
  let running = true;
  let conn: mysql.Connection | undefined;
  const loop = (async () => {
    while (running) {
      const startedAt = now();
      try {
        if (!conn) {
          const c = await mysql.createConnection(connectionOptions(target, creds, 1000));
          c.on('error', () => {
            if (conn === c) conn = undefined;
          });
          conn = c;
        }
        await conn.query({ sql: `INSERT INTO ${ITEMS_TABLE} (session_id, payload) VALUES (0, 'probe')`, timeout: 5000 });
        writes.push({ startedAt, endedAt: now() });
      } catch (err) {
        writes.push({ startedAt, endedAt: now(), error: errorKey(err) });
        const c = conn;
        conn = undefined;
        if (c) void closeQuietly(c);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, PROBE_INTERVAL_MS - (now() - startedAt))));
    }
  })();
  return {
    async stop(): Promise<ProbeWrite[]> {
      running = false;
      await loop;
      if (conn) await closeQuietly(conn);
      return writes;
    },
  };
}

export interface ProbeFigures {
  /** From the replica becoming writable to the end of the first probe write that succeeded after the demotion. */
  flipToFirstWriteMs: number | null;
  /** Probe writes that failed between the demotion and that first success. */
  failedWrites: number;
  errors: Record<string, number>;
}

/**
 * A probe write that succeeds after the old primary turned read-only can only have landed on the new primary
 * (the app user has no SUPER / READ ONLY ADMIN), so the first such success is the first write on it.
 */
export function probeFigures(writes: ProbeWrite[], demotedAt: number, promotedAt: number): ProbeFigures {
  const first = writes.find((w) => !w.error && w.startedAt >= demotedAt);
  const failed = writes.filter((w) => w.error && w.endedAt >= demotedAt && (!first || w.startedAt < first.startedAt));
  const errors: Record<string, number> = {};
  for (const w of failed) errors[w.error as string] = (errors[w.error as string] ?? 0) + 1;
  return { flipToFirstWriteMs: first ? first.endedAt - promotedAt : null, failedWrites: failed.length, errors };
}
