/**
 * The session state machine (src/config/session-state.ts) and the settings that give real drivers right answers:
 * each choice here is one the driver matrix (test/proxysql/drivers.test.ts) runs through a real ProxySQL.
 */
import { describe, expect, test } from 'vitest';
import { buildProxySqlConfig, KEEP_MULTIPLEXING_VARIABLES, LAST_INSERT_ID_HOLD } from '../../src/config/build';
import { explainSession, patternMatches } from '../../src/config/explain';
import { buildQueryRules, QueryRuleError } from '../../src/config/query-rules';
import { READ_CONSISTENCY_MODES } from '../../src/config/rules';
import { CONNECT_PROBE_DIGEST, ReadConsistency, sessionStateRules } from '../../src/config/session-state';

const rulesFor = (readConsistency: `${ReadConsistency}`, readYourWritesStatements = 5) =>
  buildQueryRules([], { includeDefaults: true, routing: { readConsistency, readYourWritesStatements, allowAccountStatements: false } });
const hostgroups = (rules: ReturnType<typeof rulesFor>, statements: string[]) => explainSession(rules, statements).map((s) => s.hostgroup);

describe('read consistency', () => {
  test('read-your-writes: a read right after the session wrote goes to the writer; a session that did not write reads the replicas', () => {
    const rules = rulesFor('read-your-writes');
    expect(hostgroups(rules, ['SELECT * FROM t WHERE id = 1'])).toEqual([20]);
    expect(hostgroups(rules, ['INSERT INTO t (v) VALUES (1)', 'SELECT * FROM t WHERE id = 1'])).toEqual([10, 10]);
    expect(hostgroups(rules, ['UPDATE t SET v = 2', 'SELECT 1', 'DELETE FROM t WHERE id = 3', 'SELECT 2'])).toEqual([10, 10, 10, 10]);
  });

  test('readYourWritesStatements bounds the statements that follow a write to the writer; another write starts the count again', () => {
    const rules = rulesFor('read-your-writes', 3);
    expect(hostgroups(rules, ['INSERT INTO t VALUES (1)', 'SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 4'])).toEqual([10, 10, 10, 10, 20]);
    expect(hostgroups(rules, ['INSERT INTO t VALUES (1)', 'SELECT 1', 'SELECT 2', 'UPDATE t SET v = 1', 'SELECT 3', 'SELECT 4', 'SELECT 5', 'SELECT 6'])).toEqual([
      10, 10, 10, 10, 10, 10, 10, 20,
    ]);
  });

  test('a COMMIT counts as a write: the reads after a transaction see it', () => {
    expect(hostgroups(rulesFor('read-your-writes'), ['BEGIN', 'UPDATE t SET v = 1', 'COMMIT', 'SELECT v FROM t'])).toEqual([10, 10, 10, 10]);
  });

  test('writer-only sends every read to the writer; eventual sends a read to the replicas even right after a write', () => {
    expect(hostgroups(rulesFor('writer-only'), ['SELECT 1', 'SELECT * FROM t'])).toEqual([10, 10]);
    expect(hostgroups(rulesFor('eventual'), ['INSERT INTO t VALUES (1)', 'SELECT * FROM t'])).toEqual([10, 20]);
  });

  test('session state and locks still keep the writer in every mode', () => {
    for (const mode of READ_CONSISTENCY_MODES) {
      expect(hostgroups(rulesFor(mode), ['SET @x = 1', 'SELECT @x', 'SELECT 1'])).toEqual([10, 10, 10]);
      expect(hostgroups(rulesFor(mode), ["SELECT GET_LOCK('k', 0)", 'SELECT 1'])).toEqual([10, 10]);
    }
  });

  test('the enum and the rules module list the same modes', () => {
    expect(Object.values(ReadConsistency).sort()).toEqual([...READ_CONSISTENCY_MODES].sort());
  });

  test.each([
    [{ readConsistency: 'strong', readYourWritesStatements: 10 }, /^readConsistency: must be one of 'read-your-writes', 'writer-only', 'eventual', got 'strong'/],
    [{ readConsistency: 'read-your-writes', readYourWritesStatements: 0 }, /^readYourWritesStatements: must be a whole number of statements from 1 to 15, got 0/],
    [{ readConsistency: 'read-your-writes', readYourWritesStatements: 2.5 }, /^readYourWritesStatements: must be a whole number of statements from 1 to 15/],
  ])('%j is refused with a message naming the prop', (routing, message) => {
    expect(() => buildQueryRules([], { includeDefaults: true, routing: routing as never })).toThrow(QueryRuleError);
    expect(() => buildQueryRules([], { includeDefaults: true, routing: routing as never })).toThrow(message);
  });
});

