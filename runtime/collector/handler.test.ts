/**
 * The collector handler end to end in-process: an injected ECS API (AWS, no database) and `fetch` that serves real
 * ProxySQL 2.7.1 /metrics captures; what is checked is the embedded-metric-format JSON written to stdout.
 */
import type { DescribeTasksCommandInput, ListTasksCommandInput, Task } from '@aws-sdk/client-ecs';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createCollector, EcsApi, FetchLike, settingsFromEnv } from './handler';
import { afterLoad, emfRecords, emfValue, pinning, underLoad } from './test-support';

const CLUSTER = 'arn:aws:ecs:us-east-1:111111111111:cluster/proxy';
const SETTINGS = { clusterArn: CLUSTER, serviceName: 'proxy-svc', port: 6070, timeoutMs: 300 };

const eniTask = (id: string, ip: string, lastStatus = 'RUNNING'): Task => ({
  taskArn: `arn:aws:ecs:us-east-1:111111111111:task/proxy/${id}`,
  lastStatus,
  attachments: [{ type: 'ElasticNetworkInterface', details: [{ name: 'subnetId', value: 'subnet-1' }, { name: 'privateIPv4Address', value: ip }] }],
});

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

/** `fetch` serving a page per IP; any other URL is refused. */
function fakeFetch(pages: Record<string, () => string | number>) {
  const urls: string[] = [];
  const fetch: FetchLike = async (url) => {
    urls.push(url);
    const ip = new URL(url).hostname;
    const page = pages[ip]?.();
    if (page === undefined) throw new Error(`connect ECONNREFUSED ${ip}`);
    if (typeof page === 'number') return { ok: false, status: page, text: async () => '' };
    return { ok: true, status: 200, text: async () => page };
  };
  return { fetch, urls };
}

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
  test('lists the RUNNING tasks, scrapes each on 6070, and writes aggregated EMF with bounded dimensions', async () => {
    // GIVEN three RUNNING tasks (one with its IP only on the container's interface, one without any IP) and one still starting
    const viaContainer: Task = { taskArn: 'arn:aws:ecs:us-east-1:111111111111:task/proxy/c', lastStatus: 'RUNNING', containers: [{ networkInterfaces: [{ privateIpv4Address: '10.0.0.3' }] }] };
    const noIp: Task = { taskArn: 'arn:aws:ecs:us-east-1:111111111111:task/proxy/d', lastStatus: 'RUNNING' };
    const { ecs, calls } = fakeEcs([eniTask('a', '10.0.0.1'), eniTask('b', '10.0.0.2', 'PROVISIONING'), viaContainer, noIp]);
    const { fetch, urls } = fakeFetch({ '10.0.0.1': underLoad, '10.0.0.3': pinning });
    const warnings: unknown[] = [];
    // as the construct sets it for the logger: it must not become a metric dimension
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'serverless-proxysql-collector');
    const collect = createCollector({ ecs, fetch, settings: SETTINGS, logger: { warn: (...args: unknown[]) => warnings.push(args) } });

    // WHEN it runs once
    const summary = await collect();

    // THEN it asked ECS for the service's RUNNING tasks, page by page, and described them
    expect(calls.list).toEqual([
      { cluster: CLUSTER, serviceName: 'proxy-svc', desiredStatus: 'RUNNING', nextToken: undefined },
      { cluster: CLUSTER, serviceName: 'proxy-svc', desiredStatus: 'RUNNING', nextToken: '2' },
    ]);
    expect(calls.describe.flatMap((d) => d.tasks)).toHaveLength(4);
    expect(urls.sort()).toEqual(['http://10.0.0.1:6070/metrics', 'http://10.0.0.3:6070/metrics']);
    expect(summary).toEqual({ tasks: 3, scraped: 2, failures: 1 });
    expect(JSON.stringify(warnings)).toContain('the task has no private IPv4 address');

    // AND wrote EMF in our namespace, Service on every record, never a task dimension
    const records = emf();
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const r of records) {
      expect(r._aws.CloudWatchMetrics[0].Namespace).toBe('ServerlessProxySQL');
      expect(r.Service).toBe('proxy-svc');
      expect(r.service).toBeUndefined();
      expect(JSON.stringify(r)).not.toMatch(/task\/proxy|10\.0\.0\./);
    }
    const dimensionSets = new Set(records.map((r) => JSON.stringify(r._aws.CloudWatchMetrics[0].Dimensions)));
    expect([...dimensionSets].sort()).toEqual(['[["Service","HostgroupRole","BackendServer"]]', '[["Service"]]']);
    expect(value(records, 'ClientConnections')).toBe(520);
    expect(value(records, 'ClientConnectionsPerTask')).toBe(260);
    expect(value(records, 'TasksScraped')).toBe(2);
    expect(value(records, 'ScrapeFailures')).toBe(1);
    expect(value(records, 'WriterViews')).toBe(2);
    expect(value(records, 'BackendConnectionsUsed', { HostgroupRole: 'writer', BackendServer: '127.0.0.1:25356' })).toBe(17);
    expect(value(records, 'BackendLatency', { HostgroupRole: 'reader', BackendServer: '127.0.0.1:24307' })).toBe(169);
    const units = Object.fromEntries(records.flatMap((r) => r._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit])));
    expect(units).toMatchObject({ ClientConnections: 'Count', BackendLatency: 'Microseconds', MemoryBytes: 'Bytes', ClientConnectionsUsedPercent: 'Percent' });
    // no counter on the first round: nothing to subtract from
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'writer' })).toBeUndefined();
  });

  test('the next invocation in the same sandbox publishes counter deltas and queries/s', async () => {
    // GIVEN one task scraped under load, then 4 s later after the load
    const { ecs } = fakeEcs([eniTask('a', '10.0.0.1')]);
    let page = underLoad;
    const { fetch } = fakeFetch({ '10.0.0.1': () => page() });
    let clock = 12_000;
    const collect = createCollector({ ecs, fetch, settings: SETTINGS, now: () => clock, logger: { warn: () => undefined } });
    await collect();
    stdout = [];
    page = afterLoad;
    clock = 16_000;
    // WHEN it runs again
    await collect();
    // THEN the rates cover the 4 s between the scrapes (connpool_conns_queries_total per hostgroup)
    const records = emf();
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'writer' })).toBe((3076 - 1830) / 4);
    expect(value(records, 'QueriesPerSecond', { HostgroupRole: 'reader' })).toBe((12639 - 7579) / 4);
    expect(value(records, 'ClientConnectionsCreated')).toBe(0);
    expect(value(records, 'ClientConnections')).toBe(0);
  });

  test('a task that does not answer within the timeout counts as a scrape failure, the others are published', async () => {
    const { ecs } = fakeEcs([eniTask('a', '10.0.0.1'), eniTask('b', '10.0.0.2'), eniTask('c', '10.0.0.3')]);
    const hanging: FetchLike = (url, init) =>
      url.includes('10.0.0.2')
        ? new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new Error('aborted'))))
        : url.includes('10.0.0.3')
          ? Promise.resolve({ ok: false, status: 503, text: async () => '' })
          : Promise.resolve({ ok: true, status: 200, text: async () => underLoad() });
    const warnings: string[] = [];
    const collect = createCollector({ ecs, fetch: hanging, settings: SETTINGS, logger: { warn: (_m: unknown, extra: unknown) => warnings.push(JSON.stringify(extra)) } });
    const started = Date.now();
    expect(await collect()).toEqual({ tasks: 3, scraped: 1, failures: 2 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(warnings.join()).toMatch(/aborted/);
    expect(warnings.join()).toMatch(/HTTP 503/);
    const records = emf();
    expect(value(records, 'ScrapeFailures')).toBe(2);
    expect(value(records, 'ClientConnections')).toBe(300);
  });

  test('more than 100 tasks are described 100 at a time', async () => {
    const tasks = Array.from({ length: 101 }, (_, i) => eniTask(`t${i}`, `10.1.0.${i}`));
    const { ecs, calls } = fakeEcs(tasks);
    const { fetch } = fakeFetch({});
    const collect = createCollector({ ecs, fetch, settings: SETTINGS, logger: { warn: () => undefined } });
    expect(await collect()).toEqual({ tasks: 101, scraped: 0, failures: 101 });
    expect(calls.describe.map((d) => d.tasks?.length)).toEqual([100, 1]);
    expect(emf().flatMap((r) => r._aws.CloudWatchMetrics[0].Metrics.map((m) => m.Name))).toEqual(['TasksScraped', 'ScrapeFailures']);
  });
});

describe('settingsFromEnv', () => {
  test('reads what the construct sets, with the REST API port by default', () => {
    expect(settingsFromEnv({ PROXYSQL_CLUSTER_ARN: CLUSTER, PROXYSQL_SERVICE_NAME: 's' })).toEqual({ clusterArn: CLUSTER, serviceName: 's', port: 6070, timeoutMs: 2000 });
  });

  test('names the variable that is missing or wrong', () => {
    expect(() => settingsFromEnv({ PROXYSQL_SERVICE_NAME: 's' })).toThrow(/PROXYSQL_CLUSTER_ARN is not set/);
    expect(() => settingsFromEnv({ PROXYSQL_CLUSTER_ARN: CLUSTER, PROXYSQL_SERVICE_NAME: 's', PROXYSQL_METRICS_PORT: '6032x' })).toThrow(
      /PROXYSQL_METRICS_PORT='6032x' must be a whole number from 1 to 65535/,
    );
  });
});
