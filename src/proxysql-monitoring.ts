import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FIGURES_LINE_MARKER } from './config/figures';
import { METRICS, MONITORING_DEFAULTS } from './config/metrics';
import { check, rangeProblem } from './config/rules';
import { AGENT_CONTAINER_NAME, DEFAULT_MAX_CLIENT_CONNECTIONS, LOG_STREAM_PREFIX } from './constants';
import { newLibraryFunction } from './library-function';
import { acknowledge, nagResourceName } from './nag';
import { collectorMetric, createAlarms, ResolvedThresholds } from './proxysql-monitoring-alarms';
import { createDashboard } from './proxysql-monitoring-dashboard';

/** Alarm thresholds (docs/operations.md, "Monitoring", says what each alarm means and what to do). */
export interface ProxySqlAlarmThresholds {
  /** Average task CPU for 5 minutes, percent. @default 80 - above the 60% scaling target: scaling is capped or too slow */
  readonly cpuUtilizationPercent?: number;
  /** Average task memory for 5 minutes, percent. @default 80 - headroom before the task is killed */
  readonly memoryUtilizationPercent?: number;
  /** The fullest task's client connections as a share of `mysql-max_connections`, for 3 minutes, percent. @default 80 */
  readonly clientConnectionsPercent?: number;
  /**
   * Client sessions per backend connection in use, below this for 5 minutes.
   * @default 5 - a fifth of the sessions or more hold a connection each
   */
  readonly multiplexingRatio?: number;
  /** The multiplexing alarm counts only while at least this many clients are connected. @default 100 */
  readonly multiplexingMinClientConnections?: number;
}

/** What can be chosen about the monitoring, inside ProxySqlService or on its own. */
export interface ProxySqlMonitoringOptions {
  /**
   * Where alarms notify (on alarm and back to OK).
   * @default - none: the alarms change state and show on the dashboard without notifying anyone
   */
  readonly alarmTopic?: sns.ITopic;
  /** Create the alarms. @default true */
  readonly alarms?: boolean;
  /** @default - the values documented on each field */
  readonly thresholds?: ProxySqlAlarmThresholds;
  /** Create the CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
  /** @default - a name unique to this construct in the account and region, from its path */
  readonly dashboardName?: string;
  /**
   * Target client connections per task of the scaling policy (target tracking, next to the CPU policy).
   * @default - half of the task's `mysql-max_connections` (5000 with the default 10000)
   */
  readonly clientConnectionsPerTaskTarget?: number;
  /**
   * The database cluster shown on the dashboard (connections, CPU, latency, replica lag).
   * @default - inside ProxySqlService, the backend's Aurora cluster; else none
   */
  readonly databaseCluster?: rds.IDatabaseCluster;
  /** Database instances shown on the dashboard (e.g. RDS for MySQL primary and replicas). @default - none */
  readonly databaseInstances?: rds.IDatabaseInstance[];
  /** Retention of the collector's log group (its EMF records become metrics at ingestion). @default logs.RetentionDays.ONE_WEEK */
  readonly collectorLogRetention?: logs.RetentionDays;
}

/** ProxySqlServiceProps.monitoring. */
export interface ProxySqlServiceMonitoringOptions extends ProxySqlMonitoringOptions {
  /** Collect ProxySQL's metrics, with alarms, a dashboard and connection scaling. @default true */
  readonly enabled?: boolean;
}

export interface ProxySqlMonitoringProps extends ProxySqlMonitoringOptions {
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  /**
   * The log group the tasks' agent containers write their figures lines to (streams
   * `proxysql/agent/<task id>`): the collector reads the latest line of each RUNNING task there.
   */
  readonly logGroup: logs.ILogGroup;
  /** The customer managed key that log group is encrypted with: the collector may decrypt with it. @default - none */
  readonly logEncryptionKey?: kms.IKey;
  readonly loadBalancer: elbv2.INetworkLoadBalancer;
  readonly targetGroup: elbv2.INetworkTargetGroup;
  /** The service's task count scaling: the connection policy is added to it. @default - no connection scaling */
  readonly scalableTaskCount?: ecs.ScalableTaskCount;
  /** `mysql-max_connections` of a task. @default 10000 (ProxySqlServiceProps.maxClientConnections' default) */
  readonly maxClientConnectionsPerTask?: number;
}

/**
 * ProxySQL's metrics in CloudWatch, with alarms, a dashboard and scaling on client connections. Each task's agent
 * container reads ProxySQL's figures on the admin interface (loopback) every minute and writes them as one line to
 * its log stream; a Lambda (outside any VPC: it calls AWS APIs only) runs every minute, lists the service's RUNNING
 * tasks, reads the latest figures line of each from CloudWatch Logs, aggregates across tasks and writes embedded
 * metric format to its log, which CloudWatch turns into the metrics of src/config/metrics.ts. No port of the task
 * is opened for it.
 */
