/**
 * The metrics path against a real ProxySQL started by the task's entrypoint: the task's agent script
 * (runtime/proxysql/agent.sh, the MariaDB client on PATH) writes its figures lines from the admin interface on
 * loopback; the Lambda handler, with ECS answered by an injected client (one task) and CloudWatch Logs by one that
 * serves the agent's newest line, aggregates them. Each published value is checked against what the same ProxySQL
 * says on its admin interface (stats_mysql_global, stats_mysql_connection_pool) at the same moment, or against the
 * workload the test ran.
 */
import * as mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_READ_YOUR_WRITES_STATEMENTS } from '../../src/config/session-state';
import { READER_HOSTGROUP, WRITER_HOSTGROUP } from '../../src/constants';
import { createCollector, EcsApi, LogsApi, RoundSummary } from '../../runtime/collector/handler';
import { EmfRecord, emfRecords, emfValue } from '../../runtime/collector/test-support';
import { LocalAgent, startLocalAgent } from '../../local/agent';
import { FIGURES_LINE_MARKER } from '../../src/config/figures';
import { connect, Lab, startLab } from './harness';

const TASK_ARN = 'arn:aws:ecs:us-east-1:111111111111:task/proxy/local';

/** The admin interface's view: global status and the pool, per hostgroup and server. */
async function adminView(lab: Lab) {
  const admin = await lab.proxy.admin();
  try {
    const [global] = await admin.query<mysql.RowDataPacket[]>('SELECT Variable_Name AS n, Variable_Value AS v FROM stats_mysql_global');
    const [pool] = await admin.query<mysql.RowDataPacket[]>('SELECT hostgroup, srv_host, srv_port, status, ConnUsed, ConnFree, Queries, Latency_us FROM stats_mysql_connection_pool');
    const g = Object.fromEntries(global.map((r) => [String(r.n), Number(r.v)]));
    return {
      global: g,
      pool: pool.map((r) => ({ hostgroup: Number(r.hostgroup), endpoint: `${r.srv_host}:${r.srv_port}`, status: String(r.status), used: Number(r.ConnUsed), free: Number(r.ConnFree), queries: Number(r.Queries), latencyUs: Number(r.Latency_us) })),
    };
  } finally {
    await admin.end();
  }
}

