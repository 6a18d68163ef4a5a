import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildProxySqlConfig, rdsCaBundle, rdsRegionOf, renderProxySqlConfig, substituteSecrets } from '../src/config';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { parseLibconfig } from '../test/support/libconfig';
import { configSpecFromRenderArgs, renderCommand } from './render';

const ENV = {
  PROXYSQL_ADMIN_PASSWORD: 'adm1n-Secret',
  PROXYSQL_STATS_PASSWORD: 'st4ts-Secret',
  PROXYSQL_MONITOR_PASSWORD: 'm0n-Secret',
  PROXYSQL_USER_PASSWORD_0: 'app-Secret-1',
  PROXYSQL_USER_PASSWORD_1: 'batch-Secret-2',
};
const ENDPOINT_ARGS = ['--writer', 'db.example.com:3306', '--reader', 'replica-1.example.com', '--reader', '10.0.0.7:3307', '--user', 'app'];

/** What render says, as a deploy warns backendTlsUnverified, for ENDPOINT_ARGS' servers (outside RDS, TLS on, no CA given). */
const UNVERIFIED =
  'warning: TLS to the database is encrypted but not authenticated (serverless-proxysql:backendTlsUnverified, as the construct warns): ' +
  "db.example.com, replica-1.example.com, 10.0.0.7 are not RDS or Aurora endpoints of one known region, so no CA is known; give --backend-ca FILE with the CA that signs the servers' certificates\n";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-render-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function configFile(content: unknown): string {
  const file = path.join(tmp, `config-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('render', () => {
  test('prints the config the model renders for the same input, secrets substituted like the entrypoint does', () => {
    // WHEN rendering an endpoints backend with one user
    const result = renderCommand(ENDPOINT_ARGS, ENV);
    // THEN it succeeds, warning only that servers outside RDS are not authenticated, and its text is the model's
    // template with the secrets filled in
    expect(result).toMatchObject({ exitCode: 0, stderr: UNVERIFIED });
    const template = renderProxySqlConfig(buildProxySqlConfig(configSpecFromRenderArgs(ENDPOINT_ARGS)));
    expect(result.stdout).toBe(substituteSecrets(template, ENV));
    // AND it parses back with the passwords from the environment and the servers from the flags
    const cnf = parseLibconfig(result.stdout) as Record<string, Record<string, unknown> & unknown[]>;
    expect(cnf.admin_variables.admin_credentials).toBe('admin:adm1n-Secret');
    expect(cnf.mysql_variables.monitor_password).toBe('m0n-Secret');
    expect(cnf.mysql_variables.monitor_username).toBe('proxysql_monitor');
    expect(cnf.mysql_variables.interfaces).toBe('0.0.0.0:6033');
    expect(cnf.admin_variables.mysql_ifaces).toBe('127.0.0.1:6032');
    expect(cnf.mysql_users).toEqual([expect.objectContaining({ username: 'app', password: 'app-Secret-1', default_hostgroup: 10 })]);
    expect((cnf.mysql_servers as unknown as Array<Record<string, unknown>>).map((s) => [s.hostgroup, s.address, s.port, s.use_ssl])).toEqual([
      [10, 'db.example.com', 3306, 1],
      [20, 'db.example.com', 3306, 1],
      [20, 'replica-1.example.com', 3306, 1],
      [20, '10.0.0.7', 3307, 1],
    ]);
  });

  test("the backend is what the construct's ProxySqlBackend.endpoints binds with its defaults (TLS on, 30 s lag)", () => {
    const construct = ProxySqlBackend.endpoints({
      writer: { hostname: 'db.example.com', port: 3306 },
      readers: [{ hostname: 'replica-1.example.com' }, { hostname: '10.0.0.7', port: 3307 }],
    })._bind({ useTls: true, maxReplicaLagSeconds: 30 });
    expect(configSpecFromRenderArgs(ENDPOINT_ARGS).backend).toEqual(construct.spec);
  });

  test('Aurora: the instance domain comes from the cluster endpoint and the instances from --aurora-instance', () => {
    const args = [
      '--aurora-cluster-endpoint',
      'shop.cluster-abc123xyz.eu-west-1.rds.amazonaws.com',
      '--aurora-instance',
      'shop-1',
      '--aurora-instance',
      'Shop-2',
      '--user',
      'app',
      '--masked',
    ];
    const result = renderCommand(args, {});
    expect(result.exitCode).toBe(0);
    const cnf = parseLibconfig(result.stdout) as Record<string, Array<Record<string, unknown>>>;
    expect(cnf.mysql_aws_aurora_hostgroups[0]).toMatchObject({ domain_name: '.abc123xyz.eu-west-1.rds.amazonaws.com', max_lag_ms: 30000 });
    expect(cnf.mysql_servers.map((s) => [s.hostgroup, s.address])).toEqual([
      [10, 'shop-1.abc123xyz.eu-west-1.rds.amazonaws.com'],
      [20, 'shop-1.abc123xyz.eu-west-1.rds.amazonaws.com'],
      [20, 'shop-2.abc123xyz.eu-west-1.rds.amazonaws.com'],
    ]);
    expect(cnf.mysql_replication_hostgroups).toBeUndefined();
  });

  test('a non-loopback --admin is rendered but warned about, masked or not: the admin interface shows every password', () => {
    const warning = (address: string) =>
      `warning: --admin ${address} is not a loopback address: ProxySQL's admin interface, which shows every password in clear (mysql_users, the monitor's) and can change the whole configuration, would listen where other machines reach it; a deploy keeps it on 127.0.0.1\n`;
    for (const address of ['0.0.0.0:6032', '10.0.0.5:6032', 'proxy.example.internal:6032']) {
      const result = renderCommand([...ENDPOINT_ARGS, '--admin', address], ENV);
      // (after the unverified-TLS warning that ENDPOINT_ARGS' servers outside RDS get)
      expect(result).toMatchObject({ exitCode: 0, stderr: UNVERIFIED + warning(address) });
      expect((parseLibconfig(result.stdout) as Record<string, Record<string, unknown>>).admin_variables.mysql_ifaces).toBe(address);
      expect(renderCommand([...ENDPOINT_ARGS, '--admin', address, '--masked'], {}).stderr).toBe(UNVERIFIED + warning(address));
    }
    for (const address of ['127.0.0.1:6032', '127.0.0.2:7032', 'localhost:6032', 'LOCALHOST:6032']) {
      expect(renderCommand([...ENDPOINT_ARGS, '--admin', address], ENV)).toMatchObject({ exitCode: 0, stderr: UNVERIFIED });
    }
  });

  test('a missing password variable is printed masked with a warning naming it, never as an empty password', () => {
    const { PROXYSQL_USER_PASSWORD_0: _omitted, ...env } = ENV;
    const result = renderCommand(ENDPOINT_ARGS, env);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      `${UNVERIFIED}warning: PROXYSQL_USER_PASSWORD_0 is not set: the application user password is printed masked; set it to print the real value\n`,
    );
    const cnf = parseLibconfig(result.stdout) as Record<string, Array<Record<string, unknown>>>;
    expect(cnf.mysql_users[0].password).toBe('********(PROXYSQL_USER_PASSWORD_0)');
    // the others are still filled in
    expect(result.stdout).toContain('m0n-Secret');
    // an empty value counts as missing
    expect(renderCommand(ENDPOINT_ARGS, { ...ENV, PROXYSQL_MONITOR_PASSWORD: '' }).stderr).toMatch(/PROXYSQL_MONITOR_PASSWORD is not set/);
  });

  test('a password ProxySQL cannot take is an error naming the variable, not the value (exit 1)', () => {
    const result = renderCommand(ENDPOINT_ARGS, { ...ENV, PROXYSQL_USER_PASSWORD_0: "it's-secret" });
    expect(result).toMatchObject({ exitCode: 1, stdout: '' });
    expect(result.stderr).toMatch(/PROXYSQL_USER_PASSWORD_0 \(application user password\) holds a single quote/);
    expect(result.stderr).not.toContain("it's-secret");
    const admin = renderCommand(ENDPOINT_ARGS, { ...ENV, PROXYSQL_ADMIN_PASSWORD: 'a:b' });
    expect(admin.exitCode).toBe(1);
    expect(admin.stderr).toMatch(/PROXYSQL_ADMIN_PASSWORD .*colon/);
  });

  test('passwords with backslashes and double quotes are escaped for libconfig and read back intact', () => {
    const password = 'p\\a"ss';
    const result = renderCommand(ENDPOINT_ARGS, { ...ENV, PROXYSQL_USER_PASSWORD_0: password });
    const cnf = parseLibconfig(result.stdout) as Record<string, Array<Record<string, unknown>>>;
    expect(cnf.mysql_users[0].password).toBe(password);
  });

  test('--masked prints every secret masked and warns about no password; several users read their own variables', () => {
    const result = renderCommand([...ENDPOINT_ARGS, '--user', 'batch_job', '--masked'], {});
    expect(result).toMatchObject({ exitCode: 0, stderr: UNVERIFIED });
    expect(result.stdout).toContain('"admin:********(PROXYSQL_ADMIN_PASSWORD)"');
    expect(result.stdout).toContain('********(PROXYSQL_USER_PASSWORD_1)');
    expect(result.stdout).not.toMatch(/\{\{secret:(admin|monitor|mysql_user):/);
    // by position, as the task names them (src/config/build.ts userPasswordEnv): the second --user is _1
    expect(result.stdout).toContain('********(PROXYSQL_USER_PASSWORD_0)');
  });

  test('--admin-password-env, --monitor-user, --listen, --admin and --datadir are used', () => {
    const args = [
      ...ENDPOINT_ARGS,
      '--admin-password-env',
      'MY_ADMIN_PW',
      '--monitor-user',
      'mon',
      '--listen',
      '127.0.0.1:7033',
      '--admin',
      '127.0.0.1:7032',
      '--datadir',
      '/tmp/psql',
    ];
    const result = renderCommand(args, { ...ENV, MY_ADMIN_PW: 'other-admin' });
    const cnf = parseLibconfig(result.stdout) as Record<string, Record<string, unknown>>;
    expect(cnf.datadir).toBe('/tmp/psql');
    expect(cnf.admin_variables).toMatchObject({ admin_credentials: 'admin:other-admin', mysql_ifaces: '127.0.0.1:7032' });
    expect(cnf.mysql_variables).toMatchObject({ interfaces: '127.0.0.1:7033', monitor_username: 'mon' });
  });

  test('--config: custom rules before the defaults, check type, lag, TLS, threads and variable overrides', () => {
    const file = configFile({
      queryRules: [{ matchDigest: '^SELECT .* FROM reports', destination: 'writer', comment: 'reports read fresh data' }],
      checkType: 'innodb_read_only',
      maxReplicaLag: 12,
      backendTls: false,
      threads: 4,
      maxClientConnections: 500,
      mysqlVariables: { max_transaction_idle_time: 10000 },
    });
    const result = renderCommand([...ENDPOINT_ARGS, '--config', file], ENV);
    expect(result.stderr).toBe('');
    const cnf = parseLibconfig(result.stdout) as Record<string, Record<string, unknown> & Array<Record<string, unknown>>>;
    // The fresh chain (flagIN 0) in evaluation order; the other chains follow (src/config/session-state.ts).
    expect(cnf.mysql_query_rules.filter((r) => (r.flagIN ?? 0) === 0).map((r) => r.rule_id)).toEqual([10, 11, 50, 60, 100, 1000, 1010, 1020, 1900, 1910]);
    // destination writer: no hostgroup id, the session user's default_hostgroup (its own writer pool)
    expect(cnf.mysql_query_rules.find((r) => r.rule_id === 100)).toMatchObject({ match_digest: '^SELECT .* FROM reports', apply: 1 });
    expect(cnf.mysql_query_rules.find((r) => r.rule_id === 100)?.destination_hostgroup).toBeUndefined();
    expect(cnf.mysql_replication_hostgroups[0]).toMatchObject({ check_type: 'innodb_read_only' });
    expect(cnf.mysql_servers[2]).toMatchObject({ max_replication_lag: 12, use_ssl: 0 });
    expect(cnf.mysql_variables).toMatchObject({ threads: 4, max_connections: 500, max_transaction_idle_time: 10000 });
  });

  test("--config: RDS Proxy's knobs render their variables, as the construct's props do", () => {
    const file = configFile({ borrowTimeout: 120, idleClientTimeout: 60, initQuery: "SET SESSION sql_mode='STRICT_ALL_TABLES'" });
    const result = renderCommand([...ENDPOINT_ARGS, '--config', file], ENV);
    expect(result.stderr).toBe(UNVERIFIED);
    const cnf = parseLibconfig(result.stdout) as Record<string, Record<string, unknown>>;
    expect(cnf.mysql_variables).toMatchObject({ connect_timeout_server_max: 120000, wait_timeout: 60000, init_connect: "SET SESSION sql_mode='STRICT_ALL_TABLES'" });
  });

  test('an invalid rule in --config fails with the RE2 check message and exit 2', () => {
    const file = configFile({ queryRules: [{ matchDigest: '(?=x)SELECT', destination: 'reader' }] });
    const result = renderCommand([...ENDPOINT_ARGS, '--config', file], ENV);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--config ${file}: queryRules[0].matchDigest: not a valid RE2 pattern`);
  });

  test.each([
    [{ wait_timout: 1000 }, 'mysqlVariables.wait_timout: not a variable of ProxySQL 3.0 (it would log "Impossible to set not existing variable" and ignore it); did you mean wait_timeout?'],
    [{ not_a_var: 1 }, 'mysqlVariables.not_a_var: not a variable of ProxySQL 3.0 (it would log "Impossible to set not existing variable" and ignore it); the variables are listed at https://proxysql.com/documentation/global-variables/mysql-variables/'],
    [{ monitor_ping_timeout: 50 }, 'mysqlVariables.monitor_ping_timeout: must be a whole number from 100 to 600000 (ProxySQL would log "Impossible to set variable" and keep its default), got 50'],
  ])('--config mysqlVariables %j: refused before rendering, exit 2', (variables, message) => {
    const file = configFile({ mysqlVariables: variables });
    const result = renderCommand([...ENDPOINT_ARGS, '--config', file], ENV);
    expect(result).toEqual({ stdout: '', stderr: `serverless-proxysql render: --config ${file}: ${message}\n`, exitCode: 2 });
  });

  test('--help prints the usage and exits 0', () => {
    const result = renderCommand(['--help'], {});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: serverless-proxysql render/);
    expect(result.stdout).toContain('--aurora-cluster-endpoint');
  });
});

