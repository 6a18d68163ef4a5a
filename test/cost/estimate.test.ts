/**
 * The estimator on small handcrafted templates: each kind of resource priced from the table (src/cost/pricing.ts),
 * the expected figures computed from the table's prices and the template's counts, never typed in.
 */
import { describe, expect, test } from 'vitest';
import { COLLECTOR_ENV } from '../../runtime/collector/handler';
import { CONFIG_TEMPLATE_ENV } from '../../src/constants';
import {
  collectorMetricCount,
  COLLECTOR_STREAM_PREFIX_ENV,
  COLLECTOR_SERVICE_ENV,
  configuredServers,
  CostEstimate,
  CostLine,
  estimateTemplate,
  runsPerMonth,
  USAGE_ASSUMPTIONS,
} from '../../src/cost/estimate';
import { formatEstimate } from '../../src/cost/format';
import { HOURS_PER_MONTH, PRICE_SOURCES, PRICES, rdsProxyMonthly, UnitPrice } from '../../src/cost/pricing';
import { TemplateError } from '../../src/cost/template';

const H = HOURS_PER_MONTH;
const estimate = (resources: Record<string, unknown>, hoursPerMonth?: number): CostEstimate =>
  estimateTemplate({ Resources: resources }, { stackName: 'T', ...(hoursPerMonth !== undefined ? { hoursPerMonth } : {}) });
const line = (e: CostEstimate, match: RegExp, kind: CostLine['kind'] = 'fixed'): CostLine => {
  const found = e.lines.filter((l) => l.kind === kind && match.test(`${l.category}: ${l.what}`));
  expect(found.map((l) => l.what), `one ${kind} line matching ${match}`).toHaveLength(1);
  return found[0];
};

const fargateService = (cpu: string, memory: string, arch: string | undefined, desired?: number) => ({
  TaskDef: { Type: 'AWS::ECS::TaskDefinition', Properties: { Cpu: cpu, Memory: memory, ...(arch ? { RuntimePlatform: { CpuArchitecture: arch } } : {}) } },
  Service: { Type: 'AWS::ECS::Service', Properties: { LaunchType: 'FARGATE', TaskDefinition: { Ref: 'TaskDef' }, ...(desired !== undefined ? { DesiredCount: desired } : {}) } },
});

describe('the pricing table', () => {
  test('every price names a source that says where it was read; the unconfirmed one says so', () => {
    const prices: UnitPrice[] = [];
    const walk = (value: unknown): void => {
      if (value === null || typeof value !== 'object') return;
      if ('usd' in value && 'source' in value) prices.push(value as UnitPrice);
      else Object.values(value).forEach(walk);
    };
    walk(PRICES);
    expect(prices.length).toBeGreaterThan(40);
    for (const p of prices) {
      expect(p.usd).toBeGreaterThan(0);
      expect(PRICE_SOURCES[p.source].page).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(PRICE_SOURCES[p.source].readFrom.length).toBeGreaterThan(40);
    }
    expect(Object.entries(PRICE_SOURCES).filter(([, s]) => !s.confirmed).map(([id]) => id)).toEqual(['rdsProxy']);
  });

  test("RDS Proxy: per vCPU with a 2-vCPU minimum, per ACU with an 8-ACU minimum", () => {
    const p = PRICES.rdsProxy;
    expect(rdsProxyMonthly({ vcpus: 1 })).toBeCloseTo(p.minimumVcpus * p.vcpuHour.usd * H, 10);
    expect(rdsProxyMonthly({ vcpus: 4 })).toBeCloseTo(4 * p.vcpuHour.usd * H, 10);
    expect(rdsProxyMonthly({ acus: 1 })).toBeCloseTo(p.minimumAcus * p.acuHour.usd * H, 10);
    expect(rdsProxyMonthly({ acus: 16 })).toBeCloseTo(16 * p.acuHour.usd * H, 10);
  });
});

