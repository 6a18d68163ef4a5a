/**
 * Creates (or brings up to date) the database users ProxySQL needs on the writer: the monitor user and the
 * application users with their schemas. Used by the CloudFormation custom resource (handler.ts) and the
 * CLI's local mode. Idempotent: create, update (password rotated, privileges changed) and re-runs all give
 * the same end state.
 *
 * Authentication plugin (MySQL 8 / Aurora MySQL 3): users are created with the server's default plugin, we
 * never force one. ProxySQL supports caching_sha2_password on backend connections since 2.0.x and on both
 * sides since 2.6 (https://proxysql.com/documentation/users-management/mysql-authentication, version matrix),
 * for the monitor too (sysown/proxysql#4845), provided mysql_users holds the clear-text password
 * (sysown/proxysql#4262), which is what our config renderer writes. Forcing mysql_native_password would
 * break on MySQL 8.4, where that plugin is disabled by default (and removed in 9.0). MariaDB has no
 * caching_sha2_password; its default mysql_native_password is what ProxySQL has always spoken.
 */
import * as mysql from 'mysql2/promise';
import { normalisePrivilege } from '../../src/config/rules';
import { connectionOptions, connectWithRetry } from './connect';
import { describeError, noopLogger, scrub, scrubbingLogger, secretsOf } from './scrub';
import { BootstrapError, BootstrapLogger, BootstrapResult, BootstrapSpec, BootstrapUser, BootstrapUserResult, checkManagedUsername, DatabaseFlavour, validateSpec } from './spec';

export { ALLOWED_PRIVILEGES } from '../../src/config/rules';
export { sslOption } from './connect';
export { scrub } from './scrub';
export * from './spec';

// ---- the work ---------------------------------------------------------------------------------------------

type Row = mysql.RowDataPacket;

class Session {
  constructor(
    private readonly conn: mysql.Connection,
    private readonly secrets: readonly string[],
  ) {}

  /** Runs one statement; a failure names the step and the server's error code, with secrets scrubbed. */
  async run<T = Row[]>(step: string, sql: string, values?: unknown[]): Promise<T> {
    try {
      const [rows] = await this.conn.query(sql, values);
      return rows as T;
    } catch (err) {
      const { code, text } = describeError(err, this.secrets);
      throw new BootstrapError(`${step} failed: ${code}${text ? ` (${text})` : ''}`, code);
    }
  }
}

