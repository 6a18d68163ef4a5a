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

/** Where doctor tried to log in, for {@link connectFailure}'s message. */
export interface AdminTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly passwordEnv: string;
  readonly connectTimeoutMs: number;
}

/**
 * What went wrong when doctor could not log in, and what to do: a refused login (the admin interface answered, with
 * error 1045) is a wrong user or password, not an unreachable port (nothing listens: ECONNREFUSED; nothing answers:
 * ETIMEDOUT), and each has its own fix. Never the password.
 */
export function connectFailure(error: unknown, target: AdminTarget): string {
  const e = error as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const where = `${target.host}:${target.port}`;
  if (e.errno === 1045 || e.code === 'ER_ACCESS_DENIED_ERROR') {
    return (
      `the admin interface at ${where} refused the login of '${target.user}' (error 1045: ${e.sqlMessage ?? e.message ?? 'access denied'}): ` +
      `the password in ${target.passwordEnv} is not the admin password, or the user is not the admin user. ` +
      "Fix: put the task's admin password (the secret ProxySqlService.adminSecret, AdminSecret in the stack) in " +
      `${target.passwordEnv}, with --user admin`
    );
  }
  if (e.code === 'ECONNREFUSED') {
    return (
      `nothing listens at ${where} (ECONNREFUSED): the admin interface is not reachable there. ` +
      "Fix: start the port forward to the task's 127.0.0.1:6032 (docs/cli.md, \"doctor\") and give its local port with --admin"
    );
  }
  if (e.code === 'ETIMEDOUT') {
    return (
      `no answer from ${where} within ${target.connectTimeoutMs / 1000} s (ETIMEDOUT): the port is open but no admin interface answered. ` +
      "Fix: check that the port forward reaches the task's 127.0.0.1:6032 and that --admin names the forward's local port, not a client port (6033)"
    );
  }
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
    return `cannot resolve ${target.host} (${e.code}). Fix: give --admin HOST:PORT with a name or address of this machine's port forward`;
  }
  return `cannot reach the admin interface at ${where} as '${target.user}' (${e.code ?? e.message ?? String(error)})`;
}
