/**
 * The collector handler end to end in-process: an injected ECS API and CloudWatch Logs API (AWS, no database) that
 * serves figures lines built from real ProxySQL 2.7.1 admin captures; what is checked is the embedded-metric-format
 * JSON written to stdout.
 */
import type { DescribeTasksCommandInput, ListTasksCommandInput, Task } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CollectorSettings, createCollector, EcsApi, FilteredLogEvent, FilterLogEventsInput, LogsApi, settingsFromEnv } from './handler';
import { emfRecords, emfValue, figuresLine, pinning, pinningAfter, underLoad } from './test-support';

const CLUSTER = 'arn:aws:ecs:us-east-1:111111111111:cluster/proxy';
const SETTINGS: CollectorSettings = {
  clusterArn: CLUSTER,
  serviceName: 'proxy-svc',
  logGroupName: 'proxy-logs',
  streamPrefix: 'proxysql/agent/',
  marker: 'proxysql-figures',
  maxAgeMs: 150_000,
};

const task = (id: string, lastStatus = 'RUNNING'): Task => ({ taskArn: `arn:aws:ecs:us-east-1:111111111111:task/proxy/${id}`, lastStatus });

/** An ECS API over a fixed task list, paged 2 task ARNs at a time; records the calls. */
function fakeEcs(tasks: Task[]) {
  const calls: { list: ListTasksCommandInput[]; describe: DescribeTasksCommandInput[] } = { list: [], describe: [] };
  const ecs: EcsApi = {
    async listTasks(input) {
      calls.list.push(input);
      const start = Number(input.nextToken ?? 0);
      const page = tasks.slice(start, start + 2).map((t) => t.taskArn as string);
      return { taskArns: page, nextToken: start + 2 < tasks.length ? String(start + 2) : undefined, $metadata: {} };
    },
    async describeTasks(input) {
      calls.describe.push(input);
      return { tasks: tasks.filter((t) => input.tasks?.includes(t.taskArn as string)), failures: [], $metadata: {} };
    },
  };
  return { ecs, calls };
}

/**
 * CloudWatch Logs' FilterLogEvents over a fixed list of events, as the service answers it: only the streams with the
 * prefix, only events at or after startTime, only messages containing the quoted term, in pages of 2 events.
 */
function fakeLogs(events: FilteredLogEvent[]) {
  const calls: FilterLogEventsInput[] = [];
  const logs: LogsApi = {
    async filterLogEvents(input) {
      calls.push(input);
      const term = /^"(.*)"$/.exec(input.filterPattern)?.[1] ?? '';
      const matching = events.filter(
        (e) => e.logStreamName?.startsWith(input.logStreamNamePrefix) && (e.timestamp ?? 0) >= input.startTime && e.message?.includes(term),
      );
      const start = Number(input.nextToken ?? 0);
      return { events: matching.slice(start, start + 2), nextToken: start + 2 < matching.length ? String(start + 2) : undefined };
    },
  };
  return { logs, calls };
}

const event = (taskId: string, timestamp: number, message: string, container = 'agent'): FilteredLogEvent => ({
  logStreamName: `proxysql/${container}/${taskId}`,
  timestamp,
  message,
});

let stdout: string[];
beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const emf = () => emfRecords(stdout);
const value = emfValue;

