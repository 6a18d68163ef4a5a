/** What the docs claim about ProxySQL's metrics holds for a real capture (test/fixtures/proxysql-2.7.1). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test } from 'vitest';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

test('every proxysql_* metric docs/operations.md names exists in the real /metrics capture', () => {
  const names = [...new Set([...read('docs/operations.md').matchAll(/`(proxysql_[a-z0-9_]+)`/g)].map((m) => m[1]))];
  expect(names.length).toBeGreaterThan(3);
  const exposed = new Set([...read('test/fixtures/proxysql-2.7.1/proxysql-2.7.1-metrics-under-load.prom').matchAll(/^([a-z_0-9]+)[{ ]/gm)].map((m) => m[1]));
  expect(names.filter((n) => !exposed.has(n))).toEqual([]);
});

test('docs/operations.md ("Monitoring") names every metric the collector publishes', async () => {
  const { METRICS } = await import('../src/config/metrics');
  const ops = read('docs/operations.md');
  const section = ops.slice(ops.indexOf('## Monitoring'));
  expect(Object.values(METRICS).map((m) => m.name).filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
});
