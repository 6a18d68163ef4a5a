import { describe, expect, test } from 'vitest';
import {
  auroraInstanceDomain,
  buildProxySqlConfig,
  findPlaceholders,
  ProxySqlConfigSpec,
  renderProxySqlConfig,
  substituteSecrets,
} from '../../src/config';
import { parseLibconfig } from '../support/libconfig';

const DOMAIN = '.abc123xyz.us-east-1.rds.amazonaws.com';

function render(spec: ProxySqlConfigSpec): Record<string, unknown> {
  return parseLibconfig(renderProxySqlConfig(buildProxySqlConfig(spec)));
}

describe('Aurora backend', () => {
  // GIVEN an Aurora cluster with a writer and a reader instance
  const spec: ProxySqlConfigSpec = {
    backend: {
      kind: 'aurora',
      domainName: DOMAIN,
      port: 3306,
      instanceEndpoints: [`writer${DOMAIN}`, `reader${DOMAIN}`],
      maxReplicaLagMs: 30000,
      useTls: true,
    },
    users: [{ username: 'app' }],
    monitorUsername: 'proxysql_monitor',
  };

  test('seeds the writer in both hostgroups and the reader in the reader hostgroup', () => {
    // WHEN the config is rendered and parsed back
    const cnf = render(spec);
    // THEN mysql_servers is exactly this
    expect(cnf.mysql_servers).toEqual([
      { hostgroup: 10, address: `writer${DOMAIN}`, port: 3306, weight: 1, max_connections: 20, use_ssl: 1, comment: expect.any(String) },
      { hostgroup: 20, address: `writer${DOMAIN}`, port: 3306, weight: 1, max_connections: 5, use_ssl: 1, comment: expect.any(String) },
      { hostgroup: 20, address: `reader${DOMAIN}`, port: 3306, weight: 1000, max_connections: 20, use_ssl: 1, comment: expect.any(String) },
    ]);
  });

  test('renders mysql_aws_aurora_hostgroups and no replication hostgroups', () => {
    const cnf = render(spec);
    expect(cnf.mysql_aws_aurora_hostgroups).toEqual([
      {
        writer_hostgroup: 10,
        reader_hostgroup: 20,
        active: 1,
        aurora_port: 3306,
        domain_name: DOMAIN,
        max_lag_ms: 30000,
        // detection within one 100 ms check (costs 10 small queries/s per task against one instance)
        check_interval_ms: 100,
        check_timeout_ms: 80,
        writer_is_also_reader: 1,
        new_reader_weight: 1000,
        comment: expect.any(String),
      },
    ]);
    expect(cnf.mysql_replication_hostgroups).toBeUndefined();
  });

  test('discovered instances default to TLS in both hostgroups', () => {
    const cnf = render(spec);
    const attributes = cnf.mysql_hostgroup_attributes as Array<{ hostgroup_id: number; servers_defaults: string }>;
    expect(attributes.map((a) => [a.hostgroup_id, JSON.parse(a.servers_defaults)])).toEqual([
      [10, { use_ssl: 1, max_connections: 20 }],
      [20, { use_ssl: 1, max_connections: 20 }],
    ]);
  });

  test('users get a password placeholder, the writer as default hostgroup and transaction persistence', () => {
    const cnf = render(spec);
    expect(cnf.mysql_users).toEqual([
      {
        username: 'app',
        password: '{{secret:mysql_user:PROXYSQL_USER_PASSWORD_0}}',
        active: 1,
        default_hostgroup: 10,
        transaction_persistent: 1,
        max_connections: 10000,
      },
    ]);
  });
});

