/**
 * `doctor`'s judgement, from what ProxySQL's admin interface shows (pure: rows in, report out). What a reason looks
 * like in the rows was read off a real ProxySQL 2.7.1 with sessions pinned for known reasons
 * (test/fixtures/proxysql-2.7.1-pinning): a session that holds a backend connection while idle has `srv_port` set,
 * and `status_flags` is that connection's bitmask (MySQL_Connection status bits); 0 with an idle attached connection
 * is an open transaction.
 */
import { USER_VARIABLE_DIGEST } from '../../src/config/session-state';
import { isWriterHostgroup, READER_HOSTGROUP, WRITER_HOSTGROUP } from '../../src/constants';

export interface PoolRow {
  hostgroup: number;
  server: string;
  status: string;
  used: number;
  free: number;
  errors: number;
  queries: number;
  latencyUs: number;
}

export interface ProcessRow {
  sessionId: number;
  hostgroup: number;
  /** The backend server the session holds, if any (`srv_host:srv_port`). */
  server?: string;
  command: string;
  timeMs: number;
  statusFlags: number | null;
  info?: string;
}

export interface DigestRow {
  hostgroup: number;
  digestText: string;
  count: number;
  sumTimeUs: number;
}

export interface AdminSnapshot {
  pool: PoolRow[];
  processlist: ProcessRow[];
  global: Readonly<Record<string, number>>;
  digests: DigestRow[];
}

export type PinReason =
  | 'user variable'
  | 'text prepared statement'
  | 'LOCK TABLES'
  | 'temporary table'
  | 'named lock (GET_LOCK)'
  | 'SQL_CALC_FOUND_ROWS'
  | 'multiplexing disabled by a rule'
  | 'open transaction';

/** The connection status bits ProxySQL shows in `status_flags`, as seen in the pinning capture. */
const FLAG_REASONS: ReadonlyArray<[number, PinReason]> = [
  [0x4, 'user variable'],
  [0x8, 'text prepared statement'],
  [0x10, 'LOCK TABLES'],
  [0x20, 'temporary table'],
  [0x40, 'named lock (GET_LOCK)'],
  [0x200, 'SQL_CALC_FOUND_ROWS'],
  [0x80, 'multiplexing disabled by a rule'],
];

export const FIXES: Readonly<Record<PinReason, string>> = {
  'user variable':
    'the session set or read a user variable (@x) and keeps its writer connection for its life: stop the driver/ORM setting one, or size maxBackendConnectionsPerServer for such sessions',
  'text prepared statement': 'PREPARE/EXECUTE as text pins the session: use the binary protocol (mysql2 execute()), which multiplexes',
  'LOCK TABLES': 'LOCK TABLES holds the connection until UNLOCK TABLES: unlock as soon as the work is done',
  'temporary table': 'a temporary table pins the session for its life: use a derived table or CTE, or DROP it and reconnect',
  'named lock (GET_LOCK)':
    'GET_LOCK pins the session even when the lock was not acquired: RELEASE_ALL_LOCKS() and reconnect, or use SELECT … FOR UPDATE SKIP LOCKED',
  SQL_CALC_FOUND_ROWS: 'SQL_CALC_FOUND_ROWS + FOUND_ROWS() pins the session: run a separate SELECT COUNT(*)',
  'multiplexing disabled by a rule': 'a query rule sets multiplex=0 for these statements: check the custom queryRules',
  'open transaction': 'a transaction left open holds its connection until COMMIT/ROLLBACK (max_transaction_idle_time ends it after 30 s)',
};

