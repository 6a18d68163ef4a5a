/**
 * The CloudWatch metrics the collector (runtime/collector) publishes and the construct (src/proxysql-monitoring.ts)
 * graphs, alarms and scales on: each name, unit, scope and statistic defined here once. Plain TypeScript (no
 * aws-cdk-lib): the Lambda bundle imports it too.
 *
 * Dimensions are bounded: every metric has `Service` (the ECS service name); per-hostgroup metrics add
 * `HostgroupRole`; per-server metrics add `HostgroupRole` and `BackendServer` (`host:port`). Never a task or a
 * digest: values are aggregated across the tasks in the collector.
 */
import { isReaderHostgroup, isWriterHostgroup } from '../constants';

/** The CloudWatch namespace of the collector's metrics. */
export const METRICS_NAMESPACE = 'ServerlessProxySQL';

/** Dimension names. */
export const METRIC_DIMENSIONS = { service: 'Service', hostgroupRole: 'HostgroupRole', backendServer: 'BackendServer' } as const;

/**
 * Which dimensions a metric carries besides `Service`: none (`service`), `HostgroupRole` (`hostgroup`), or
 * `HostgroupRole` and `BackendServer` (`backend-server`).
 */
export const MetricScope = { SERVICE: 'service', HOSTGROUP: 'hostgroup', BACKEND_SERVER: 'backend-server' } as const;
export type MetricScope = (typeof MetricScope)[keyof typeof MetricScope];

/** CloudWatch units the collector uses (the strings are CloudWatch's and Powertools' own). */
export const MetricUnitName = { COUNT: 'Count', COUNT_PER_SECOND: 'Count/Second', BYTES: 'Bytes', MICROSECONDS: 'Microseconds', PERCENT: 'Percent', NONE: 'None' } as const;
export type MetricUnitName = (typeof MetricUnitName)[keyof typeof MetricUnitName];

/** The statistic that reads a metric right: one datapoint a minute, so Average of a gauge is its value. */
export const MetricStatisticName = { AVERAGE: 'Average', SUM: 'Sum', MAXIMUM: 'Maximum' } as const;
export type MetricStatisticName = (typeof MetricStatisticName)[keyof typeof MetricStatisticName];

export interface CollectorMetric {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly scope: MetricScope;
  readonly statistic: MetricStatisticName;
  /** What it means and where it comes from (ProxySQL's admin tables, src/config/figures.ts), for the dashboard and docs. */
  readonly description: string;
}

const { AVERAGE, SUM, MAXIMUM } = MetricStatisticName;
const { SERVICE, HOSTGROUP, BACKEND_SERVER } = MetricScope;
const { COUNT, COUNT_PER_SECOND, BYTES, MICROSECONDS, PERCENT, NONE } = MetricUnitName;

function metric(name: string, unit: MetricUnitName, scope: MetricScope, statistic: MetricStatisticName, description: string): CollectorMetric {
  return { name, unit, scope, statistic, description };
}