describe('a writer pool per user', () => {
  const aurora: ProxySqlConfigSpec['backend'] = {
    kind: 'aurora',
    domainName: DOMAIN,
    port: 3306,
    instanceEndpoints: [`writer${DOMAIN}`, `reader${DOMAIN}`],
    maxReplicaLagMs: 30000,
    useTls: true,
  };
  const users = [{ username: 'app' }, { username: 'jobs' }, { username: 'reports' }];

  test('Aurora: each further user gets a writer hostgroup with the writer at the cap, and its own Aurora pair that follows the writer', () => {
    const cnf = render({ backend: aurora, users, monitorUsername: 'proxysql_monitor', maxBackendConnectionsPerServer: 30 });
    const servers = cnf.mysql_servers as Array<Record<string, unknown>>;
    expect(servers.filter((s) => Number(s.hostgroup) >= 100).map((s) => [s.hostgroup, s.address, s.max_connections, s.use_ssl])).toEqual([
      [102, `writer${DOMAIN}`, 30, 1],
      [103, `reader${DOMAIN}`, 30, 1],
      [104, `writer${DOMAIN}`, 30, 1],
      [105, `reader${DOMAIN}`, 30, 1],
    ]);
    const pairs = cnf.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>;
    expect(pairs.map((p) => [p.writer_hostgroup, p.reader_hostgroup, p.domain_name, p.check_interval_ms, p.writer_is_also_reader])).toEqual([
      [10, 20, DOMAIN, 100, 1],
      [102, 103, DOMAIN, 100, 0],
      [104, 105, DOMAIN, 100, 0],
    ]);
    // an instance discovered after a failover joins a user's writer hostgroup over TLS, at that user's cap
    const attributes = cnf.mysql_hostgroup_attributes as Array<{ hostgroup_id: number; servers_defaults: string }>;
    expect(attributes.map((a) => [a.hostgroup_id, JSON.parse(a.servers_defaults)])).toEqual([
      [10, { use_ssl: 1, max_connections: 30 }],
      [20, { use_ssl: 1, max_connections: 30 }],
      [102, { use_ssl: 1, max_connections: 30 }],
      [104, { use_ssl: 1, max_connections: 30 }],
    ]);
    expect((cnf.mysql_users as Array<Record<string, unknown>>).map((u) => u.default_hostgroup)).toEqual([10, 102, 104]);
  });

  test('one user renders no further pool: the same rows as before per-user pools', () => {
    const cnf = render({ backend: aurora, users: [{ username: 'app' }], monitorUsername: 'proxysql_monitor' });
    expect((cnf.mysql_servers as Array<Record<string, unknown>>).map((s) => s.hostgroup)).toEqual([10, 20, 20]);
    expect((cnf.mysql_aws_aurora_hostgroups as unknown[]).length).toBe(1);
  });

  test("no rule names the writer's hostgroup: a statement for the writer goes to the session user's default_hostgroup, its own pool", () => {
    const cnf = render({ backend: aurora, users, monitorUsername: 'proxysql_monitor', queryRules: [{ matchDigest: '^SELECT .* FROM reports', destination: 'writer' }, { matchDigest: '^SELECT .* FROM cache', destination: 'reader' }] });
    const destinations = new Set((cnf.mysql_query_rules as Array<Record<string, unknown>>).map((r) => r.destination_hostgroup));
    expect([...destinations]).toEqual([undefined, 20]);
  });

  test('the per-user client cap: half the task with several users, the whole task with one; a given cap wins', () => {
    const caps = (spec: Partial<ProxySqlConfigSpec>) =>
      (render({ backend: aurora, users, monitorUsername: 'm', ...spec }).mysql_users as Array<Record<string, unknown>>).map((u) => u.max_connections);
    expect(caps({})).toEqual([5000, 5000, 5000]);
    expect(caps({ maxClientConnections: 301 })).toEqual([150, 150, 150]);
    expect(caps({ users: [{ username: 'app' }] })).toEqual([10000]);
    expect(caps({ users: [{ username: 'app', maxConnections: 9000 }, { username: 'jobs' }] })).toEqual([9000, 5000]);
  });
});