export function detectFlavour(version: string): DatabaseFlavour {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/**
 * The global privilege ProxySQL's monitor needs beyond USAGE. Its connect, ping and read_only checks
 * (`SELECT @@global.read_only`) need nothing, nor does the Aurora check, which reads
 * information_schema.replica_host_status; the replication lag check runs SHOW SLAVE STATUS, which needs
 * REPLICATION CLIENT on MySQL (ProxySQL's guide: `GRANT USAGE, REPLICATION CLIENT ON *.* TO monitor`,
 * https://proxysql.com/documentation/proxysql-configuration). MariaDB 10.5.9+ moved SHOW SLAVE STATUS to
 * SLAVE MONITOR (REPLICATION CLIENT became BINLOG MONITOR, which no longer allows it): checked on 10.11.
 */
export function monitorPrivilege(flavour: DatabaseFlavour, version: string): string {
  if (flavour === 'mysql') return 'REPLICATION CLIENT';
  const [major, minor, patch] = version.split(/[.-]/).map((n) => parseInt(n, 10));
  const atLeast1059 = major > 10 || (major === 10 && (minor > 5 || (minor === 5 && patch >= 9)));
  return atLeast1059 ? 'SLAVE MONITOR' : 'REPLICATION CLIENT';
}

/** In a db-level GRANT, _ and % in the schema name are wildcards: escape them so the grant means this schema only. */
function grantSchema(schema: string): string {
  return '`' + schema.replace(/_/g, '\\_') + '`';
}

function quoteUser(conn: mysql.Connection, username: string): string {
  return `${conn.escape(username)}@'%'`;
}

/** Privilege names as information_schema lists them; checked before they go back into a REVOKE. */
const PRIVILEGE_NAME = /^[A-Z][A-Z ]*[A-Z]$/;

async function ensureUser(s: Session, conn: mysql.Connection, spec: BootstrapSpec, username: string, password: string, log: BootstrapLogger): Promise<boolean> {
  const existing = await s.run(`looking up user '${username}'`, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [username]);
  if (existing.length === 0) {
    await s.run(`creating user '${username}'`, `CREATE USER ${quoteUser(conn, username)} IDENTIFIED BY ?`, [password]);
    log.info(`created user '${username}'@'%'`);
    return true;
  }
  await refuseForeignAccount(spec, username, password, log);
  // Always set: this is how a rotated password reaches the database (same password again is harmless). UNLOCK:
  // a user that was removed from the list (and so locked, see lockRemovedUsers) and is listed again works again.
  await s.run(`setting the password of user '${username}'`, `ALTER USER ${quoteUser(conn, username)} IDENTIFIED BY ? ACCOUNT UNLOCK`, [password]);
  log.info(`updated the password of user '${username}'@'%'`);
  return false;
}

/**
 * An account that exists but is not this stack's is never taken over silently: the bootstrap would replace its
 * password and revoke its other grants. It is ours when the previous run managed it (an Update), when its
 * password is already the one in our secret (a Create retried after a failure left it behind: logging in as it
 * proves that), or when the user listed it in adoptExistingUsers. Otherwise: an error that says what to do.
 */
async function refuseForeignAccount(spec: BootstrapSpec, username: string, password: string, log: BootstrapLogger): Promise<void> {
  if ((spec.managed ?? []).includes(username)) return;
  if ((spec.adopt ?? []).includes(username)) {
    log.warn(`taking over the existing user '${username}'@'%' (listed in adoptExistingUsers): its password is replaced and grants outside its schema revoked`);
    return;
  }
  if (await canLogIn(spec, username, password)) return;
  throw new BootstrapError(
    `user '${username}'@'%' already exists on the database and this stack did not create it (its password is not the one in its secret): taking it over would replace its password and revoke its other grants. Give the user another name, drop the account, or list '${username}' in adoptExistingUsers to take it over`,
  );
}

/**
 * "Account is locked" comes only with the right password (MariaDB 11 answers 4151 for it and 1045 for a wrong one,
 * checked here; MySQL 8 checks the lock after authentication too, ER_ACCOUNT_HAS_BEEN_LOCKED 3118 — assumed for
 * Aurora MySQL 3 from the MySQL reference manual, "Account Locking"): a user we locked when it was removed and that
 * is listed again with the same secret is still ours.
 */
const LOCKED_BUT_AUTHENTICATED = new Set([4151, 3118]);

async function canLogIn(spec: BootstrapSpec, username: string, password: string): Promise<boolean> {
  try {
    const probe = await mysql.createConnection(connectionOptions(spec, { username, password }, spec.connectTimeoutMs ?? 10_000));
    await probe.end().catch(() => undefined);
    return true;
  } catch (err) {
    return LOCKED_BUT_AUTHENTICATED.has((err as { errno?: number }).errno ?? 0);
  }
}

/** Every (schema, privilege) the user holds at schema level, as information_schema reports them. */
async function schemaPrivileges(s: Session, username: string): Promise<Array<{ schema: string; privilege: string }>> {
  const rows = await s.run(
    `reading the schema privileges of '${username}'`,
    'SELECT TABLE_SCHEMA AS s, PRIVILEGE_TYPE AS p FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?',
    [`'${username}'@'%'`],
  );
  return rows.map((r) => ({ schema: String(r.s), privilege: String(r.p) }));
}

async function globalPrivileges(s: Session, username: string): Promise<string[]> {
  const rows = await s.run(
    `reading the global privileges of '${username}'`,
    'SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?',
    [`'${username}'@'%'`],
  );
  return rows.map((r) => String(r.p)).filter((p) => p !== 'USAGE');
}

async function bootstrapMonitor(
  s: Session,
  conn: mysql.Connection,
  spec: BootstrapSpec,
  privilege: string,
  log: BootstrapLogger,
): Promise<BootstrapResult['monitor']> {
  const { username, password } = spec.monitor;
  const created = await ensureUser(s, conn, spec, username, password, log);
  await s.run(`granting ${privilege} to the monitor user '${username}'`, `GRANT ${privilege} ON *.* TO ${quoteUser(conn, username)}`);
  // Anything else it holds (global or on a schema) is more than the monitor needs: revoked after the grant.
  const revoked: string[] = [];
  for (const p of await globalPrivileges(s, username)) {
    if (p === privilege || !PRIVILEGE_NAME.test(p)) continue;
    await s.run(`revoking ${p} from the monitor user '${username}'`, `REVOKE ${p} ON *.* FROM ${quoteUser(conn, username)}`);
    revoked.push(p);
  }
  for (const { schema, privilege: p } of await schemaPrivileges(s, username)) {
    if (!PRIVILEGE_NAME.test(p)) continue;
    await s.run(`revoking ${p} on ${schema} from '${username}'`, `REVOKE ${p} ON ${conn.escapeId(schema)}.* FROM ${quoteUser(conn, username)}`);
    revoked.push(`${p} ON ${schema}`);
  }
  log.info(`monitor user '${username}' holds ${privilege}`, { revoked });
  return { username, created, privileges: [privilege], revoked };
}

async function bootstrapAppUser(s: Session, conn: mysql.Connection, spec: BootstrapSpec, user: BootstrapUser, log: BootstrapLogger): Promise<BootstrapUserResult> {
  const desired = [...new Set(user.privileges.map(normalisePrivilege))];
  const all = desired.includes('ALL PRIVILEGES');
  const grantList = all ? 'ALL PRIVILEGES' : desired.join(', ');
  await s.run(`creating schema '${user.schema}'`, `CREATE DATABASE IF NOT EXISTS ${conn.escapeId(user.schema)}`);
  const created = await ensureUser(s, conn, spec, user.username, user.password, log);
  // Before any grant, so that an account never holds one while it may log in in clear text. Every run states it:
  // turning TLS to the database on (or off) reaches existing accounts too.
  const requireSsl = spec.requireSsl ?? false;
  await s.run(
    `${requireSsl ? 'requiring' : 'not requiring'} TLS of '${user.username}'`,
    `ALTER USER ${quoteUser(conn, user.username)} REQUIRE ${requireSsl ? 'SSL' : 'NONE'}`,
  );
  // Grant the desired set first, then revoke the extras: the user never lacks a privilege it keeps.
  await s.run(
    `granting ${grantList} on '${user.schema}' to '${user.username}'`,
    `GRANT ${grantList} ON ${grantSchema(user.schema)}.* TO ${quoteUser(conn, user.username)}`,
  );
  const ownSchema = user.schema.replace(/_/g, '\\_');
  const revoked: string[] = [];
  for (const { schema, privilege } of await schemaPrivileges(s, user.username)) {
    const keep = schema === ownSchema && (all || desired.includes(privilege));
    if (keep || !PRIVILEGE_NAME.test(privilege)) continue;
    // `schema` is the grant's own (already escaped) pattern: quote it as it is.
    await s.run(
      `revoking ${privilege} on '${schema}' from '${user.username}'`,
      `REVOKE ${privilege} ON \`${schema.replace(/`/g, '``')}\`.* FROM ${quoteUser(conn, user.username)}`,
    );
    revoked.push(schema === ownSchema ? privilege : `${privilege} ON ${schema}`);
  }
  log.info(`user '${user.username}' holds ${grantList} on '${user.schema}'${requireSsl ? ', TLS required' : ''}`, { created, revoked });
  return { username: user.username, schema: user.schema, created, privileges: all ? ['ALL PRIVILEGES'] : desired, revoked, requireSsl };
}