describe('named locks', () => {
  test('the session leaves the writer when its last lock is released, not before', () => {
    const rules = rulesFor('read-your-writes', 1);
    const steps = ["SELECT GET_LOCK('a', 0)", "SELECT GET_LOCK('b', 0)", "SELECT RELEASE_LOCK('b')", 'SELECT 1', "SELECT RELEASE_LOCK('a')", 'SELECT 2', 'SELECT 3'];
    expect(hostgroups(rules, steps)).toEqual([10, 10, 10, 10, 10, 10, 20]);
  });

  test('three locks or more: only RELEASE_ALL_LOCKS() ends it', () => {
    const rules = rulesFor('eventual');
    const get = (k: string) => `SELECT GET_LOCK('${k}', 0)`;
    const release = (k: string) => `SELECT RELEASE_LOCK('${k}')`;
    expect(hostgroups(rules, [get('a'), get('b'), get('c'), release('c'), release('b'), release('a'), 'SELECT 1'])).toEqual([10, 10, 10, 10, 10, 10, 10]);
    expect(hostgroups(rules, [get('a'), get('b'), get('c'), 'SELECT RELEASE_ALL_LOCKS()', 'SELECT 1'])).toEqual([10, 10, 10, 10, 20]);
  });
});

describe('account statements (issue 18)', () => {
  const accountStatements = [
    "SET PASSWORD = PASSWORD('x')",
    "SET PASSWORD FOR 'app'@'%' = 'x'",
    "ALTER USER 'app'@'%' IDENTIFIED BY 'x'",
    "CREATE USER 'eve'@'%' IDENTIFIED BY 'x'",
    "DROP USER 'app'@'%'",
    "RENAME USER 'a'@'%' TO 'b'@'%'",
    "GRANT ALL ON *.* TO 'app'@'%'",
    "REVOKE SELECT ON app.* FROM 'app'@'%'",
    'CREATE ROLE auditor',
    'SET DEFAULT ROLE auditor FOR app',
  ];

  test.each(accountStatements)('%s is refused in every state of the session, which it does not change', (sql) => {
    const rules = rulesFor('read-your-writes');
    for (const before of [[], ['INSERT INTO t VALUES (1)'], ['SET @x = 1', 'SELECT @x'], ["SELECT GET_LOCK('k', 0)"]]) {
      const steps = explainSession(rules, [...before, sql]);
      const last = steps.at(-1)!;
      expect(last.destination, `after ${JSON.stringify(before)}`).toBe('refused');
      expect(last.reason).toMatch(/error 1148: serverless-proxysql: account statements are refused .* set allowAccountStatements/);
      expect(last.nextChain).toBe(last.chain);
    }
  });

  test('allowAccountStatements lets them through to the writer; statements that only look alike are not refused', () => {
    const allowed = buildQueryRules([], { includeDefaults: true, routing: { readConsistency: 'read-your-writes', readYourWritesStatements: 5, allowAccountStatements: true } });
    expect(explainSession(allowed, ["SET PASSWORD = 'x'"])[0].destination).toBe('writer');
    const rules = rulesFor('read-your-writes');
    for (const sql of ["SELECT * FROM grants WHERE name = 'GRANT'", 'SET NAMES utf8mb4', "INSERT INTO users (name) VALUES ('DROP USER')", 'SELECT granted FROM t']) {
      expect(explainSession(rules, [sql])[0].destination, sql).not.toBe('refused');
    }
  });
});