describe('Fargate', () => {
  test('tasks × (vCPU + GB) × hours, by architecture; x86 when the template names none', () => {
    const arm = line(estimate(fargateService('1024', '2048', 'ARM64', 3)), /^Fargate/);
    expect(arm.monthly).toBeCloseTo(3 * (1 * PRICES.fargate.ARM64.vcpuHour.usd + 2 * PRICES.fargate.ARM64.gbHour.usd) * H, 10);
    const x86 = line(estimate(fargateService('256', '512', undefined)), /^Fargate/);
    // DesiredCount absent: CloudFormation starts 1 task
    expect(x86.monthly).toBeCloseTo(1 * (0.25 * PRICES.fargate.X86_64.vcpuHour.usd + 0.5 * PRICES.fargate.X86_64.gbHour.usd) * H, 10);
    expect(x86.what).toMatch(/1 Fargate task of 0.25 vCPU, 0.5 GB, X86_64/);
  });

  test("the autoscaling maximum is the line's ceiling; public IPs are priced per task", () => {
    const resources = {
      ...fargateService('512', '1024', 'ARM64', 2),
      Target: {
        Type: 'AWS::ApplicationAutoScaling::ScalableTarget',
        Properties: { ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 2, MaxCapacity: 6, ResourceId: { 'Fn::Join': ['', ['service/', { 'Fn::GetAtt': ['Service', 'Name'] }]] } },
      },
    };
    (resources.Service.Properties as Record<string, unknown>).NetworkConfiguration = { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } };
    const e = estimate(resources);
    const fargate = line(e, /^Fargate/);
    expect(fargate.upTo?.monthly).toBeCloseTo((fargate.monthly * 6) / 2, 10);
    expect(fargate.how).toMatch(/autoscaling 2–6 tasks/);
    expect(line(e, /public IPv4 addresses of Service/).monthly).toBeCloseTo(2 * PRICES.vpc.publicIpv4Hour.usd * H, 10);
    expect(e.fixedUpToMonthly).toBeCloseTo(6 * (0.5 * PRICES.fargate.ARM64.vcpuHour.usd + PRICES.fargate.ARM64.gbHour.usd) * H + 6 * PRICES.vpc.publicIpv4Hour.usd * H, 10);
  });

  test('an EC2 service and a task size given as a token are listed as not priced, with the reason', () => {
    const ec2 = estimate({ S: { Type: 'AWS::ECS::Service', Properties: { LaunchType: 'EC2' } } });
    expect(ec2.lines).toEqual([]);
    expect(ec2.notPriced).toEqual([{ type: 'AWS::ECS::Service', resources: ['S'], reason: expect.stringMatching(/not a Fargate service/) }]);
    const token = fargateService('512', '1024', 'ARM64');
    (token.TaskDef.Properties as Record<string, unknown>).Cpu = { Ref: 'CpuParameter' };
    expect(estimate(token).notPriced[0].reason).toMatch(/task size .* is not a number/);
  });

  test('--hours scales every hourly line', () => {
    const at730 = line(estimate(fargateService('512', '1024', 'ARM64', 2)), /^Fargate/).monthly;
    const at744 = line(estimate(fargateService('512', '1024', 'ARM64', 2), 744), /^Fargate/).monthly;
    expect(at744).toBeCloseTo((at730 * 744) / 730, 10);
  });
});

