/**
 * The agent container's health check (healthcheck.sh, the MariaDB client on PATH) against a real ProxySQL started by
 * the task's entrypoint: healthy as deployed,
 * unhealthy when a configured user is missing or a backend refuses the application user's password, and still
 * healthy while the database itself is down.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../local/run';
import { DEPLOYMENT_FAILURE_FILTER_PATTERN } from '../../src/config/deployment-alarm';
import { regexFilterMatches } from '../support/cloudwatch-filter';
import { healthCheckEnv, Lab, startLab } from './harness';

const SCRIPT = fs.readFileSync(path.join(__dirname, '..', '..', 'runtime', 'proxysql', 'healthcheck.sh'), 'utf8');

describe('container health check through a real ProxySQL', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => lab?.stop());

  // As ECS runs CMD-SHELL: /bin/sh -c <text>, with the container's environment (the injected admin password).
  async function check(env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
    const result = await run('/bin/sh', ['-c', SCRIPT], { env: healthCheckEnv(lab.proxy, env), timeoutMs: 10_000 });
    return { code: result.status, stderr: result.stderr };
  }

  it('is healthy as deployed', async () => {
    expect(await check()).toEqual({ code: 0, stderr: '' });
  });

  it('is unhealthy when fewer users are loaded than configured', async () => {
    const result = await check({ PROXYSQL_EXPECTED_USERS: '2' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('proxysql-healthcheck: 1 of 2 application users loaded: ProxySQL dropped a user from its configuration\n');
  });

  it('is unhealthy when the admin password is wrong (the admin interface does not answer)', async () => {
    const result = await check({ PROXYSQL_ADMIN_PASSWORD: 'not-it' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('proxysql-healthcheck: the admin interface does not answer');
    expect(result.stderr).not.toContain(lab.proxy.adminPassword);
  });

  it('is unhealthy once a backend refuses the application user (its password changed on the database)', async () => {
    const { primary } = lab.topology;
    const root = await mysql.createConnection({ host: primary.host, port: primary.port, user: primary.rootUser, password: primary.rootPassword });
    await root.query("ALTER USER ?@'%' IDENTIFIED BY 'changed-behind-the-proxy'", [lab.proxy.user]);
    await lab.topology.waitForReplication();
    // Drop the pooled backend connections so the next statement needs a new login.
    await root.query(`KILL USER ${root.escape(lab.proxy.user)}`);
    const replica = lab.topology.replica!;
    const rroot = await mysql.createConnection({ host: replica.host, port: replica.port, user: replica.rootUser, password: replica.rootPassword });
    await rroot.query(`KILL USER ${rroot.escape(lab.proxy.user)}`);
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `proxysql-healthcheck: user 0 (${lab.proxy.user}) cannot log in through ProxySQL to the database: access denied (wrong password or grants)\n`,
    );
    expect(result.stderr).not.toContain(lab.proxy.password);
    // The deployment alarm's log filter (src/proxysql-deployment-alarm.ts) sees it in ProxySQL's own log: a line it
    // counts, naming the refused user (test/proxysql/deployment-alarm.test.ts: what it does not count).
    const denied = fs
      .readFileSync(lab.proxy.logFile, 'utf8')
      .split('\n')
      .filter((line) => regexFilterMatches(DEPLOYMENT_FAILURE_FILTER_PATTERN, line));
    expect(denied.some((line) => line.includes(`'${lab.proxy.user}'`))).toBe(true);
    await root.query("ALTER USER ?@'%' IDENTIFIED BY ?", [lab.proxy.user, lab.proxy.password]);
    await Promise.all([root.end(), rroot.end()]);
  });

  it('stays healthy while the database is down: connection errors are not configuration errors', async () => {
    await lab.topology.stop();
    const started = Date.now();
    expect(await check()).toEqual({ code: 0, stderr: '' });
    // the login check is bounded (3 s a user), inside the health check's timeout
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
