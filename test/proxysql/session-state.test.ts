/**
 * Through a real ProxySQL running the project's own rendered configuration (backend TLS on, the app user with
 * REQUIRE SSL): sessions that set state read it back, and sessions without state still read from the replica.
 */
import * as dns from 'node:dns/promises';
import * as os from 'node:os';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostProblem, mysqlVariableRule, valueRuleText } from '../../src/config/rules';
import { deployValueRuleEnv, sourceEnv } from '../../src/config/secrets';
import { DEFAULT_READ_YOUR_WRITES_STATEMENTS } from '../../src/config/session-state';
import { DEPLOY_VALUE_ENV_PREFIX } from '../../src/constants';
import { connect, Lab, scalar, startLab } from './harness';

const PRIMARY_SERVER_ID = 1;
const REPLICA_SERVER_ID = 2;

/**
 * Two `mysqlVariables` given as CloudFormation tokens, as the construct passes them (src/proxysql-container.ts
 * DeployValues): the entrypoint checks each by its rule and escapes it; ProxySQL must load the exact value. Neither
 * changes what the tests below see (LDAP is not used; digests stay as they are by default).
 */
const TOKEN_VALUES = {
  ldap_user_variable: { value: "back\\slash, 'quoted' $HOME `id` %s ü \\", rule: mysqlVariableRule('ldap_user_variable') },
  query_digests_lowercase: { value: 'False', rule: mysqlVariableRule('query_digests_lowercase') },
};
const tokenEnv = (name: keyof typeof TOKEN_VALUES) => `${DEPLOY_VALUE_ENV_PREFIX}${Object.keys(TOKEN_VALUES).indexOf(name)}`;

/**
 * The writer's host name and port given as tokens too (`ProxySqlBackend.endpoints({ writer: { hostname: param } })`):
 * this machine's name where it resolves to the loopback the primary listens on, else the IPv4 address (a host by
 * the same rule). Not `localhost`: the client library would take the Unix socket.
 */
async function writerName(): Promise<string> {
  const name = os.hostname();
  const found = await dns.lookup(name, { family: 4 }).catch(() => undefined);
  return found?.address === '127.0.0.1' && hostProblem(name) === undefined ? name : '127.0.0.1';
}