describe('the collector handler', () => {
  test("lists the RUNNING tasks, reads each one's newest figures line, and writes aggregated EMF with bounded dimensions", async () => {
    // GIVEN three RUNNING tasks (one whose agent wrote nothing lately) and one still starting, and their log streams
    const { ecs, calls } = fakeEcs([task('a'), task('b', 'PROVISIONING'), task('c'), task('d')]);
    const NOW = 1_000_000;
    const { logs, calls: logCalls } = fakeLogs([
      event('a', NOW - 70_000, figuresLine(pinning())), // older line of task a: the newer one wins
      event('a', NOW - 10_000, figuresLine(underLoad())),
      event('a', NOW - 5_000, 'proxysql-agent: started: figures every 60 s'), // its own log lines are not figures
      event('b', NOW - 5_000, figuresLine(pinning())), // not RUNNING: not counted
      event('c', NOW - 20_000, figuresLine(pinning())),
      event('c', NOW - 1_000, figuresLine(pinning()), 'proxysql'), // the ProxySQL container's stream is not read
      event('d', NOW - 200_000, figuresLine(pinning())), // older than maxAge: task d has no figures
    ]);
    const warnings: unknown[] = [];
    // as the construct sets it for the logger: it must not become a metric dimension
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'serverless-proxysql-collector');
    const collect = createCollector({ ecs, logs, settings: SETTINGS, now: () => NOW, logger: { warn: (...args: unknown[]) => warnings.push(args) } });

    // WHEN it runs once
    const summary = await collect();

    // THEN it asked ECS for the service's RUNNING tasks, page by page, and described them
    expect(calls.list).toEqual([
      { cluster: CLUSTER, serviceName: 'proxy-svc', desiredStatus: 'RUNNING', nextToken: undefined },
      { cluster: CLUSTER, serviceName: 'proxy-svc', desiredStatus: 'RUNNING', nextToken: '2' },
    ]);
    expect(calls.describe.flatMap((d) => d.tasks)).toHaveLength(4);
    // AND read the agents' streams of the last maxAge with the marker as the filter, every page
    expect(logCalls[0]).toEqual({ logGroupName: 'proxy-logs', logStreamNamePrefix: 'proxysql/agent/', startTime: NOW - 150_000, filterPattern: '"proxysql-figures"', nextToken: undefined });
    expect(logCalls.length).toBeGreaterThan(1);
    expect(summary).toEqual({ tasks: 3, scraped: 2, failures: 1 });
    expect(JSON.stringify(warnings)).toContain('no figures line in proxysql/agent/d in the last 150 s');

    // AND wrote EMF in our namespace, Service on every record, never a task dimension
    const records = emf();
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const r of records) {
      expect(r._aws.CloudWatchMetrics[0].Namespace).toBe('ServerlessProxySQL');
      expect(r.Service).toBe('proxy-svc');
      expect(r.service).toBeUndefined();
      expect(JSON.stringify(r)).not.toMatch(/task\/proxy|proxysql\/agent/);
    }
    const dimensionSets = new Set(records.map((r) => JSON.stringify(r._aws.CloudWatchMetrics[0].Dimensions)));
    expect([...dimensionSets].sort()).toEqual(['[["Service","HostgroupRole","BackendServer"]]', '[["Service"]]']);
    expect(value(records, 'ClientConnections')).toBe(520);
    expect(value(records, 'ClientConnectionsPerTask')).toBe(260);
    expect(value(records, 'TasksScraped')).toBe(2);
    expect(value(records, 'ScrapeFailures')).toBe(1);
    // the cross-task check: the two tasks see different writers
    expect(value(records, 'WriterViews')).toBe(2);
    expect(value(records, 'BackendConnectionsUsed', { HostgroupRole: 'writer', BackendServer: '127.0.0.1:25356' })).toBe(17);
    expect(value(records, 'BackendLatency', { HostgroupRole: 'reader', BackendServer: '127.0.0.1:24307' })).toBe(169);
    const units = Object.fromEntries(records.flatMap((r) => r._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit])));
    expect(units).toMatchObject({ ClientConnections: 'Count', BackendLatency: 'Microseconds', MemoryBytes: 'Bytes', ClientConnectionsUsedPercent: 'Percent' });
    // no counter on the first round: nothing to subtract from
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'writer' })).toBeUndefined();
  });

  test("the next invocation in the same sandbox publishes counter deltas and queries/s over the lines' own times", async () => {
    // GIVEN one task whose agent wrote the pinning figures, then 10 s later the after-load figures
    const { ecs } = fakeEcs([task('a')]);
    const events = [event('a', 99_000, figuresLine(pinning()))];
    const { logs } = fakeLogs(events);
    let clock = 100_000;
    const collect = createCollector({ ecs, logs, settings: SETTINGS, now: () => clock, logger: { warn: () => undefined } });
    await collect();
    stdout = [];
    events.push(event('a', 109_000, figuresLine(pinningAfter())));
    clock = 160_000;
    // WHEN it runs again
    await collect();
    // THEN the rates cover the 10 s between the two lines (stats_mysql_connection_pool Queries per hostgroup)
    const records = emf();
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'writer' })).toBe((2040 - 1992) / 10);
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'reader' })).toBeCloseTo((8703 - 8465) / 10, 10);
    expect(value(records, 'ClientConnectionsCreated')).toBe(0);
    expect(value(records, 'ClientConnections')).toBe(0);
  });

  test('a round that finds the same line as the last one publishes its gauges but no counter (missing, not a false zero)', async () => {
    const { ecs } = fakeEcs([task('a')]);
    const { logs } = fakeLogs([event('a', 99_000, figuresLine(pinning()))]);
    let clock = 100_000;
    const collect = createCollector({ ecs, logs, settings: SETTINGS, now: () => clock, logger: { warn: () => undefined } });
    await collect();
    stdout = [];
    clock = 140_000;
    expect(await collect()).toEqual({ tasks: 1, scraped: 1, failures: 0 });
    const records = emf();
    expect(value(records, 'ClientConnections')).toBe(220);
    expect(value(records, 'HostgroupLockedQueries')).toBeUndefined();
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'writer' })).toBeUndefined();
  });

  test('a figures line that cannot be read counts as a failure, the others are published', async () => {
    const { ecs } = fakeEcs([task('a'), task('b')]);
    const { logs } = fakeLogs([event('a', 90_000, figuresLine(underLoad())), event('b', 90_000, 'proxysql-figures {"v":1,"global":{"Client_Conn')]);
    const warnings: string[] = [];
    const collect = createCollector({ ecs, logs, settings: SETTINGS, now: () => 100_000, logger: { warn: (_m: unknown, extra: unknown) => warnings.push(JSON.stringify(extra)) } });
    expect(await collect()).toEqual({ tasks: 2, scraped: 1, failures: 1 });
    expect(warnings.join()).toMatch(/not a figures line/);
    expect(warnings.join()).toMatch(/proxysql\/agent\/b/);
    const records = emf();
    expect(value(records, 'ScrapeFailures')).toBe(1);
    expect(value(records, 'ClientConnections')).toBe(300);
  });

  test('more than 100 tasks are described 100 at a time; their lines are read in one paged filter, not one call per task', async () => {
    const tasks = Array.from({ length: 101 }, (_, i) => task(`t${i}`));
    const { ecs, calls } = fakeEcs(tasks);
    const { logs, calls: logCalls } = fakeLogs([]);
    const collect = createCollector({ ecs, logs, settings: SETTINGS, now: () => 100_000, logger: { warn: () => undefined } });
    expect(await collect()).toEqual({ tasks: 101, scraped: 0, failures: 101 });
    expect(calls.describe.map((d) => d.tasks?.length)).toEqual([100, 1]);
    expect(logCalls).toHaveLength(1);
    expect(emf().flatMap((r) => r._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name))).toEqual(['TasksScraped', 'ScrapeFailures']);
  });
});

