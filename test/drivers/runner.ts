/**
 * Runs the matrix's client programs (test/drivers/CONTRACT.md) and samples ProxySQL while they run: builds a
 * client once, starts it (or DRV_SESSIONS one-session processes), reads its JSON report, and records the most
 * backend connections in use at once (stats_mysql_connection_pool ConnUsed, every 250 ms) and the queries each
 * server ran.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import type { LocalProxySql } from '../../local/proxysql';
import { run } from '../../local/run';
import type { DriverClient } from './client';
import { GO_CLIENTS } from './go/manifest';
import { JAVA_CLIENTS } from './java/manifest';
import { NODE_CLIENTS } from './node/manifest';
import { PHP_CLIENTS } from './php/manifest';
import { PYTHON_CLIENTS } from './python/manifest';
import { RUBY_CLIENTS } from './ruby/manifest';

export const ALL_CLIENTS: readonly DriverClient[] = [
  ...PYTHON_CLIENTS,
  ...JAVA_CLIENTS,
  ...GO_CLIENTS,
  ...PHP_CLIENTS,
  ...RUBY_CLIENTS,
  ...NODE_CLIENTS,
];

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** What a client printed (CONTRACT.md "Output"). */
export interface ClientReport {
  client: string;
  sessions: number;
  connected: number;
  iterations: number;
  checks: Record<string, [number, number]>;
  errors: Record<string, number>;
  firstFailure?: Record<string, string>;
}

export interface MatrixRun {
  report: ClientReport;
  /** The most backend connections in use at once (ConnUsed over every hostgroup and server). */
  peakConnUsed: number;
  /** The most backend connections open at once (ConnUsed + ConnFree). */
  peakConnOpen: number;
  /** Queries each server ran during the client's run, by `host:port`. */
  queriesByServer: Record<string, number>;
  seconds: number;
}

export interface RunOptions {
  workload: 'rw' | 'readonly';
  sessions: number;
  durationMs: number;
  thinkMs: number;
  owner: string;
}

const builds = new Map<string, string>();

/** Builds a client once per process (javac, go build), into a private temp dir. */
export async function buildClient(client: DriverClient): Promise<string> {
  const existing = builds.get(client.name);
  if (existing) return existing;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `drv-${client.name}-`));
  if (client.build) {
    const step = client.build(dir);
    const result = await run(step.command, step.args, { cwd: REPO_ROOT, env: { ...process.env, ...step.env }, timeoutMs: 300_000 });
    if (result.status !== 0) {
      throw new Error(`building ${client.name} failed (${step.command} exited ${result.status}${result.error ? `, ${result.error.message}` : ''}):\n${result.stderr.slice(-2000)}`);
    }
  }
  builds.set(client.name, dir);
  return dir;
}

function parseReport(client: DriverClient, stdout: string, stderr: string, code: number | null): ClientReport {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as ClientReport;
  } catch {
    throw new Error(`${client.name} printed no JSON report (exit ${code}); stdout tail: ${stdout.slice(-500)}; stderr tail: ${stderr.slice(-1500)}`);
  }
}

/** Adds up the reports of one-session processes. */
function merge(reports: ClientReport[]): ClientReport {
  const out: ClientReport = { client: reports[0].client, sessions: 0, connected: 0, iterations: 0, checks: {}, errors: {}, firstFailure: {} };
  for (const r of reports) {
    out.sessions += r.sessions;
    out.connected += r.connected;
    out.iterations += r.iterations;
    for (const [name, [ok, failed]] of Object.entries(r.checks)) {
      const [ok0, failed0] = out.checks[name] ?? [0, 0];
      out.checks[name] = [ok0 + ok, failed0 + failed];
    }
    for (const [message, n] of Object.entries(r.errors)) out.errors[message] = (out.errors[message] ?? 0) + n;
    for (const [name, text] of Object.entries(r.firstFailure ?? {})) out.firstFailure![name] ??= text;
  }
  return out;
}

