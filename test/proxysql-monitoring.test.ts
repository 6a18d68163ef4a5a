import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, test } from 'vitest';
import { FIGURES_LINE_MARKER } from '../src/config/figures';
import { MONITORING_DEFAULTS } from '../src/config/metrics';
import { LAMBDA_RUNTIME } from '../src/lambda-runtime';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlMonitoring } from '../src/proxysql-monitoring';
import { ProxySqlService, ProxySqlServiceProps } from '../src/proxysql-service';
import { givenAuroraCluster, givenStack, renderedConfig } from './support/stack';

type SgRule = { IpProtocol: string; FromPort?: number; ToPort?: number; CidrIp?: string; GroupId?: unknown; SourceSecurityGroupId?: unknown; DestinationSecurityGroupId?: unknown };
type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-monitoring-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function auroraProxy(extra: Partial<ProxySqlServiceProps> = {}) {
  const { app, stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), ...extra });
  return { app, stack, cluster, proxy, template: Template.fromStack(stack) };
}

const id = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** Every security-group rule of the template: standalone resources and rules inline in a group. */
function allRules(template: Template): Array<SgRule & { direction: 'in' | 'out' }> {
  const props = (type: string) => Object.values(template.findResources(type)).map((r) => (r as { Properties: SgRule }).Properties);
  const inline = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).flatMap(([logicalId, r]) => {
    const p = (r as { Properties: { SecurityGroupIngress?: SgRule[]; SecurityGroupEgress?: SgRule[] } }).Properties;
    const group = { 'Fn::GetAtt': [logicalId, 'GroupId'] };
    return [
      ...(p.SecurityGroupIngress ?? []).map((rule) => ({ ...rule, GroupId: group, direction: 'in' as const })),
      ...(p.SecurityGroupEgress ?? []).map((rule) => ({ ...rule, GroupId: group, direction: 'out' as const })),
    ];
  });
  return [
    ...props('AWS::EC2::SecurityGroupIngress').map((r) => ({ ...r, direction: 'in' as const })),
    ...props('AWS::EC2::SecurityGroupEgress').map((r) => ({ ...r, direction: 'out' as const })),
    ...inline,
  ];
}

/** Rules that admit traffic to `port`: ingress covering it (all-traffic rules included), or egress naming it. */
const opens = (rule: SgRule & { direction: 'in' | 'out' }, port: number) =>
  rule.direction === 'in' ? rule.IpProtocol === '-1' || ((rule.FromPort ?? -1) <= port && port <= (rule.ToPort ?? -1)) : rule.FromPort === port || rule.ToPort === port;

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; alarms?: unknown[]; annotations?: unknown };
}

/** The dashboard's widgets, its body parsed with every CloudFormation value replaced by TOKEN. */
function dashboardWidgets(template: Template): Widget[] {
  const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as { Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } } };
  const text = dashboard.Properties.DashboardBody['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}


/** The monitoring's alarms: every alarm but the service's own deployment alarm (test/deployment-safety.test.ts). */
function monitoringAlarms(template: Template): Record<string, { [key: string]: unknown }> {
  return Object.fromEntries(Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => !id.includes('DeploymentAccessDenied')));
}