describe('connect-time probes do not pin', () => {
  test.each([
    // Django 3.2 (digest as ProxySQL 2.7.1 showed it)
    'SELECT VERSION(),@@sql_mode,@@default_storage_engine,@@sql_auto_is_null,@@lower_case_table_names,CONVERT_TZ(?,?,?) IS NOT NULL',
    // MariaDB Connector/J 2.7, MySQL Connector/J 8
    'SELECT @@max_allowed_packet,@@system_time_zone,@@time_zone,@@auto_increment_increment',
    'SELECT @@session.auto_increment_increment AS auto_increment_increment,@@character_set_client AS character_set_client,@@license AS license',
    // Knex, TypeORM, Sequelize
    'SELECT version() as version',
    'SELECT VERSION() as `version`',
  ])('%s carries multiplex=2', (digest) => {
    expect(patternMatches(CONNECT_PROBE_DIGEST, digest)).toBe(true);
  });

  test.each(['SELECT @x', 'SELECT @x := ?', 'SELECT id FROM t WHERE a = @@sql_mode', 'SELECT @@sql_mode, @x', 'SELECT * FROM t'])('%s does not', (digest) => {
    expect(patternMatches(CONNECT_PROBE_DIGEST, digest)).toBe(false);
  });

  test('a probe that takes a named lock still pins: the lock rule comes after it and sets multiplex=0', () => {
    const steps = explainSession(rulesFor('read-your-writes'), ["SELECT GET_LOCK('k', 0)"]);
    expect(steps[0].rule?.multiplex).toBe(0);
    expect(steps[0].matchedRuleIds).toEqual([11, 60]);
  });
});

describe('the rendered rows', () => {
  test("no comment holds a quote or line break: ProxySQL 2.7.1's loader pastes comments into SQL unescaped and drops the rule", () => {
    for (const mode of READ_CONSISTENCY_MODES) {
      for (const rule of sessionStateRules({ readConsistency: mode, readYourWritesStatements: 15, allowAccountStatements: false })) {
        expect(rule.comment ?? '', `rule ${rule.ruleId}`).not.toMatch(/['"\n\r]/);
      }
    }
  });

  test('rule ids are unique and each chain is reachable from the fresh state', () => {
    const rules = rulesFor('read-your-writes', 15);
    const ids = rules.map((r) => r.ruleId);
    expect(new Set(ids).size).toBe(ids.length);
    const reachable = new Set([0, ...rules.map((r) => r.nextQueryFlagIn).filter((f): f is number => f !== undefined)]);
    for (const rule of rules) expect(reachable.has(rule.flagIn ?? 0), `rule ${rule.ruleId}`).toBe(true);
  });
});

describe('settings real drivers need', () => {
  const variables = buildProxySqlConfig({
    backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
    users: [{ username: 'app' }],
    monitorUsername: 'mon',
  }).mysqlVariables;

  test('LAST_INSERT_ID(): no connection is held after an INSERT unless keepConnectionForLastInsertId, which holds it briefly', () => {
    expect(variables.auto_increment_delay_multiplex.value).toBe(0);
    expect(variables).not.toHaveProperty('auto_increment_delay_multiplex_timeout_ms');
    const held = buildProxySqlConfig({
      backend: { kind: 'endpoints', writer: { host: 'db', port: 3306 }, readers: [], checkType: 'read_only', maxReplicaLagSeconds: 0, useTls: true },
      users: [{ username: 'app' }],
      monitorUsername: 'mon',
      keepConnectionForLastInsertId: true,
    }).mysqlVariables;
    expect(held.auto_increment_delay_multiplex.value).toBe(LAST_INSERT_ID_HOLD.statements);
    expect(held.auto_increment_delay_multiplex_timeout_ms.value).toBe(LAST_INSERT_ID_HOLD.idleMs);
  });

  // ProxySQL compares prefixes after stripping @@session. / @@local. / @@ (lib/mysql_connection.cpp IsKeepMultiplexEnabledVariables).
  const keeps = (name: string) => KEEP_MULTIPLEXING_VARIABLES.some((prefix) => name.toLowerCase().startsWith(prefix));
  test.each([
    // MariaDB Connector/J 2.7 at connect
    ['max_allowed_packet'], ['system_time_zone'], ['time_zone'], ['auto_increment_increment'],
    // MySQL Connector/J 8 at connect
    ['character_set_client'], ['character_set_results'], ['collation_server'], ['collation_connection'], ['init_connect'],
    ['interactive_timeout'], ['license'], ['lower_case_table_names'], ['net_write_timeout'], ['performance_schema'],
    ['query_cache_size'], ['query_cache_type'], ['sql_mode'], ['transaction_isolation'], ['wait_timeout'],
    // Django, SQLAlchemy
    ['sql_auto_is_null'], ['tx_isolation'], ['version'], ['version_comment'],
  ])('SELECT @@%s does not pin the session', (name) => {
    expect(keeps(name)).toBe(true);
    expect(String(variables.keep_multiplexing_variables.value).split(',')).toEqual([...KEEP_MULTIPLEXING_VARIABLES]);
  });

  test.each([['identity'], ['last_insert_id']])('SELECT @@%s still needs the session connection: not listed', (name) => {
    expect(keeps(name)).toBe(false);
  });
});
