/** Reads what `doctor` judges from a ProxySQL admin interface (127.0.0.1:6032 in a task, through ECS Exec). */
import * as mysql from 'mysql2/promise';
import { AdminSnapshot } from './analyze';

type Row = mysql.RowDataPacket;
const n = (v: unknown) => (v === null || v === undefined || v === '' ? 0 : Number(v));

/** The admin tables' rows (column names as ProxySQL gives them; values as text or numbers, NULL as null). */
export interface AdminRows {
  pool: Array<Record<string, unknown>>;
  processlist: Array<Record<string, unknown>>;
  global: Array<Record<string, unknown>>;
  digests: Array<Record<string, unknown>>;
}

export async function fetchSnapshot(conn: mysql.Connection): Promise<AdminSnapshot> {
  const [pool] = await conn.query<Row[]>('SELECT * FROM stats_mysql_connection_pool');
  const [processlist] = await conn.query<Row[]>('SELECT * FROM stats_mysql_processlist');
  const [global] = await conn.query<Row[]>('SELECT * FROM stats_mysql_global');
  const [digests] = await conn.query<Row[]>('SELECT * FROM stats_mysql_query_digest ORDER BY sum_time DESC LIMIT 200');
  return snapshotFromRows({ pool, processlist, global, digests });
}

/** Maps the tables' rows to what `analyze` reads. */
export function snapshotFromRows({ pool, processlist, global, digests }: AdminRows): AdminSnapshot {
  return {
    pool: pool.map((r) => ({
      hostgroup: n(r.hostgroup),
      server: `${r.srv_host}:${r.srv_port}`,
      status: String(r.status),
      used: n(r.ConnUsed),
      free: n(r.ConnFree),
      errors: n(r.ConnERR),
      queries: n(r.Queries),
      latencyUs: n(r.Latency_us),
    })),
    processlist: processlist.map((r) => ({
      sessionId: n(r.SessionID),
      hostgroup: n(r.hostgroup),
      server: r.srv_host === null || r.srv_host === undefined ? undefined : `${r.srv_host}:${r.srv_port}`,
      command: String(r.command),
      timeMs: n(r.time_ms),
      statusFlags: r.status_flags === null || r.status_flags === undefined ? null : n(r.status_flags),
      info: r.info === null || r.info === undefined ? undefined : String(r.info),
    })),
    global: Object.fromEntries(
      global.filter((r) => /^\d+$/.test(String(r.Variable_Value))).map((r) => [String(r.Variable_Name), Number(r.Variable_Value)]),
    ),
    digests: digests.map((r) => ({ hostgroup: n(r.hostgroup), digestText: String(r.digest_text), count: n(r.count_star), sumTimeUs: n(r.sum_time) })),
  };
}