describe('endpoints backend', () => {
  const spec: ProxySqlConfigSpec = {
    backend: {
      kind: 'endpoints',
      writer: { host: 'primary.example.internal', port: 3306 },
      readers: [
        { host: 'replica1.example.internal', port: 3306 },
        { host: '10.0.3.7', port: 3307 },
      ],
      checkType: 'read_only',
      maxReplicaLagSeconds: 30,
      useTls: false,
    },
    users: [{ username: 'app' }, { username: 'reporting', maxConnections: 50 }],
    monitorUsername: 'proxysql_monitor',
  };

  test('renders the servers, the replication hostgroup and the users', () => {
    const cnf = render(spec);
    expect(cnf.mysql_servers).toEqual([
      { hostgroup: 10, address: 'primary.example.internal', port: 3306, weight: 1000, max_connections: 20, use_ssl: 0, comment: 'writer' },
      // the writer as last-resort reader: a quarter of the cap, so read bursts do not spill onto it
      { hostgroup: 20, address: 'primary.example.internal', port: 3306, weight: 1, max_connections: 5, use_ssl: 0, comment: expect.any(String) },
      { hostgroup: 20, address: 'replica1.example.internal', port: 3306, weight: 1000, max_connections: 20, max_replication_lag: 30, use_ssl: 0, comment: 'reader' },
      { hostgroup: 20, address: '10.0.3.7', port: 3307, weight: 1000, max_connections: 20, max_replication_lag: 30, use_ssl: 0, comment: 'reader' },
      // users[1]'s own writer pool: the writer with its own cap, the replicas in a reader hostgroup no rule routes to
      { hostgroup: 102, address: 'primary.example.internal', port: 3306, weight: 1000, max_connections: 20, use_ssl: 0, comment: "users[1]'s own writer pool" },
      { hostgroup: 103, address: 'replica1.example.internal', port: 3306, weight: 1000, max_connections: 20, use_ssl: 0, comment: "users[1]'s own writer pool" },
      { hostgroup: 103, address: '10.0.3.7', port: 3307, weight: 1000, max_connections: 20, use_ssl: 0, comment: "users[1]'s own writer pool" },
    ]);
    // each pair follows read_only on its own: a promoted replica becomes every user's writer
    expect(cnf.mysql_replication_hostgroups).toEqual([
      { writer_hostgroup: 10, reader_hostgroup: 20, check_type: 'read_only', comment: expect.any(String) },
      { writer_hostgroup: 102, reader_hostgroup: 103, check_type: 'read_only', comment: "users[1]'s own writer pool" },
    ]);
    expect(cnf.mysql_aws_aurora_hostgroups).toBeUndefined();
    // a promoted replica (replication stopped, lag NULL) must not be shunned as the writer
    // every row states the pool settings (a row overrides the globals with its column defaults otherwise)
    const pool = { free_connections_pct: 50, connection_warming: 0, throttle_connections_per_sec: 1000000 };
    expect(cnf.mysql_hostgroup_attributes).toEqual([
      { hostgroup_id: 10, ...pool, hostgroup_settings: '{"monitor_slave_lag_when_null":0}', comment: expect.any(String) },
      { hostgroup_id: 20, ...pool, comment: 'pool settings' },
      { hostgroup_id: 102, ...pool, hostgroup_settings: '{"monitor_slave_lag_when_null":0}', comment: expect.any(String) },
    ]);
    // each user writes through its own pool; with two users one may hold half the task's client connections
    expect((cnf.mysql_users as Array<Record<string, unknown>>).map((u) => [u.username, u.password, u.default_hostgroup, u.max_connections])).toEqual([
      ['app', '{{secret:mysql_user:PROXYSQL_USER_PASSWORD_0}}', 10, 5000],
      ['reporting', '{{secret:mysql_user:PROXYSQL_USER_PASSWORD_1}}', 102, 50],
    ]);
  });

  test('the session-state rules come first, then the default rules send locking reads to the writer and reads to the readers, in that order', () => {
    const all = render(spec).mysql_query_rules as Array<Record<string, unknown>>;
    // rule_id order is ProxySQL's evaluation order within a chain (flagIN)
    expect(all.filter((r) => (r.flagIN ?? 0) === 0).map((r) => [r.rule_id, r.next_query_flagIN ?? null])).toEqual([
      [10, null],
      [11, null],
      [50, 1],
      [60, 2],
      [1000, null],
      [1010, 105],
      [1020, null],
      [1900, null],
      [1910, 105],
    ]);
    // state (1), locked(1..3) (2..4) and wrote(5..1) (105..101): 1 + 3 x 5 + 5 x 4 rules, and in each of these 9
    // chains the account-statement refusal
    expect(all.filter((r) => (r.flagIN ?? 0) !== 0)).toHaveLength(36 + 9);
    const rules = all.filter((r) => Number(r.rule_id) >= 1000 && Number(r.rule_id) < 1900);
    expect(rules).toEqual([
      {
        rule_id: 1000,
        active: 1,
        match_digest:
          '(?i)\\bFOR\\s+(UPDATE|SHARE)\\b|\\bLOCK\\s+IN\\s+SHARE\\s+MODE\\b|\\b(GET_LOCK|RELEASE_LOCK|RELEASE_ALL_LOCKS|IS_FREE_LOCK|IS_USED_LOCK|LAST_INSERT_ID|FOUND_ROWS|ROW_COUNT)\\s*\\(|\\bSQL_CALC_FOUND_ROWS\\b|^[(\\s]*SELECT\\b.*\\bINTO\\b',
        apply: 1,
        comment: 'locking reads, named locks, session results and SELECT INTO go to the writer',
      },
      {
        rule_id: 1010,
        active: 1,
        match_digest: '(?i)^WITH\\b.*\\b(INSERT|UPDATE|DELETE|REPLACE)\\b',
        next_query_flagIN: 105,
        apply: 1,
        comment: 'a CTE that writes goes to the writer',
      },
      {
        rule_id: 1020,
        active: 1,
        match_digest: '(?i)^[(\\s]*(SELECT|WITH)\\b',
        destination_hostgroup: 20,
        apply: 1,
        comment: 'plain reads (SELECT, (SELECT ...) UNION, read-only CTE) go to the readers',
      },
    ]);
  });
});

