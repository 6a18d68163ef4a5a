/**
 * The bill of the reference app and of the minimal app (the ProxySQL service alone, in an existing VPC and
 * cluster), estimated from their synthesized templates. Every expected figure is computed here from the pricing
 * table and the counts and sizes read from the template, never typed in.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, test } from 'vitest';
import { buildReferenceApp } from '../../app/build-app';
import { ARCHITECTURE_DOC, costComparisonMarkdown, scenarioBill, SCENARIOS, updateCostComparison } from '../../app/cost-comparison';
import { buildMinimalApp } from '../../app/minimal-stack';
import { collectorMetricCount, CostEstimate, CostLine, estimateTemplate, SCHEDULE_ASSUMPTIONS } from '../../src/cost/estimate';
import { HOURS_PER_MONTH, PRICES } from '../../src/cost/pricing';
import { renderedConfig } from '../support/stack';

const H = HOURS_PER_MONTH;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-cost-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Json = Record<string, unknown>;
type Resource = { Type: string; Properties: Json };

function synth(build: (app: App) => { stack: { stackName: string } }, name: string, context: Json = {}): Json {
  const app = new App({ outdir: path.join(tmp, name), context });
  const { stack } = build(app);
  return app.synth().getStackByName(stack.stackName).template as Json;
}

const of = (template: Json, type: string): Resource[] => Object.values(Template.fromJSON(template).findResources(type)) as Resource[];

/** What the always-on lines of a ProxySQL service must come to, from the template's own counts and the table. */
function expectedProxySqlLayer(template: Json) {
  const [service] = of(template, 'AWS::ECS::Service');
  const [taskDefinition] = of(template, 'AWS::ECS::TaskDefinition');
  const desired = service.Properties.DesiredCount as number;
  const vcpu = Number(taskDefinition.Properties.Cpu) / 1024;
  const gb = Number(taskDefinition.Properties.Memory) / 1024;
  expect((taskDefinition.Properties.RuntimePlatform as Json).CpuArchitecture).toBe('ARM64');
  const fargate = desired * (vcpu * PRICES.fargate.ARM64.vcpuHour.usd + gb * PRICES.fargate.ARM64.gbHour.usd) * H;

  const nlb = of(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer').length * PRICES.elb.nlbHour.usd * H;

  const rows = (renderedConfig(Template.fromJSON(template)).mysql_servers as Array<{ hostgroup: number }>).map((s) => ({ hostgroup: s.hostgroup }));
  const metrics = collectorMetricCount(rows).total + of(template, 'AWS::Logs::MetricFilter').length;
  const alarms = of(template, 'AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((n, a) => n + (Array.isArray(a.Properties.Metrics) ? (a.Properties.Metrics as Json[]).filter((m) => 'MetricStat' in m).length : 1), 0);
  const trackingAlarms = 2 * of(template, 'AWS::ApplicationAutoScaling::ScalingPolicy').filter((p) => p.Properties.PolicyType === 'TargetTrackingScaling').length;
  const runs = 60 * H; // rate(1 minute)
  const collector =
    (runs / 1e6) * PRICES.lambda.requestMillion.usd +
    runs * (256 / 1024) * SCHEDULE_ASSUMPTIONS.collectorSeconds * PRICES.lambda.arm64GbSecond.usd +
    // its EMF, and the figures line each task's agent writes a minute for it
    ((runs * (SCHEDULE_ASSUMPTIONS.collectorEmfKb + desired * SCHEDULE_ASSUMPTIONS.figuresLineKb)) / 1e6) * PRICES.cloudwatch.logsIngestedGb.usd;
  const monitoring =
    metrics * PRICES.cloudwatch.customMetricMonth.usd +
    (alarmMetrics + trackingAlarms) * PRICES.cloudwatch.alarmMetricMonth.usd +
    of(template, 'AWS::CloudWatch::Dashboard').length * PRICES.cloudwatch.dashboardMonth.usd +
    collector;
  const secrets = of(template, 'AWS::SecretsManager::Secret').length * PRICES.secretsManager.secretMonth.usd;
  return { fargate, nlb, monitoring, secrets, metrics, rows: rows.length, desired };
}

const total = (e: CostEstimate, category: CostLine['category']) => e.lines.filter((l) => l.kind === 'fixed' && l.category === category).reduce((a, l) => a + l.monthly, 0);

describe('the reference app', () => {
  const template = synth(buildReferenceApp, 'reference');
  const estimate = estimateTemplate(template, { stackName: 'ServerlessProxySql' });

  test('every always-on line is the table price times what the template creates', () => {
    const proxy = expectedProxySqlLayer(template);
    expect(proxy.desired).toBe(2);
    expect(proxy.rows).toBe(3); // writer; writer and reader in the reader hostgroup
    expect(total(estimate, 'Fargate')).toBeCloseTo(proxy.fargate, 8);
    expect(total(estimate, 'Load balancer')).toBeCloseTo(proxy.nlb, 8);
    expect(total(estimate, 'Monitoring')).toBeCloseTo(proxy.monitoring, 8);
    expect(total(estimate, 'Secrets')).toBeCloseTo(proxy.secrets, 8);

    const nats = of(template, 'AWS::EC2::NatGateway').length;
    const eips = of(template, 'AWS::EC2::EIP').length;
    const endpointAzs = of(template, 'AWS::EC2::VPCEndpoint')
      .filter((e) => e.Properties.VpcEndpointType === 'Interface')
      .reduce((n, e) => n + (e.Properties.SubnetIds as unknown[]).length, 0);
    expect([nats, eips, endpointAzs]).toEqual([2, 2, 4]);
    const network = (nats * PRICES.vpc.natGatewayHour.usd + eips * PRICES.vpc.publicIpv4Hour.usd + endpointAzs * PRICES.privatelink.interfaceEndpointAzHour.usd) * H;
    expect(total(estimate, 'Network')).toBeCloseTo(network, 8);

    const [cluster] = of(template, 'AWS::RDS::DBCluster');
    const scaling = cluster.Properties.ServerlessV2ScalingConfiguration as { MinCapacity: number; MaxCapacity: number };
    const instances = of(template, 'AWS::RDS::DBInstance').filter((i) => i.Properties.DBInstanceClass === 'db.serverless').length;
    expect(instances).toBe(2);
    const database = instances * scaling.MinCapacity * PRICES.aurora.acuHour.usd * H;
    expect(total(estimate, 'Database')).toBeCloseTo(database, 8);
    const databaseLine = estimate.lines.find((l) => l.category === 'Database' && l.kind === 'fixed');
    expect(databaseLine?.upTo?.monthly).toBeCloseTo(instances * scaling.MaxCapacity * PRICES.aurora.acuHour.usd * H, 8);

    const dns = of(template, 'AWS::Route53::HostedZone').length * PRICES.route53.hostedZoneMonth.usd;
    expect(estimate.fixedMonthly).toBeCloseTo(proxy.fargate + proxy.nlb + proxy.monitoring + proxy.secrets + network + database + dns, 8);
  });

  test('what grows with use is apart, and nothing costly is left unpriced without a reason', () => {
    const usage = new Set(estimate.lines.filter((l) => l.kind === 'usage').map((l) => l.category));
    expect([...usage].sort()).toEqual(['API', 'Database', 'Lambda', 'Load balancer', 'Logs', 'Network']);
    expect(Object.fromEntries(estimate.notPriced.map((n) => [n.type, n.resources.length]))).toEqual({
      'AWS::Lambda::Function': 3, // the bootstrap, its provider framework, the restart-on-rotation handler: deploy- or event-time only
      'AWS::Serverless::Application': 1, // the secret-rotation application (nested)
      'Custom::ProxySqlDatabaseBootstrap': 1,
    });
  });

  test('-c lean=true saves exactly one NAT gateway, its address and the interface endpoints', () => {
    const lean = estimateTemplate(synth(buildReferenceApp, 'lean', { lean: 'true' }), { stackName: 'lean' });
    const saved = (PRICES.vpc.natGatewayHour.usd + PRICES.vpc.publicIpv4Hour.usd + 4 * PRICES.privatelink.interfaceEndpointAzHour.usd) * H;
    expect(estimate.fixedMonthly - lean.fixedMonthly).toBeCloseTo(saved, 8);
  });
});

describe('the minimal app: the ProxySQL service alone, in an existing VPC and cluster', () => {
  const template = synth(buildMinimalApp, 'minimal');
  const estimate = estimateTemplate(template, { stackName: 'ProxySqlOnly' });

  test('its bill is the service, the NLB, the monitoring and its secrets: no network, no database', () => {
    const proxy = expectedProxySqlLayer(template);
    expect(proxy.rows).toBe(3);
    expect([...new Set(estimate.lines.filter((l) => l.kind === 'fixed').map((l) => l.category))].sort()).toEqual(['Fargate', 'Load balancer', 'Monitoring', 'Secrets']);
    expect(of(template, 'AWS::SecretsManager::Secret')).toHaveLength(4); // admin, stats, monitor, app
    expect(estimate.fixedMonthly).toBeCloseTo(proxy.fargate + proxy.nlb + proxy.monitoring + proxy.secrets, 8);
  });

  test('a third database instance adds its 4 per-server metrics and nothing else', () => {
    const three = estimateTemplate(synth((app) => buildMinimalApp(app, { instanceIdentifiers: ['shop-1', 'shop-2', 'shop-3'] }), 'minimal-3'), { stackName: 'x' });
    const perServer = collectorMetricCount([]).server;
    expect(perServer).toBe(4);
    expect(three.fixedMonthly - estimate.fixedMonthly).toBeCloseTo(perServer * PRICES.cloudwatch.customMetricMonth.usd, 8);
  });
});

describe('docs/architecture.md, "Cost against RDS Proxy"', () => {
  const bills = SCENARIOS.map((scenario) => scenarioBill(scenario));
  const [writer, writerReader, serverless] = bills;

  test('shows what the code computes (npm run docs:cost rewrites it)', () => {
    const doc = fs.readFileSync(ARCHITECTURE_DOC, 'utf8');
    expect(updateCostComparison(doc, costComparisonMarkdown(bills)), 'docs/architecture.md is stale: run npm run docs:cost').toBe(doc);
    // the section without its generated block (as it was, "order of magnitude") is refused, not silently kept
    expect(() => updateCostComparison('## Cost against RDS Proxy (order of magnitude)\n\n| | this construct |', 'x')).toThrow(/no generated cost comparison/);
  });

  test('its figures are the pricing table applied to the same databases', () => {
    const r6g = PRICES.aurora.instances['db.r6g.large'];
    expect(writer.database.min).toBeCloseTo(r6g.hourly.usd * H, 8);
    expect(writer.rdsProxy.min).toBeCloseTo(PRICES.rdsProxy.minimumVcpus * PRICES.rdsProxy.vcpuHour.usd * H, 8); // 2 vCPU: the minimum
    expect(writerReader.rdsProxy.min).toBeCloseTo(2 * r6g.vcpus * PRICES.rdsProxy.vcpuHour.usd * H, 8);
    expect(serverless.database).toEqual({ min: expect.closeTo(2 * 2 * PRICES.aurora.acuHour.usd * H, 8), max: expect.closeTo(2 * 8 * PRICES.aurora.acuHour.usd * H, 8) });
    expect(serverless.rdsProxy.min).toBeCloseTo(PRICES.rdsProxy.minimumAcus * PRICES.rdsProxy.acuHour.usd * H, 8); // 4 ACU: under the 8-ACU minimum
    expect(serverless.rdsProxy.max).toBeCloseTo(16 * PRICES.rdsProxy.acuHour.usd * H, 8);
    for (const bill of bills) {
      // the ProxySQL layer is the whole always-on bill of the minimal app, nothing left out
      expect(bill.proxysqlLayer.min).toBeCloseTo(bill.proxysqlEstimate.fixedMonthly, 8);
      expect(bill.withProxysql.min - bill.withRdsProxy.min).toBeCloseTo(bill.proxysqlLayer.min - bill.rdsProxyLayer.min, 8);
    }
    // one instance: the writer also sits in the reader hostgroup, so 2 server rows, 4 metrics fewer than with a reader
    expect(writerReader.proxysql.Monitoring.min - writer.proxysql.Monitoring.min).toBeCloseTo(4 * PRICES.cloudwatch.customMetricMonth.usd, 8);
  });

  test('the prose around the table holds: RDS Proxy cheaper on one instance, close on two, dearer on Serverless v2', () => {
    expect(writer.withRdsProxy.min).toBeLessThan(writer.withProxysql.min);
    expect(Math.abs(writerReader.withRdsProxy.min - writerReader.withProxysql.min)).toBeLessThan(0.1 * writerReader.withProxysql.min);
    expect(serverless.rdsProxyLayer.min).toBeGreaterThan(serverless.proxysqlLayer.min);
    expect(serverless.rdsProxyLayer.max - serverless.proxysqlLayer.max).toBeGreaterThan(serverless.rdsProxyLayer.min - serverless.proxysqlLayer.min);
  });
});
