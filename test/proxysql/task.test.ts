/**
 * The task's two containers with a real ProxySQL, where the ProxySQL container has no MySQL client: its entrypoint
 * runs with a PATH of only sh and the few tools it uses (no mysql, no mariadb), as the task definition configures it
 * (no drain of its own, PROXYSQL_DRAIN_SECONDS=0); the agent container's scripts run beside it with the MariaDB
 * client, reaching the admin interface on loopback. What is proven: start, both health checks, the figures line, and
 * the drain as ECS runs a task's stop (the agent first, since it depends on ProxySQL; then ProxySQL).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAgent, startLocalAgent } from '../../local/agent';
import { descendants } from '../../local/proxysql';
import { run } from '../../local/run';
import { FIGURES_LINE_MARKER } from '../../src/config/figures';
import { figuresSnapshot } from '../../runtime/collector/snapshot';
import { committedCount, connect, idleSessionsAndTransaction, Lab, startLab } from './harness';

const SCRIPTS = path.join(__dirname, '..', '..', 'runtime', 'proxysql');
const script = (name: string) => fs.readFileSync(path.join(SCRIPTS, name), 'utf8');

/** The PATH the ProxySQL container's entrypoint ran with (from its process's environment). */
function entrypointPath(lab: Lab): string {
  const environ = fs.readFileSync(`/proc/${lab.proxy.pid}/environ`, 'utf8').split('\0');
  return (environ.find((e) => e.startsWith('PATH=')) ?? '').slice('PATH='.length);
}

