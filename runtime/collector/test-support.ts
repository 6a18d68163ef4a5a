/** The real ProxySQL 2.7.1 /metrics captures the collector's tests read (test/fixtures, copied from the shared captures). */
import * as fs from 'node:fs';
import * as path from 'node:path';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

function read(...parts: string[]): string {
  return fs.readFileSync(path.join(FIXTURES, ...parts), 'utf8');
}

/** 300 warm sessions mid-run: writer 127.0.0.1:24306 (HG 10), reader 127.0.0.1:24307 (HG 20); uptime 12 s. */
export const underLoad = (): string => read('proxysql-2.7.1', 'proxysql-2.7.1-metrics-under-load.prom');
/** The same ProxySQL after the clients disconnected; uptime 16 s. */
export const afterLoad = (): string => read('proxysql-2.7.1', 'proxysql-2.7.1-metrics-after-load.prom');
/** 220 sessions, 17 of them pinning a writer connection (writer 127.0.0.1:25356, reader 127.0.0.1:25357). */
export const pinning = (): string => read('proxysql-2.7.1-pinning', 'metrics.prom');

/** One embedded-metric-format record as Powertools writes it. */
export interface EmfRecord {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** The EMF records among what was written to stdout (other JSON lines, e.g. log lines, are left out). */
export function emfRecords(chunks: readonly string[]): EmfRecord[] {
  return chunks
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as EmfRecord)
    .filter((r) => r._aws !== undefined);
}

/** The value of `name` in the record whose dimension set is exactly Service + the keys of `dims`, with those values. */
export function emfValue(records: readonly EmfRecord[], name: string, dims: Record<string, string> = {}): unknown {
  const keys = ['Service', ...Object.keys(dims)];
  const record = records.find(
    (r) =>
      JSON.stringify(r._aws.CloudWatchMetrics[0].Dimensions) === JSON.stringify([keys]) &&
      Object.entries(dims).every(([k, v]) => r[k] === v) &&
      r._aws.CloudWatchMetrics[0].Metrics.some((m) => m.Name === name),
  );
  return record?.[name];
}