interface PoolRow extends mysql.RowDataPacket {
  srv_host: string;
  srv_port: string;
  ConnUsed: string;
  ConnFree: string;
  Queries: string;
}

async function poolRows(admin: mysql.Connection): Promise<PoolRow[]> {
  const [rows] = await admin.query<PoolRow[]>('SELECT hostgroup, srv_host, srv_port, ConnUsed, ConnFree, Queries FROM stats_mysql_connection_pool');
  return rows;
}

function queriesByServer(rows: PoolRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[`${r.srv_host}:${r.srv_port}`] = (out[`${r.srv_host}:${r.srv_port}`] ?? 0) + Number(r.Queries);
  return out;
}

/** Runs one client through `proxy` and samples the pool while it runs. */
export async function runClient(client: DriverClient, proxy: LocalProxySql, options: RunOptions): Promise<MatrixRun> {
  const buildDir = await buildClient(client);
  const step = client.run(buildDir);
  const processes = client.oneSessionPerProcess ? options.sessions : 1;
  const env = (sessions: number): NodeJS.ProcessEnv => ({
    ...process.env,
    ...step.env,
    DRV_HOST: proxy.host,
    DRV_PORT: String(proxy.port),
    DRV_USER: proxy.user,
    DRV_PASSWORD: proxy.password,
    DRV_DATABASE: proxy.database,
    DRV_SESSIONS: String(sessions),
    DRV_DURATION_MS: String(options.durationMs),
    DRV_THINK_MS: String(options.thinkMs),
    DRV_WORKLOAD: options.workload,
    DRV_OWNER: options.owner,
  });
  const admin = await proxy.admin();
  const started = Date.now();
  try {
    const before = queriesByServer(await poolRows(admin));
    let peakConnUsed = 0;
    let peakConnOpen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await poolRows(admin);
        peakConnUsed = Math.max(peakConnUsed, rows.reduce((n, r) => n + Number(r.ConnUsed), 0));
        peakConnOpen = Math.max(peakConnOpen, rows.reduce((n, r) => n + Number(r.ConnUsed) + Number(r.ConnFree), 0));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const perProcess = client.oneSessionPerProcess ? 1 : options.sessions;
    const timeoutMs = options.durationMs + 180_000;
    const results = await Promise.all(
      Array.from({ length: processes }, (_, i) =>
        run(step.command, step.args, {
          cwd: REPO_ROOT,
          env: { ...env(perProcess), ...(client.oneSessionPerProcess ? { DRV_OWNER: `${options.owner}-p${i}` } : {}) },
          timeoutMs,
        }),
      ),
    );
    sampling = false;
    await sampler;
    const reports = results.map((r) => parseReport(client, r.stdout, r.error ? `${r.error.message}\n${r.stderr}` : r.stderr, r.status));
    const after = queriesByServer(await poolRows(admin));
    const delta: Record<string, number> = {};
    for (const [server, n] of Object.entries(after)) delta[server] = n - (before[server] ?? 0);
    return { report: merge(reports), peakConnUsed, peakConnOpen, queriesByServer: delta, seconds: (Date.now() - started) / 1000 };
  } finally {
    await admin.end();
  }
}

/** One row of the matrix's table: the client, its checks, its errors and the pool it used. */
export function matrixRow(client: DriverClient, run: MatrixRun): string {
  const checks = Object.entries(run.report.checks)
    .map(([name, [ok, failed]]) => `${name} ${ok}/${ok + failed}`)
    .join(', ');
  const errors = Object.values(run.report.errors).reduce((a, b) => a + b, 0);
  return `| ${client.name} | ${client.packageName} | ${run.report.connected}/${run.report.sessions} | ${run.report.iterations} | ${checks} | ${errors} | ${run.peakConnUsed} |`;
}

export const MATRIX_HEADER = '| client | package | sessions | iterations | checks right / run | errors | backend conns in use (peak) |\n|---|---|---|---|---|---|---|';