describe('network', () => {
  test('NLB and ALB hours, capacity units at the stated example, public addresses of an internet-facing one', () => {
    const e = estimate({
      Nlb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'network', Scheme: 'internal' } },
      Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internet-facing', Subnets: ['a', 'b', 'c'] } },
    });
    expect(line(e, /Network Load Balancer Nlb/).monthly).toBeCloseTo(PRICES.elb.nlbHour.usd * H, 10);
    expect(line(e, /Application Load Balancer Alb/).monthly).toBeCloseTo(PRICES.elb.albHour.usd * H, 10);
    expect(line(e, /Nlb: capacity units/, 'usage').monthly).toBeCloseTo(USAGE_ASSUMPTIONS.loadBalancerCapacityUnits * PRICES.elb.nlcuHour.usd * H, 10);
    expect(line(e, /Alb: capacity units/, 'usage').monthly).toBeCloseTo(USAGE_ASSUMPTIONS.loadBalancerCapacityUnits * PRICES.elb.lcuHour.usd * H, 10);
    expect(line(e, /public IPv4 addresses of Alb/).monthly).toBeCloseTo(3 * PRICES.vpc.publicIpv4Hour.usd * H, 10);
  });

  test('NAT gateways and their Elastic IPs; interface endpoints per AZ; gateway endpoints free', () => {
    const e = estimate({
      Eip1: { Type: 'AWS::EC2::EIP' },
      Eip2: { Type: 'AWS::EC2::EIP' },
      Nat1: { Type: 'AWS::EC2::NatGateway', Properties: { AllocationId: { 'Fn::GetAtt': ['Eip1', 'AllocationId'] } } },
      Nat2: { Type: 'AWS::EC2::NatGateway', Properties: { AllocationId: { 'Fn::GetAtt': ['Eip2', 'AllocationId'] } } },
      Sm: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.secretsmanager', SubnetIds: ['a', 'b', 'c'] } },
      S3: { Type: 'AWS::EC2::VPCEndpoint', Properties: { VpcEndpointType: 'Gateway', ServiceName: 'com.amazonaws.us-east-1.s3' } },
    });
    expect(line(e, /2 NAT gateways/).monthly).toBeCloseTo(2 * PRICES.vpc.natGatewayHour.usd * H, 10);
    expect(line(e, /2 Elastic IP addresses \(public IPv4; 2 of the NAT gateways\)/).monthly).toBeCloseTo(2 * PRICES.vpc.publicIpv4Hour.usd * H, 10);
    expect(line(e, /interface endpoint Sm \(secretsmanager\) in 3 Availability Zones/).monthly).toBeCloseTo(3 * PRICES.privatelink.interfaceEndpointAzHour.usd * H, 10);
    expect(line(e, /NAT gateway data/, 'usage').monthly).toBeCloseTo(USAGE_ASSUMPTIONS.natGatewayGb * PRICES.vpc.natGatewayGb.usd, 10);
    expect(e.noCharge).toContainEqual({ type: 'AWS::EC2::VPCEndpoint (Gateway: s3)', count: 1 });
    expect(e.lines.some((l) => l.resources.includes('S3'))).toBe(false);
  });
});