describe('the collector on a real ProxySQL', () => {
  let lab: Lab;
  const sessions: mysql.Connection[] = [];
  let clock = 0;
  let collect: () => Promise<RoundSummary>;
  let stdout: string[] = [];
  let agent: LocalAgent;
  /** The agent's line CloudWatch Logs would hold as the newest of its stream. */
  let newest: { timestamp: number; message: string } | undefined;

  /** The agent's figures lines so far. */
  const figuresLines = () => agent.stdout().split('\n').filter((l) => l.startsWith(`${FIGURES_LINE_MARKER} `));

  beforeAll(async () => {
    lab = await startLab();
    // every second here (60 s in a task), so a round need not wait a minute for a fresh line
    agent = startLocalAgent(lab.proxy, { figuresSeconds: 1 });
    const ecs: EcsApi = {
      listTasks: async () => ({ taskArns: [TASK_ARN], $metadata: {} }),
      describeTasks: async () => ({ tasks: [{ taskArn: TASK_ARN, lastStatus: 'RUNNING' }], $metadata: {} }),
    };
    const logs: LogsApi = {
      filterLogEvents: async (input) => ({
        events: newest && newest.timestamp >= input.startTime ? [{ logStreamName: `${input.logStreamNamePrefix}local`, ...newest }] : [],
      }),
    };
    const settings = { clusterArn: 'arn:cluster', serviceName: 'local', logGroupName: 'g', streamPrefix: 'proxysql/agent/', marker: FIGURES_LINE_MARKER, maxAgeMs: 150_000 };
    collect = createCollector({ ecs, logs, settings, now: () => clock, logger: { warn: (m, e) => console.warn(m, e) } });
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await agent?.terminate();
    await lab?.stop();
  });

  /** Waits for the agent's next figures line (written after this call) and makes it the stream's newest at `atMs`. */
  async function freshLine(atMs: number): Promise<void> {
    const seen = figuresLines().length;
    const deadline = Date.now() + 5000;
    while (figuresLines().length <= seen) {
      if (Date.now() > deadline) throw new Error(`the agent wrote no figures line within 5 s; its log:\n${agent.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    newest = { timestamp: atMs, message: figuresLines().at(-1) as string };
  }
  afterEach(() => vi.restoreAllMocks());

  /** One collection round at `atMs` (the injected clock), returning what it wrote as EMF and how long it took. */
  async function round(atMs: number): Promise<{ records: EmfRecord[]; summary: RoundSummary; ms: number }> {
    await freshLine(atMs);
    clock = atMs;
    stdout = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
    const started = performance.now();
    const summary = await collect();
    const ms = performance.now() - started;
    vi.restoreAllMocks();
    return { records: emfRecords(stdout), summary, ms };
  }

  it('publishes what ProxySQL reports: connections, pool, sessions holding connections, deltas, queries/s, server status', async () => {
    // GIVEN 40 idle sessions and 3 inside an open transaction (each holds a writer connection)
    for (let i = 0; i < 40; i++) {
      const s = await connect(lab.proxy);
      await s.query('SELECT 1');
      sessions.push(s);
    }
    for (let i = 0; i < 3; i++) {
      const s = await connect(lab.proxy);
      await s.query('CREATE TABLE IF NOT EXISTS collector_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)');
      await s.query('BEGIN');
      await s.query('INSERT INTO collector_t (v) VALUES (1)');
      sessions.push(s);
    }
    const first = await round(0);
    const before = await adminView(lab);
    expect(first.summary).toEqual({ tasks: 1, scraped: 1, failures: 0 });

    // WHEN 30 writes and 50 reads run, 3 new sessions connect, and one of them is locked to the writer by a SET
    // ProxySQL cannot track, so its next read is refused with 9006
    const worker = sessions[0];
    for (let i = 0; i < 30; i++) await worker.query('INSERT INTO collector_t (v) VALUES (?)', [i]);
    for (let i = 0; i < 50; i++) await worker.query('SELECT v FROM collector_t WHERE id = ?', [i]);
    for (let i = 0; i < 2; i++) sessions.push(await connect(lab.proxy));
    const locked = await connect(lab.proxy);
    sessions.push(locked);
    await locked.query('SET SESSION div_precision_increment = 6');
    await expect(locked.query('SELECT 1/3')).rejects.toMatchObject({ errno: 9006 });
    // AND a client logs in with a wrong password (ProxySQL answers 1045 itself)
    await expect(mysql.createConnection({ host: lab.proxy.host, port: lab.proxy.port, user: lab.proxy.user, password: 'wrong' })).rejects.toMatchObject({ errno: 1045 });
    // Active_Transactions is recomputed in each worker thread's maintenance pass (lib/MySQL_Thread.cpp
    // process_all_sessions), not at once: wait for ProxySQL's own count before the scrape.
    const deadline = Date.now() + 10_000;
    while ((await adminView(lab)).global.Active_Transactions !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const justBefore = await adminView(lab);
    const second = await round(10_000);
    const after = await adminView(lab);
    const value = (name: string, dims?: Record<string, string>) => emfValue(second.records, name, dims);

    // THEN the gauges equal the admin interface's figures at that moment
    const clients = after.global.Client_Connections_connected;
    expect(clients).toBe(46);
    expect(value('ClientConnections')).toBe(clients);
    expect(value('ClientConnectionsPerTask')).toBe(clients);
    expect(value('ClientConnectionsUsedPercent')).toBe((100 * clients) / 10000); // mysql-max_connections, the default
    expect(value('SessionsInTransaction')).toBe(after.global.Active_Transactions);
    expect(value('SessionsInTransaction')).toBe(3);
    expect(value('SessionsLockedToHostgroup')).toBe(1);
    for (const row of after.pool) {
      const dims = { HostgroupRole: row.hostgroup === WRITER_HOSTGROUP ? 'writer' : 'reader', BackendServer: row.endpoint };
      expect(value('BackendConnectionsUsed', dims), row.endpoint).toBe(row.used);
      expect(value('BackendConnectionsFree', dims), row.endpoint).toBe(row.free);
      // the monitor's last ping time, as the admin interface showed it just before or just after the scrape
      const latencies = [justBefore, after].map((v) => v.pool.find((r) => r.hostgroup === row.hostgroup && r.endpoint === row.endpoint)?.latencyUs);
      expect(latencies, row.endpoint).toContain(value('BackendLatency', dims));
      expect(value('BackendConnectionErrors', dims)).toBe(0);
    }
    const used = after.pool.reduce((sum, r) => sum + r.used, 0);
    expect(used).toBeGreaterThanOrEqual(3);
    expect(value('MultiplexingRatio')).toBe(clients / used);
    expect(value('ServersNotOnline')).toBe(0);
    expect(value('WriterViews')).toBe(1);
    expect(value('MemoryBytes') as number).toBeGreaterThan(0);
    // AND the counters are the deltas since the first round, as the admin interface counts them
    const grew = (name: string) => after.global[name] - before.global[name];
    expect(value('ClientConnectionsCreated')).toBe(grew('Client_Connections_created'));
    expect(grew('Client_Connections_created')).toBeGreaterThanOrEqual(3);
    expect(value('ClientConnectionsAborted')).toBe(grew('Client_Connections_aborted'));
    expect(value('HostgroupLockedQueries')).toBe(1); // the 9006
    expect(value('QueryErrors')).toBe(grew('generated_error_packets'));
    expect(value('QueryErrors')).toBeGreaterThanOrEqual(1); // the 1045 (9006 is not counted there)
    expect(value('PoolGetFailures')).toBe(grew('ConnPool_get_conn_failure'));
    expect(value('MaxConnectTimeouts')).toBe(0);
    // AND queries/s per hostgroup role = the pool's Queries delta over the 10 s between the rounds
    const delta = (hg: number) => [after, before].map((v) => v.pool.filter((r) => r.hostgroup === hg).reduce((s, r) => s + r.queries, 0)).reduce((a, b) => a - b);
    // (the first reads after the 30 writes follow them to the writer: read-your-writes, src/config/session-state.ts)
    expect(delta(WRITER_HOSTGROUP)).toBeGreaterThanOrEqual(30 + DEFAULT_READ_YOUR_WRITES_STATEMENTS);
    expect(delta(READER_HOSTGROUP)).toBeGreaterThanOrEqual(50 - DEFAULT_READ_YOUR_WRITES_STATEMENTS);
    expect(value('QueriesPerSecond', { HostgroupRole: 'writer' })).toBe(delta(WRITER_HOSTGROUP) / 10);
    expect(value('QueriesPerSecond', { HostgroupRole: 'reader' })).toBe(delta(READER_HOSTGROUP) / 10);

    const line = figuresLines().at(-1) as string;
    console.info(
      `collector on ProxySQL ${await lab.proxy.version()}: figures line ${Buffer.byteLength(line)} bytes; ` +
        `round 1 ${first.ms.toFixed(1)} ms, round 2 ${second.ms.toFixed(1)} ms; ${second.records.length} EMF records, ` +
        `${second.records.reduce((n, r) => n + r._aws.CloudWatchMetrics[0].Metrics.length, 0)} datapoints; clients ${clients}, backend used ${used}, ` +
        `ratio ${(clients / used).toFixed(2)}, writer ${delta(WRITER_HOSTGROUP)} / reader ${delta(READER_HOSTGROUP)} queries`,
    );
  });

  it('counts a server taken out of rotation, and it is no writer view', async () => {
    // GIVEN the replica set OFFLINE_SOFT on the admin interface
    const replica = lab.topology.replica as { host: string; port: number };
    const admin = await lab.proxy.admin();
    try {
      await admin.query(`UPDATE mysql_servers SET status = 'OFFLINE_SOFT' WHERE port = ${replica.port}`);
      await admin.query('LOAD MYSQL SERVERS TO RUNTIME');
    } finally {
      await admin.end();
    }
    // WHEN the collector runs
    const { records } = await round(20_000);
    // THEN it counts one server not ONLINE, and the writer is still the only one
    const view = await adminView(lab);
    expect(view.pool.filter((r) => r.status !== 'ONLINE').map((r) => r.status)).toEqual(['OFFLINE_SOFT']);
    expect(emfValue(records, 'ServersNotOnline')).toBe(1);
    expect(emfValue(records, 'WriterViews')).toBe(1);
  });
});
