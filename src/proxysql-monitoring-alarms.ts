import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CollectorMetric, METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from './config/metrics';

const MINUTE = Duration.minutes(1);

/** A collector metric of one service (and, for per-hostgroup or per-server metrics, the other dimensions). */
export function collectorMetric(spec: CollectorMetric, serviceName: string, dimensions: Record<string, string> = {}, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: spec.name,
    dimensionsMap: { [METRIC_DIMENSIONS.service]: serviceName, ...dimensions },
    statistic: spec.statistic,
    period: MINUTE,
    label,
  });
}

/** The thresholds in force, every one resolved. */
export interface ResolvedThresholds {
  readonly cpuUtilizationPercent: number;
  readonly memoryUtilizationPercent: number;
  readonly clientConnectionsPercent: number;
  readonly multiplexingRatio: number;
  readonly multiplexingMinClientConnections: number;
}

export interface AlarmTargets {
  readonly serviceName: string;
  readonly service: ecs.FargateService;
  readonly targetGroup: elbv2.INetworkTargetGroup;
  readonly thresholds: ResolvedThresholds;
  readonly topic?: sns.ITopic;
}

interface AlarmSpec {
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  /** Minutes the condition must hold (one datapoint a minute, all of them breaching). */
  readonly minutes: number;
  readonly missing: cloudwatch.TreatMissingData;
  /** What it means and what to do, in one or two sentences; docs/operations.md has the rest. */
  readonly description: string;
}

const { GREATER_THAN_OR_EQUAL_TO_THRESHOLD: AT_LEAST, LESS_THAN_THRESHOLD: BELOW } = cloudwatch.ComparisonOperator;
const { BREACHING, NOT_BREACHING } = cloudwatch.TreatMissingData;

/** The alarms of docs/operations.md ("Monitoring"), in its order. */
export function alarmSpecs(t: AlarmTargets): AlarmSpec[] {
  const m = (spec: CollectorMetric) => collectorMetric(spec, t.serviceName);
  const th = t.thresholds;
  return [
    {
      id: 'NoHealthyTargets',
      // Maximum: no NLB node (cross-zone, each sees every target) sees a healthy target.
      metric: t.targetGroup.metrics.healthyHostCount({ period: MINUTE, statistic: 'Maximum' }),
      threshold: 1,
      comparison: BELOW,
      minutes: 2,
      missing: BREACHING,
      description: 'No ProxySQL task passes the NLB health check: clients cannot connect. Check the ECS service events and the ProxySQL log group.',
    },
    {
      id: 'BackendNotOnline',
      metric: m(METRICS.serversNotOnline),
      threshold: 1,
      comparison: AT_LEAST,
      minutes: 3,
      missing: NOT_BREACHING,
      description: 'A task sees a database server SHUNNED, OFFLINE or lagging: its reads or writes go elsewhere or fail. Run `serverless-proxysql doctor` on a task.',
    },
    {
      id: 'PoolWaiting',
      metric: m(METRICS.poolGetFailures),
      threshold: 1,
      comparison: AT_LEAST,
      minutes: 3,
      missing: NOT_BREACHING,
      description: 'Queries keep waiting for a backend connection: the pool cap is reached (sessions pin connections, or load) or the database refuses connections.',
    },
    {
      id: 'MaxConnectTimeouts',
      metric: m(METRICS.maxConnectTimeouts),
      threshold: 1,
      comparison: AT_LEAST,
      minutes: 1,
      missing: NOT_BREACHING,
      description: 'Clients got error 9001: a query waited for a backend connection past mysql-connect_timeout_server_max.',
    },
    {
      id: 'MultiplexingLow',
      // The ratio only counts with enough clients connected; below that the expression holds the threshold (no breach).
      metric: new cloudwatch.MathExpression({
        expression: `IF(clients >= ${th.multiplexingMinClientConnections}, ratio, ${th.multiplexingRatio})`,
        usingMetrics: { clients: m(METRICS.clientConnections), ratio: m(METRICS.multiplexingRatio) },
        period: MINUTE,
        label: 'MultiplexingRatio while enough clients are connected',
      }),
      threshold: th.multiplexingRatio,
      comparison: BELOW,
      minutes: 5,
      missing: NOT_BREACHING,
      description: `Fewer than ${th.multiplexingRatio} client sessions per backend connection in use: sessions hold connections (user variables, open transactions, locks…). Run \`serverless-proxysql doctor\` for the reasons and fixes.`,
    },
    {
      id: 'ClientConnectionsNearLimit',
      metric: m(METRICS.clientConnectionsUsedPercent),
      threshold: th.clientConnectionsPercent,
      comparison: AT_LEAST,
      minutes: 3,
      missing: NOT_BREACHING,
      description: `A task holds ${th.clientConnectionsPercent}% of mysql-max_connections: new clients will be refused. Raise maxClientConnections or the task count.`,
    },
    {
      id: 'TaskCpuHigh',
      metric: t.service.metricCpuUtilization({ period: MINUTE, statistic: 'Average' }),
      threshold: th.cpuUtilizationPercent,
      comparison: AT_LEAST,
      minutes: 5,
      missing: NOT_BREACHING,
      description: `ProxySQL tasks average ${th.cpuUtilizationPercent}% CPU: scaling is at maxCapacity or too slow. Raise autoScaling.maxCapacity or cpu.`,
    },
    {
      id: 'TaskMemoryHigh',
      metric: t.service.metricMemoryUtilization({ period: MINUTE, statistic: 'Average' }),
      threshold: th.memoryUtilizationPercent,
      comparison: AT_LEAST,
      minutes: 5,
      missing: NOT_BREACHING,
      description: `ProxySQL tasks average ${th.memoryUtilizationPercent}% memory: a task may be killed. Raise memoryLimitMiB; look for a large query cache or digest table.`,
    },
    {
      id: 'WriterDisagreement',
      metric: m(METRICS.writerViews),
      threshold: 2,
      comparison: AT_LEAST,
      minutes: 3,
      missing: NOT_BREACHING,
      description: 'Tasks disagree about which server is the writer (sysown/proxysql#6185): writes through some tasks go to a demoted instance. Replace the tasks (force a new deployment).',
    },
    {
      id: 'CollectorBlind',
      metric: m(METRICS.tasksScraped),
      threshold: 1,
      comparison: BELOW,
      minutes: 5,
      missing: BREACHING,
      description:
        "The metrics collector read no task's figures line for 5 minutes: every alarm above that relies on its metrics is blind. Check the collector's log group and the agent containers' streams.",
    },
  ];
}

/** Creates the alarms, each notifying `topic` (alarm and back to OK) when there is one. */
export function createAlarms(scope: Construct, targets: AlarmTargets): cloudwatch.Alarm[] {
  return alarmSpecs(targets).map((spec) => {
    const alarm = new cloudwatch.Alarm(scope, spec.id, {
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      evaluationPeriods: spec.minutes,
      datapointsToAlarm: spec.minutes,
      treatMissingData: spec.missing,
      alarmDescription: `${spec.description} (serverless-proxysql, docs/operations.md#alarms: ${spec.id})`,
    });
    if (targets.topic) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(targets.topic));
      alarm.addOkAction(new cloudwatchActions.SnsAction(targets.topic));
    }
    return alarm;
  });
}