async function openSession(spec: BootstrapSpec): Promise<{ conn: mysql.Connection; s: Session; log: BootstrapLogger; secrets: string[] }> {
  const secrets = secretsOf(spec);
  const log = scrubbingLogger(spec.logger ?? noopLogger, secrets);
  try {
    validateSpec(spec);
  } catch (err) {
    const message = scrub((err as Error).message, secrets);
    log.error(`bootstrap spec is invalid: ${message}`);
    throw new BootstrapError(message);
  }
  log.info(`connecting to ${spec.host}:${spec.port} as '${spec.admin.username}'`, { waitForDatabaseMs: spec.waitForDatabaseMs ?? 0 });
  let conn: mysql.Connection;
  try {
    conn = await connectWithRetry(spec, log, secrets);
  } catch (err) {
    log.error((err as Error).message);
    throw err;
  }
  const s = new Session(conn, secrets);
  // Placeholders are escaped client-side with backslashes: make sure the server reads them that way.
  await s.run('preparing the session', "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
  return { conn, s, log, secrets };
}

/** Creates or updates the monitor user and the application users (with their schemas) on the writer. */
export async function bootstrapDatabase(spec: BootstrapSpec): Promise<BootstrapResult> {
  const { conn, s, log } = await openSession(spec);
  try {
    const [{ v }] = await s.run<Row[]>('reading the server version', 'SELECT VERSION() AS v');
    const serverVersion = String(v);
    const flavour = detectFlavour(serverVersion);
    const privilege = monitorPrivilege(flavour, serverVersion);
    log.info(`database is ${flavour} ${serverVersion}`);
    const monitor = await bootstrapMonitor(s, conn, spec, privilege, log);
    const users: BootstrapUserResult[] = [];
    for (const user of spec.users) users.push(await bootstrapAppUser(s, conn, spec, user, log));
    log.info('bootstrap complete', { users: users.map((u) => u.username), monitor: monitor.username });
    return { flavour, serverVersion, monitor, users };
  } catch (err) {
    log.error((err as Error).message);
    throw err;
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/**
 * Locks the accounts of users that were removed from the construct's `users` (an Update whose old list had them):
 * their generated secret is deleted with them, and an account nobody manages must not stay usable. Locked, not
 * dropped, on purpose: a removal by mistake is undone by listing the user again (the bootstrap unlocks it, grants
 * intact); drop the account yourself once you are sure. A name that is also the monitor's, or listed again, is
 * left alone; an account that does not exist is skipped.
 */
export async function lockRemovedUsers(spec: BootstrapSpec, removed: readonly string[]): Promise<string[]> {
  const keep = new Set([spec.monitor.username, ...spec.users.map((u) => u.username)]);
  const targets = removed.filter((u) => !keep.has(u));
  if (targets.length === 0) return [];
  // Never the admin login or a system account, whatever the old properties said.
  targets.forEach((username, i) => checkManagedUsername(`removed user [${i}]`, username, spec.admin.username));
  const { conn, s, log } = await openSession(spec);
  const locked: string[] = [];
  try {
    for (const username of targets) {
      const existing = await s.run(`looking up user '${username}'`, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [username]);
      if (existing.length === 0) continue;
      await s.run(`locking user '${username}'`, `ALTER USER ${quoteUser(conn, username)} ACCOUNT LOCK`);
      log.info(`locked user '${username}'@'%': it was removed from the users list (grants kept; list it again to unlock)`);
      locked.push(username);
    }
    return locked;
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** Drops the application users and the monitor user (schemas and their data are kept). */
export async function dropBootstrapUsers(spec: BootstrapSpec): Promise<void> {
  const { conn, s, log } = await openSession(spec);
  try {
    for (const username of [...spec.users.map((u) => u.username), spec.monitor.username]) {
      await s.run(`dropping user '${username}'`, `DROP USER IF EXISTS ${quoteUser(conn, username)}`);
      log.info(`dropped user '${username}'@'%' (if it existed); schemas are kept`);
    }
  } catch (err) {
    log.error((err as Error).message);
    throw err;
  } finally {
    await conn.end().catch(() => undefined);
  }
}
