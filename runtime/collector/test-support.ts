/**
 * Figures lines built from real ProxySQL 2.7.1 admin-interface captures (test/fixtures, copied from the shared
 * captures): what the agent's FIGURES_QUERY returns, from the same tables (`mariadb -B` output, header row, tabs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIGURES_GLOBALS, FIGURES_LINE_MARKER, FIGURES_MEMORY_GLOBALS, FIGURES_VERSION } from '../../src/config/figures';

const FIGURES = path.join(__dirname, '..', '..', 'test', 'fixtures');

/** A `mariadb -B` capture as rows of named fields. */
function tsv(...parts: string[]): Array<Record<string, string>> {
  const [header, ...lines] = fs.readFileSync(path.join(FIGURES, ...parts), 'utf8').trim().split('\n');
  const names = header.split('\t');
  return lines.map((line) => Object.fromEntries(line.split('\t').map((v, i) => [names[i], v])));
}

/**
 * The JSON FIGURES_QUERY makes of a stats_mysql_global and a stats_mysql_connection_pool capture (stats_memory_metrics
 * was not captured: its rows are left out, so memory is the globals' part only), with mysql-max_connections as that
 * run had it.
 */
function figures(dir: string, globalFile: string, poolFile: string, maxConnections: number): string {
  const wanted = new Set<string>([...Object.values(FIGURES_GLOBALS), ...FIGURES_MEMORY_GLOBALS]);
  const global = Object.fromEntries(tsv(dir, globalFile).filter((r) => wanted.has(r.Variable_Name)).map((r) => [r.Variable_Name, r.Variable_Value]));
  const servers = tsv(dir, poolFile).map((r) => [
    Number(r.hostgroup),
    r.srv_host,
    Number(r.srv_port),
    r.status,
    Number(r.ConnUsed),
    Number(r.ConnFree),
    Number(r.ConnERR),
    Number(r.Queries),
    Number(r.Latency_us),
  ]);
  return JSON.stringify({ v: FIGURES_VERSION, global, memory: {}, maxConnections: String(maxConnections), servers });
}

/** 300 warm sessions mid-run: writer 127.0.0.1:24306 (HG 10), reader 127.0.0.1:24307 (HG 20); uptime 12 s; max_connections 20000. */
export const underLoad = (): string => figures('proxysql-2.7.1', 'stats_mysql_global.tsv', 'stats_mysql_connection_pool.tsv', 20000);
/** 220 sessions, 17 of them pinning a writer connection (writer 127.0.0.1:25356, reader 127.0.0.1:25357); uptime 99 s. */
export const pinning = (): string => figures('proxysql-2.7.1-pinning', 'stats_mysql_global.tsv', 'stats_mysql_connection_pool.tsv', 10000);
/** The same ProxySQL about 10 s later, after the clients disconnected; uptime 109 s. */
export const pinningAfter = (): string => figures('proxysql-2.7.1-pinning', 'stats_mysql_global-after.tsv', 'stats_mysql_connection_pool-after.tsv', 10000);

/** A figures line as the agent writes it: the marker, a space, the JSON. */
export const figuresLine = (json: string): string => `${FIGURES_LINE_MARKER} ${json}`;

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