describe('ProxySqlService with monitoring (the default)', () => {
  const topic = (stack: Stack) => new sns.Topic(stack, 'Alerts');
  const { stack, cluster, proxy, template } = (() => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), monitoring: { alarmTopic: topic(stack) } });
    return { stack, cluster, proxy, template: Template.fromStack(stack) };
  })();
  const monitoring = proxy.monitoring as ProxySqlMonitoring;
  const collectorId = id(stack, monitoring.collector as never);
  const clusterId = id(stack, proxy.cluster as never);
  const logGroupId = id(stack, proxy.logGroup as never);

  test('the collector is a Lambda outside any VPC on the pinned runtime, told the cluster, the service and where the figures lines are', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: LAMBDA_RUNTIME.name,
      Architectures: ['arm64'],
      Timeout: 30,
      VpcConfig: Match.absent(),
      Environment: {
        Variables: Match.objectLike({
          PROXYSQL_CLUSTER_ARN: { 'Fn::GetAtt': [clusterId, 'Arn'] },
          PROXYSQL_SERVICE_NAME: { 'Fn::GetAtt': [id(stack, proxy.service as never), 'Name'] },
          PROXYSQL_LOG_GROUP: { Ref: logGroupId },
          PROXYSQL_LOG_STREAM_PREFIX: 'proxysql/agent/',
          PROXYSQL_FIGURES_MARKER: FIGURES_LINE_MARKER,
        }),
      },
    });
    // every minute, no retry of a stale minute
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [collectorId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
  });

  test("least privilege: ecs:ListTasks and ecs:DescribeTasks on this cluster, logs:FilterLogEvents on the tasks' log group, nothing else", () => {
    const roleId = id(stack, monitoring.collector.role as never);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p).includes(`"${roleId}"`));
    const statements = policies.flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
    const onCluster = { ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } };
    expect(statements).toEqual([
      {
        Action: 'logs:FilterLogEvents',
        Effect: 'Allow',
        // the group, in both forms aws-cdk-lib's LogGroup.grant writes (its ARN with and without the trailing `:*`)
        Resource: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:111111111111:log-group:', { Ref: logGroupId }]] }, { 'Fn::GetAtt': [logGroupId, 'Arn'] }],
      },
      { Action: 'ecs:ListTasks', Effect: 'Allow', Resource: '*', Condition: onCluster },
      {
        Action: 'ecs:DescribeTasks',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111111111111:task/', { Ref: clusterId }, '/*']] },
        Condition: onCluster,
      },
    ]);
    const role = template.findResources('AWS::IAM::Role')[roleId] as { Properties: { ManagedPolicyArns: unknown[] } };
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toMatch(/AWSLambdaBasicExecutionRole/);
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).not.toMatch(/AWSLambdaVPCAccessExecutionRole/);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/cloudwatch:PutMetricData/);
  });

  test('no port but the client port reaches a task: no 6070 (REST API) or 6032 (admin) in any rule or port mapping, no REST server', () => {
    const rules = allRules(template);
    expect(rules.filter((r) => opens(r, 6070))).toEqual([]);
    expect(rules.filter((r) => opens(r, 6032))).toEqual([]);
    const taskIngress = rules.filter((r) => r.direction === 'in' && JSON.stringify(r.GroupId).includes(`"${id(stack, proxy.taskConnections.securityGroups[0] as never)}"`));
    expect(taskIngress.map((r) => [r.FromPort, r.ToPort])).toEqual([[6033, 6033]]);
    const containers = (Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as { Properties: { ContainerDefinitions: Array<{ PortMappings?: Array<{ ContainerPort: number }> }> } })
      .Properties.ContainerDefinitions;
    expect(containers.flatMap((c) => (c.PortMappings ?? []).map((m) => m.ContainerPort))).toEqual([6033]);
    expect(renderedConfig(template).admin_variables).toMatchObject({ restapi_enabled: false });
    expect(renderedConfig(template).admin_variables).not.toHaveProperty('restapi_port');
  });

  test('the alarms and their documented thresholds, each notifying the topic', () => {
    const alarms: Array<Record<string, unknown> & { logicalId: string }> = Object.entries(monitoringAlarms(template)).map(([logicalId, a]) => ({
      ...(a as { Properties: Record<string, unknown> }).Properties,
      logicalId,
    }));
    const summary = Object.fromEntries(
      alarms.map((a) => [
        a.logicalId.replace(/^ProxyMonitoring/, '').replace(/[0-9A-F]{8}$/, ''),
        [a.MetricName ?? 'math', a.ComparisonOperator, a.Threshold, a.EvaluationPeriods, a.DatapointsToAlarm, a.TreatMissingData],
      ]),
    );
    expect(summary).toEqual({
      NoHealthyTargets: ['HealthyHostCount', 'LessThanThreshold', 1, 2, 2, 'breaching'],
      BackendNotOnline: ['ServersNotOnline', 'GreaterThanOrEqualToThreshold', 1, 3, 3, 'notBreaching'],
      PoolWaiting: ['PoolGetFailures', 'GreaterThanOrEqualToThreshold', 1, 3, 3, 'notBreaching'],
      MaxConnectTimeouts: ['MaxConnectTimeouts', 'GreaterThanOrEqualToThreshold', 1, 1, 1, 'notBreaching'],
      MultiplexingLow: ['math', 'LessThanThreshold', 5, 5, 5, 'notBreaching'],
      ClientConnectionsNearLimit: ['ClientConnectionsUsedPercent', 'GreaterThanOrEqualToThreshold', 80, 3, 3, 'notBreaching'],
      TaskCpuHigh: ['CPUUtilization', 'GreaterThanOrEqualToThreshold', 80, 5, 5, 'notBreaching'],
      TaskMemoryHigh: ['MemoryUtilization', 'GreaterThanOrEqualToThreshold', 80, 5, 5, 'notBreaching'],
      WriterDisagreement: ['WriterViews', 'GreaterThanOrEqualToThreshold', 2, 3, 3, 'notBreaching'],
      CollectorBlind: ['TasksScraped', 'LessThanThreshold', 1, 5, 5, 'breaching'],
    });
    for (const a of alarms) {
      expect(a.AlarmActions, a.logicalId).toEqual([{ Ref: expect.stringMatching(/^Alerts/) }]);
      expect(a.OKActions, a.logicalId).toEqual([{ Ref: expect.stringMatching(/^Alerts/) }]);
      expect(String(a.AlarmDescription)).toContain('docs/operations.md#alarms');
    }
    // docs/operations.md ("Alarms") has a row per alarm with the same threshold and duration
    const operations = fs.readFileSync(path.join(__dirname, '..', 'docs', 'operations.md'), 'utf8');
    const rows = Object.fromEntries([...operations.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2]]));
    for (const [name, [, , threshold, minutes]] of Object.entries(summary)) {
      expect(rows[name], name).toMatch(new RegExp(`[<≥] ${threshold}\\*? `));
      expect(rows[name], name).toContain(minutes === 1 ? 'in a minute' : `for ${minutes} min`);
    }
    // the collector metrics carry the Service dimension (the ECS service name), with the statistic that reads them right
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ServerlessProxySQL',
      MetricName: 'WriterViews',
      Statistic: 'Maximum',
      Period: 60,
      Dimensions: [{ Name: 'Service', Value: { 'Fn::GetAtt': [id(stack, proxy.service as never), 'Name'] } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'HealthyHostCount',
      Namespace: 'AWS/NetworkELB',
      Statistic: 'Maximum',
    });
    // the multiplexing ratio counts only with enough clients connected
    const multiplexing = alarms.find((a) => a.logicalId.includes('MultiplexingLow')) as unknown as { Metrics: Array<{ Expression?: string; MetricStat?: { Metric: { MetricName: string } } }> };
    expect(multiplexing.Metrics.find((q) => q.Expression)?.Expression).toBe('IF(clients >= 100, ratio, 5)');
    expect(multiplexing.Metrics.flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric.MetricName] : [])).sort()).toEqual(['ClientConnections', 'MultiplexingRatio']);
    expect(MONITORING_DEFAULTS.multiplexingMinClientConnections).toBe(100);
  });

  test('the task count scales on client connections per task (target tracking) as well as CPU', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 5000,
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
        CustomizedMetricSpecification: {
          Namespace: 'ServerlessProxySQL',
          MetricName: 'ClientConnectionsPerTask',
          Statistic: 'Average',
          Dimensions: [{ Name: 'Service', Value: { 'Fn::GetAtt': [id(stack, proxy.service as never), 'Name'] } }],
        },
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 60 }),
    });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 2);
  });

  test('one dashboard: the collector metrics, the NLB, the ECS service, the Aurora cluster with replica lag, the alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const widgets = dashboardWidgets(template);
    const metrics = widgets.flatMap((w) => w.properties.metrics ?? []);
    const named = new Set(metrics.filter((m) => typeof m[0] === 'string').map((m) => `${m[0]} ${m[1]}`));
    for (const name of ['ClientConnections', 'ClientConnectionsPerTask', 'MultiplexingRatio', 'SessionsInTransaction', 'SessionsLockedToHostgroup', 'PoolGetFailures', 'MaxConnectTimeouts', 'QueryErrors', 'ServersNotOnline', 'WriterViews', 'TasksScraped', 'ScrapeFailures', 'MemoryBytes']) {
      expect(named, name).toContain(`ServerlessProxySQL ${name}`);
    }
    // per-server and per-hostgroup metrics: a SEARCH over their bounded dimensions, one line per server or role
    const searches = metrics.flatMap((m) => m.map((x) => (x as { expression?: string })?.expression).filter((e): e is string => typeof e === 'string' && e.startsWith('SEARCH')));
    expect(searches).toEqual(
      expect.arrayContaining([
        `SEARCH('{"ServerlessProxySQL","Service","HostgroupRole"} "Service"="TOKEN" MetricName="QueriesPerSecond"', 'Average', 60)`,
        `SEARCH('{"ServerlessProxySQL","Service","HostgroupRole","BackendServer"} "Service"="TOKEN" MetricName="BackendConnectionsUsed"', 'Average', 60)`,
        `SEARCH('{"ServerlessProxySQL","Service","HostgroupRole","BackendServer"} "Service"="TOKEN" MetricName="BackendLatency"', 'Maximum', 60)`,
      ]),
    );
    for (const metric of [
      'AWS/NetworkELB HealthyHostCount',
      'AWS/NetworkELB ActiveFlowCount',
      'AWS/NetworkELB TCP_Client_Reset_Count',
      'AWS/ECS CPUUtilization',
      'AWS/ECS MemoryUtilization',
      'ECS/ContainerInsights RunningTaskCount',
      'AWS/RDS DatabaseConnections',
      'AWS/RDS CPUUtilization',
      'AWS/RDS AuroraReplicaLagMaximum',
    ]) {
      expect(named, metric).toContain(metric);
    }
    const alarmWidget = widgets.find((w) => w.type === 'alarm');
    expect(alarmWidget?.properties.alarms).toHaveLength(10);
    expect(widgets.find((w) => w.properties.title === 'Client connections')?.properties.annotations).toEqual({ horizontal: [{ value: 5000, label: 'scaling target per task', yAxis: 'left' }] });
    void cluster;
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged in the monitoring', () => {
    const outdir = path.join(tmp, 'nag');
    const app = new App({ outdir });
    const nagStack = new Stack(app, 'NagStack', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(nagStack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new ProxySqlService(nagStack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(nagStack, vpc)) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // The test's own VPC and database are not configured for nag (flow logs, deletion protection…): synth fails on them.
    expect(() => app.synth()).toThrow();
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; severity: string; violatingConstructs?: Array<{ constructPath: string }> }> }>;
    };
    expect(report.pluginReports.map((r) => r.pluginName)).toContain('AwsSolutions');
    const open = report.pluginReports
      .flatMap((r) => r.violations)
      .filter((v) => v.severity === 'error' || v.severity === 'fatal')
      .flatMap((v) => (v.violatingConstructs ?? []).map((c) => `${v.ruleName} at ${c.constructPath}`));
    expect(open.filter((v) => !v.includes('NagStack/Proxy/')).length).toBeGreaterThan(0);
    // THEN nothing of the proxy (its monitoring included) is left unacknowledged
    expect(open.filter((v) => v.includes('NagStack/Proxy/'))).toEqual([]);
  });
});

describe('monitoring options', () => {
  test('enabled: false leaves no collector, alarm, dashboard, figures line, REST server or connection policy', () => {
    const { template } = auroraProxy({ monitoring: { enabled: false } });
    expect(Object.keys(monitoringAlarms(template))).toEqual([]);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 1);
    expect(allRules(template).filter((r) => opens(r, 6070))).toEqual([]);
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain('PROXYSQL_LOG_STREAM_PREFIX');
    expect(renderedConfig(template).admin_variables).toMatchObject({ restapi_enabled: false });
    // the agent still checks health and drains, but writes no figures
    const agent = (Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as { Properties: { ContainerDefinitions: Array<{ Name: string; Environment: Array<{ Name: string; Value: unknown }> }> } })
      .Properties.ContainerDefinitions.find((c) => c.Name === 'agent');
    const env = Object.fromEntries((agent?.Environment ?? []).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({ PROXYSQL_FIGURES_SECONDS: '0', PROXYSQL_DRAIN_SECONDS: '30' });
    expect(env).not.toHaveProperty('PROXYSQL_FIGURES_QUERY');
  });

  test('dashboard: false keeps the alarms; thresholds override the defaults', () => {
    const { template } = auroraProxy({ monitoring: { dashboard: false, thresholds: { cpuUtilizationPercent: 70, multiplexingRatio: 10, multiplexingMinClientConnections: 500 } } });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(Object.keys(monitoringAlarms(template))).toHaveLength(10);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CPUUtilization', Threshold: 70 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 10,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(clients >= 500, ratio, 10)' })]),
    });
    // no topic: the alarms change state without actions
    for (const a of Object.values(monitoringAlarms(template))) expect((a as { Properties: { AlarmActions?: unknown } }).Properties.AlarmActions).toBeUndefined();
  });

  test('the connection target follows maxClientConnections, or is given', () => {
    const target = (extra: Partial<ProxySqlServiceProps>) =>
      Object.values(auroraProxy(extra).template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))
        .map((p) => (p as { Properties: { TargetTrackingScalingPolicyConfiguration: { TargetValue: number; CustomizedMetricSpecification?: unknown } } }).Properties.TargetTrackingScalingPolicyConfiguration)
        .find((c) => c.CustomizedMetricSpecification)?.TargetValue;
    expect(target({ maxClientConnections: 3000 })).toBe(1500);
    expect(target({ monitoring: { clientConnectionsPerTaskTarget: 800 } })).toBe(800);
  });

  test('bad values name the prop', () => {
    expect(() => auroraProxy({ monitoring: { thresholds: { cpuUtilizationPercent: 120 } } })).toThrow(/thresholds\.cpuUtilizationPercent: 120 must be a percentage/);
    expect(() => auroraProxy({ monitoring: { thresholds: { multiplexingRatio: 1 } } })).toThrow(/thresholds\.multiplexingRatio: 1 must be above 1/);
    expect(() => auroraProxy({ maxClientConnections: 1000, monitoring: { clientConnectionsPerTaskTarget: 2000 } })).toThrow(/clientConnectionsPerTaskTarget: must be a whole number from 1 to 1000, got 2000/);
  });

  test('on its own, for a service on RDS for MySQL: the database instances and their replica lag on the dashboard', () => {
    const { stack, vpc } = givenStack();
    const primary = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Primary', {
      instanceIdentifier: 'app-primary',
      instanceEndpointAddress: 'app-primary.abc.us-east-1.rds.amazonaws.com',
      port: 3306,
      securityGroups: [],
    });
    const proxy = new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({ writer: { hostname: 'app-primary.abc.us-east-1.rds.amazonaws.com' } }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'App') }],
      bootstrap: false,
      monitoring: { enabled: false },
    });
    new ProxySqlMonitoring(stack, 'Watch', {
      cluster: proxy.cluster,
      service: proxy.service,
      logGroup: proxy.logGroup,
      loadBalancer: proxy.loadBalancer,
      targetGroup: proxy.targetGroup,
      databaseInstances: [primary],
      dashboardName: 'proxysql-rds',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'proxysql-rds' });
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(body).toContain('\\"ReplicaLag\\",\\"DBInstanceIdentifier\\",\\"app-primary\\"');
    // no scalable task count given: no connection policy
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 1);
    expect(Object.keys(monitoringAlarms(template))).toHaveLength(10);
  });
});