/** Every metric the collector publishes. Counters become per-minute deltas (Sum) or rates; gauges are summed across tasks unless said. */
export const METRICS = {
  clientConnections: metric('ClientConnections', COUNT, SERVICE, AVERAGE, 'client connections open, all tasks (stats_mysql_global Client_Connections_connected)'),
  clientConnectionsPerTask: metric('ClientConnectionsPerTask', COUNT, SERVICE, AVERAGE, 'ClientConnections / TasksScraped: the autoscaling signal'),
  clientConnectionsUsedPercent: metric(
    'ClientConnectionsUsedPercent',
    PERCENT,
    SERVICE,
    MAXIMUM,
    'the fullest task: Client_Connections_connected / mysql-max_connections x 100',
  ),
  clientConnectionsCreated: metric('ClientConnectionsCreated', COUNT, SERVICE, SUM, 'new client connections (Client_Connections_created)'),
  clientConnectionsAborted: metric('ClientConnectionsAborted', COUNT, SERVICE, SUM, 'client connections aborted (Client_Connections_aborted)'),
  multiplexingRatio: metric(
    'MultiplexingRatio',
    NONE,
    SERVICE,
    AVERAGE,
    'client connections per backend connection in use, all tasks; absent while no backend connection is in use',
  ),
  queryErrors: metric(
    'QueryErrors',
    COUNT,
    SERVICE,
    SUM,
    "errors ProxySQL itself answered (generated_error_packets): 9001/9002 pool and connect timeouts, backend connect errors, access denied, too many connections; not 9006 (HostgroupLockedQueries) nor the database's own errors, which pass through",
  ),
  serversNotOnline: metric('ServersNotOnline', COUNT, SERVICE, MAXIMUM, 'the most servers (per hostgroup) one task sees not ONLINE (stats_mysql_connection_pool status)'),
  sessionsInTransaction: metric('SessionsInTransaction', COUNT, SERVICE, AVERAGE, 'client sessions inside a transaction: each holds its backend connection (Active_Transactions)'),
  sessionsLockedToHostgroup: metric(
    'SessionsLockedToHostgroup',
    COUNT,
    SERVICE,
    AVERAGE,
    'client sessions locked to a hostgroup after a SET ProxySQL could not parse (Client_Connections_hostgroup_locked)',
  ),
  hostgroupLockedQueries: metric('HostgroupLockedQueries', COUNT, SERVICE, SUM, 'queries refused with 9006 by a hostgroup lock (hostgroup_locked_queries)'),
  poolGetFailures: metric(
    'PoolGetFailures',
    COUNT,
    SERVICE,
    SUM,
    'attempts to take a backend connection that found none: queries waiting for the pool (ConnPool_get_conn_failure)',
  ),
  maxConnectTimeouts: metric('MaxConnectTimeouts', COUNT, SERVICE, SUM, 'queries that waited too long for a backend connection: error 9001 (max_connect_timeouts)'),
  memoryBytes: metric('MemoryBytes', BYTES, SERVICE, MAXIMUM, 'the largest task: memory ProxySQL accounts for (pool, SQLite, digests, auth, rules, buffers, query cache)'),
  tasksScraped: metric('TasksScraped', COUNT, SERVICE, AVERAGE, 'RUNNING tasks whose figures line the collector read'),
  scrapeFailures: metric('ScrapeFailures', COUNT, SERVICE, SUM, 'RUNNING tasks without a figures line of the last 150 s, or with one the collector could not parse'),
  writerViews: metric('WriterViews', COUNT, SERVICE, MAXIMUM, 'distinct ONLINE writers across tasks: above 1, tasks disagree about the writer (sysown/proxysql#6185)'),
  queriesPerSecond: metric('QueriesPerSecond', COUNT_PER_SECOND, HOSTGROUP, AVERAGE, 'queries sent to the hostgroup, all tasks (stats_mysql_connection_pool Queries)'),
  backendConnectionsUsed: metric('BackendConnectionsUsed', COUNT, BACKEND_SERVER, AVERAGE, 'backend connections in use, all tasks (stats_mysql_connection_pool ConnUsed)'),
  backendConnectionsFree: metric('BackendConnectionsFree', COUNT, BACKEND_SERVER, AVERAGE, 'idle pooled backend connections, all tasks (stats_mysql_connection_pool ConnFree)'),
  backendConnectionErrors: metric('BackendConnectionErrors', COUNT, BACKEND_SERVER, SUM, 'failed backend connection attempts (stats_mysql_connection_pool ConnERR)'),
  backendLatency: metric('BackendLatency', MICROSECONDS, BACKEND_SERVER, MAXIMUM, "the monitor's ping time, slowest task (stats_mysql_connection_pool Latency_us)"),
} as const satisfies Record<string, CollectorMetric>;

export type MetricKey = keyof typeof METRICS;

/**
 * `HostgroupRole` of a hostgroup id: the construct's writer and reader, else `hostgroup-<id>` (query rules can add
 * none). Every user's writer pool is the writer (the figures per server are summed: what the database sees), and the
 * reader hostgroups paired with them, which serve nothing, count as readers rather than adding metrics of their own.
 */
export function hostgroupRole(hostgroup: number): string {
  if (isWriterHostgroup(hostgroup)) return 'writer';
  if (isReaderHostgroup(hostgroup)) return 'reader';
  return `hostgroup-${hostgroup}`;
}

/** The code of ONLINE among a server's statuses (1 ONLINE, 2 SHUNNED, 3 OFFLINE_SOFT, 4 OFFLINE_HARD, 5 SHUNNED_REPLICATION_LAG: SERVER_STATUS_CODES). */
export const SERVER_STATUS_ONLINE = 1;

/**
 * Default alarm thresholds and the connection-scaling target (docs/operations.md, "Monitoring", gives each its
 * reason and what to do when it fires). Every one can be overridden on ProxySqlMonitoring.
 */
export const MONITORING_DEFAULTS = {
  /** Task CPU (AWS/ECS CPUUtilization, average): above the 60% scaling target for 5 minutes means scaling is capped or too slow. */
  cpuUtilizationPercent: 80,
  /** Task memory (AWS/ECS MemoryUtilization, average) for 5 minutes. */
  memoryUtilizationPercent: 80,
  /** The fullest task's client connections as a share of mysql-max_connections, for 3 minutes. */
  clientConnectionsPercent: 80,
  /** Client connections per backend connection in use, below this for 5 minutes… */
  multiplexingRatio: 5,
  /** …while at least this many clients are connected (a handful of busy clients is not lost multiplexing). */
  multiplexingMinClientConnections: 100,
  /** Target of the connection scaling policy: this share of mysql-max_connections per task. */
  clientConnectionsPerTaskTargetPercent: 50,
} as const;
