/**
 * The metrics collector: a Lambda (outside any VPC) that EventBridge runs every minute. It lists the ProxySQL
 * service's RUNNING tasks (ECS ListTasks + DescribeTasks), reads the latest figures line each task's agent container
 * wrote to its log stream (CloudWatch Logs FilterLogEvents on the tasks' log group: `<prefix><task id>` streams, the
 * last few minutes, the marker as the filter), aggregates across tasks (./aggregate.ts) and writes the result to
 * stdout in CloudWatch embedded metric format with Powertools Metrics: Lambda's log group turns it into metrics, so
 * the function needs no CloudWatch metrics permission. It reaches no port of any task.
 *
 * The ECS and CloudWatch Logs APIs are injectable, so tests run the whole handler in-process.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommandInput, DescribeTasksCommandOutput, ECS, ListTasksCommandInput, ListTasksCommandOutput } from '@aws-sdk/client-ecs';
import { METRIC_DIMENSIONS, METRICS_NAMESPACE, MetricUnitName } from '../../src/config/metrics';
import { FIGURES_INTERVAL_SECONDS } from '../../src/constants';
import { aggregateRound, Datapoint, PreviousSample, ScrapedTask } from './aggregate';
import { figuresSnapshot } from './snapshot';

/** The two ECS calls the collector makes (the SDK's aggregated `ECS` client has them). */
export interface EcsApi {
  listTasks(input: ListTasksCommandInput): Promise<ListTasksCommandOutput>;
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>;
}

/**
 * The part of CloudWatch Logs' FilterLogEvents the collector uses, as the SDK's `CloudWatchLogs` client has it (the
 * handler passes that client as a LogsApi, so the compiler checks the two agree).
 */
export interface FilterLogEventsInput {
  logGroupName: string;
  logStreamNamePrefix: string;
  startTime: number;
  filterPattern: string;
  nextToken?: string;
}
export interface FilteredLogEvent {
  logStreamName?: string;
  timestamp?: number;
  message?: string;
}
export interface LogsApi {
  filterLogEvents(input: FilterLogEventsInput): Promise<{ events?: FilteredLogEvent[]; nextToken?: string }>;
}

export interface CollectorSettings {
  readonly clusterArn: string;
  readonly serviceName: string;
  /** The tasks' log group and the prefix of the agents' streams (`proxysql/agent/`; the task id follows). */
  readonly logGroupName: string;
  readonly streamPrefix: string;
  /** The figures line's marker (src/config/figures.ts). */
  readonly marker: string;
  /** Lines older than this do not count: a task whose agent wrote none since is a read failure. */
  readonly maxAgeMs: number;
}

/** Environment variables the construct sets. */
export const COLLECTOR_ENV = {
  cluster: 'PROXYSQL_CLUSTER_ARN',
  service: 'PROXYSQL_SERVICE_NAME',
  logGroup: 'PROXYSQL_LOG_GROUP',
  streamPrefix: 'PROXYSQL_LOG_STREAM_PREFIX',
  marker: 'PROXYSQL_FIGURES_MARKER',
  maxAge: 'PROXYSQL_FIGURES_MAX_AGE_SECONDS',
} as const;

/**
 * Two agent intervals and a half (150 s): a line every 60 s, delivered by the awslogs driver within seconds; one late
 * or lost line is not yet a failure.
 */
export const DEFAULT_FIGURES_MAX_AGE_SECONDS = (FIGURES_INTERVAL_SECONDS * 5) / 2;

/** Pages of FilterLogEvents read at most in one round (each up to 1 MB or 10,000 events): a bound, never reached by ~1 line per task a minute. */
const MAX_PAGES = 20;

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
    logGroupName: required(COLLECTOR_ENV.logGroup),
    streamPrefix: required(COLLECTOR_ENV.streamPrefix),
    marker: required(COLLECTOR_ENV.marker),
    maxAgeMs: integer(COLLECTOR_ENV.maxAge, DEFAULT_FIGURES_MAX_AGE_SECONDS, 60, 3600) * 1000,
  };
}

export interface CollectorDeps {
  readonly ecs: EcsApi;
  readonly logs: LogsApi;
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

/** The RUNNING tasks of the service. */
export async function runningTasks(ecs: EcsApi, settings: Pick<CollectorSettings, 'clusterArn' | 'serviceName'>): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.listTasks({ cluster: settings.clusterArn, serviceName: settings.serviceName, desiredStatus: 'RUNNING', nextToken });
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: string[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const described = await ecs.describeTasks({ cluster: settings.clusterArn, tasks: arns.slice(i, i + 100) });
    for (const task of described.tasks ?? []) {
      if (task.taskArn && task.lastStatus === 'RUNNING') tasks.push(task.taskArn);
    }
  }
  return tasks;
}

/** The newest figures line of each agent stream written since `sinceMs`: stream name → event. */
export async function latestFiguresLines(logs: LogsApi, settings: CollectorSettings, sinceMs: number): Promise<Map<string, { timestamp: number; message: string }>> {
  const latest = new Map<string, { timestamp: number; message: string }>();
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await logs.filterLogEvents({
      logGroupName: settings.logGroupName,
      logStreamNamePrefix: settings.streamPrefix,
      startTime: sinceMs,
      // a quoted term: the marker as it is written, hyphen included
      filterPattern: `"${settings.marker}"`,
      nextToken,
    });
    for (const e of page.events ?? []) {
      if (!e.logStreamName || e.timestamp === undefined || !e.message?.startsWith(`${settings.marker} `)) continue;
      const seen = latest.get(e.logStreamName);
      if (!seen || e.timestamp >= seen.timestamp) latest.set(e.logStreamName, { timestamp: e.timestamp, message: e.message });
    }
    nextToken = page.nextToken;
  } while (nextToken && ++pages < MAX_PAGES);
  return latest;
}

/** A task's id: the last part of its ARN (`arn:…:task/<cluster>/<id>`), which names its awslogs stream. */
function taskId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
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
    const [tasks, lines] = await Promise.all([runningTasks(deps.ecs, settings), latestFiguresLines(deps.logs, settings, now() - settings.maxAgeMs)]);
    const scraped: ScrapedTask[] = [];
    let failures = 0;
    for (const taskArn of tasks) {
      const stream = `${settings.streamPrefix}${taskId(taskArn)}`;
      const line = lines.get(stream);
      try {
        if (!line) throw new Error(`no figures line in ${stream} in the last ${settings.maxAgeMs / 1000} s (the agent container writes one a minute)`);
        scraped.push({ taskArn, atMs: line.timestamp, snapshot: figuresSnapshot(line.message.slice(settings.marker.length + 1)) });
      } catch (error) {
        failures++;
        logger.warn("could not read a task's figures", { taskArn, logStream: stream, error: (error as Error).message });
      }
    }
    // Tasks in a stable order: the aggregation does not depend on the order of the log events.
    scraped.sort((a, b) => a.taskArn.localeCompare(b.taskArn));
    // A task whose newest line is the one already read last round has nothing new: no counter delta from it this
    // round (missing data, not a false zero); its gauges still count.
    const since = new Map([...previous].filter(([arn, sample]) => !scraped.some((t) => t.taskArn === arn && t.atMs === sample.atMs)));
    const round = aggregateRound(scraped, failures, since);
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
  collect ??= createCollector({ ecs: new ECS({}), logs: new CloudWatchLogs({}), settings: settingsFromEnv(process.env) });
  return collect();
}
