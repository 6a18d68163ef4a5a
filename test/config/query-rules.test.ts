import { describe, expect, test } from 'vitest';
import { buildQueryRules, DEFAULT_QUERY_RULES, explainQuery, queryDigest, QueryRuleError, QueryRuleInput } from '../../src/config';

describe('default routing', () => {
  // GIVEN the default rules and a user whose default hostgroup is the writer (10)
  test.each([
    ['SELECT * FROM items WHERE id = 1', 20],
    ['select name from items', 20],
    ['/* app=api */ SELECT 1', 20],
    ['-- leading comment\nSELECT 1', 20],
    ['  \n\tSELECT 1', 20],
    ['(SELECT 1) UNION (SELECT 2)', 20],
    ['WITH recent AS (SELECT * FROM items) SELECT * FROM recent', 20],
    ["SELECT * FROM notes WHERE body = 'FOR UPDATE'", 20],
    ['SELECT * FROM items WHERE id = 1 FOR UPDATE', 10],
    ['select * from items for update nowait', 10],
    ['SELECT * FROM items WHERE id = 1 FOR SHARE', 10],
    ['SELECT * FROM items LOCK IN SHARE MODE', 10],
    ["SELECT GET_LOCK('job', 10)", 10],
    ["SELECT RELEASE_LOCK('job')", 10],
    ['SELECT LAST_INSERT_ID()', 10],
    ['SELECT SQL_CALC_FOUND_ROWS * FROM items LIMIT 10', 10],
    ['SELECT FOUND_ROWS()', 10],
    ['SELECT id INTO @x FROM items LIMIT 1', 10],
    ['INSERT INTO items (name) VALUES (?)', 10],
    ['UPDATE items SET name = ? WHERE id = 1', 10],
    ['DELETE FROM items WHERE id = 1', 10],
    ['REPLACE INTO items VALUES (1, ?)', 10],
    ['WITH old AS (SELECT id FROM items) DELETE FROM items WHERE id IN (SELECT id FROM old)', 10],
    ['WITH x AS (SELECT 1) UPDATE items SET n = 1', 10],
    ['BEGIN', 10],
    ['COMMIT', 10],
    ["SET NAMES 'utf8mb4'", 10],
    ['SHOW TABLES', 10],
    ['CALL refresh_stats()', 10],
  ])('%j goes to hostgroup %i', (sql, hostgroup) => {
    // WHEN it is explained THEN it goes where the rules say
    expect(explainQuery(DEFAULT_QUERY_RULES, sql).hostgroup).toBe(hostgroup);
  });

  test('inside a transaction every statement stays on the writer', () => {
    const result = explainQuery(DEFAULT_QUERY_RULES, 'SELECT * FROM items', { inTransaction: true });
    expect(result.hostgroup).toBe(10);
    expect(result.reason).toMatch(/transaction_persistent/);
  });

  test('the reason names the deciding rule', () => {
    const result = explainQuery(DEFAULT_QUERY_RULES, 'SELECT 1 FOR UPDATE');
    expect(result.rule?.ruleId).toBe(1000);
    expect(result.reason).toMatch(/^rule 1000 \(match_digest/);
  });
});

describe('digest', () => {
  test.each([
    ["SELECT * FROM t WHERE a = 'x' AND b = 42", 'SELECT * FROM t WHERE a = ? AND b = ?'],
    ['/* c */ SELECT   1', 'SELECT ?'],
    ["SELECT 'it''s'", 'SELECT ?'],
    ['SELECT `col1` FROM t2', 'SELECT `col1` FROM t2'],
  ])('%j → %j', (sql, digest) => {
    expect(queryDigest(sql)).toBe(digest);
  });
});

describe('custom rules', () => {
  test('come before the defaults and can override them', () => {
    const rules = buildQueryRules([{ matchDigest: '^SELECT .* FROM reports', destination: 'writer' }], { includeDefaults: true });
    // The fresh chain (flagIN 0) in evaluation order; the other chains follow (src/config/session-state.ts).
    expect(rules.filter((r) => (r.flagIn ?? 0) === 0).map((r) => r.ruleId)).toEqual([10, 11, 50, 60, 100, 1000, 1010, 1020, 1900, 1910]);
    expect(explainQuery(rules, 'SELECT * FROM reports').hostgroup).toBe(10);
    expect(explainQuery(rules, 'SELECT * FROM items').hostgroup).toBe(20);
  });

  test('a rule without apply lets the defaults decide the destination', () => {
    const rules = buildQueryRules([{ matchDigest: '^SELECT .* FROM countries', cacheTtlMs: 60000, apply: false }], { includeDefaults: true });
    const result = explainQuery(rules, 'SELECT * FROM countries');
    expect(result.matchedRuleIds).toEqual([100, 1020]);
    expect(result.hostgroup).toBe(20);
    expect(rules.find((r) => r.ruleId === 100)).toMatchObject({ cacheTtl: 60000, apply: false });
  });

  test('a rule for another user does not apply', () => {
    const rules = buildQueryRules([{ matchDigest: '^SELECT', destination: 'writer', username: 'batch' }], { includeDefaults: true });
    expect(explainQuery(rules, 'SELECT 1', { username: 'app' }).hostgroup).toBe(20);
    expect(explainQuery(rules, 'SELECT 1', { username: 'batch' }).hostgroup).toBe(10);
  });

  test.each<[QueryRuleInput, RegExp]>([
    [{ matchDigest: '(?=x)SELECT', destination: 'reader' }, /queryRules\[0\]\.matchDigest: not a valid RE2 pattern/],
    [{ matchPattern: '(a)\\1', destination: 'reader' }, /queryRules\[0\]\.matchPattern: not a valid RE2 pattern/],
    [{ matchDigest: 'say "hi"', destination: 'reader' }, /queryRules\[0\]\.matchDigest: must not contain a double quote/],
    [{ matchDigest: '', destination: 'reader' }, /queryRules\[0\]\.matchDigest: must not be empty/],
    [{ destination: 'reader' }, /queryRules\[0\]: set exactly one of matchDigest and matchPattern/],
    [{ matchDigest: 'a', matchPattern: 'b', destination: 'reader' }, /queryRules\[0\]: set exactly one/],
    [{ matchDigest: '^SELECT' }, /queryRules\[0\]: the rule does nothing/],
    [{ matchDigest: '^SELECT', cacheTtlMs: 0 }, /queryRules\[0\]\.cacheTtlMs/],
    [{ matchDigest: '^SELECT', cacheTtlMs: 1.5 }, /queryRules\[0\]\.cacheTtlMs/],
    [{ matchDigest: '^SELECT', destination: 'primary' as never }, /queryRules\[0\]\.destination/],
    [{ matchDigest: '^SELECT', multiplex: 'off' as never }, /queryRules\[0\]\.multiplex/],
    [{ matchDigest: '^SELECT', destination: 'reader', username: 'bad-name' }, /queryRules\[0\]\.username/],
    [{ matchDigest: '^SELECT', destination: 'reader', comment: "it's" }, /queryRules\[0\]\.comment/],
  ])('rejects %j', (rule, message) => {
    expect(() => buildQueryRules([rule], { includeDefaults: true })).toThrow(QueryRuleError);
    expect(() => buildQueryRules([rule], { includeDefaults: true })).toThrow(message);
  });

  test('too many custom rules would collide with the defaults', () => {
    const many = Array.from({ length: 91 }, () => ({ matchDigest: '^SELECT', destination: 'reader' as const }));
    expect(() => buildQueryRules(many, { includeDefaults: true })).toThrow(/at most 90 custom rules/);
  });
});
