import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { explainCommand, ExplainJson } from './explain';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-explain-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
function configFile(content: unknown): string {
  const file = path.join(tmp, `config-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(content));
  return file;
}

const noStdin = { readStdin: (): string => { throw new Error('stdin must not be read'); } };

function explainJson(args: string[], stdin = noStdin): ExplainJson {
  const result = explainCommand(['--json', ...args], stdin);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout) as ExplainJson;
}

describe('explain: the default read/write split', () => {
  // GIVEN the rules a deploy renders without --config, and a user whose default hostgroup is the writer (10)
  test.each([
    ['plain SELECT', 'SELECT * FROM items WHERE id = 7', 20, 1020],
    ['lower-case select', 'select name from items', 20, 1020],
    ['leading /* comment */', '/* app=api */ SELECT id FROM items', 20, 1020],
    ['leading -- comment', '-- list the items\nSELECT id FROM items', 20, 1020],
    ['FOR UPDATE', 'SELECT * FROM items WHERE id = 7 FOR UPDATE', 10, 1000],
    ['FOR SHARE', 'SELECT * FROM items WHERE id = 7 FOR SHARE', 10, 1000],
    ['LOCK IN SHARE MODE', 'SELECT * FROM items WHERE id = 7 LOCK IN SHARE MODE', 10, 1000],
    // A named lock and a user variable are session state: rules 60 and 50 keep the session on the writer.
    ['GET_LOCK(', "SELECT GET_LOCK('nightly-job', 10)", 10, 60],
    ['LAST_INSERT_ID()', 'SELECT LAST_INSERT_ID()', 10, 1000],
    ['SQL_CALC_FOUND_ROWS', 'SELECT SQL_CALC_FOUND_ROWS * FROM items LIMIT 10', 10, 1000],
    ['SELECT … INTO @x', 'SELECT id INTO @x FROM items LIMIT 1', 10, 50],
    ['SELECT … INTO OUTFILE', "SELECT id INTO OUTFILE '/tmp/x' FROM items", 10, 1000],
    // Writes go to the writer by rule 1910, which also moves the session to wrote(5) (read-your-writes).
    ['INSERT', "INSERT INTO items (name) VALUES ('a')", 10, 1910],
    ['UPDATE', "UPDATE items SET name = 'b' WHERE id = 1", 10, 1910],
    ['DELETE', 'DELETE FROM items WHERE id = 1', 10, 1910],
    ['REPLACE', "REPLACE INTO items (id, name) VALUES (1, 'c')", 10, 1910],
    ['read-only CTE', 'WITH recent AS (SELECT * FROM items ORDER BY id DESC LIMIT 5) SELECT * FROM recent', 20, 1020],
    ['WITH … UPDATE', 'WITH old AS (SELECT id FROM items) UPDATE items SET name = ? WHERE id IN (SELECT id FROM old)', 10, 1010],
    ['WITH … DELETE', 'WITH old AS (SELECT id FROM items WHERE id < 5) DELETE FROM items WHERE id IN (SELECT id FROM old)', 10, 1010],
    ['parenthesised UNION', '(SELECT 1) UNION (SELECT 2)', 20, 1020],
    ["string literal holding 'FOR UPDATE'", "SELECT * FROM notes WHERE body = 'please FOR UPDATE'", 20, 1020],
    ['BEGIN', 'BEGIN', 10, 1910],
    ['COMMIT', 'COMMIT', 10, 1910],
    // ProxySQL answers a SET of a variable it tracks itself: no rule decides it.
    ['SET', "SET NAMES 'utf8mb4'", 10, undefined],
    ['SHOW', 'SHOW TABLES', 10, 1900],
    ['CALL', 'CALL refresh_stats()', 10, 1910],
  ])('%s', (_name, sql, hostgroup, ruleId) => {
    // WHEN it is explained THEN it goes where ProxySQL would send it, decided by that rule (or by the default hostgroup)
    const result = explainJson(['--', sql]);
    expect(result.hostgroup).toBe(hostgroup);
    expect(result.destination).toBe(hostgroup === 10 ? 'writer' : 'reader');
    expect(result.rule?.ruleId).toBe(ruleId);
    if (ruleId === undefined) expect(result.reason).toMatch(/tracks: it answers the SET itself/);
  });

  test.each(['SELECT * FROM items', 'select 1', '(SELECT 1) UNION (SELECT 2)', 'WITH x AS (SELECT 1) SELECT * FROM x'])(
    '%j inside a transaction stays on the writer',
    (sql) => {
      const result = explainJson(['--in-transaction', sql]);
      expect(result).toMatchObject({ hostgroup: 10, destination: 'writer', inTransaction: true, rule: null });
      expect(result.reason).toMatch(/transaction_persistent=1/);
    },
  );
});

describe('explain: output', () => {
  test('a statement starting with - that is not after -- gets a hint instead of a cryptic option error', () => {
    const result = explainCommand(['-- note\nSELECT 1'], noStdin);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/put the statement after --/);
  });

  test('text output shows the digest, the deciding rule with its RE2 pattern, the hostgroup and why', () => {
    const result = explainCommand(["SELECT * FROM items WHERE name = 'x' FOR UPDATE"], noStdin);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('digest:      SELECT * FROM items WHERE name = ? FOR UPDATE\n');
    expect(result.stdout).toContain('hostgroup:   10 (writer)\n');
    expect(result.stdout).toMatch(/rule: {8}1000, match_digest \(\?i\)\\bFOR\\s\+\(UPDATE\|SHARE\)\\b.* \(RE2, case-insensitive\)\n/);
    expect(result.stdout).toContain('transaction: outside a transaction\n');
    expect(result.stdout).toMatch(/why: {9}rule 1000 \(match_digest .* matched the digest\): locking reads/);
  });

  test('--json gives the rule pattern, engine and matched rules', () => {
    const result = explainJson(['SELECT 1']);
    expect(result).toMatchObject({
      sql: 'SELECT 1',
      digest: 'SELECT ?',
      hostgroup: 20,
      rule: { ruleId: 1020, matchDigest: '(?i)^[(\\s]*(SELECT|WITH)\\b', engine: 'RE2', caseInsensitive: true },
      // rule 11 (a SELECT of literals only: multiplex=2, apply=0) matches first and lets the walk go on
      matchedRuleIds: [11, 1020],
      cache: null,
    });
  });

  test("'-' reads the statement from standard input", () => {
    const result = explainJson(['-'], { readStdin: () => 'SELECT * FROM items FOR SHARE\n' });
    expect(result).toMatchObject({ hostgroup: 10, digest: 'SELECT * FROM items FOR SHARE' });
  });
});

describe('explain: custom rules from --config', () => {
  test('a custom destination rule takes precedence over the defaults', () => {
    const file = configFile({ queryRules: [{ matchDigest: '^SELECT .* FROM reports', destination: 'writer' }] });
    const reports = explainJson(['--config', file, 'SELECT * FROM reports WHERE day = 3']);
    expect(reports).toMatchObject({ hostgroup: 10, rule: { ruleId: 100, matchDigest: '^SELECT .* FROM reports' } });
    // other reads still go to the readers
    expect(explainJson(['--config', file, 'SELECT * FROM items']).hostgroup).toBe(20);
  });

  test('a cache_ttl rule without apply is reported, and the default rules still route the read', () => {
    const file = configFile({ queryRules: [{ matchDigest: '^SELECT .* FROM countries', cacheTtlMs: 60000, apply: false }] });
    const result = explainJson(['--config', file, 'SELECT name FROM countries']);
    expect(result).toMatchObject({ hostgroup: 20, matchedRuleIds: [100, 1020], cache: { ruleId: 100, ttlMs: 60000 } });
    expect(explainCommand(['--config', file, 'SELECT name FROM countries'], noStdin).stdout).toContain(
      'cache:       result sets cached for 60000 ms (rule 100)',
    );
  });

  test('a rule for one user applies only with --user naming that user', () => {
    const file = configFile({ queryRules: [{ matchDigest: '^SELECT', destination: 'writer', username: 'batch' }] });
    expect(explainJson(['--config', file, 'SELECT 1']).hostgroup).toBe(20);
    expect(explainJson(['--config', file, '--user', 'batch', 'SELECT 1']).hostgroup).toBe(10);
  });

  test('defaultQueryRules: false leaves every statement on the default hostgroup', () => {
    const file = configFile({ defaultQueryRules: false });
    expect(explainJson(['--config', file, 'SELECT 1'])).toMatchObject({ hostgroup: 10, rule: { ruleId: 1900 } });
  });

  test('an invalid rule is refused with the RE2 check message', () => {
    const file = configFile({ queryRules: [{ matchPattern: '(a)\\1', destination: 'reader' }] });
    const result = explainCommand(['--config', file, 'SELECT 1'], noStdin);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--config ${file}: queryRules[0].matchPattern: not a valid RE2 pattern`);
  });
});

