/**
 * `doctor`'s mapping and judgement on real ProxySQL 2.7.1 output: the admin tables captured while 200 healthy
 * Lambda-like sessions ran and 19 more were pinned for known reasons (test/fixtures/proxysql-2.7.1-pinning).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyze, formatReport } from './analyze';
import { snapshotFromRows } from './fetch';

const DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'proxysql-2.7.1-pinning');

/** `mariadb -B` output: a header row, tab-separated fields, NULL for null, \n \t \\ escapes. */
function tsv(file: string): Array<Record<string, unknown>> {
  const [header, ...lines] = fs.readFileSync(path.join(DIR, file), 'utf8').split('\n').filter((l) => l !== '');
  const names = header.split('\t');
  const unescape = (v: string) => (v === 'NULL' ? null : v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c)));
  return lines.map((line) => Object.fromEntries(line.split('\t').map((v, i) => [names[i], unescape(v)])));
}

const snapshot = snapshotFromRows({
  pool: tsv('stats_mysql_connection_pool.tsv'),
  processlist: tsv('stats_mysql_processlist.tsv'),
  global: tsv('stats_mysql_global.tsv'),
  digests: tsv('stats_mysql_query_digest.tsv'),
});
const report = analyze(snapshot);
/** The cause the workload gave each pinned session (sessions.tsv). */
const causes = new Map(tsv('sessions.tsv').map((r) => [Number(r.session_id), String(r.cause)]));

describe('doctor on a real capture with sessions pinned for known reasons', () => {
  test('the pool, the clients and the multiplexing ratio are read as ProxySQL reported them', () => {
    expect(report.clients).toBe(220);
    expect(report.backend).toEqual({ used: 18, free: 25 });
    expect(report.multiplexingRatio).toBeCloseTo(220 / 18, 5);
    expect(report.servers.map((s) => [s.hostgroup, s.status, s.used])).toEqual([
      [10, 'ONLINE', 17],
      [20, 'ONLINE', 0],
      [20, 'ONLINE', 1],
    ]);
  });

  test('every pinned session is found with the reason the workload gave it; healthy and session-variable sessions are not', () => {
    const expected: Record<string, string> = {
      'user-variable': 'user variable',
      transaction: 'open transaction',
      'read-only-transaction': 'open transaction',
      'get-lock': 'named lock (GET_LOCK)',
      'temporary-table': 'temporary table',
      'found-rows': 'SQL_CALC_FOUND_ROWS',
      'lock-tables': 'LOCK TABLES',
      'prepare-text': 'text prepared statement',
    };
    const found = new Map(report.pinned.map((p) => [p.sessionId, p.reasons]));
    for (const [sessionId, cause] of causes) {
      if (expected[cause]) expect(found.get(sessionId), `session ${sessionId} (${cause})`).toEqual([expected[cause]]);
      else expect(found.has(sessionId), `session ${sessionId} (${cause}) is not pinned`).toBe(false);
    }
    expect(report.pinned).toHaveLength(17);
    expect(report.pinnedByReason).toEqual({
      'user variable': 3,
      'open transaction': 4,
      'named lock (GET_LOCK)': 2,
      'temporary table': 2,
      SQL_CALC_FOUND_ROWS: 2,
      'LOCK TABLES': 2,
      'text prepared statement': 2,
    });
  });

  test('it needs attention: most connections in use are pinned, and sessions hit 9006; each with a fix', () => {
    const problems = report.problems.map((p) => p.what);
    expect(problems).toContain('17 of 18 backend connections in use are held by idle sessions (pinned)');
    expect(problems).toContain('statements were refused with 9006 (session locked to a hostgroup): 3 since ProxySQL started (hostgroup_locked_queries)');
    expect(report.problems.every((p) => p.fix.length > 20)).toBe(true);
  });

  test('the statements that pin are named with the fix users ask for', () => {
    const hints = new Map(report.digestHints.map((d) => [d.digest, d.fix]));
    expect(hints.get('SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT ?')).toMatch(/run a separate SELECT COUNT\(\*\)/);
    expect([...hints.keys()].some((d) => d.startsWith('CREATE TEMPORARY TABLE'))).toBe(true);
    expect([...hints.keys()].some((d) => d.startsWith('SET NAMES'))).toBe(true);
    expect(hints.get('SET NAMES latin1')).toMatch(/set the charset in its connection options/);
  });

  test('the text report shows it at a glance', () => {
    const text = formatReport(report);
    expect(text).toContain('multiplexing: 12.2 client sessions per backend connection in use');
    expect(text).toContain('  3 × user variable: the session set or read a user variable');
    expect(text).toContain('needs attention:\n');
  });

  test('a healthy pool needs no attention', () => {
    const healthy = analyze({ ...snapshot, processlist: snapshot.processlist.filter((p) => p.server === undefined), global: {} });
    expect(healthy.pinned).toEqual([]);
    expect(healthy.problems).toEqual([]);
  });
});
