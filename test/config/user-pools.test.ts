import { describe, expect, test } from 'vitest';
import { explainQuery, explainSession } from '../../src/config/explain';
import { describeBudget, writerConnectionBudget } from '../../src/config/connection-budget';
import { hostgroupRole } from '../../src/config/metrics';
import { buildQueryRules } from '../../src/config/query-rules';
import { isReaderHostgroup, isWriterHostgroup, READER_HOSTGROUP, userHostgroups, WRITER_HOSTGROUP } from '../../src/constants';

describe('a writer pool per user', () => {
  test('the first user writes through the writer hostgroup, each further user through its own, each paired with a reader hostgroup', () => {
    expect([0, 1, 2, 3].map(userHostgroups)).toEqual([
      { writer: WRITER_HOSTGROUP, reader: READER_HOSTGROUP },
      { writer: 102, reader: 103 },
      { writer: 104, reader: 105 },
      { writer: 106, reader: 107 },
    ]);
    for (let i = 0; i < 20; i++) {
      const { writer, reader } = userHostgroups(i);
      expect([isWriterHostgroup(writer), isReaderHostgroup(writer), isWriterHostgroup(reader), isReaderHostgroup(reader)]).toEqual([true, false, false, true]);
    }
  });

  test("the metrics count every user's writer pool as the writer, and the pools' reader hostgroups as readers", () => {
    expect([10, 20, 102, 103, 104, 30].map(hostgroupRole)).toEqual(['writer', 'reader', 'writer', 'reader', 'writer', 'hostgroup-30']);
  });

  test('the connection budget counts one writer pool per user', () => {
    const one = writerConnectionBudget(20, 6, true);
    const three = writerConnectionBudget(20, 6, true, 3);
    expect(three.total - one.total).toBe(6 * 2 * 20);
    expect(describeBudget(one, 20)).toBe('6 tasks × (20 + 5 as last-resort reader + 4 monitor) + 1 bootstrap = 175');
    expect(describeBudget(three, 20)).toBe('6 tasks × (3 users × 20 + 5 as last-resort reader + 4 monitor) + 1 bootstrap = 415');
  });

  test("explain: a statement for the writer goes to the session user's own pool, decided by the rule that stopped the walk", () => {
    const rules = buildQueryRules([], { includeDefaults: true });
    const second = userHostgroups(1).writer;
    const write = explainQuery(rules, 'INSERT INTO t VALUES (1)', { defaultHostgroup: second });
    expect([write.hostgroup, write.destination, write.rule?.ruleId]).toEqual([second, 'writer', 1910]);
    const lock = explainQuery(rules, 'SELECT 1 FROM t FOR UPDATE', { defaultHostgroup: second });
    expect([lock.hostgroup, lock.destination, lock.rule?.ruleId]).toEqual([second, 'writer', 1000]);
    expect(lock.reason).toMatch(/^rule 1000 \(match_digest/);
    const read = explainQuery(rules, 'SELECT * FROM t', { defaultHostgroup: second });
    expect([read.hostgroup, read.destination]).toEqual([READER_HOSTGROUP, 'reader']);
    // A session's state stays in its own pool, before, inside and after a transaction.
    const steps = explainSession(rules, ['BEGIN', 'SET @x = 1', 'SELECT @x', 'COMMIT', 'SELECT @x'], { defaultHostgroup: second });
    expect(steps.map((s) => s.hostgroup)).toEqual([second, second, second, second, second]);
  });
});