describe('explain --session: statements that leave state keep the session where the state is', () => {
  function session(sql: string): Array<[number, number, number]> {
    const result = explainCommand(['--session', '--json', sql], noStdin);
    expect(result.stderr).toBe('');
    const { session: steps } = JSON.parse(result.stdout) as { session: ExplainJson[] };
    return steps.map((s) => [s.hostgroup, s.rule?.ruleId ?? 0, s.nextChain]);
  }

  // [hostgroup, deciding rule, rule chain of the next statement]: chain 1 = state for good, 2 = locks
  test.each([
    // ProxySQL runs an untracked SET without changing the chain; the read of the variable moves the session.
    ['SET @x = 1; SELECT @x', [[10, 50, 0], [10, 50, 1]]],
    ['SET @z := 7; SELECT @z + 0', [[10, 50, 0], [10, 50, 1]]],
    ['SET @x = 1; SELECT * FROM items; SELECT @x', [[10, 50, 0], [20, 1020, 0], [10, 50, 1]]],
    ['SELECT @y := 5; SELECT @y', [[10, 50, 1], [10, 2000, 1]]],
    ['SELECT @`quoted` := 1; SELECT * FROM items', [[10, 50, 1], [10, 2000, 1]]],
    ['CREATE TEMPORARY TABLE t1 (id INT); INSERT INTO t1 VALUES (1); SELECT COUNT(*) FROM t1', [[10, 50, 1], [10, 2000, 1], [10, 2000, 1]]],
    ["PREPARE s FROM 'SELECT 1'; EXECUTE s; SELECT * FROM items", [[10, 50, 1], [10, 2000, 1], [10, 2000, 1]]],
    // Locks: every statement on the writer until the last is released, then wrote(5): the critical section may have written.
    ["SELECT GET_LOCK('job', 5); SELECT * FROM jobs; SELECT RELEASE_ALL_LOCKS(); SELECT * FROM jobs", [[10, 60, 2], [10, 2140, 2], [10, 2110, 105], [10, 3053, 104]]],
    ["SELECT GET_LOCK('job', 5); SELECT * FROM jobs; SELECT RELEASE_LOCK('job'); SELECT * FROM jobs", [[10, 60, 2], [10, 2140, 2], [10, 2130, 105], [10, 3053, 104]]],
    ["SELECT GET_LOCK('a', 5); SELECT GET_LOCK('b', 5); SELECT RELEASE_LOCK('b'); SELECT 1; SELECT RELEASE_LOCK('a')", [[10, 60, 2], [10, 2120, 3], [10, 2230, 2], [10, 2140, 2], [10, 2130, 105]]],
    ['LOCK TABLES items WRITE; SELECT * FROM items; UNLOCK TABLES; SELECT * FROM items', [[10, 60, 2], [10, 2140, 2], [10, 2130, 105], [10, 3053, 104]]],
    ["LOCK TABLES items READ; SELECT @n := 1; UNLOCK TABLES; SELECT * FROM items", [[10, 60, 2], [10, 2100, 1], [10, 2000, 1], [10, 2000, 1]]],
    // No state: reads stay on the readers.
    ['SELECT * FROM items; SELECT @@server_id, @@read_only; SELECT 1', [[20, 1020, 0], [20, 1020, 0], [20, 1020, 0]]],
    // An account statement is refused (error 1148, no hostgroup) and leaves the session as it was.
    ["CREATE USER 'u'@'%'; SELECT * FROM items", [[-1, 10, 0], [20, 1020, 0]]],
    ["SET NAMES utf8mb4; SELECT * FROM items WHERE email = 'a@b.c'", [[10, 0, 0], [20, 1020, 0]]],
  ])('%s', (sql, expected) => {
    expect(session(sql)).toEqual(expected);
  });

  test('a transaction keeps its statements on the writer and ends with COMMIT', () => {
    const result = explainCommand(['--session', '--json', 'BEGIN; SELECT * FROM items; COMMIT; SELECT * FROM items'], noStdin);
    const steps = (JSON.parse(result.stdout) as { session: ExplainJson[] }).session;
    expect(steps.map((s) => [s.hostgroup, s.inTransaction])).toEqual([[10, false], [10, true], [10, true], [10, false]]);
  });

  test('autocommit off (PEP 249 drivers): reads stay on the readers until a write opens a transaction, which COMMIT ends', () => {
    const sql = 'SET autocommit=0; SELECT * FROM items; INSERT INTO items (name) VALUES (1); SELECT * FROM items; COMMIT; SELECT * FROM items';
    const result = explainCommand(['--session', '--json', sql], noStdin);
    const steps = (JSON.parse(result.stdout) as { session: ExplainJson[] }).session;
    // The last SELECT follows the write to the writer (read-your-writes), as ProxySQL 2.7.1 ran it.
    expect(steps.map((s) => [s.hostgroup, s.inTransaction])).toEqual([[10, false], [20, false], [10, true], [10, true], [10, true], [10, false]]);
  });

  test('read-your-writes: the statements after a write go to the writer, the 6th goes back to the readers', () => {
    const reads = Array.from({ length: 6 }, (_, i) => `SELECT ${i}`);
    const result = explainCommand(['--session', '--json', ['INSERT INTO items (name) VALUES (1)', ...reads].join('; ')], noStdin);
    const steps = (JSON.parse(result.stdout) as { session: ExplainJson[] }).session;
    expect(steps.map((s) => s.hostgroup)).toEqual([10, ...Array(5).fill(10), 20]);
  });

  test('text output numbers the statements and says when and why the session stays on the writer', () => {
    const result = explainCommand(['--session', 'SET @x = 1', 'SELECT @x', 'SELECT 1'], noStdin);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('1. SET @x = 1\n   -> hostgroup 10 (writer): ProxySQL cannot track a SET of a user variable');
    expect(result.stdout).toContain('2. SELECT @x\n   -> hostgroup 10 (writer): rule 50 ');
    expect(result.stdout).toContain('   state: the session holds state on its writer connection (user variable, temporary table or prepared statement)');
    expect(result.stdout).toContain('3. SELECT 1\n   -> hostgroup 10 (writer): rule 2000 (in rule chain 1, no pattern: matches every statement)');
  });

  test('statements are split at semicolons outside quotes and comments; stdin works too', () => {
    const steps = (JSON.parse(explainCommand(['--session', '--json', '-'], { readStdin: () => "SELECT ';' /* ; */; -- ;\nSELECT 2;" }).stdout) as {
      session: ExplainJson[];
    }).session;
    expect(steps.map((s) => s.sql)).toEqual(["SELECT ';' /* ; */", '-- ;\nSELECT 2']);
  });

  test.each([
    [['--session'], /give the session's statements/],
    [['--session', ' ; ; '], /the session has no statements/],
    [['--session', '--in-transaction', 'SELECT 1'], /--session and --in-transaction exclude each other/],
  ])('%j is refused with a clear message', (args, message) => {
    const result = explainCommand(args, noStdin);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('explain: what the rules do not show', () => {
  test.each([
    ['SET SESSION div_precision_increment = 6', true],
    ['SET NAMES utf8mb4', false],
    ["SET sql_mode = 'TRADITIONAL'", false],
    ["SET @@SESSION.time_zone = '+00:00'", false],
    ['SET autocommit = 0', false],
    ['SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', false],
    ['SET @x = 1', false],
    ['SELECT 1', false],
  ])('%s → caveat about untracked SETs: %s', (sql, warned) => {
    const result = explainJson([sql]);
    if (warned) expect(result.caveat).toMatch(/one it cannot parse locks the session .* fails with 9006/);
    else expect(result.caveat).toBeUndefined();
  });
});