describe('session state through a real ProxySQL', () => {
  let lab: Lab;
  let writer: string;
  beforeAll(async () => {
    const names = Object.keys(TOKEN_VALUES) as Array<keyof typeof TOKEN_VALUES>;
    writer = await writerName();
    lab = await startLab({
      writerAsDeployValues: { host: writer },
      mysqlVariables: Object.fromEntries(names.map((name) => [name, { param: tokenEnv(name) }])),
      environment: Object.assign({}, ...names.map((name) => ({
        [tokenEnv(name)]: TOKEN_VALUES[name].value,
        [deployValueRuleEnv(tokenEnv(name))]: valueRuleText(TOKEN_VALUES[name].rule),
        [sourceEnv(tokenEnv(name))]: `ProxySqlServiceProps.mysqlVariables.${name}`,
      }))),
    });
  });
  afterAll(async () => lab?.stop());

  async function session(statements: string[]): Promise<unknown[]> {
    const conn = await connect(lab.proxy);
    try {
      const out: unknown[] = [];
      for (const sql of statements) {
        const [rows] = await conn.query({ sql, rowsAsArray: true });
        out.push(Array.isArray(rows) ? (rows[0] as unknown[] | undefined)?.[0] : 'ok');
      }
      return out;
    } finally {
      await conn.end();
    }
  }

  it.each([
    [['SET @x = 1', 'SELECT @x'], 1],
    [['SET @z := 7', 'SELECT @z + 0'], 7],
    [['SELECT @y := 5', 'SELECT @y'], 5],
    [['SET @x = 3', 'SELECT COUNT(*) FROM information_schema.tables', 'SELECT @x * 2'], 6],
    [['CREATE TEMPORARY TABLE t1 (id INT)', 'INSERT INTO t1 VALUES (1), (2), (3)', 'SELECT COUNT(*) FROM t1'], 3],
    [["PREPARE s FROM 'SELECT 40 + 2'", 'EXECUTE s'], 42],
  ])('%j returns the value it set, without an error', async (statements, expected) => {
    const results = await session(statements);
    expect(Number(results.at(-1))).toBe(expected);
  });

  it('a session without state reads from the replica; after a temporary table, from the writer', async () => {
    expect(await session(['SELECT @@server_id'])).toEqual([REPLICA_SERVER_ID]);
    const stateful = await session(['CREATE TEMPORARY TABLE t2 (id INT)', 'SELECT @@server_id']);
    expect(stateful[1]).toBe(PRIMARY_SERVER_ID);
  });

  it('reads under a named lock go to the writer, and back to the replica once the last lock is released and the statements that follow it have passed', async () => {
    // After the release the session is in wrote(N): its critical section may have written (src/config/session-state.ts).
    const after = Array.from({ length: DEFAULT_READ_YOUR_WRITES_STATEMENTS + 1 }, () => 'SELECT @@server_id');
    for (const release of ['SELECT RELEASE_ALL_LOCKS()', "SELECT RELEASE_LOCK('job')"]) {
      const results = await session(["SELECT GET_LOCK('job', 1)", "SELECT GET_LOCK('other', 1)", 'SELECT @@server_id', "SELECT RELEASE_LOCK('other')", 'SELECT @@server_id', release, ...after]);
      expect(results.slice(0, 6)).toEqual([1, 1, PRIMARY_SERVER_ID, 1, PRIMARY_SERVER_ID, 1]);
      expect(results.slice(6)).toEqual([...Array(DEFAULT_READ_YOUR_WRITES_STATEMENTS).fill(PRIMARY_SERVER_ID), REPLICA_SERVER_ID]);
    }
  });

  it('account statements are refused by ProxySQL itself (error 1148), and the session goes on', async () => {
    const conn = await connect(lab.proxy);
    try {
      await expect(conn.query("SET PASSWORD = PASSWORD('changed-by-a-client')")).rejects.toMatchObject({ errno: 1148, message: expect.stringMatching(/account statements are refused .* allowAccountStatements/) });
      await expect(conn.query("GRANT ALL PRIVILEGES ON *.* TO 'app'@'%'")).rejects.toMatchObject({ errno: 1148 });
      expect(await scalar(conn, 'SELECT 7')).toBe(7);
    } finally {
      await conn.end();
    }
    // The password did not change: a new login with it still works.
    const again = await connect(lab.proxy);
    await again.end();
  });

  it('the backend hop is encrypted: the app user cannot log in to the database without TLS, but can through ProxySQL', async () => {
    const { primary } = lab.topology;
    await expect(
      mysql.createConnection({ host: primary.host, port: primary.port, user: lab.proxy.user, password: lab.proxy.password }),
    ).rejects.toThrow(/Access denied/);
    const conn = await connect(lab.proxy);
    try {
      expect(await scalar(conn, "SELECT VARIABLE_VALUE <> '' FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'")).toBe(1);
    } finally {
      await conn.end();
    }
  });

  it('variables given as CloudFormation tokens reach ProxySQL with their exact value (backslashes, quotes, $, UTF-8)', async () => {
    expect(lab.proxy.template).not.toContain(TOKEN_VALUES.ldap_user_variable.value);
    const admin = await lab.proxy.admin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        "SELECT variable_name AS n, variable_value AS v FROM runtime_global_variables WHERE variable_name IN ('mysql-ldap_user_variable', 'mysql-query_digests_lowercase')",
      );
      expect(Object.fromEntries(rows.map((r) => [r.n, r.v]))).toEqual({
        'mysql-ldap_user_variable': TOKEN_VALUES.ldap_user_variable.value,
        'mysql-query_digests_lowercase': 'false',
      });
    } finally {
      await admin.end();
    }
  });

  it('a writer host name and port given as tokens are checked by the host and port rules and loaded as given', async () => {
    expect(lab.proxy.template).toMatch(/address="\{\{param:PROXYSQL_PARAM_90\}\}", port=\{\{param:PROXYSQL_PARAM_91\}\}/);
    expect(lab.proxy.template).not.toContain(`port=${lab.topology.primary.port}`);
    const admin = await lab.proxy.admin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT hostgroup_id AS hg, hostname AS h, port AS p FROM runtime_mysql_servers WHERE hostgroup_id = 10');
      expect(rows.map((r) => [Number(r.hg), r.h, Number(r.p)])).toEqual([[10, writer, lab.topology.primary.port]]);
    } finally {
      await admin.end();
    }
    // and the writer is served through that name: a session with state is pinned to it
    expect((await session(['CREATE TEMPORARY TABLE t3 (id INT)', 'SELECT @@server_id']))[1]).toBe(PRIMARY_SERVER_ID);
  });

  it('the read-only stats login works with its own password only, not the admin password', async () => {
    const login = (password: string) =>
      mysql.createConnection({ host: '127.0.0.1', port: lab.proxy.adminPort, user: 'stats', password, connectTimeout: 2000 });
    const stats = await login(lab.proxy.statsPassword);
    try {
      const [rows] = await stats.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM stats_mysql_global WHERE Variable_Name = 'Client_Connections_connected'");
      expect(Number(rows[0].n)).toBe(1);
    } finally {
      await stats.end();
    }
    expect(lab.proxy.statsPassword).not.toBe(lab.proxy.adminPassword);
    await expect(login(lab.proxy.adminPassword)).rejects.toThrow(/Access denied/);
  });

  it('ProxySQL took every variable of the rendered file (none unknown to this version)', async () => {
    // the 3.0.13 top-level switches of the PostgreSQL side are in the file this ProxySQL started from (2.7.1 ignores them)
    for (const line of ['pgsql-workers=false', 'pgsql-admin=false', 'pgsql-monitor=false']) expect(lab.proxy.template.split('\n')).toContain(line);
    const names = [...lab.proxy.template.matchAll(/^ {2}([a-z_0-9]+)=/gm)].map((m) => m[1]);
    const admin = await lab.proxy.admin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT variable_name AS n FROM runtime_global_variables');
      const known = new Set(rows.map((r) => String(r.n).replace(/^(mysql|admin)-/, '')));
      expect(names.filter((n) => !known.has(n) && n !== 'admin_credentials' && n !== 'stats_credentials')).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});

