/**
 * `doctor`'s mapping and judgement on real ProxySQL 2.7.1 output: the admin tables captured while 200 healthy
 * Lambda-like sessions ran and 19 more were pinned for known reasons (test/fixtures/proxysql-2.7.1-pinning).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { analyze, AUTOCOMMIT_OFF_UNCOMMITTED, formatReport } from './analyze';
import { snapshotFromRows } from './fetch';

const DIR = path.join(__dirname, '..', '..', 'test', 'fixtures', 'proxysql-2.7.1-pinning');

/** `mariadb -B` output: a header row, tab-separated fields, NULL for null, \n \t \\ escapes. */
function tsv(file: string): Array<Record<string, unknown>> {
  return tsvIn(DIR, file);
}

function tsvIn(dir: string, file: string): Array<Record<string, unknown>> {
  const [header, ...lines] = fs.readFileSync(path.join(dir, file), 'utf8').split('\n').filter((l) => l !== '');
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

describe('doctor names the drivers and ORMs it sees (real capture: test/fixtures/proxysql-2.7.1-drivers)', () => {
  const dir = path.join(__dirname, '..', '..', 'test', 'fixtures', 'proxysql-2.7.1-drivers');
  const read = (file: string) => tsvIn(dir, file);
  const drivers = analyze(
    snapshotFromRows({
      pool: read('stats_mysql_connection_pool.tsv'),
      processlist: read('stats_mysql_processlist.tsv'),
      global: read('stats_mysql_global.tsv'),
      digests: read('stats_mysql_query_digest.tsv'),
    }),
  );
  const seen = new Map(drivers.driverPatterns.map((p) => [p.name, p]));

  test('the connect-time statements of Connector/J and ActiveRecord are named, and said not to pin', () => {
    expect(seen.get('MariaDB Connector/J connect-time SET')).toMatchObject({ count: 4, costs: false });
    expect(seen.get('MariaDB Connector/J connect-time SELECT')).toMatchObject({ count: 4, costs: false });
    expect(seen.get('ActiveRecord connect-time SET')).toMatchObject({ count: 4, costs: false });
  });

  test("autocommit off is counted from PyMySQL's SET AUTOCOMMIT and Connector/J's setAutoCommit", () => {
    expect(seen.get('autocommit off (PEP 249 drivers, JDBC setAutoCommit(false), Django atomic())')?.count).toBe(6 + 784);
  });

  test('LAST_INSERT_ID() spelled so that ProxySQL does not answer it is named as a cost, with the driver option that avoids it', () => {
    const pattern = seen.get('LAST_INSERT_ID() in a spelling ProxySQL does not answer itself');
    expect(pattern).toMatchObject({ count: 557 + 557, costs: true });
    expect(pattern?.meaning).toMatch(/driver's insert id \(lastrowid, insertId, getGeneratedKeys/);
  });

  test('the two PEP 249 sessions that wrote and never committed are named as such', () => {
    expect(drivers.pinned.map((p) => p.reasons)).toEqual([['open transaction'], ['open transaction']]);
    expect(drivers.pinnedByPattern).toEqual({ [AUTOCOMMIT_OFF_UNCOMMITTED]: 2 });
    const text = formatReport(drivers);
    expect(text).toContain('  of which 2 × autocommit off, transaction never committed');
    expect(text).toContain('drivers and ORMs seen:\n');
    expect(text).toContain('1114 × LAST_INSERT_ID() in a spelling ProxySQL does not answer itself (costs)');
  });

  test("an uncommitted session in another user's writer pool (hostgroup 102) is named the same way", () => {
    const rows = read('stats_mysql_processlist.tsv').map((r) => (r.hostgroup === '10' ? { ...r, hostgroup: '102' } : r));
    const other = analyze(
      snapshotFromRows({ pool: read('stats_mysql_connection_pool.tsv'), processlist: rows, global: read('stats_mysql_global.tsv'), digests: read('stats_mysql_query_digest.tsv') }),
    );
    expect(other.pinned.map((p) => p.hostgroup)).toEqual([102, 102]);
    expect(other.pinnedByPattern).toEqual({ [AUTOCOMMIT_OFF_UNCOMMITTED]: 2 });
  });

  test('without autocommit off in the digests, an open transaction is not blamed on it', () => {
    const pinning = analyze(snapshot);
    expect(pinning.pinnedByPattern).toEqual({});
  });
});