describe('render: the RDS CAs for authenticated TLS, as the construct does', () => {
  const AURORA = ['--aurora-cluster-endpoint', 'orders.cluster-c9akciq32.eu-west-1.rds.amazonaws.com', '--aurora-instance', 'orders-1', '--user', 'app'];

  test('an Aurora backend is verified against its region\'s RDS CAs: ssl_p2s_ca names the file, a note says what to put there', () => {
    const result = renderCommand(AURORA, ENV);
    expect(result.exitCode).toBe(0);
    expect((parseLibconfig(result.stdout).mysql_variables as Record<string, unknown>).ssl_p2s_ca).toBe('/var/lib/proxysql/backend-ca.pem');
    expect(result.stderr).toContain('note: ProxySQL verifies the database\'s certificate against /var/lib/proxysql/backend-ca.pem: put the Amazon RDS CAs of eu-west-1 there');
  });

  test('--print-backend-ca prints the eu-west-1 CAs (and the 2019 root), nothing else', () => {
    const result = renderCommand([...AURORA, '--print-backend-ca'], ENV);
    expect(result.exitCode).toBe(0);
    const names = (result.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
      (pem) => /CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1],
    );
    expect(names).toContain('Amazon RDS eu-west-1 Root CA RSA2048 G1');
    expect(names.every((n) => n === 'Amazon RDS Root 2019 CA' || n?.startsWith('Amazon RDS eu-west-1 '))).toBe(true);
  });

  test('servers outside RDS, or TLS off: no CA, and --print-backend-ca says why', () => {
    const plain = renderCommand(ENDPOINT_ARGS, ENV);
    expect(plain.stderr).not.toContain('note:');
    expect(parseLibconfig(plain.stdout).mysql_variables).not.toHaveProperty('ssl_p2s_ca');
    const refused = renderCommand([...ENDPOINT_ARGS, '--print-backend-ca'], ENV);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/--print-backend-ca: the backend is not RDS\/Aurora with TLS/);
  });

  test('--writer db.example.com with TLS on and no CA: the unverified-TLS warning a deploy gives, on stderr', () => {
    const result = renderCommand(['--writer', 'db.example.com', '--user', 'app'], ENV);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      'warning: TLS to the database is encrypted but not authenticated (serverless-proxysql:backendTlsUnverified, as the construct warns): ' +
        "db.example.com is not an RDS or Aurora endpoint of one known region, so no CA is known; give --backend-ca FILE with the CA that signs the servers' certificates\n",
    );
    // TLS off: nothing to verify, nothing to warn about (the construct warns backendTlsOff; render states it in the file)
    expect(renderCommand(['--writer', 'db.example.com', '--user', 'app', '--config', configFile({ backendTls: false })], ENV).stderr).toBe('');
  });

  test('--backend-ca FILE: verified against it (ssl_p2s_ca), no warning; --print-backend-ca prints it', () => {
    const pem = rdsCaBundle('eu-west-1') as string;
    const file = configFile(pem);
    const result = renderCommand([...ENDPOINT_ARGS, '--backend-ca', file], ENV);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(
      "note: ProxySQL verifies the database's certificate against /var/lib/proxysql/backend-ca.pem: put the bundle of --backend-ca there (render … --print-backend-ca prints them)\n",
    );
    expect((parseLibconfig(result.stdout).mysql_variables as Record<string, unknown>).ssl_p2s_ca).toBe('/var/lib/proxysql/backend-ca.pem');
    expect(renderCommand([...ENDPOINT_ARGS, '--backend-ca', file, '--print-backend-ca'], ENV).stdout).toBe(`${pem.trim()}\n`);
  });

  test.each([
    [() => configFile('not a certificate'), [], 'must be PEM text (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)'],
    [() => path.join(tmp, 'missing.pem'), [], 'cannot read the file (ENOENT)'],
    [() => configFile(rdsCaBundle('eu-west-1') as string), ['--config', configFile({ backendTls: false })], 'set with backendTls false; turn TLS on or drop the CA'],
  ])('a bad --backend-ca is refused naming the option (exit 2): %#', (file, extra, message) => {
    const ca = file();
    const result = renderCommand([...ENDPOINT_ARGS, ...extra, '--backend-ca', ca], ENV);
    expect(result).toEqual({ stdout: '', stderr: `serverless-proxysql render: --backend-ca ${ca}: ${message}\n`, exitCode: 2 });
  });

  test.each([
    [{ kind: 'aurora', domainName: '.c9akciq32.eu-west-1.rds.amazonaws.com' }, 'eu-west-1'],
    [{ kind: 'aurora', domainName: '.abc.cn-north-1.rds.amazonaws.com.cn' }, 'cn-north-1'],
    [{ kind: 'endpoints', writer: { host: 'db1.abc.us-east-2.rds.amazonaws.com' }, readers: [{ host: 'db2.abc.us-east-2.rds.amazonaws.com' }] }, 'us-east-2'],
    [{ kind: 'endpoints', writer: { host: 'db1.abc.us-east-2.rds.amazonaws.com' }, readers: [{ host: '10.0.0.7' }] }, undefined],
    [{ kind: 'endpoints', writer: { host: 'mysql.example.com' }, readers: [] }, undefined],
  ])('rdsRegionOf(%j) = %s', (backend, region) => {
    expect(rdsRegionOf(backend as never)).toBe(region);
  });
});

describe('render --config: mysqlVariables that log what clients send', () => {
  test('are rendered with a warning naming the variable, as the construct warns', () => {
    const file = configFile({ mysqlVariables: { eventslog_filename: 'queries.log' } });
    const result = renderCommand([...ENDPOINT_ARGS, '--config', file], ENV);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`warning: --config ${file}: mysqlVariables.eventslog_filename: logs every client statement's text, data values included`);
  });

  test('a CA path of its own is refused: backendCa sets it', () => {
    const file = configFile({ mysqlVariables: { ssl_p2s_ca: '/etc/ssl/other.pem' } });
    const result = renderCommand([...ENDPOINT_ARGS, '--config', file], ENV);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/mysqlVariables\.ssl_p2s_ca: set by the construct \(set backendCa instead/);
  });
});
