/**
 * The task's two containers with a real ProxySQL, where the ProxySQL container has no MySQL client: its entrypoint
 * runs with a PATH of only sh and the few tools it uses (no mysql, no mariadb; local/proxysql.ts), as in the ProxySQL
 * image, and has no drain of its own; the agent container's script runs beside it with the MariaDB client, reaching
 * the admin interface on loopback. What is proven: start, both health checks, the figures line, and the drain as ECS
 * runs a task's stop (the agent first, since it depends on ProxySQL; then ProxySQL), with and without idle threads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAgentOptions } from '../../local/agent';
import { descendants, ENTRYPOINT_TOOLS } from '../../local/proxysql';
import { run } from '../../local/run';
import { FIGURES_LINE_MARKER } from '../../src/config/figures';
import { figuresSnapshot } from '../../runtime/collector/snapshot';
import { committedCount, connect, healthCheckEnv, idleSessionsAndTransaction, Lab, startTaskLab, stopTask, TaskLab } from './harness';

const SCRIPTS = path.join(__dirname, '..', '..', 'runtime', 'proxysql');
const script = (name: string) => fs.readFileSync(path.join(SCRIPTS, name), 'utf8');

/** The PATH the ProxySQL container's entrypoint ran with (from its process's environment). */
function entrypointPath(lab: Lab): string {
  const environ = fs.readFileSync(`/proc/${lab.proxy.pid}/environ`, 'utf8').split('\0');
  return (environ.find((e) => e.startsWith('PATH=')) ?? '').slice('PATH='.length);
}

/** The agent container's health check (healthcheck.sh), as ECS runs CMD-SHELL there: its environment, the client on PATH. */
async function agentHealth(lab: Lab): Promise<{ code: number | null; stderr: string }> {
  const result = await run('/bin/sh', ['-c', script('healthcheck.sh')], { env: healthCheckEnv(lab.proxy), timeoutMs: 10_000 });
  return { code: result.status, stderr: result.stderr };
}