describe('settingsFromEnv', () => {
  const ENV = {
    PROXYSQL_CLUSTER_ARN: CLUSTER,
    PROXYSQL_SERVICE_NAME: 's',
    PROXYSQL_LOG_GROUP: 'g',
    PROXYSQL_LOG_STREAM_PREFIX: 'proxysql/agent/',
    PROXYSQL_FIGURES_MARKER: 'proxysql-figures',
  };

  test('reads what the construct sets, with a 150 s line age by default', () => {
    expect(settingsFromEnv(ENV)).toEqual({ clusterArn: CLUSTER, serviceName: 's', logGroupName: 'g', streamPrefix: 'proxysql/agent/', marker: 'proxysql-figures', maxAgeMs: 150_000 });
  });

  test('names the variable that is missing or wrong', () => {
    expect(() => settingsFromEnv({ ...ENV, PROXYSQL_CLUSTER_ARN: undefined })).toThrow(/PROXYSQL_CLUSTER_ARN is not set/);
    expect(() => settingsFromEnv({ ...ENV, PROXYSQL_LOG_GROUP: '' })).toThrow(/PROXYSQL_LOG_GROUP is not set/);
    expect(() => settingsFromEnv({ ...ENV, PROXYSQL_FIGURES_MAX_AGE_SECONDS: '2m' })).toThrow(/PROXYSQL_FIGURES_MAX_AGE_SECONDS='2m' must be a whole number from 60 to 3600/);
  });
});