describe('failover detection', () => {
  test('read_only is polled every 100 ms with a 100 ms timeout (the least ProxySQL takes)', () => {
    const cnf = render({
      backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
      users: [{ username: 'app' }],
      monitorUsername: 'mon',
    });
    expect(cnf.mysql_variables).toMatchObject({ monitor_read_only_interval: 100, monitor_read_only_timeout: 100 });
    // no CA given: no verification configured (the construct supplies the RDS CAs)
    expect(cnf.mysql_variables).not.toHaveProperty('ssl_p2s_ca');
  });
});

describe('variables', () => {
  const cnf = render({
    backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
    users: [{ username: 'app' }],
    monitorUsername: 'mon',
  });
  const mysql = cnf.mysql_variables as Record<string, unknown>;
  const admin = cnf.admin_variables as Record<string, unknown>;

  test.each([
    // No connection held after an INSERT by default (keepConnectionForLastInsertId): the pool at 2,000 sessions.
    ['auto_increment_delay_multiplex', 0],
    ['multiplexing', true],
    ['query_processor_regex', 2],
    ['wait_timeout', 340000],
    ['server_version', '8.0.42'],
    ['default_authentication_plugin', 'mysql_native_password'],
    ['monitor_username', 'mon'],
    ['monitor_password', '{{secret:monitor:PROXYSQL_MONITOR_PASSWORD}}'],
    ['interfaces', '0.0.0.0:6033'],
    ['log_unhealthy_connections', false],
    // an unparsable SET is logged as its digest: no data values, and no client line break starting a log line
    ['parse_failure_logs_digest', true],
    ['max_transaction_idle_time', 30000],
    ['use_tcp_keepalive', true],
    ['tcp_keepalive_time', 120],
    // the backend pool, measured through a real ProxySQL with backend TLS (BENCHMARKS.md)
    ['free_connections_pct', 50],
    ['connection_warming', false],
    ['throttle_connections_per_sec_to_hostgroup', 1000000],
    // a drain's PAUSE and variable changes reach every worker thread within 200 ms (default 2 s)
    ['poll_timeout', 200],
    // 10 timed-out 100 ms read_only checks before ProxySQL assumes read_only=1
    ['monitor_read_only_max_timeout_count', 10],
  ])('mysql-%s = %s', (name, value) => {
    expect(mysql[name]).toEqual(value);
  });

  test('the PostgreSQL side of ProxySQL 3.0.13 is switched off at the top level, by the names its release notes give', () => {
    expect(cnf['pgsql-workers']).toBe(false);
    expect(cnf['pgsql-admin']).toBe(false);
    expect(cnf['pgsql-monitor']).toBe(false);
    // nothing else at the top level; the MySQL side stays on (ProxySQL's default)
    expect(Object.keys(cnf).filter((k) => !/_(variables|servers|users|query_rules|hostgroups|hostgroup_attributes)$/.test(k))).toEqual(['datadir', 'pgsql-workers', 'pgsql-admin', 'pgsql-monitor']);
    const spec: ProxySqlConfigSpec = {
      backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
      users: [{ username: 'app' }],
      monitorUsername: 'mon',
    };
    expect(() => renderProxySqlConfig({ ...buildProxySqlConfig(spec), topLevel: { 'Bad name': { value: false } } })).toThrow(/top-level setting name 'Bad name'/);
  });

  test('no removed variable is rendered (admin-hash_passwords is gone since ProxySQL 2.6, #4218)', () => {
    expect(admin).not.toHaveProperty('hash_passwords');
  });

  test('the admin interface is on loopback with a generated password, and no default credential is left', () => {
    expect(admin.mysql_ifaces).toBe('127.0.0.1:6032');
    expect(admin.admin_credentials).toBe('admin:{{secret:admin:PROXYSQL_ADMIN_PASSWORD}}');
    // the read-only stats login has its own secret: it may log in from wherever the admin interface listens
    expect(admin.stats_credentials).toBe('stats:{{secret:stats:PROXYSQL_STATS_PASSWORD}}');
    expect(JSON.stringify(cnf)).not.toMatch(/admin:admin|monitor:monitor|stats:stats/);
  });

  test('overrides replace defaults', () => {
    const overridden = render({
      backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
      users: [{ username: 'app' }],
      monitorUsername: 'mon',
      mysqlVariableOverrides: { wait_timeout: 60000, eventslog_filename: 'events' },
    }).mysql_variables as Record<string, unknown>;
    expect(overridden.wait_timeout).toBe(60000);
    expect(overridden.eventslog_filename).toBe('events');
  });
});

