/**
 * The metrics collector: a VPC Lambda that EventBridge runs every minute. It lists the ProxySQL service's RUNNING
 * tasks (ECS ListTasks + DescribeTasks), reads each task's Prometheus `/metrics` on the REST API port from inside the
 * VPC (the admin port is never reached), aggregates across tasks (./aggregate.ts) and writes the result to stdout in
 * CloudWatch embedded metric format with Powertools Metrics: Lambda's log group turns it into metrics, so the
 * function needs no CloudWatch permission.
 *
 * The ECS API and `fetch` are injectable, so tests run the whole handler in-process.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DescribeTasksCommandInput, DescribeTasksCommandOutput, ECS, ListTasksCommandInput, ListTasksCommandOutput, Task } from '@aws-sdk/client-ecs';
import { METRIC_DIMENSIONS, METRICS_NAMESPACE, MetricUnitName } from '../../src/config/metrics';
import { PROXYSQL_RESTAPI_PORT } from '../../src/constants';
import { aggregateRound, Datapoint, PreviousSample, ScrapedTask } from './aggregate';
import { parsePrometheusText } from './prometheus';
import { taskSnapshot } from './snapshot';

/** The two ECS calls the collector makes (the SDK's aggregated `ECS` client has them). */
export interface EcsApi {
  listTasks(input: ListTasksCommandInput): Promise<ListTasksCommandOutput>;
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>;
}

/** The part of `fetch` the collector uses. */
export type FetchLike = (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface CollectorSettings {
  readonly clusterArn: string;
  readonly serviceName: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/** Environment variables the construct sets. */
export const COLLECTOR_ENV = { cluster: 'PROXYSQL_CLUSTER_ARN', service: 'PROXYSQL_SERVICE_NAME', port: 'PROXYSQL_METRICS_PORT', timeout: 'PROXYSQL_SCRAPE_TIMEOUT_MS' } as const;

/** The settings from the environment; a missing or bad value is an error naming the variable. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): CollectorSettings {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`collector: environment variable ${name} is not set (the ProxySqlMonitoring construct sets it)`);
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const text = env[name];
    const value = text === undefined || text === '' ? fallback : Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`collector: ${name}='${text}' must be a whole number from ${min} to ${max}`);
    return value;
  };
  return {
    clusterArn: required(COLLECTOR_ENV.cluster),
    serviceName: required(COLLECTOR_ENV.service),
    port: integer(COLLECTOR_ENV.port, PROXYSQL_RESTAPI_PORT, 1, 65535),
    timeoutMs: integer(COLLECTOR_ENV.timeout, 2000, 100, 20_000),
  };
}

export interface CollectorDeps {
  readonly ecs: EcsApi;
  readonly fetch: FetchLike;
  readonly settings: CollectorSettings;
  /** @default Date.now */
  readonly now?: () => number;
  readonly metrics?: Metrics;
  /** Where a task that could not be read is reported. @default a Powertools Logger (JSON to stdout) */
  readonly logger?: CollectorLogger;
}

export interface CollectorLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface RoundSummary {
  readonly tasks: number;
  readonly scraped: number;
  readonly failures: number;
}

/** The RUNNING tasks of the service with their private IP (awsvpc: every Fargate task has one). */
export async function runningTasks(ecs: EcsApi, settings: CollectorSettings): Promise<Array<{ taskArn: string; ip?: string }>> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.listTasks({ cluster: settings.clusterArn, serviceName: settings.serviceName, desiredStatus: 'RUNNING', nextToken });
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: Array<{ taskArn: string; ip?: string }> = [];
  for (let i = 0; i < arns.length; i += 100) {
    const described = await ecs.describeTasks({ cluster: settings.clusterArn, tasks: arns.slice(i, i + 100) });
    for (const task of described.tasks ?? []) {
      if (task.taskArn && task.lastStatus === 'RUNNING') tasks.push({ taskArn: task.taskArn, ip: privateIp(task) });
    }
  }
  return tasks;
}

function privateIp(task: Task): string | undefined {
  for (const attachment of task.attachments ?? []) {
    const ip = attachment.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    if (ip) return ip;
  }
  return task.containers?.flatMap((c) => c.networkInterfaces ?? []).find((n) => n.privateIpv4Address)?.privateIpv4Address;
}

/** A collector with its own memory of the previous round (one per Lambda sandbox). */
export function createCollector(deps: CollectorDeps): () => Promise<RoundSummary> {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE });
  const logger = deps.logger ?? new Logger({ serviceName: 'serverless-proxysql-collector' });
  const { settings } = deps;
  // Only our own dimensions: a Powertools `service` dimension would make every metric a different one.
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ [METRIC_DIMENSIONS.service]: settings.serviceName });
  let previous = new Map<string, PreviousSample>();

  return async () => {
    const tasks = await runningTasks(deps.ecs, settings);
    const scraped: ScrapedTask[] = [];
    let failures = 0;
    await Promise.all(
      tasks.map(async ({ taskArn, ip }) => {
        try {
          if (!ip) throw new Error('the task has no private IPv4 address');
          const response = await deps.fetch(`http://${ip}:${settings.port}/metrics`, { signal: AbortSignal.timeout(settings.timeoutMs) });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const text = await response.text();
          scraped.push({ taskArn, atMs: now(), snapshot: taskSnapshot(parsePrometheusText(text)) });
        } catch (error) {
          failures++;
          logger.warn('could not read /metrics of a task', { taskArn, ip, port: settings.port, error: (error as Error).message });
        }
      }),
    );
    // Tasks in a stable order: the aggregation does not depend on which scrape answered first.
    scraped.sort((a, b) => a.taskArn.localeCompare(b.taskArn));
    const round = aggregateRound(scraped, failures, previous);
    previous = round.state;
    publish(metrics, round.datapoints);
    return { tasks: tasks.length, scraped: scraped.length, failures };
  };
}

/** The catalog's units as Powertools names them (a unit missing here fails the type check). */
const UNITS: Record<MetricUnitName, Parameters<Metrics['addMetric']>[1]> = {
  [MetricUnitName.COUNT]: MetricUnit.Count,
  [MetricUnitName.COUNT_PER_SECOND]: MetricUnit.CountPerSecond,
  [MetricUnitName.BYTES]: MetricUnit.Bytes,
  [MetricUnitName.MICROSECONDS]: MetricUnit.Microseconds,
  [MetricUnitName.PERCENT]: MetricUnit.Percent,
  [MetricUnitName.NONE]: MetricUnit.NoUnit,
};

/** One EMF record per dimension set (Service is the default dimension of every record). */
function publish(metrics: Metrics, datapoints: readonly Datapoint[]): void {
  const groups = new Map<string, Datapoint[]>();
  for (const d of datapoints) {
    const key = JSON.stringify(Object.entries(d.dimensions));
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  for (const group of groups.values()) {
    for (const [name, value] of Object.entries(group[0].dimensions)) metrics.addDimension(name, value);
    for (const d of group) metrics.addMetric(d.metric.name, UNITS[d.metric.unit], d.value);
    metrics.publishStoredMetrics();
  }
}

let collect: (() => Promise<RoundSummary>) | undefined;

/** The Lambda entry point (EventBridge scheduled event; the event itself carries nothing we need). */
export async function handler(): Promise<RoundSummary> {
  collect ??= createCollector({ ecs: new ECS({}), fetch, settings: settingsFromEnv(process.env) });
  return collect();
}