export class ProxySqlMonitoring extends Construct {
  /** The collector Lambda function. */
  public readonly collector: lambda.IFunction;
  /** The every-minute EventBridge rule. */
  public readonly schedule: events.Rule;
  /** The alarms (none with `alarms: false`). */
  public readonly alarms: cloudwatch.Alarm[];
  /** The dashboard, unless `dashboard: false`. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The `Service` dimension of every metric: the ECS service name. */
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: ProxySqlMonitoringProps) {
    super(scope, id);
    const thresholds = resolveThresholds(props.thresholds);
    const maxClients = positive(props.maxClientConnectionsPerTask ?? DEFAULT_MAX_CLIENT_CONNECTIONS, 'maxClientConnectionsPerTask', 1_000_000);
    const target = positive(
      props.clientConnectionsPerTaskTarget ?? Math.round((maxClients * MONITORING_DEFAULTS.clientConnectionsPerTaskTargetPercent) / 100),
      'clientConnectionsPerTaskTarget',
      maxClients,
    );
    this.serviceName = props.service.serviceName;

    // --- the collector: the ECS API and the tasks' log group, nothing else (no VPC, no port of the task) ---
    const fn = newLibraryFunction(this, 'Collector', {
      asset: 'collector',
      description: "Reads each ProxySQL task's latest figures line from CloudWatch Logs every minute and writes CloudWatch embedded metrics",
      timeout: Duration.seconds(30),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'serverless-proxysql-collector',
        PROXYSQL_CLUSTER_ARN: props.cluster.clusterArn,
        PROXYSQL_SERVICE_NAME: this.serviceName,
        PROXYSQL_LOG_GROUP: props.logGroup.logGroupName,
        PROXYSQL_LOG_STREAM_PREFIX: `${LOG_STREAM_PREFIX}/${AGENT_CONTAINER_NAME}/`,
        PROXYSQL_FIGURES_MARKER: FIGURES_LINE_MARKER,
      },
      logGroup: new logs.LogGroup(this, 'CollectorLogGroup', { retention: props.collectorLogRetention ?? logs.RetentionDays.ONE_WEEK }),
      reaches: "the ECS API and the ProxySQL tasks' log group",
    });
    this.collector = fn;
    // Read-only, on this log group only (FilterLogEvents' resource is the log group).
    props.logGroup.grant(fn, 'logs:FilterLogEvents');
    props.logEncryptionKey?.grantDecrypt(fn);
    // Least privilege: the two read calls, on this cluster only (ListTasks has no resource type of its own: '*' with the condition).
    const onThisCluster = { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } };
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:ListTasks'], resources: ['*'], conditions: onThisCluster }));
    const clusterTasks = Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${props.cluster.clusterName}/*` });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [clusterTasks], conditions: onThisCluster }));
    acknowledge(fn, {
      'AwsSolutions-IAM5[Resource::*]': 'ecs:ListTasks has no resource-level permission; the statement is limited to this cluster by the ecs:cluster condition.',
      [`AwsSolutions-IAM5[Resource::${nagResourceName(this, clusterTasks)}]`]:
        'ecs:DescribeTasks on the tasks of this one cluster (task IDs are not known in advance), with the ecs:cluster condition.',
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: "Runs the ProxySQL metrics collector every minute (CloudWatch's standard resolution)",
      schedule: events.Schedule.rate(Duration.minutes(1)),
    });
    // A late or retried run would only report a stale minute: none.
    this.schedule.addTarget(new eventsTargets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.minutes(1) }));

    // --- alarms, scaling on connections, dashboard ---
    this.alarms =
      props.alarms === false
        ? []
        : createAlarms(this, { serviceName: this.serviceName, service: props.service, targetGroup: props.targetGroup, thresholds, topic: props.alarmTopic });
    if (props.scalableTaskCount) {
      props.scalableTaskCount.scaleToTrackCustomMetric('ClientConnections', {
        metric: collectorMetric(METRICS.clientConnectionsPerTask, this.serviceName),
        targetValue: target,
        scaleInCooldown: Duration.minutes(5),
        scaleOutCooldown: Duration.minutes(1),
      });
    }
    if (props.dashboard ?? true) {
      this.dashboard = createDashboard(this, {
        dashboardName: props.dashboardName ?? Names.uniqueResourceName(this, { maxLength: 200, separator: '-' }),
        serviceName: this.serviceName,
        service: props.service,
        loadBalancer: props.loadBalancer,
        targetGroup: props.targetGroup,
        databaseCluster: props.databaseCluster,
        databaseInstances: props.databaseInstances ?? [],
        alarms: this.alarms,
        clientConnectionsPerTaskTarget: props.scalableTaskCount ? target : undefined,
        multiplexingRatioThreshold: thresholds.multiplexingRatio,
      });
    }
  }
}

function resolveThresholds(t: ProxySqlAlarmThresholds = {}): ResolvedThresholds {
  const d = MONITORING_DEFAULTS;
  const percent = (value: number | undefined, fallback: number, name: string) => {
    const v = value ?? fallback;
    if (!(v > 0 && v <= 100)) throw new Error(`ProxySqlMonitoringProps.thresholds.${name}: ${v} must be a percentage above 0, at most 100`);
    return v;
  };
  const multiplexingRatio = t.multiplexingRatio ?? d.multiplexingRatio;
  if (!(multiplexingRatio > 1 && multiplexingRatio <= 1000)) {
    throw new Error(`ProxySqlMonitoringProps.thresholds.multiplexingRatio: ${multiplexingRatio} must be above 1 (1 = no multiplexing at all) and at most 1000`);
  }
  return {
    cpuUtilizationPercent: percent(t.cpuUtilizationPercent, d.cpuUtilizationPercent, 'cpuUtilizationPercent'),
    memoryUtilizationPercent: percent(t.memoryUtilizationPercent, d.memoryUtilizationPercent, 'memoryUtilizationPercent'),
    clientConnectionsPercent: percent(t.clientConnectionsPercent, d.clientConnectionsPercent, 'clientConnectionsPercent'),
    multiplexingRatio,
    multiplexingMinClientConnections: positive(t.multiplexingMinClientConnections ?? d.multiplexingMinClientConnections, 'thresholds.multiplexingMinClientConnections', 1_000_000),
  };
}

/** A whole number from 1 to `max`, by the project's range rule (src/config/rules.ts). */
function positive(value: number, name: string, max: number): number {
  check(`ProxySqlMonitoringProps.${name}`, rangeProblem(value, { min: 1, max }));
  return value;
}