describe('secrets', () => {
  test('every placeholder names its kind and variable, and substitution round-trips hostile values', () => {
    const template = renderProxySqlConfig(
      buildProxySqlConfig({
        backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
        users: [{ username: 'app' }],
        monitorUsername: 'mon',
      }),
    );
    expect(findPlaceholders(template)).toEqual([
      { kind: 'admin', env: 'PROXYSQL_ADMIN_PASSWORD' },
      { kind: 'stats', env: 'PROXYSQL_STATS_PASSWORD' },
      { kind: 'monitor', env: 'PROXYSQL_MONITOR_PASSWORD' },
      { kind: 'mysql_user', env: 'PROXYSQL_USER_PASSWORD_0' },
    ]);
    const env = {
      PROXYSQL_ADMIN_PASSWORD: 'a\\b$c`d&e/f#g h-ü€',
      PROXYSQL_STATS_PASSWORD: 'st\\ats $x',
      PROXYSQL_MONITOR_PASSWORD: "it's \\ fine",
      PROXYSQL_USER_PASSWORD_0: 'q"uo\\"te $(id) %s',
    };
    const cnf = parseLibconfig(substituteSecrets(template, env));
    expect((cnf.admin_variables as Record<string, unknown>).admin_credentials).toBe(`admin:${env.PROXYSQL_ADMIN_PASSWORD}`);
    expect((cnf.admin_variables as Record<string, unknown>).stats_credentials).toBe(`stats:${env.PROXYSQL_STATS_PASSWORD}`);
    expect((cnf.mysql_variables as Record<string, unknown>).monitor_password).toBe(env.PROXYSQL_MONITOR_PASSWORD);
    expect((cnf.mysql_users as Array<Record<string, unknown>>)[0].password).toBe(env.PROXYSQL_USER_PASSWORD_0);
  });

  test.each([
    [{ PROXYSQL_USER_PASSWORD_0: "o'brien" }, /PROXYSQL_USER_PASSWORD_0 .*single quote/],
    [{ PROXYSQL_USER_PASSWORD_0: '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9' }, /PROXYSQL_USER_PASSWORD_0 .*starts with \*/],
    [{ PROXYSQL_MONITOR_PASSWORD: 'say "hi"' }, /PROXYSQL_MONITOR_PASSWORD .*double quote/],
    [{ PROXYSQL_ADMIN_PASSWORD: 'a:b' }, /PROXYSQL_ADMIN_PASSWORD .*colon/],
    [{ PROXYSQL_ADMIN_PASSWORD: 'a;b' }, /PROXYSQL_ADMIN_PASSWORD .*semicolon/],
    [{ PROXYSQL_ADMIN_PASSWORD: 'line\nbreak' }, /PROXYSQL_ADMIN_PASSWORD .*newline/],
    [{ PROXYSQL_ADMIN_PASSWORD: '' }, /PROXYSQL_ADMIN_PASSWORD .*missing or empty/],
    [{ PROXYSQL_STATS_PASSWORD: 'a:b' }, /PROXYSQL_STATS_PASSWORD \(stats password\) .*colon.*stats_credentials/],
    [{ PROXYSQL_STATS_PASSWORD: '' }, /PROXYSQL_STATS_PASSWORD .*missing or empty/],
  ])('rejects %j with a message naming the variable and not the value', (bad, message) => {
    const template = renderProxySqlConfig(
      buildProxySqlConfig({
        backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
        users: [{ username: 'app' }],
        monitorUsername: 'mon',
      }),
    );
    const env = { PROXYSQL_ADMIN_PASSWORD: 'ok', PROXYSQL_STATS_PASSWORD: 'ok', PROXYSQL_MONITOR_PASSWORD: 'ok', PROXYSQL_USER_PASSWORD_0: 'ok', ...bad };
    const value = Object.values(bad)[0];
    let thrown: Error | undefined;
    try {
      substituteSecrets(template, env);
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown?.message).toMatch(message);
    if (value.length > 1) expect(thrown?.message).not.toContain(value);
  });
});

describe('Aurora instance domain', () => {
  test.each([
    ['mycluster.cluster-abc123xyz.us-east-1.rds.amazonaws.com', '.abc123xyz.us-east-1.rds.amazonaws.com'],
    ['MyCluster.cluster-ro-abc123xyz.eu-west-1.rds.amazonaws.com', '.abc123xyz.eu-west-1.rds.amazonaws.com'],
    ['c1.cluster-custom-q9w8e7.ap-southeast-2.rds.amazonaws.com', '.q9w8e7.ap-southeast-2.rds.amazonaws.com'],
    ['c1.cluster-abc.cn-north-1.rds.amazonaws.com.cn', '.abc.cn-north-1.rds.amazonaws.com.cn'],
  ])('%s → %s', (endpoint, domain) => {
    expect(auroraInstanceDomain(endpoint)).toBe(domain);
  });

  test.each(['db.abc.us-east-1.rds.amazonaws.com', 'localhost', 'mycluster.cluster-abc.example.com'])('rejects %s', (endpoint) => {
    expect(() => auroraInstanceDomain(endpoint)).toThrow(/not an Aurora cluster endpoint/);
  });
});
