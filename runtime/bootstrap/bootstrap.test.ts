import * as fs from 'node:fs';
import * as net from 'node:net';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTopology, Topology } from '../../local/topology';
import { DEFAULT_APP_PRIVILEGES } from '../../src/constants';
import { BootstrapLogger, BootstrapSpec, bootstrapDatabase, dropBootstrapUsers, monitorPrivilege, scrub, sslOption, validateSpec } from './bootstrap';

/** A logger that keeps every line (message + extra, serialised) so tests can search it for passwords. */
function capturingLogger(): BootstrapLogger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (msg: string, extra?: object) => lines.push(`${level} ${msg} ${extra ? JSON.stringify(extra) : ''}`);
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

const TRICKY = [`it's "quoted" \\ back\`tick $HOME spaces`, 'pässwörd-ü€'];

async function login(port: number, user: string, password: string, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user, password, database });
}

async function grantsOf(port: number, rootPassword: string, user: string): Promise<string[]> {
  const c = await login(port, 'root', rootPassword);
  try {
    const [rows] = await c.query(`SHOW GRANTS FOR ?@'%'`, [user]);
    return (rows as mysql.RowDataPacket[]).map((r) => String(Object.values(r)[0]));
  } finally {
    await c.end();
  }
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('bootstrapDatabase against MariaDB (primary + replica)', () => {
  let topology: Topology;
  let base: () => BootstrapSpec;
  const logger = capturingLogger();
  const allPasswords: string[] = [];

  beforeAll(async () => {
    topology = await startTopology({ replica: true });
    allPasswords.push(topology.primary.rootPassword);
    base = () => ({
      host: '127.0.0.1',
      port: topology.primary.port,
      admin: { username: 'root', password: topology.primary.rootPassword },
      monitor: { username: 'proxysql_monitor', password: 'monitor-pw-1' },
      users: [
        { username: 'app', password: TRICKY[0], schema: 'app_db', privileges: ['ALL PRIVILEGES'] },
        { username: 'reporting', password: TRICKY[1], schema: 'reports', privileges: ['select', 'INSERT'] },
      ],
      logger,
    });
  });

  afterAll(async () => {
    await topology?.stop();
  });

  it('create (twice): users log in with tricky passwords, schemas exist, grants are exactly the desired ones', async () => {
    const spec = base();
    allPasswords.push(spec.monitor.password, ...spec.users.map((u) => u.password));
    const first = await bootstrapDatabase(spec);
    expect(first.flavour).toBe('mariadb');
    expect(first.monitor).toMatchObject({ created: true, privileges: ['SLAVE MONITOR'] });
    expect(first.users.map((u) => u.created)).toEqual([true, true]);
    const second = await bootstrapDatabase(spec);
    expect(second.users.map((u) => u.created)).toEqual([false, false]);
    expect(second.users.flatMap((u) => u.revoked)).toEqual([]);

    const app = await login(topology.primary.port, 'app', TRICKY[0], 'app_db');
    await app.query('CREATE TABLE t (id INT PRIMARY KEY)');
    await app.query('INSERT INTO t VALUES (1)');
    await app.end();
    const rep = await login(topology.primary.port, 'reporting', TRICKY[1], 'reports');
    await rep.query('SELECT 1');
    await expect(rep.query('CREATE TABLE x (id INT)')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    // The _ in app_db is escaped in the grant: app can not reach a look-alike schema such as appXdb.
    await expect(rep.query('USE app_db')).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
    await rep.end();

    expect(await grantsOf(topology.primary.port, topology.primary.rootPassword, 'app')).toEqual([
      expect.stringMatching(/^GRANT USAGE ON \*\.\* TO `app`@`%`/),
      'GRANT ALL PRIVILEGES ON `app\\_db`.* TO `app`@`%`',
    ]);
    expect(await grantsOf(topology.primary.port, topology.primary.rootPassword, 'reporting')).toEqual([
      expect.stringMatching(/^GRANT USAGE ON \*\.\* TO `reporting`@`%`/),
      'GRANT SELECT, INSERT ON `reports`.* TO `reporting`@`%`',
    ]);
    expect(await grantsOf(topology.primary.port, topology.primary.rootPassword, 'proxysql_monitor')).toEqual([
      expect.stringMatching(/^GRANT SLAVE MONITOR ON \*\.\* TO `proxysql_monitor`@`%`/),
    ]);
  });

  it('the monitor user can run the lag check on the replica and cannot write anywhere', async () => {
    await topology.waitForReplication();
    const mon = await login(topology.replica!.port, 'proxysql_monitor', 'monitor-pw-1');
    const [status] = await mon.query('SHOW SLAVE STATUS');
    expect((status as mysql.RowDataPacket[])[0]).toHaveProperty('Seconds_Behind_Master');
    const [ro] = await mon.query('SELECT @@global.read_only AS ro');
    expect(ro).toEqual([{ ro: 1 }]);
    await mon.end();
    const onPrimary = await login(topology.primary.port, 'proxysql_monitor', 'monitor-pw-1');
    await expect(onPrimary.query('CREATE DATABASE monitor_was_here')).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
    await expect(onPrimary.query('INSERT INTO app_db.t VALUES (2)')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    await onPrimary.end();
  });

  it('update (twice): a rotated password works and the old one fails; changed grants are exactly the new ones', async () => {
    // As the handler passes an Update: the accounts of the previous run are this stack's.
    const spec: BootstrapSpec = { ...base(), managed: ['proxysql_monitor', 'app', 'reporting'] };
    spec.users[0] = { ...spec.users[0], password: 'rotated-pw-2 \' "', privileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] };
    spec.users[1] = { ...spec.users[1], privileges: ['SELECT'] };
    spec.monitor.password = 'monitor-pw-2';
    allPasswords.push(spec.users[0].password, spec.monitor.password);
    const first = await bootstrapDatabase(spec);
    expect(first.users[0].revoked.sort()).toEqual(
      expect.arrayContaining(['ALTER', 'CREATE', 'DROP', 'INDEX', 'CREATE TEMPORARY TABLES', 'LOCK TABLES']),
    );
    expect(first.users[1].revoked).toEqual(['INSERT']);
    const second = await bootstrapDatabase(spec);
    expect(second.users.flatMap((u) => u.revoked)).toEqual([]);

    await expect(login(topology.primary.port, 'app', TRICKY[0])).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    const app = await login(topology.primary.port, 'app', spec.users[0].password, 'app_db');
    await app.query('INSERT INTO t VALUES (3)');
    await expect(app.query('DROP TABLE t')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    await app.end();
    expect(await grantsOf(topology.primary.port, topology.primary.rootPassword, 'app')).toContain(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON `app\\_db`.* TO `app`@`%`',
    );
    expect(await grantsOf(topology.primary.port, topology.primary.rootPassword, 'reporting')).toContain(
      'GRANT SELECT ON `reports`.* TO `reporting`@`%`',
    );
    await expect(login(topology.primary.port, 'proxysql_monitor', 'monitor-pw-1')).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    await (await login(topology.primary.port, 'proxysql_monitor', 'monitor-pw-2')).end();
  });

  it('an existing account this stack did not create is not taken over: refused, its password and grants untouched', async () => {
    const root = await login(topology.primary.port, 'root', topology.primary.rootPassword);
    await root.query("CREATE USER 'legacy'@'%' IDENTIFIED BY 'theirs-pw'");
    await root.query("GRANT SELECT ON mysql.* TO 'legacy'@'%'");
    const spec: BootstrapSpec = { ...base(), users: [{ username: 'legacy', password: 'our-pw-1', schema: 'legacy_db', privileges: ['ALL PRIVILEGES'] }] };
    allPasswords.push('our-pw-1', 'theirs-pw');
    await expect(bootstrapDatabase({ ...spec, managed: ['proxysql_monitor'] })).rejects.toThrow(
      "user 'legacy'@'%' already exists on the database and this stack did not create it (its password is not the one in its secret): taking it over would replace its password and revoke its other grants. Give the user another name, drop the account, or list 'legacy' in adoptExistingUsers to take it over",
    );
    await (await login(topology.primary.port, 'legacy', 'theirs-pw')).end();
    expect(await grantsOf(topology.primary.port, topology.primary.rootPassword, 'legacy')).toContain('GRANT SELECT ON `mysql`.* TO `legacy`@`%`');

    // Listed in adopt: taken over (our password, our grants only), with a warning in the log.
    const adopted = await bootstrapDatabase({ ...spec, managed: ['proxysql_monitor'], adopt: ['legacy'] });
    expect(adopted.users[0]).toMatchObject({ username: 'legacy', created: false, revoked: ['SELECT ON mysql'] });
    await (await login(topology.primary.port, 'legacy', 'our-pw-1')).end();
    expect(logger.lines.some((l) => l.includes("taking over the existing user 'legacy'@'%'"))).toBe(true);

    // A Create retried after a failure left the account behind: its password is ours, so it is ours.
    const retried = await bootstrapDatabase({ ...spec, managed: ['proxysql_monitor'] });
    expect(retried.users[0]).toMatchObject({ username: 'legacy', created: false });
    await root.query("DROP USER 'legacy'@'%'");
    await root.end();
  });

  it("the construct's default grant (DEFAULT_APP_PRIVILEGES): data statements, temporary tables, routines; no DDL, no LOCK TABLES", async () => {
    const root = await login(topology.primary.port, 'root', topology.primary.rootPassword);
    await root.query('CREATE DATABASE IF NOT EXISTS least_db');
    await root.query('CREATE TABLE IF NOT EXISTS least_db.items (id INT PRIMARY KEY, name VARCHAR(20))');
    await root.query('CREATE PROCEDURE IF NOT EXISTS least_db.add_item(IN i INT) INSERT INTO least_db.items VALUES (i, CONCAT(\'item \', i))');
    const spec: BootstrapSpec = { ...base(), users: [{ username: 'least', password: 'least-pw-1', schema: 'least_db', privileges: [...DEFAULT_APP_PRIVILEGES] }] };
    allPasswords.push('least-pw-1');
    const result = await bootstrapDatabase({ ...spec, managed: ['proxysql_monitor'] });
    expect(result.users[0].privileges).toEqual([...DEFAULT_APP_PRIVILEGES]);
    const app = await login(topology.primary.port, 'least', 'least-pw-1', 'least_db');
    try {
      await app.query("INSERT INTO items VALUES (1, 'one')");
      await app.query("UPDATE items SET name = 'uno' WHERE id = 1");
      await app.query("REPLACE INTO items VALUES (1, 'eins')");
      await app.query("INSERT INTO items VALUES (1, 'one') ON DUPLICATE KEY UPDATE name = 'ein'");
      await app.query('START TRANSACTION');
      await app.query('SELECT * FROM items WHERE id = 1 FOR UPDATE');
      await app.query('COMMIT');
      await app.query('CALL add_item(2)');
      await app.query('CREATE TEMPORARY TABLE scratch (id INT)');
      await app.query('INSERT INTO scratch SELECT id FROM items');
      await app.query('DROP TEMPORARY TABLE scratch');
      await app.query('DELETE FROM items WHERE id = 2');
      const [rows] = await app.query('SELECT id, name FROM items');
      expect(rows).toEqual([{ id: 1, name: 'ein' }]);
      for (const ddl of ['CREATE TABLE t2 (id INT)', 'ALTER TABLE items ADD COLUMN x INT', 'DROP TABLE items', 'CREATE INDEX i ON items (name)', 'TRUNCATE TABLE items']) {
        await expect(app.query(ddl), ddl).rejects.toMatchObject({ code: expect.stringMatching(/^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/) });
      }
      await expect(app.query('LOCK TABLES items READ')).rejects.toMatchObject({ code: 'ER_DBACCESS_DENIED_ERROR' });
    } finally {
      await app.end();
      await root.query("DROP USER 'least'@'%'");
      await root.end();
    }
  });

  it('delete (twice): users are dropped, schemas and data kept', async () => {
    const spec = base();
    await dropBootstrapUsers(spec);
    await dropBootstrapUsers(spec);
    for (const user of ['app', 'reporting', 'proxysql_monitor']) {
      await expect(grantsOf(topology.primary.port, topology.primary.rootPassword, user)).rejects.toMatchObject({
        code: 'ER_NONEXISTING_GRANT',
      });
    }
    const root = await login(topology.primary.port, 'root', topology.primary.rootPassword);
    const [rows] = await root.query('SELECT COUNT(*) AS n FROM app_db.t');
    expect(rows).toEqual([{ n: 2 }]);
    await root.end();
  });

  it('a wrong admin password fails fast with a clear message and no password anywhere', async () => {
    const spec = { ...base(), admin: { username: 'root', password: 'wrong-admin-pw-Ω' } };
    allPasswords.push(spec.admin.password);
    const started = Date.now();
    const err = await bootstrapDatabase({ ...spec, waitForDatabaseMs: 30_000 }).catch((e: Error) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((err as Error).message).toMatch(/127\.0\.0\.1:\d+ rejected the admin user 'root' \(ER_ACCESS_DENIED_ERROR\)/);
    for (const pw of allPasswords) expect((err as Error).message).not.toContain(pw);
  });

  it('an unreachable database fails within the configured bound, naming host:port and the error code', async () => {
    const port = await closedPort();
    const started = Date.now();
    const err = await bootstrapDatabase({ ...base(), port, waitForDatabaseMs: 2_000, connectTimeoutMs: 500 }).catch((e: Error) => e);
    const elapsed = Date.now() - started;
    // Retries until the 2 s bound, then at most one more connect attempt (refused at once here).
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(3_000);
    expect((err as Error).message).toMatch(new RegExp(`could not connect to the database at 127\\.0\\.0\\.1:${port}: ECONNREFUSED .*attempt`));
    expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('retrying'))).toBe(true);
  });

  it('a statement failure (admin lacking a privilege) names the step and the server error, and holds no password', async () => {
    // An admin that may create users but not grant: the first GRANT fails.
    const root = await login(topology.primary.port, 'root', topology.primary.rootPassword);
    await root.query("CREATE USER 'weak_admin'@'%' IDENTIFIED BY 'weak-admin-pw'");
    await root.query("GRANT CREATE USER, SELECT ON *.* TO 'weak_admin'@'%'");
    await root.end();
    allPasswords.push('weak-admin-pw');
    const spec = { ...base(), admin: { username: 'weak_admin', password: 'weak-admin-pw' } };
    const err = await bootstrapDatabase(spec).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^(granting|creating) .* failed: ER_[A-Z_]+/);
    for (const pw of allPasswords) expect((err as Error).message).not.toContain(pw);
  });

  it('no log line holds any password', () => {
    expect(logger.lines.length).toBeGreaterThan(10);
    for (const line of logger.lines) for (const pw of allPasswords) expect(line).not.toContain(pw);
  });
});

describe('validateSpec', () => {
  const valid = (): BootstrapSpec => ({
    host: 'db',
    port: 3306,
    admin: { username: 'admin', password: 'x' },
    monitor: { username: 'proxysql_monitor', password: 'y' },
    users: [{ username: 'app', password: 'z', schema: 'app', privileges: ['ALL'] }],
  });
  it.each<[string, (s: BootstrapSpec) => void, RegExp]>([
    ['bad user name', (s) => (s.users[0].username = 'a-b'), /users\[0\]\.username: 'a-b' is not a valid user name/],
    ['too long user name', (s) => (s.users[0].username = 'a'.repeat(33)), /users\[0\]\.username/],
    ['reserved user name', (s) => (s.users[0].username = 'rdsadmin'), /users\[0\]\.username: 'rdsadmin' is reserved/],
    ['user named like the admin', (s) => (s.users[0].username = 'admin'), /users\[0\]\.username: 'admin' is reserved/],
    ['bad monitor name', (s) => (s.monitor.username = "m'"), /monitor\.username/],
    ['bad schema', (s) => (s.users[0].schema = 'a`b'), /users\[0\]\.schema: 'a`b' is not a valid schema name/],
    ['bad privilege', (s) => (s.users[0].privileges = ['SELECT', 'SUPER']), /users\[0\]\.privileges\[1\]: 'SUPER' is not an allowed/],
    ['injected privilege', (s) => (s.users[0].privileges = ['SELECT ON *.* TO x; --']), /users\[0\]\.privileges\[0\]/],
    ['no privileges', (s) => (s.users[0].privileges = []), /users\[0\]\.privileges: is empty/],
    ['empty password', (s) => (s.users[0].password = ''), /users\[0\]\.password: is missing or empty/],
    ['duplicate user', (s) => s.users.push({ ...s.users[0] }), /users\[1\]\.username: 'app' is already used by users\[0\]\.username/],
    ['bad port', (s) => (s.port = 0), /^port: 0 is not a TCP port/],
    ['user named like the monitor', (s) => (s.users[0].username = 'proxysql_monitor'), /^users\[0\]\.username: 'proxysql_monitor' is the monitor user's name/],
    ['URL as host', (s) => (s.host = 'mysql://db'), /^host: 'mysql:\/\/db' is not a DNS name or IPv4 address/],
  ])('rejects a %s, naming the field', (_name, mutate, message) => {
    const spec = valid();
    mutate(spec);
    expect(() => validateSpec(spec)).toThrow(message);
  });
  it('accepts a valid spec', () => expect(() => validateSpec(valid())).not.toThrow());
});

describe('helpers', () => {
  it('monitorPrivilege follows the server flavour and version', () => {
    expect(monitorPrivilege('mysql', '8.0.39')).toBe('REPLICATION CLIENT');
    expect(monitorPrivilege('mariadb', '10.11.19-MariaDB-0+deb12u1')).toBe('SLAVE MONITOR');
    expect(monitorPrivilege('mariadb', '10.5.8-MariaDB')).toBe('REPLICATION CLIENT');
    expect(monitorPrivilege('mariadb', '11.4.2-MariaDB')).toBe('SLAVE MONITOR');
  });
  it('scrub removes raw, SQL-escaped and JSON-escaped forms of a secret', () => {
    const secret = `a'b"c\\d`;
    const text = `raw ${secret} sql ${mysql.escape(secret)} json ${JSON.stringify(secret)}`;
    const out = scrub(text, [secret]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(mysql.escape(secret).slice(1, -1));
    expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
  });
});

describe('TLS as the backend is configured (MariaDB with a private CA, an admin that must use TLS)', () => {
  let topology: Topology;
  let spec: (ssl: BootstrapSpec['ssl']) => BootstrapSpec;

  beforeAll(async () => {
    topology = await startTopology({ tls: true });
    const root = await login(topology.primary.port, 'root', topology.primary.rootPassword);
    try {
      await root.query("CREATE USER 'tls_admin'@'%' IDENTIFIED BY 'tls-admin-pw' REQUIRE SSL");
      await root.query("GRANT ALL PRIVILEGES ON *.* TO 'tls_admin'@'%' WITH GRANT OPTION");
    } finally {
      await root.end();
    }
    spec = (ssl) => ({
      host: '127.0.0.1',
      port: topology.primary.port,
      admin: { username: 'tls_admin', password: 'tls-admin-pw' },
      monitor: { username: 'proxysql_monitor', password: 'monitor-pw-1' },
      users: [{ username: 'app', password: 'app-pw-1', schema: 'app', privileges: ['SELECT'] }],
      ssl,
    });
  });
  afterAll(async () => {
    await topology?.stop();
  });

  it("backendCa: verified against that CA (and the server's name), so an admin with REQUIRE SSL gets in", async () => {
    const result = await bootstrapDatabase(spec({ ca: fs.readFileSync(topology.caFile as string, 'utf8') }));
    expect(result.users.map((u) => u.username)).toEqual(['app']);
  });

  it('backendTls false: clear text, which the REQUIRE SSL admin is refused', async () => {
    await expect(bootstrapDatabase(spec(false))).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
  });

  it('requireSsl: the application user may log in over TLS only, the monitor still without; false takes the requirement off again', async () => {
    const ca = fs.readFileSync(topology.caFile as string, 'utf8');
    const clear = () => login(topology.primary.port, 'app', 'app-pw-1', 'app');
    const overTls = () => mysql.createConnection({ host: '127.0.0.1', port: topology.primary.port, user: 'app', password: 'app-pw-1', database: 'app', ssl: { ca } });
    const result = await bootstrapDatabase({ ...spec({ ca }), requireSsl: true });
    expect(result.users[0]).toMatchObject({ username: 'app', requireSsl: true });
    await expect(clear()).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
    const app = await overTls();
    await app.query('SELECT 1');
    await app.end();
    await (await login(topology.primary.port, 'proxysql_monitor', 'monitor-pw-1')).end();

    const off = await bootstrapDatabase({ ...spec({ ca }), requireSsl: false, managed: ['app', 'proxysql_monitor'] });
    expect(off.users[0].requireSsl).toBe(false);
    await (await clear()).end();
  });

  it('a non-RDS server without backendCa: encrypted but not verified, as ProxySQL connects to it', async () => {
    await expect(bootstrapDatabase(spec('unverified'))).resolves.toMatchObject({ monitor: { username: 'proxysql_monitor' } });
  });

  it('the RDS CAs (the old hard-coded choice) refuse a certificate they did not sign', async () => {
    await expect(bootstrapDatabase(spec('rds'))).rejects.toThrow(/could not connect to the database at 127\.0\.0\.1:\d+: HANDSHAKE_SSL_ERROR \(self-signed certificate in certificate chain\).*not one that waiting fixes/);
  });

  it("a CA that did not sign the server's certificate is refused", async () => {
    const anRdsCa = (sslOption('rds') as { ca: string[] }).ca[0];
    await expect(bootstrapDatabase(spec({ ca: anRdsCa }))).rejects.toThrow(/could not connect to the database at 127\.0\.0\.1:\d+: HANDSHAKE_SSL_ERROR \(self-signed certificate/);
  });

  it('sslOption maps each mode to mysql2 options', () => {
    expect(sslOption(false)).toBeUndefined();
    expect(sslOption(undefined)).toBeUndefined();
    expect(sslOption('unverified')).toEqual({ rejectUnauthorized: false });
    expect(sslOption({ ca: 'PEM' })).toEqual({ ca: 'PEM', rejectUnauthorized: true, verifyIdentity: true });
    const rds = sslOption('rds') as { ca: string[]; rejectUnauthorized: boolean; verifyIdentity: boolean };
    expect(rds).toMatchObject({ rejectUnauthorized: true, verifyIdentity: true });
    expect(rds.ca.length).toBeGreaterThan(100);
  });
});