/** The agent container's health check (healthcheck.sh), as ECS runs CMD-SHELL there: its environment, the client on PATH. */
async function agentHealth(lab: Lab): Promise<{ code: number | null; stderr: string }> {
  const result = await run('/bin/sh', ['-c', script('healthcheck.sh')], {
    env: {
      PATH: process.env.PATH,
      PROXYSQL_ADMIN_PASSWORD: lab.proxy.adminPassword,
      PROXYSQL_ADMIN_PORT: String(lab.proxy.adminPort),
      PROXYSQL_MYSQL_PORT: String(lab.proxy.port),
      PROXYSQL_EXPECTED_USERS: '1',
      PROXYSQL_USER_LOGIN_0: lab.proxy.user,
      PROXYSQL_USER_PASSWORD_0: lab.proxy.password,
    },
    timeoutMs: 10_000,
  });
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

/** What ECS does at a task's stop: SIGTERM to the agent; once it has exited, SIGTERM to ProxySQL's container. */
async function stopTask(lab: Lab, agent: LocalAgent): Promise<{ agentCode: number | null; agentExitAt: number; proxyCode: number | null }> {
  const agentCode = await agent.terminate();
  const agentExitAt = Date.now();
  const proxyCode = await lab.proxy.terminate();
  return { agentCode, agentExitAt, proxyCode };
}

describe('a task whose ProxySQL container has no MySQL client', () => {
  let lab: Lab;
  let agent: LocalAgent;
  beforeAll(async () => {
    // As the task definition runs it: no drain in the ProxySQL container (the agent drains), no client on its PATH.
    lab = await startLab({ withoutClient: true, drainSeconds: 0 });
    agent = startLocalAgent(lab.proxy, { drainSeconds: 20, figuresSeconds: 60 });
  });
  afterAll(async () => {
    await agent?.terminate();
    await lab?.stop();
  });

  it('starts: the entrypoint had no mysql or mariadb on its PATH, and ProxySQL serves the application user', async () => {
    const dirs = entrypointPath(lab).split(':');
    expect(dirs).toHaveLength(1);
    const tools = fs.readdirSync(dirs[0]).sort();
    expect(tools).not.toContain('mysql');
    expect(tools).not.toContain('mariadb');
    expect(tools).toEqual(['cat', 'chmod', 'date', 'mkdir', 'mv', 'rm', 'sh', 'sleep']);
    const c = await connect(lab.proxy);
    expect(await c.query('SELECT 1 AS one').then(([rows]) => (rows as mysql.RowDataPacket[])[0].one)).toBe(1);
    await c.end();
    // ProxySQL runs without the secrets in its environment
    for (const pid of descendants(lab.proxy.pid)) {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      expect(environ).not.toMatch(/(^|\0)PROXYSQL_(ADMIN_PASSWORD|MONITOR_PASSWORD|USER_PASSWORD_\d+)=/);
    }
  });

  it('both containers report healthy: ProxySQL listens (no client needed), the configuration works (the agent)', async () => {
    expect(await proxyHealth(lab)).toEqual({ code: 0, stderr: '' });
    const started = Date.now();
    expect(await agentHealth(lab)).toEqual({ code: 0, stderr: '' });
    console.info(`task health: agent's configuration check ${Date.now() - started} ms`);
  });

  it("the agent writes one figures line of ProxySQL's own counts", async () => {
    const deadline = Date.now() + 5000;
    while (!agent.stdout().includes(FIGURES_LINE_MARKER) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = agent.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    const snapshot = figuresSnapshot(lines[0].slice(FIGURES_LINE_MARKER.length + 1));
    expect(snapshot.servers.map((s) => s.hostgroup)).toEqual(expect.arrayContaining([10, 20]));
    expect(snapshot.maxConnections).toBe(10000);
    expect(snapshot.memoryBytes).toBeGreaterThan(0);
    expect(agent.stderr()).not.toContain(lab.proxy.adminPassword);
  });

  it('drains as ECS stops the task: statement and transaction finish, 20 idle sessions close within 2 s of SIGTERM', async () => {
    const { idle, closedAt, inTransaction } = await idleSessionsAndTransaction(lab, 'task_drain', 20);
    const running = await connect(lab.proxy);
    const sleeping = running.query('SELECT SLEEP(1.2) AS s');
    await new Promise((r) => setTimeout(r, 200));

    const termAt = Date.now();
    const stopped = stopTask(lab, agent);
    // The listener is closed (PROXYSQL PAUSE) soon after SIGTERM; the transaction goes on and commits.
    await new Promise((r) => setTimeout(r, 700));
    await expect(connect(lab.proxy)).rejects.toThrow();
    await inTransaction.query('UPDATE task_drain SET n = n + 1 WHERE id = 1');
    await inTransaction.query('COMMIT');
    const [slept] = (await sleeping) as [mysql.RowDataPacket[], unknown];
    const lastStatementAt = Date.now();
    expect(Number(slept[0].s)).toBe(0);
    const { agentCode, agentExitAt, proxyCode } = await stopped;
    await new Promise((r) => setTimeout(r, 100));

    console.info(
      `task drain: idle sessions closed ${Math.min(...closedAt) - termAt}-${Math.max(...closedAt) - termAt} ms after SIGTERM; ` +
        `agent exited ${agentExitAt - lastStatementAt} ms after the last statement; ProxySQL ${proxyCode}`,
    );
    expect(closedAt).toHaveLength(idle.length);
    expect(Math.max(...closedAt) - termAt).toBeLessThan(2000);
    expect(agentExitAt - lastStatementAt).toBeLessThan(3000);
    expect(agentCode).toBe(0);
    expect(proxyCode).toBe(0);
    expect(await committedCount(lab, 'task_drain')).toBe(2);
    expect(agent.stderr()).toMatch(/got SIGTERM: draining ProxySQL for at most 20 s/);
    expect(agent.stderr()).toMatch(/sent PROXYSQL PAUSE/);
    expect(agent.stderr()).toMatch(/no statement or transaction left/);
    for (const c of [inTransaction, running]) c.destroy();
  });
});

describe('a task whose ProxySQL container has no MySQL client: a long transaction', () => {
  let lab: Lab;
  let agent: LocalAgent;
  beforeAll(async () => {
    lab = await startLab({ withoutClient: true, drainSeconds: 0 });
    agent = startLocalAgent(lab.proxy, { drainSeconds: 20 });
  });
  afterAll(async () => {
    await agent?.terminate();
    await lab?.stop();
  });

  it('waits for a transaction that commits 4 s after SIGTERM; ProxySQL is stopped within 3 s of the commit', async () => {
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
    const stopped = stopTask(lab, agent);
    await new Promise((r) => setTimeout(r, 4000));
    await tx.query('COMMIT');
    const committedAt = Date.now();
    const { agentCode, proxyCode } = await stopped;
    console.info(`task drain: ProxySQL stopped ${Date.now() - committedAt} ms after the COMMIT of a transaction open 4 s into the drain`);
    expect(Date.now() - committedAt).toBeLessThan(3000);
    expect([agentCode, proxyCode]).toEqual([0, 0]);
    await new Promise((r) => setTimeout(r, 100));
    expect(idleClosed).toBe(idle.length);
    tx.destroy();
  });
});