describe('databases and RDS Proxy', () => {
  const cluster = (instanceClass: string, instances: number, extra: Record<string, unknown> = {}) => ({
    Cluster: { Type: 'AWS::RDS::DBCluster', Properties: { Engine: 'aurora-mysql', ...extra } },
    ...Object.fromEntries(
      Array.from({ length: instances }, (_, i) => [`Instance${i}`, { Type: 'AWS::RDS::DBInstance', Properties: { DBClusterIdentifier: { Ref: 'Cluster' }, DBInstanceClass: instanceClass } }]),
    ),
    Proxy: { Type: 'AWS::RDS::DBProxy', Properties: {} },
    ProxyTargets: { Type: 'AWS::RDS::DBProxyTargetGroup', Properties: { DBProxyName: { Ref: 'Proxy' }, DBClusterIdentifiers: [{ Ref: 'Cluster' }] } },
  });

  test('provisioned Aurora by class from the table; RDS Proxy on the vCPUs of every instance', () => {
    const e = estimate(cluster('db.r6g.large', 2));
    const r6g = PRICES.aurora.instances['db.r6g.large'];
    expect(line(e, /2 × db\.r6g\.large/).monthly).toBeCloseTo(2 * r6g.hourly.usd * H, 10);
    expect(line(e, /^RDS Proxy/).monthly).toBeCloseTo(rdsProxyMonthly({ vcpus: 2 * r6g.vcpus }), 10);
    expect(line(e, /storage and I\/O/, 'usage').monthly).toBeCloseTo(
      USAGE_ASSUMPTIONS.auroraStorageGib * PRICES.aurora.storageGbMonth.usd + USAGE_ASSUMPTIONS.auroraIoMillions * PRICES.aurora.ioMillion.usd,
      10,
    );
  });

  test('Serverless v2 at its minimum, up to its maximum; RDS Proxy at its 8-ACU minimum until the capacity passes it', () => {
    const e = estimate(cluster('db.serverless', 2, { ServerlessV2ScalingConfiguration: { MinCapacity: 2, MaxCapacity: 8 } }));
    const db = line(e, /Serverless v2 cluster Cluster: 2 instances of 2–8 ACU/);
    expect(db.monthly).toBeCloseTo(2 * 2 * PRICES.aurora.acuHour.usd * H, 10);
    expect(db.upTo?.monthly).toBeCloseTo(2 * 8 * PRICES.aurora.acuHour.usd * H, 10);
    const proxy = line(e, /^RDS Proxy/);
    expect(proxy.monthly).toBeCloseTo(PRICES.rdsProxy.minimumAcus * PRICES.rdsProxy.acuHour.usd * H, 10);
    expect(proxy.upTo?.monthly).toBeCloseTo(16 * PRICES.rdsProxy.acuHour.usd * H, 10);
    expect(formatEstimate(e)).toMatch(/NOT CONFIRMED: .*rdsProxy.*https:\/\/aws\.amazon\.com\/rds\/proxy\/pricing\//);
  });

  test('I/O-Optimized: the higher ACU and storage rates, no I/O charge', () => {
    const e = estimate(cluster('db.serverless', 1, { StorageType: 'aurora-iopt1', ServerlessV2ScalingConfiguration: { MinCapacity: 1, MaxCapacity: 1 } }));
    expect(line(e, /^Database: Aurora Serverless v2/).monthly).toBeCloseTo(PRICES.aurora.ioOptimizedAcuHour.usd * H, 10);
    expect(line(e, /storage/, 'usage').monthly).toBeCloseTo(USAGE_ASSUMPTIONS.auroraStorageGib * PRICES.aurora.ioOptimizedStorageGbMonth.usd, 10);
  });

  test('a class the table does not have, and an RDS (not Aurora) instance, are not priced and say why', () => {
    const e = estimate({ ...cluster('db.x2g.large', 1), Rds: { Type: 'AWS::RDS::DBInstance', Properties: { DBInstanceClass: 'db.r6g.large', Engine: 'mysql' } } });
    const unpriced = Object.fromEntries(e.notPriced.map((n) => [n.type, n]));
    expect(unpriced['AWS::RDS::DBInstance'].resources).toEqual(['Instance0', 'Rds']);
    expect(unpriced['AWS::RDS::DBInstance'].reason).toMatch(/db\.x2g\.large is not in the table/);
    expect(unpriced['AWS::RDS::DBProxy'].reason).toMatch(/vCPUs of db\.x2g\.large are not in the table/);
  });
});

describe('monitoring', () => {
  const cnf = (rows: number[]) =>
    `datadir="/var/lib/proxysql"\n\nmysql_servers=\n(\n${rows.map((hg) => `  { hostgroup=${hg}, address="db", port=3306 }`).join(',\n')}\n)\n\nmysql_users=\n(\n)\n`;
  const withCollector = (rows: number[]) => ({
    TaskDef: {
      Type: 'AWS::ECS::TaskDefinition',
      Properties: { Cpu: '512', Memory: '1024', ContainerDefinitions: [{ Environment: [{ Name: CONFIG_TEMPLATE_ENV, Value: { 'Fn::Join': ['', [cnf(rows)]] } }] }] },
    },
    Service: { Type: 'AWS::ECS::Service', Properties: { LaunchType: 'FARGATE', TaskDefinition: { Ref: 'TaskDef' }, DesiredCount: 2 } },
    Collector: {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 256, Architectures: ['arm64'], Environment: { Variables: { [COLLECTOR_STREAM_PREFIX_ENV]: 'proxysql/agent/', [COLLECTOR_SERVICE_ENV]: { 'Fn::GetAtt': ['Service', 'Name'] } } } },
    },
    Schedule: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 minute)', Targets: [{ Arn: { 'Fn::GetAtt': ['Collector', 'Arn'] } }] } },
  });

  test("the collector's env names are the ones runtime/collector reads", () => {
    expect(COLLECTOR_STREAM_PREFIX_ENV).toBe(COLLECTOR_ENV.streamPrefix);
    expect(COLLECTOR_SERVICE_ENV).toBe(COLLECTOR_ENV.service);
  });

  test("custom metrics follow the servers of the service's rendered config: 4 more per (hostgroup, server) row", () => {
    const metricsLine = (rows: number[]) => line(estimate(withCollector(rows)), /custom metrics/);
    const three = metricsLine([10, 20, 20]);
    const four = metricsLine([10, 20, 20, 20]);
    const count = collectorMetricCount([{ hostgroup: 10 }, { hostgroup: 20 }, { hostgroup: 20 }]);
    expect(count).toMatchObject({ hostgroups: 2, pairs: 3, total: count.service + 2 * count.hostgroup + 3 * count.server });
    expect(three.monthly).toBeCloseTo(count.total * PRICES.cloudwatch.customMetricMonth.usd, 10);
    expect(four.monthly - three.monthly).toBeCloseTo(count.server * PRICES.cloudwatch.customMetricMonth.usd, 10);
    expect(configuredServers(cnf([10, 20]))).toEqual([{ hostgroup: 10 }, { hostgroup: 20 }]);
  });

  test("the scheduled collector: runs × (request + GB-seconds) + its EMF and the tasks' figures lines, always on", () => {
    const collector = line(estimate(withCollector([10, 20])), /the ProxySQL metrics collector/);
    const runs = 60 * H;
    // 5 KB of EMF a run, and 1 KB a minute from each of the service's 2 tasks
    const expected =
      (runs / 1e6) * PRICES.lambda.requestMillion.usd + runs * 0.25 * 0.3 * PRICES.lambda.arm64GbSecond.usd + ((runs * (5 + 2 * 1)) / 1e6) * PRICES.cloudwatch.logsIngestedGb.usd;
    expect(collector.monthly).toBeCloseTo(expected, 10);
    expect(runsPerMonth('rate(5 minutes)', H)).toBe(12 * H);
    expect(runsPerMonth('rate(1 day)', H)).toBeCloseTo(H / 24, 10);
    expect(runsPerMonth('cron(0 12 * * ? *)', H)).toBeUndefined();
  });

  test('alarm metrics: one per metric a math alarm reads, two per target-tracking policy, high resolution at its own rate', () => {
    const e = estimate({
      A: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 60, MetricName: 'x' } },
      Math: { Type: 'AWS::CloudWatch::Alarm', Properties: { Metrics: [{ Id: 'e', Expression: 'a/b' }, { Id: 'a', MetricStat: { Period: 60 } }, { Id: 'b', MetricStat: { Period: 60 } }] } },
      Fast: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 10, MetricName: 'y' } },
      Policy: { Type: 'AWS::ApplicationAutoScaling::ScalingPolicy', Properties: { PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: {} } },
      NoScaleIn: {
        Type: 'AWS::ApplicationAutoScaling::ScalingPolicy',
        Properties: { PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: { DisableScaleIn: true } },
      },
      Board: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
    });
    const standard = 1 + 2 + 2 + 1;
    expect(line(e, /CloudWatch alarms/).monthly).toBeCloseTo(standard * PRICES.cloudwatch.alarmMetricMonth.usd + 1 * PRICES.cloudwatch.highResolutionAlarmMetricMonth.usd, 10);
    expect(line(e, /1 CloudWatch dashboard$/).monthly).toBe(PRICES.cloudwatch.dashboardMonth.usd);
  });
});

describe('what is not a template', () => {
  test.each<[string, unknown, RegExp]>([
    ['an array', [], /expected a JSON object/],
    ['no Resources', { Outputs: {} }, /it has no Resources/],
    ['a resource without a Type', { Resources: { X: {} } }, /resource X has no Type/],
  ])('%s is refused with what is wrong', (_, template, message) => {
    expect(() => estimateTemplate(template, { stackName: 'T' })).toThrow(TemplateError);
    expect(() => estimateTemplate(template, { stackName: 'T' })).toThrow(message);
  });

  test('a type the table does not know is listed as not priced; types that cost nothing are counted as such', () => {
    const e = estimate({ K: { Type: 'AWS::KMS::Key' }, R: { Type: 'AWS::IAM::Role' }, S: { Type: 'AWS::SecretsManager::Secret' } });
    expect(e.notPriced).toEqual([{ type: 'AWS::KMS::Key', resources: ['K'], reason: expect.stringMatching(/no price for this type in the table/) }]);
    expect(e.noCharge).toEqual([{ type: 'AWS::IAM::Role', count: 1 }]);
    expect(e.fixedMonthly).toBeCloseTo(PRICES.secretsManager.secretMonth.usd, 10);
  });
});
