import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { CustomMetricGroup, DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { CollectorMetric, METRIC_DIMENSIONS, METRICS, METRICS_NAMESPACE } from './config/metrics';
import { collectorMetric } from './proxysql-monitoring-alarms';

const MINUTE = Duration.minutes(1);

export interface DashboardSources {
  readonly dashboardName: string;
  readonly serviceName: string;
  readonly service: ecs.FargateService;
  readonly loadBalancer: elbv2.INetworkLoadBalancer;
  readonly targetGroup: elbv2.INetworkTargetGroup;
  readonly databaseCluster?: rds.IDatabaseCluster;
  readonly databaseInstances: readonly rds.IDatabaseInstance[];
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** Drawn on the client-connections graph. */
  readonly clientConnectionsPerTaskTarget?: number;
  readonly multiplexingRatioThreshold: number;
}

/** One line per backend server (or hostgroup role) of a per-server metric: a SEARCH over its bounded dimensions. */
function perServer(spec: CollectorMetric, serviceName: string, keys: readonly string[]): cloudwatch.MathExpression {
  const schema = [METRICS_NAMESPACE, METRIC_DIMENSIONS.service, ...keys].map((k) => `"${k}"`).join(',');
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${schema}} "${METRIC_DIMENSIONS.service}"="${serviceName}" MetricName="${spec.name}"', '${spec.statistic}', 60)`,
    usingMetrics: {},
    label: ' ',
    period: MINUTE,
  });
}

/** The dashboard: ProxySQL's own metrics first, then the NLB, the ECS service and the database (cdk-monitoring-constructs). */
export function createDashboard(scope: Construct, s: DashboardSources): cloudwatch.Dashboard {
  const factory = new DefaultDashboardFactory(scope, 'Dashboards', {
    dashboardNamePrefix: s.dashboardName,
    createDashboard: true,
    createSummaryDashboard: false,
    createAlarmDashboard: false,
  });
  const facade = new MonitoringFacade(scope, 'Facade', {
    metricFactoryDefaults: { namespace: METRICS_NAMESPACE, period: MINUTE },
    // Alarms are created by ProxySqlMonitoring itself (documented thresholds); the facade draws only.
    alarmFactoryDefaults: { actionsEnabled: false, alarmNamePrefix: 'ProxySQL' },
    dashboardFactory: factory,
  });
  const m = (spec: CollectorMetric, label?: string) => collectorMetric(spec, s.serviceName, {}, label ?? spec.name);
  const servers = [METRIC_DIMENSIONS.hostgroupRole, METRIC_DIMENSIONS.backendServer];
  const groups: CustomMetricGroup[] = [
    {
      title: 'Client connections',
      metrics: [m(METRICS.clientConnections), m(METRICS.clientConnectionsPerTask)],
      horizontalAnnotations:
        s.clientConnectionsPerTaskTarget === undefined ? [] : [{ value: s.clientConnectionsPerTaskTarget, label: 'scaling target per task' }],
    },
    { title: 'Client connections created / aborted (per minute)', metrics: [m(METRICS.clientConnectionsCreated), m(METRICS.clientConnectionsAborted)] },
    {
      title: 'Multiplexing: client sessions per backend connection in use',
      metrics: [m(METRICS.multiplexingRatio)],
      horizontalAnnotations: [{ value: s.multiplexingRatioThreshold, label: 'alarm below', color: '#d62728' }],
    },
    {
      title: 'Sessions holding a backend connection (reasons the admin tables count; `doctor` shows all)',
      metrics: [m(METRICS.sessionsInTransaction), m(METRICS.sessionsLockedToHostgroup), m(METRICS.hostgroupLockedQueries, 'HostgroupLockedQueries (9006)')],
    },
    { title: 'Queries/s per hostgroup role', metrics: [perServer(METRICS.queriesPerSecond, s.serviceName, [METRIC_DIMENSIONS.hostgroupRole])] },
    { title: 'Backend connections in use per server', metrics: [perServer(METRICS.backendConnectionsUsed, s.serviceName, servers)] },
    { title: 'Backend connections free per server', metrics: [perServer(METRICS.backendConnectionsFree, s.serviceName, servers)] },
    { title: 'Backend latency per server (monitor ping, µs)', metrics: [perServer(METRICS.backendLatency, s.serviceName, servers)] },
    { title: 'Backend connection errors per server', metrics: [perServer(METRICS.backendConnectionErrors, s.serviceName, servers)] },
    {
      title: 'Pool: waits, 9001 timeouts, errors ProxySQL answered',
      metrics: [m(METRICS.poolGetFailures), m(METRICS.maxConnectTimeouts), m(METRICS.queryErrors)],
    },
    { title: 'Servers not ONLINE, writer views', metrics: [m(METRICS.serversNotOnline), m(METRICS.writerViews)] },
    { title: 'Client connections of the fullest task (% of max_connections)', metrics: [m(METRICS.clientConnectionsUsedPercent)] },
    { title: 'ProxySQL memory (largest task)', metrics: [m(METRICS.memoryBytes)] },
    { title: 'Collector: tasks read / failed', metrics: [m(METRICS.tasksScraped), m(METRICS.scrapeFailures)] },
  ];
  facade.addLargeHeader(`ProxySQL (${s.dashboardName})`);
  facade.addWidget(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...s.alarms], width: 24, height: 4 }));
  facade.monitorCustom({ alarmFriendlyName: 'ProxySQL', humanReadableName: 'ProxySQL (collector metrics)', metricGroups: groups });
  facade.monitorNetworkLoadBalancer({
    networkLoadBalancer: s.loadBalancer,
    networkTargetGroup: s.targetGroup,
    humanReadableName: 'Network Load Balancer',
    alarmFriendlyName: 'ProxySqlNlb',
    invertStatisticsOfTaskCountEnabled: true,
  });
  facade.monitorSimpleFargateService({ fargateService: s.service, humanReadableName: 'ProxySQL tasks (ECS)', alarmFriendlyName: 'ProxySqlTasks' });
  const lag: cloudwatch.Metric[] = [];
  if (s.databaseCluster) {
    facade.monitorAuroraCluster({ cluster: s.databaseCluster, humanReadableName: 'Database cluster', alarmFriendlyName: 'ProxySqlDatabase' });
    lag.push(
      new cloudwatch.Metric({
        namespace: 'AWS/RDS',
        metricName: 'AuroraReplicaLagMaximum',
        dimensionsMap: { DBClusterIdentifier: s.databaseCluster.clusterIdentifier },
        statistic: 'Maximum',
        period: MINUTE,
        label: 'AuroraReplicaLagMaximum (ms)',
      }),
    );
  }
  s.databaseInstances.forEach((instance, i) => {
    facade.monitorRdsInstance({ instance, humanReadableName: `Database instance ${i + 1}`, alarmFriendlyName: `ProxySqlDatabaseInstance${i + 1}` });
    lag.push(instance.metric('ReplicaLag', { statistic: 'Maximum', period: MINUTE, label: `ReplicaLag instance ${i + 1} (s)` }));
  });
  if (lag.length > 0) {
    facade.monitorCustom({ alarmFriendlyName: 'ProxySqlReplicaLag', humanReadableName: 'Replica lag', metricGroups: [{ title: 'Replica lag', metrics: lag }] });
  }
  const dashboard = factory.dashboard;
  if (!dashboard) throw new Error('ProxySqlMonitoring: the dashboard factory created no dashboard');
  return dashboard;
}