/** Digest patterns that pin (or cost a round trip), with the fix users ask for. */
const DIGEST_HINTS: ReadonlyArray<[RegExp, string]> = [
  [new RegExp(USER_VARIABLE_DIGEST), FIXES['user variable']],
  [/^PREPARE\b/i, FIXES['text prepared statement']],
  [/^LOCK\s+TABLES?\b/i, FIXES['LOCK TABLES']],
  [/^CREATE\s+TEMPORARY\s+TABLE\b/i, FIXES['temporary table']],
  [/\bGET_LOCK\s*\(/i, FIXES['named lock (GET_LOCK)']],
  [/\bSQL_CALC_FOUND_ROWS\b/i, FIXES.SQL_CALC_FOUND_ROWS],
  [/^SET\s+NAMES\b/i, 'your driver sends SET NAMES: set the charset in its connection options (mysql2: charset) so ProxySQL need not replay it'],
];

/**
 * What drivers and ORMs send, named: the digests the driver matrix (test/drivers) saw each client send through
 * ProxySQL 2.7.1, with what it means here and the client option that avoids any cost.
 */
export interface DriverPattern {
  readonly name: string;
  readonly digest: RegExp;
  /** Whether it costs pooling in this render (pins a connection or may give a wrong answer). */
  readonly costs: boolean;
  readonly meaning: string;
}

/** Clients that turn autocommit off: named apart, since it also explains sessions pinned by a transaction. */
const AUTOCOMMIT_OFF: DriverPattern = {
  name: 'autocommit off (PEP 249 drivers, JDBC setAutoCommit(false), Django atomic())',
  digest: /^SET autocommit\s*=\s*\?$/i,
  costs: false,
  meaning:
    'reads stay on the replicas and multiplexed; the first write opens a transaction that holds its writer connection until commit() (PyMySQL and mysqlclient: call commit() after writing, or connect with autocommit=True)',
};

export const DRIVER_PATTERNS: readonly DriverPattern[] = [
  {
    name: 'MariaDB Connector/J connect-time SET',
    digest: /^set autocommit=\?,\s*sql_mode = concat\(@@sql_mode,\?\)$/i,
    costs: false,
    meaning: 'ProxySQL tracks both variables and replays them on every backend connection: no pinning',
  },
  {
    name: 'MariaDB Connector/J connect-time SELECT',
    digest: /^SELECT @@max_allowed_packet,@@system_time_zone,@@time_zone,@@auto_increment_increment$/i,
    costs: false,
    meaning: 'every variable is in keep_multiplexing_variables: no pinning',
  },
  {
    name: 'MySQL Connector/J connect-time SELECT',
    digest: /^SELECT @@session\.auto_increment_increment AS auto_increment_increment\b/i,
    costs: false,
    meaning: 'its variables are in keep_multiplexing_variables: no pinning; cacheServerConfiguration=true sends it once per JVM',
  },
  {
    name: 'ActiveRecord connect-time SET',
    digest: /^SET @@SESSION\.sql_mode = CONCAT\(CONCAT\(@@sql_mode,\?\),\?\)/i,
    costs: false,
    meaning: 'sql_mode, sql_auto_is_null and wait_timeout are tracked: no pinning',
  },
  {
    name: 'Django connect-time SELECT',
    digest: /^SELECT VERSION\(\),@@sql_mode,@@default_storage_engine,@@sql_auto_is_null/i,
    costs: false,
    meaning: 'kept multiplexed by the connect-probe rule (multiplex=2): without it ProxySQL 2.7.1 pinned every Django session to a reader connection and 40 sessions ran out of them (9001)',
  },
  {
    name: 'Knex / TypeORM / Sequelize connect-time SELECT version()',
    digest: /^SELECT version\(\) as `?version`?$/i,
    costs: false,
    meaning: 'a plain read: no pinning',
  },
  AUTOCOMMIT_OFF,
  {
    name: 'LAST_INSERT_ID() in a spelling ProxySQL does not answer itself',
    digest: /LAST_INSERT_ID\(\)\s+AS\b|LAST_INSERT_ID\(\)\s*[-+*,)]|VALUES\s*\(.*LAST_INSERT_ID\(\)/i,
    costs: true,
    meaning:
      "outside a transaction it may read another session's id: use the driver's insert id (lastrowid, insertId, getGeneratedKeys, LastInsertId, lastInsertId), plain SELECT LAST_INSERT_ID(), or keepConnectionForLastInsertId",
  },
];

/** Pinned sessions with an open transaction, in a proxy whose clients turn autocommit off. */
export const AUTOCOMMIT_OFF_UNCOMMITTED =
  'autocommit off, transaction never committed: the driver turned autocommit off and the function wrote without commit(); commit after writing, or connect with autocommit=True';

export interface PinnedSession {
  sessionId: number;
  hostgroup: number;
  server: string;
  idleMs: number;
  reasons: PinReason[];
}

export interface Problem {
  readonly what: string;
  readonly fix: string;
}

export interface DoctorReport {
  servers: PoolRow[];
  clients: number;
  backend: { used: number; free: number };
  /** Client sessions per backend connection in use (how many sessions each connection serves). */
  multiplexingRatio: number | null;
  pinned: PinnedSession[];
  pinnedByReason: Partial<Record<PinReason, number>>;
  running: number;
  digestHints: Array<{ digest: string; count: number; fix: string }>;
  /** Driver and ORM patterns seen in the digests, with their counts. */
  driverPatterns: Array<{ name: string; count: number; costs: boolean; meaning: string }>;
  /** Pinned sessions explained by a driver pattern, by explanation (e.g. autocommit off, never committed). */
  pinnedByPattern: Record<string, number>;
  costliest: DigestRow[];
  problems: Problem[];
}

export function pinReasons(row: ProcessRow): PinReason[] {
  const flags = row.statusFlags ?? 0;
  const reasons = FLAG_REASONS.filter(([bit]) => (flags & bit) !== 0).map(([, reason]) => reason);
  // ProxySQL sets no_multiplex together with the specific bit for a user variable: name the cause, not both.
  const specific = reasons.filter((r) => r !== 'multiplexing disabled by a rule');
  if (specific.length > 0) return specific;
  return reasons.length > 0 ? reasons : ['open transaction'];
}

export function analyze(snapshot: AdminSnapshot): DoctorReport {
  const used = snapshot.pool.reduce((n, s) => n + s.used, 0);
  const free = snapshot.pool.reduce((n, s) => n + s.free, 0);
  const clients = snapshot.global.Client_Connections_connected ?? snapshot.processlist.length;
  const pinned: PinnedSession[] = snapshot.processlist
    .filter((p) => p.server !== undefined && p.command === 'Sleep')
    .map((p) => ({ sessionId: p.sessionId, hostgroup: p.hostgroup, server: p.server as string, idleMs: p.timeMs, reasons: pinReasons(p) }));
  const pinnedByReason: Partial<Record<PinReason, number>> = {};
  for (const session of pinned) for (const reason of session.reasons) pinnedByReason[reason] = (pinnedByReason[reason] ?? 0) + 1;

  const digestHints = snapshot.digests.flatMap((d) => {
    const hint = DIGEST_HINTS.find(([pattern]) => pattern.test(d.digestText));
    return hint ? [{ digest: d.digestText, count: d.count, fix: hint[1] }] : [];
  });
  const costliest = [...snapshot.digests].sort((a, b) => b.sumTimeUs - a.sumTimeUs).slice(0, 5);
  const driverPatterns = DRIVER_PATTERNS.flatMap((pattern) => {
    const count = snapshot.digests.filter((d) => pattern.digest.test(d.digestText)).reduce((n, d) => n + d.count, 0);
    return count > 0 ? [{ name: pattern.name, count, costs: pattern.costs, meaning: pattern.meaning }] : [];
  });
  const autocommitOff = driverPatterns.some((p) => p.name === AUTOCOMMIT_OFF.name);
  const uncommitted = pinned.filter((p) => p.reasons.includes('open transaction') && isWriterHostgroup(p.hostgroup)).length;
  const pinnedByPattern: Record<string, number> = autocommitOff && uncommitted > 0 ? { [AUTOCOMMIT_OFF_UNCOMMITTED]: uncommitted } : {};

  const problems: Problem[] = [];
  for (const s of snapshot.pool.filter((s) => s.status !== 'ONLINE')) {
    problems.push({
      what: `server ${s.server} in hostgroup ${s.hostgroup} is ${s.status}`,
      fix: s.status === 'SHUNNED' ? 'ProxySQL stopped using it (errors or replication lag): check the server and its lag' : 'check the server',
    });
  }
  const writers = snapshot.pool.filter((s) => s.hostgroup === WRITER_HOSTGROUP && s.status === 'ONLINE');
  if (writers.length === 0) problems.push({ what: 'no ONLINE server in the writer hostgroup', fix: 'writes wait and fail with 9001: check the database and the monitor' });
  if (!snapshot.pool.some((s) => s.hostgroup === READER_HOSTGROUP && s.status === 'ONLINE')) {
    problems.push({ what: 'no ONLINE server in the reader hostgroup', fix: 'reads wait and fail with 9001: check the replicas and their lag' });
  }
  const pinnedShare = used > 0 ? pinned.length / used : 0;
  if (pinned.length > 0 && pinnedShare >= 0.25) {
    problems.push({
      what: `${pinned.length} of ${used} backend connections in use are held by idle sessions (pinned)`,
      fix: "see the reasons below: each pinned session takes a connection out of its user's writer pool (hostgroup 10 for the first user, 100 + 2i for users[i]; each capped at maxBackendConnectionsPerServer), and a full pool fails that user's writes only",
    });
  }
  for (const [counter, what, fix] of [
    ['max_connect_timeouts', 'queries waited past connect_timeout_server_max for a backend (error 9001)', 'the pool is exhausted or a hostgroup has no server: raise maxBackendConnectionsPerServer or fix pinning'],
    ['ConnPool_get_conn_failure', 'ProxySQL failed to get a pooled connection', 'the pool is exhausted or the servers refuse connections'],
    ['hostgroup_locked_queries', 'statements were refused with 9006 (session locked to a hostgroup)', 'a SET ProxySQL cannot track locked the session: explain --session shows which, and the rule that avoids it'],
  ] as const) {
    const n = snapshot.global[counter] ?? 0;
    if (n > 0) problems.push({ what: `${what}: ${n} since ProxySQL started (${counter})`, fix });
  }
  return {
    servers: snapshot.pool,
    clients,
    backend: { used, free },
    multiplexingRatio: used > 0 ? clients / used : null,
    pinned,
    pinnedByReason,
    running: snapshot.processlist.filter((p) => p.command !== 'Sleep').length,
    digestHints,
    driverPatterns,
    pinnedByPattern,
    costliest,
    problems,
  };
}

export function formatReport(report: DoctorReport): string {
  const out: string[] = [];
  out.push('servers:');
  for (const s of report.servers) {
    out.push(`  hostgroup ${s.hostgroup} ${s.server} ${s.status}: ${s.used} used, ${s.free} free, ${s.errors} connect errors, ${s.queries} queries, latency ${s.latencyUs} µs`);
  }
  const ratio = report.multiplexingRatio === null ? 'n/a (no connection in use)' : `${report.multiplexingRatio.toFixed(1)} client sessions per backend connection in use`;
  out.push(`clients: ${report.clients} sessions; backend: ${report.backend.used} in use, ${report.backend.free} free; multiplexing: ${ratio}; ${report.running} statement(s) running`);
  if (report.pinned.length > 0) {
    out.push(`pinned: ${report.pinned.length} idle session(s) hold a backend connection:`);
    for (const [reason, n] of Object.entries(report.pinnedByReason)) out.push(`  ${n} × ${reason}: ${FIXES[reason as PinReason]}`);
  } else out.push('pinned: none');
  for (const [what, n] of Object.entries(report.pinnedByPattern)) out.push(`  of which ${n} × ${what}`);
  if (report.driverPatterns.length > 0) {
    out.push('drivers and ORMs seen:');
    for (const p of report.driverPatterns) out.push(`  ${p.count} × ${p.name}${p.costs ? ' (costs)' : ''}: ${p.meaning}`);
  }
  if (report.digestHints.length > 0) {
    out.push('statements that pin (or cost a round trip):');
    for (const d of report.digestHints) out.push(`  ${d.count} × ${d.digest}: ${d.fix}`);
  }
  if (report.costliest.length > 0) {
    out.push('most time spent:');
    for (const d of report.costliest) out.push(`  ${(d.sumTimeUs / 1000).toFixed(1)} ms in ${d.count} × ${d.digestText} (hostgroup ${d.hostgroup})`);
  }
  out.push(report.problems.length > 0 ? 'needs attention:' : 'needs attention: nothing');
  for (const p of report.problems) out.push(`  ${p.what} — ${p.fix}`);
  return out.join('\n') + '\n';
}