/** The ProxySQL container's health check (listening.sh), with that container's client-less PATH. */
async function proxyHealth(lab: Lab): Promise<{ code: number | null; stderr: string }> {
  const result = await run('/bin/sh', ['-c', script('listening.sh')], {
    env: { PATH: entrypointPath(lab), PROXYSQL_MYSQL_PORT: String(lab.proxy.port) },
    timeoutMs: 5000,
  });
  return { code: result.status, stderr: result.stderr };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A task of its own for the describe block this is called in (a drain ends it): ProxySQL and the agent (drain bound
 * 20 s unless `agentOptions` says otherwise), started before the block's tests and stopped after them.
 */
function taskPerDescribe(agentOptions: LocalAgentOptions = {}, options: Parameters<typeof startTaskLab>[0] = {}): () => TaskLab {
  let lab: TaskLab | undefined;
  beforeAll(async () => {
    lab = await startTaskLab(options, { drainSeconds: 20, ...agentOptions });
  });
  afterAll(async () => lab?.stop());
  return () => {
    if (!lab) throw new Error('the task did not start (see beforeAll)');
    return lab;
  };
}

describe('a task whose ProxySQL container has no MySQL client', () => {
  const task = taskPerDescribe({ figuresSeconds: 60 });

  it('starts: the entrypoint had no mysql or mariadb on its PATH, and ProxySQL serves the application user', async () => {
    const lab = task();
    const dirs = entrypointPath(lab).split(':');
    expect(dirs).toHaveLength(1);
    const tools = fs.readdirSync(dirs[0]).sort();
    expect(tools).not.toContain('mysql');
    expect(tools).not.toContain('mariadb');
    expect(tools).toEqual([...ENTRYPOINT_TOOLS].sort());
    const c = await connect(lab.proxy);
    expect(await c.query('SELECT 1 AS one').then(([rows]) => (rows as mysql.RowDataPacket[])[0].one)).toBe(1);
    await c.end();
    // ProxySQL is the entrypoint's process (exec: no shell stays), and none of its processes holds a secret
    const argv = fs.readFileSync(`/proc/${lab.proxy.pid}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(0, 2)).toEqual([process.env.PROXYSQL_BIN, '-f']);
    for (const pid of descendants(lab.proxy.pid)) {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toMatch(/(^|\0)PROXYSQL_(ADMIN_PASSWORD|STATS_PASSWORD|MONITOR_PASSWORD|USER_PASSWORD_\d+|USER_NAME_\d+)=/);
      for (const secret of [lab.proxy.adminPassword, lab.proxy.statsPassword, lab.proxy.password]) expect(environ).not.toContain(secret);
    }
  });

  it('both containers report healthy: ProxySQL listens (no client needed), the configuration works (the agent)', async () => {
    const lab = task();
    expect(await proxyHealth(lab)).toEqual({ code: 0, stderr: '' });
    const started = Date.now();
    expect(await agentHealth(lab)).toEqual({ code: 0, stderr: '' });
    console.info(`task health: agent's configuration check ${Date.now() - started} ms`);
  });

  it("the agent writes one figures line of ProxySQL's own counts", async () => {
    const lab = task();
    const deadline = Date.now() + 5000;
    while (!lab.agent.stdout().includes(FIGURES_LINE_MARKER) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = lab.agent.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const snapshot = figuresSnapshot(lines[0].slice(FIGURES_LINE_MARKER.length + 1));
    expect(snapshot.servers.map((s) => s.hostgroup)).toEqual(expect.arrayContaining([10, 20]));
    expect(snapshot.maxConnections).toBe(10000);
    expect(snapshot.memoryBytes).toBeGreaterThan(0);
    expect(lab.agent.stderr()).not.toContain(lab.proxy.adminPassword);
  });

  it('drains as ECS stops the task: statement and transaction finish, 20 idle sessions close within 2 s of SIGTERM', async () => {
    const lab = task();
    const { idle, closedAt, inTransaction } = await idleSessionsAndTransaction(lab, 'task_drain', 20);
    const running = await connect(lab.proxy);
    const sleeping = running.query('SELECT SLEEP(1.2) AS s');
    await sleep(200);

    const termAt = Date.now();
    const stopped = stopTask(lab);
    // The listener is closed (PROXYSQL PAUSE) soon after SIGTERM; the transaction goes on and commits.
    await sleep(700);
    await expect(connect(lab.proxy)).rejects.toThrow();
    await inTransaction.query('UPDATE task_drain SET n = n + 1 WHERE id = 1');
    await inTransaction.query('COMMIT');
    const [slept] = (await sleeping) as [mysql.RowDataPacket[], unknown];
    const lastStatementAt = Date.now();
    expect(Number(slept[0].s)).toBe(0);
    const { agentCode, agentExitAt, proxyCode, proxyExitAt } = await stopped;
    await sleep(100);

    console.info(
      `drain: idle sessions closed ${Math.max(...closedAt) - termAt} ms after SIGTERM (the first ${Math.min(...closedAt) - termAt} ms); ` +
        `exit ${proxyExitAt - lastStatementAt} ms after the last statement (the agent's ${agentExitAt - lastStatementAt} ms)`,
    );
    expect(closedAt).toHaveLength(idle.length);
    expect(Math.max(...closedAt) - termAt).toBeLessThan(2000);
    expect(proxyExitAt - lastStatementAt).toBeLessThan(3000);
    expect([agentCode, proxyCode]).toEqual([0, 0]);
    expect(await committedCount(lab, 'task_drain')).toBe(2);
    expect(lab.agent.stderr()).toMatch(/got SIGTERM: draining ProxySQL for at most 20 s/);
    expect(lab.agent.stderr()).toMatch(/sent PROXYSQL PAUSE/);
    expect(lab.agent.stderr()).toMatch(/no statement or transaction left/);
    for (const c of [inTransaction, running]) c.destroy();
  });
});

describe('a task whose ProxySQL container has no MySQL client: a long transaction', () => {
  const task = taskPerDescribe();

  it('waits for a transaction that commits 4 s after SIGTERM; ProxySQL is stopped within 3 s of the commit', async () => {
    const lab = task();
    const idle = await Promise.all(Array.from({ length: 10 }, () => connect(lab.proxy)));
    await Promise.all(idle.map((c) => c.query('SELECT 1')));
    let idleClosed = 0;
    for (const c of idle) {
      c.on('error', () => undefined);
      c.on('end', () => idleClosed++);
    }
    const tx = await connect(lab.proxy);
    await tx.query('CREATE TABLE IF NOT EXISTS task_long (id INT PRIMARY KEY)');
    await tx.query('BEGIN');
    await tx.query('INSERT INTO task_long VALUES (1) ON DUPLICATE KEY UPDATE id = id');
    const stopped = stopTask(lab);
    await sleep(4000);
    await tx.query('COMMIT');
    const committedAt = Date.now();
    const { agentCode, proxyCode, proxyExitAt } = await stopped;
    console.info(`drain: exit ${proxyExitAt - committedAt} ms after the COMMIT of a transaction open 4 s into the drain`);
    expect(proxyExitAt - committedAt).toBeLessThan(3000);
    expect([agentCode, proxyCode]).toEqual([0, 0]);
    await sleep(100);
    expect(idleClosed).toBe(idle.length);
    tx.destroy();
  });
});

/**
 * 24 sessions idle for 1.5 s (with idle threads they are parked on them: session_idle_ms is 1 ms), a 4 s statement
 * running and a transaction open at the agent's SIGTERM; the transaction goes on 2.5 s into the drain and commits.
 */
async function drainWithIdleSessions(lab: TaskLab): Promise<{ closedMs: number[]; codes: Array<number | null> }> {
  const { proxy } = lab;
  const { idle, closedAt, inTransaction } = await idleSessionsAndTransaction(lab, 'drain_idle', 24);
  await sleep(1500);
  const running = await connect(proxy);
  const sleeping = running.query('SELECT SLEEP(4) AS s');
  await sleep(200);

  const stopped = stopTask(lab);
  const termAt = Date.now();
  await sleep(2500);
  await inTransaction.query('UPDATE drain_idle SET n = n + 1 WHERE id = 1');
  await inTransaction.query('COMMIT');
  const [slept] = (await sleeping) as [mysql.RowDataPacket[], unknown];
  expect(Number(slept[0].s)).toBe(0);
  const { agentCode, proxyCode } = await stopped;
  await sleep(100);
  expect(await committedCount(lab, 'drain_idle')).toBe(2);
  for (const c of [inTransaction, running]) c.destroy();
  expect(closedAt).toHaveLength(idle.length);
  return { closedMs: closedAt.map((at) => at - termAt).sort((a, b) => a - b), codes: [agentCode, proxyCode] };
}

describe('a task without idle threads (idleThreads: false): its drain', () => {
  const task = taskPerDescribe({}, { idleThreads: false });

  it('closes 24 idle sessions within 2 s of SIGTERM while a 4 s statement and a transaction finish', async () => {
    const lab = task();
    const { closedMs, codes } = await drainWithIdleSessions(lab);
    console.info(`drain without idle threads: 24 idle sessions closed ${closedMs[0]}-${closedMs.at(-1)} ms after SIGTERM`);
    expect(closedMs.at(-1)).toBeLessThanOrEqual(2000);
    expect(codes).toEqual([0, 0]);
  });
});

describe('a task with idle threads (the default): the drain limit idleThreads: false lifts', () => {
  const task = taskPerDescribe();

  it("closes about half of 24 parked idle sessions in the idle threads' first pass and the rest when the statement ends", async () => {
    const lab = task();
    const { closedMs, codes } = await drainWithIdleSessions(lab);
    const within2s = closedMs.filter((ms) => ms <= 2000).length;
    console.info(`drain with idle threads: ${within2s} of 24 parked idle sessions closed within 2 s of SIGTERM, the last ${closedMs.at(-1)} ms after it`);
    // ProxySQL 2.7.1 (MySQL_Thread.cpp idle_thread_to_kill_idle_sessions). If this fails, a newer ProxySQL closes
    // parked sessions faster: revisit idleThreads' documentation and the drain notes (docs/architecture.md).
    expect(within2s).toBeLessThan(24);
    // the rest close when ProxySQL stops, right after the 4 s statement (the agent's drain ends with it)
    expect(closedMs.at(-1)).toBeGreaterThan(3500);
    expect(closedMs.at(-1)).toBeLessThan(7000);
    expect(codes).toEqual([0, 0]);
  });
});