describe('authenticated backend TLS through a real ProxySQL', () => {
  it('with a CA that did not sign the servers, ProxySQL reaches no backend (the monitor reports the chain error)', async () => {
    const { output } = await import('../../local/run');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wrong-ca-'));
    await output('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=not the RDS CA',
      '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'ca.pem')]);
    const wrong = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    await expect(startLab({ backendCa: wrong, startTimeoutMs: 12_000 })).rejects.toThrow(/self-signed certificate in certificate chain/);
  });
});

describe('the limit: a SET ProxySQL does not track, and the way out', () => {
  it('locks the session (reads fail with 9006) unless a rule gives it a multiplex setting; explain warns about it', async () => {
    const { explainQuery } = await import('../../src/config/explain');
    const { buildQueryRules } = await import('../../src/config/query-rules');
    const sql = 'SET SESSION div_precision_increment = 6';
    expect(explainQuery(buildQueryRules([], { includeDefaults: true }), sql).caveat).toMatch(/locks the session .* fails with 9006/);

    const plain = await startLab();
    try {
      const conn = await connect(plain.proxy);
      await conn.query(sql);
      await expect(conn.query('SELECT 1/3')).rejects.toMatchObject({ errno: 9006 });
      conn.destroy();
    } finally {
      await plain.stop();
    }
    const withRule = await startLab({
      spec: { queryRules: [{ matchDigest: '(?i)^SET\\s+SESSION\\s+div_precision_increment\\b', destination: 'writer', multiplex: 'disable' }] },
    });
    try {
      const conn = await connect(withRule.proxy);
      await conn.query(sql);
      expect(await scalar(conn, 'SELECT @@server_id')).toBe(REPLICA_SERVER_ID);
      conn.destroy();
    } finally {
      await withRule.stop();
    }
  });
});
