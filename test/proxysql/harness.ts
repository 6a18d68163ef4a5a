/**
 * The opt-in real-ProxySQL tier (`npm run test:proxysql`, PROXYSQL_BIN=/path/to/proxysql). CI has no ProxySQL and
 * `npm test` never runs these; without a binary every test here fails, it never skips.
 */
import * as os from 'node:os';
import * as mysql from 'mysql2/promise';
import { LocalAgent, LocalAgentOptions, startLocalAgent } from '../../local/agent';
import { LocalProxySql, LocalProxySqlOptions, requireProxySqlBinary, startLocalProxySql } from '../../local/proxysql';
import { startTopology, Topology } from '../../local/topology';

export function proxySqlBinary(): string {
  return requireProxySqlBinary(process.env.PROXYSQL_BIN, 'npm run test:proxysql');
}

export interface Lab {
  topology: Topology;
  proxy: LocalProxySql;
  stop(): Promise<void>;
}

/** A TLS topology (primary + replica) behind a real ProxySQL started through the entrypoint, backend TLS on. */
export async function startLab(options: Partial<Omit<LocalProxySqlOptions, 'bin' | 'topology' | 'baseDir'>> = {}): Promise<Lab> {
  const bin = proxySqlBinary();
  const topology = await startTopology({ replica: true, tls: true });
  try {
    const proxy = await startLocalProxySql({ bin, topology, backendTls: true, baseDir: os.tmpdir(), ...options });
    return {
      topology,
      proxy,
      async stop() {
        await proxy.stop();
        await topology.stop();
      },
    };
  } catch (error) {
    await topology.stop();
    throw error;
  }
}

/** A lab with the task's agent container beside its ProxySQL, as a task runs them: the agent drains, not the entrypoint. */
export interface TaskLab extends Lab {
  agent: LocalAgent;
}

/** startLab() plus the agent (local/agent.ts), resolved once the agent has started (its SIGTERM trap is set). */
export async function startTaskLab(
  options: Parameters<typeof startLab>[0] = {},
  agentOptions: LocalAgentOptions = {},
): Promise<TaskLab> {
  const lab = await startLab(options);
  const agent = startLocalAgent(lab.proxy, agentOptions);
  const task: TaskLab = {
    ...lab,
    agent,
    async stop() {
      await agent.terminate();
      await lab.stop();
    },
  };
  const deadline = Date.now() + 10_000;
  while (!agent.stderr().includes('proxysql-agent: started')) {
    if (Date.now() > deadline || agent.child.exitCode !== null) {
      await task.stop();
      throw new Error(`the agent did not start: ${agent.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return task;
}

/** What ECS does at a task's stop: SIGTERM to the agent (it drains); once it has exited, SIGTERM to ProxySQL's container. */
export async function stopTask(task: TaskLab): Promise<{ agentCode: number | null; agentExitAt: number; proxyCode: number | null; proxyExitAt: number }> {
  const agentCode = await task.agent.terminate();
  const agentExitAt = Date.now();
  const proxyCode = await task.proxy.terminate();
  return { agentCode, agentExitAt, proxyCode, proxyExitAt: Date.now() };
}

/** A client session through the proxy, as the application user or one of the harness's `moreUsers`. */
export function connect(proxy: LocalProxySql, user = proxy.user): Promise<mysql.Connection> {
  const password = user === proxy.user ? proxy.password : proxy.morePasswords.get(user);
  if (password === undefined) throw new Error(`the harness has no user '${user}'`);
  return mysql.createConnection({ host: proxy.host, port: proxy.port, user, password, database: proxy.database });
}

/**
 * The agent container's environment as its health check (healthcheck.sh, ECS CMD-SHELL) sees it, for `proxy`: the
 * injected admin password, the ports, one application user (its name, not secret here, and its password). With
 * `more` added or overriding.
 */
export function healthCheckEnv(proxy: LocalProxySql, more: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    PROXYSQL_ADMIN_PASSWORD: proxy.adminPassword,
    PROXYSQL_ADMIN_PORT: String(proxy.adminPort),
    PROXYSQL_MYSQL_PORT: String(proxy.port),
    PROXYSQL_EXPECTED_USERS: '1',
    PROXYSQL_USER_LOGIN_0: proxy.user,
    PROXYSQL_USER_PASSWORD_0: proxy.password,
    ...more,
  };
}

/** The single value of the first row. */
export async function scalar(conn: mysql.Connection, sql: string): Promise<unknown> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql, rowsAsArray: true });
  return (rows[0] as unknown as unknown[])[0];
}

/** `count` idle sessions (their close times recorded) and one session inside a transaction that updated `table`: what a drain test stops. */
export async function idleSessionsAndTransaction(lab: Lab, table: string, count: number) {
  const setup = await connect(lab.proxy);
  await setup.query(`CREATE TABLE IF NOT EXISTS ${table} (id INT PRIMARY KEY, n INT)`);
  await setup.query(`INSERT INTO ${table} VALUES (1, 0) ON DUPLICATE KEY UPDATE n = 0`);
  await setup.end();
  const idle = await Promise.all(Array.from({ length: count }, () => connect(lab.proxy)));
  await Promise.all(idle.map((c) => c.query('SELECT 1')));
  const closedAt: number[] = [];
  for (const c of idle) {
    c.on('error', () => undefined);
    c.on('end', () => closedAt.push(Date.now()));
  }
  const inTransaction = await connect(lab.proxy);
  await inTransaction.query('BEGIN');
  await inTransaction.query(`UPDATE ${table} SET n = n + 1 WHERE id = 1`);
  return { idle, closedAt, inTransaction };
}

/** The committed counter of `table`, read on the primary directly. */
export async function committedCount(lab: Lab, table: string): Promise<number> {
  const { primary } = lab.topology;
  const root = await mysql.createConnection({ host: primary.host, port: primary.port, user: primary.rootUser, password: primary.rootPassword });
  try {
    const [rows] = await root.query<mysql.RowDataPacket[]>(`SELECT n FROM app.${table} WHERE id = 1`);
    return Number(rows[0].n);
  } finally {
    await root.end();
  }
}
