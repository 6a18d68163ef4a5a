/**
 * The bill before the deploy: reads a synthesized CloudFormation template (any app's, not only this project's) and
 * prices every resource that costs money by itself, from the table in ./pricing.ts. Two parts:
 *
 * - always on: what the resources cost whatever the traffic (task-hours, load balancer hours, NAT gateways,
 *   endpoints, database capacity at its floor, custom metrics, alarms, secrets, …), with the ceiling where the
 *   template sets one (autoscaling maximum, Serverless v2 maximum);
 * - grows with use: per-unit charges (NLCUs, NAT and endpoint data, log ingestion, storage, requests), priced at an
 *   example usage stated on each line ({@link USAGE_ASSUMPTIONS}).
 *
 * What the template does not create (an existing VPC or database) is not in it and not counted. Types that cost
 * nothing by themselves are listed as such; types the table has no price for are listed as not priced.
 */
import { CONFIG_TEMPLATE_ENV } from '../constants';
import { METRICS, MetricScope } from '../config/metrics';
import { HOURS_PER_MONTH, PRICES, PriceSourceId, rdsProxyMonthly, UnitPrice } from './pricing';
import { CfnResource, listOf, logicalIdOf, numberOf, objectOf, refersTo, templateResources, textOf } from './template';

/** Environment variables by which the collector Lambda (runtime/collector) is recognised (test: equal to COLLECTOR_ENV). */
export const COLLECTOR_STREAM_PREFIX_ENV = 'PROXYSQL_LOG_STREAM_PREFIX';
export const COLLECTOR_SERVICE_ENV = 'PROXYSQL_SERVICE_NAME';

/** The example usage the "grows with use" lines are priced at; each line states its own. */
export const USAGE_ASSUMPTIONS = {
  /** Average NLCUs (or ALB LCUs) over the month: 1 is 1 GB an hour processed, or 800 new TCP connections a second. */
  loadBalancerCapacityUnits: 1,
  /** GB through all NAT gateways together: image pulls at task starts, AWS API calls without an endpoint. */
  natGatewayGb: 10,
  /** GB through each interface endpoint. */
  interfaceEndpointGb: 1,
  /** GB ingested into each log group a month. */
  logGroupGb: 1,
  /** Aurora storage, GiB, and I/O requests, millions, per cluster (Aurora Standard). */
  auroraStorageGib: 10,
  auroraIoMillions: 10,
  /** Requests to each HTTP API, millions. */
  httpApiRequestMillions: 1,
  /** Invocations of each function behind an API, millions, and their duration in seconds. */
  apiFunctionInvocationMillions: 1,
  apiFunctionSeconds: 0.1,
} as const;

/** What the always-on lines assume about scheduled functions (the collector's figures measured, docs/architecture.md). */
export const SCHEDULE_ASSUMPTIONS = {
  /** Seconds per run of the ProxySQL collector: two ECS calls and one CloudWatch Logs FilterLogEvents. */
  collectorSeconds: 0.3,
  /**
   * The figures line each task's agent writes a minute, KB, ingested as logs: 1,018 bytes measured with a writer and
   * a reader (test/proxysql/collector.test.ts); about 80 bytes more per (hostgroup, server) row.
   */
  figuresLineKb: 1,
  /** EMF written per collector run (8 records for 2 tasks and 5 server rows), KB, ingested as logs. */
  collectorEmfKb: 5,
  /** Seconds per run of any other scheduled function. */
  otherScheduledSeconds: 1,
} as const;

export type CostKind = 'fixed' | 'usage';

/** What a line is, for grouping (docs/architecture.md groups the ProxySQL layer by these). */
export type CostCategory = 'Fargate' | 'Load balancer' | 'Network' | 'Database' | 'RDS Proxy' | 'Monitoring' | 'Logs' | 'Lambda' | 'Secrets' | 'DNS' | 'API';

export interface CostLine {
  readonly kind: CostKind;
  readonly category: CostCategory;
  /** What is priced: the resource and what it is. */
  readonly what: string;
  /** How: quantities × the table's prices × hours, and the assumption for a usage line. */
  readonly how: string;
  readonly monthly: number;
  /** How many of the priced thing there are (tasks, gateways, metrics, secrets), where one number says it. */
  readonly count?: number;
  /** The most it can cost as the template stands (autoscaling maximum, Serverless v2 maximum). */
  readonly upTo?: { readonly monthly: number; readonly at: string };
  readonly resources: readonly string[];
  readonly sources: readonly PriceSourceId[];
}

export interface UnpricedResources {
  readonly type: string;
  readonly resources: readonly string[];
  readonly reason: string;
}

export interface CostEstimate {
  readonly stackName: string;
  readonly hoursPerMonth: number;
  readonly lines: readonly CostLine[];
  /** Sum of the always-on lines. */
  readonly fixedMonthly: number;
  /** The same with every line at its ceiling. */
  readonly fixedUpToMonthly: number;
  /** Sum of the usage lines at their stated example usage. */
  readonly usageMonthly: number;
  readonly notPriced: readonly UnpricedResources[];
  /** Resource types with no charge of their own, and how many of each. */
  readonly noCharge: ReadonlyArray<{ readonly type: string; readonly count: number }>;
  /** Assumptions and limits the whole estimate rests on. */
  readonly notes: readonly string[];
}

export interface EstimateOptions {
  readonly stackName: string;
  /** @default HOURS_PER_MONTH (730) */
  readonly hoursPerMonth?: number;
}

/** Resource types that cost nothing by themselves (or are priced through the line of the resource they serve). */
const NO_CHARGE = new Set([
  'AWS::CDK::Metadata',
  'AWS::CloudFormation::CustomResource',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::InstanceProfile',
  'AWS::EC2::VPC',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::Route',
  'AWS::EC2::SubnetRouteTableAssociation',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::SecurityGroup',
  'AWS::EC2::SecurityGroupIngress',
  'AWS::EC2::SecurityGroupEgress',
  'AWS::EC2::FlowLog',
  'AWS::ECS::Cluster',
  'AWS::ECS::TaskDefinition',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::ApplicationAutoScaling::ScalableTarget',
  'AWS::ApplicationAutoScaling::ScalingPolicy',
  'AWS::Events::Rule',
  'AWS::Lambda::Permission',
  'AWS::Logs::MetricFilter',
  'AWS::RDS::DBSubnetGroup',
  'AWS::RDS::DBClusterParameterGroup',
  'AWS::RDS::DBParameterGroup',
  'AWS::RDS::DBProxyTargetGroup',
  'AWS::SecretsManager::SecretTargetAttachment',
  'AWS::SecretsManager::RotationSchedule',
  'AWS::SecretsManager::ResourcePolicy',
  'AWS::Route53::RecordSet',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Stage',
]);

/** A price as the table has it, cents always shown ($0.30, $0.0225, $0.0000133334). */
const usd = (value: number): string => `$${Number(value.toFixed(2)) === value ? value.toFixed(2) : String(value)}`;
const rate = (p: UnitPrice): string => `${usd(p.usd)}/${p.per}`;
const plural = (n: number, word: string, words = `${word}s`): string => `${n} ${n === 1 ? word : words}`;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Prices the template of one stack. Throws TemplateError when `template` is not a CloudFormation template. */
export function estimateTemplate(template: unknown, options: EstimateOptions): CostEstimate {
  const resources = templateResources(template);
  const hours = options.hoursPerMonth ?? HOURS_PER_MONTH;
  const ctx = new Context(resources, hours);

  fargateServices(ctx);
  loadBalancers(ctx);
  natGateways(ctx);
  elasticIps(ctx);
  vpcEndpoints(ctx);
  auroraClusters(ctx);
  rdsProxies(ctx);
  monitoring(ctx);
  lambdaFunctions(ctx);
  logGroups(ctx);
  simpleMonthly(ctx, 'AWS::SecretsManager::Secret', 'Secrets', 'Secrets Manager secret', PRICES.secretsManager.secretMonth);
  simpleMonthly(ctx, 'AWS::Route53::HostedZone', 'DNS', 'Route 53 hosted zone', PRICES.route53.hostedZoneMonth);
  httpApis(ctx);

  for (const [id, resource] of Object.entries(resources)) {
    if (ctx.handled.has(id)) continue;
    if (NO_CHARGE.has(resource.Type)) ctx.free(resource.Type);
    else ctx.unpriced(resource.Type, id, ctx.reasonFor(resource.Type));
  }

  const fixed = ctx.lines.filter((l) => l.kind === 'fixed');
  const notes = [
    `${hours} hours a month; on-demand list prices of the table's region (src/cost/pricing.ts, which names each price's source); no free tier subtracted (it is the account's, shared by every stack), no Savings Plans or reserved instances, taxes excluded.`,
    'Data transfer between Availability Zones and to the internet is not estimated; nor is anything the template does not create (an existing VPC, an existing database).',
    ...ctx.notes,
  ];
  return {
    stackName: options.stackName,
    hoursPerMonth: hours,
    lines: ctx.lines,
    fixedMonthly: sum(fixed.map((l) => l.monthly)),
    fixedUpToMonthly: sum(fixed.map((l) => l.upTo?.monthly ?? l.monthly)),
    usageMonthly: sum(ctx.lines.filter((l) => l.kind === 'usage').map((l) => l.monthly)),
    notPriced: [...ctx.unpricedByType.entries()].map(([type, v]) => ({ type, resources: v.resources, reason: v.reason })),
    noCharge: [...ctx.freeCounts.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([type, count]) => ({ type, count })),
    notes,
  };
}

class Context {
  readonly lines: CostLine[] = [];
  readonly notes: string[] = [];
  readonly handled = new Set<string>();
  readonly freeCounts = new Map<string, number>();
  readonly unpricedByType = new Map<string, { resources: string[]; reason: string }>();

  constructor(
    readonly resources: Readonly<Record<string, CfnResource>>,
    readonly hours: number,
  ) {}

  ofType(type: string): Array<[string, CfnResource]> {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  props(id: string): Readonly<Record<string, unknown>> {
    return this.resources[id]?.Properties ?? {};
  }

  add(line: CostLine): void {
    this.lines.push(line);
    for (const id of line.resources) this.handled.add(id);
  }

  free(type: string, id?: string): void {
    this.freeCounts.set(type, (this.freeCounts.get(type) ?? 0) + 1);
    if (id !== undefined) this.handled.add(id);
  }

  unpriced(type: string, id: string, reason: string): void {
    const entry = this.unpricedByType.get(type) ?? { resources: [], reason };
    entry.resources.push(id);
    this.unpricedByType.set(type, entry);
    this.handled.add(id);
  }

  reasonFor(type: string): string {
    if (type.startsWith('Custom::')) return 'a custom resource: priced through the function that serves it';
    if (type === 'AWS::Serverless::Application' || type === 'AWS::CloudFormation::Stack') return 'a nested application or stack: its resources are not in this template';
    return 'no price for this type in the table (src/cost/pricing.ts)';
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }
}

// ---- Fargate --------------------------------------------------------------------------------------------------

function fargateServices(ctx: Context): void {
  for (const [id, service] of ctx.ofType('AWS::ECS::Service')) {
    const p = service.Properties ?? {};
    const providers = listOf(p.CapacityProviderStrategy).map((s) => String(objectOf(s).CapacityProvider));
    const fargate = p.LaunchType === 'FARGATE' || providers.some((name) => name.startsWith('FARGATE'));
    if (!fargate) {
      ctx.unpriced(service.Type, id, 'not a Fargate service: its EC2 capacity is priced by the instances, which the table does not have');
      continue;
    }
    const taskDefinitionId = logicalIdOf(p.TaskDefinition);
    const td = taskDefinitionId !== undefined ? ctx.props(taskDefinitionId) : {};
    const cpuUnits = numberOf(td.Cpu);
    const memoryMib = numberOf(td.Memory);
    if (cpuUnits === undefined || memoryMib === undefined) {
      ctx.unpriced(service.Type, id, 'the task size (Cpu, Memory) is not a number in the template');
      continue;
    }
    const vcpu = cpuUnits / 1024;
    const gb = memoryMib / 1024;
    const arch = objectOf(td.RuntimePlatform).CpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64';
    const rates = PRICES.fargate[arch];
    const storageGb = Math.max(0, (numberOf(objectOf(td.EphemeralStorage).SizeInGiB) ?? 0) - PRICES.fargate.includedStorageGb);
    const perTaskHour = vcpu * rates.vcpuHour.usd + gb * rates.gbHour.usd + storageGb * PRICES.fargate.extraStorageGbHour.usd;
    const desired = numberOf(p.DesiredCount) ?? 1;
    const scaling = ctx.ofType('AWS::ApplicationAutoScaling::ScalableTarget').find(
      ([, t]) => t.Properties?.ScalableDimension === 'ecs:service:DesiredCount' && refersTo(t.Properties?.ResourceId, id),
    );
    const max = scaling ? numberOf(scaling[1].Properties?.MaxCapacity) : undefined;
    const min = scaling ? numberOf(scaling[1].Properties?.MinCapacity) : undefined;
    const storage = storageGb > 0 ? ` + ${storageGb} GB storage × ${rate(PRICES.fargate.extraStorageGbHour)}` : '';
    const spot = providers.some((name) => name === 'FARGATE_SPOT');
    if (spot) ctx.note('Fargate Spot capacity is priced at the on-demand rate (an upper bound: Spot is up to 70% less).');
    ctx.add({
      kind: 'fixed',
      category: 'Fargate',
      what: `ECS service ${id}: ${plural(desired, 'Fargate task')} of ${vcpu} vCPU, ${gb} GB, ${arch}`,
      how: `${desired} × (${vcpu} × ${rate(rates.vcpuHour)} + ${gb} × ${rate(rates.gbHour)}${storage}) × ${ctx.hours} h${
        scaling ? `; autoscaling ${min ?? '?'}–${max ?? '?'} tasks` : ''
      }`,
      monthly: desired * perTaskHour * ctx.hours,
      count: desired,
      ...(max !== undefined && max > desired ? { upTo: { monthly: max * perTaskHour * ctx.hours, at: `${max} tasks` } } : {}),
      resources: [id, ...(taskDefinitionId !== undefined ? [taskDefinitionId] : []), ...(scaling ? [scaling[0]] : [])],
      sources: ['fargate'],
    });
    if (objectOf(objectOf(p.NetworkConfiguration).AwsvpcConfiguration).AssignPublicIp === 'ENABLED') {
      ctx.add({
        kind: 'fixed',
        category: 'Network',
        what: `public IPv4 addresses of ${id}'s tasks`,
        how: `${desired} × ${rate(PRICES.vpc.publicIpv4Hour)} × ${ctx.hours} h`,
        monthly: desired * PRICES.vpc.publicIpv4Hour.usd * ctx.hours,
        ...(max !== undefined && max > desired ? { upTo: { monthly: max * PRICES.vpc.publicIpv4Hour.usd * ctx.hours, at: `${max} tasks` } } : {}),
        resources: [],
        sources: ['vpc'],
      });
    }
  }
}

// ---- Load balancers, NAT, addresses, endpoints --------------------------------------------------------------------

function loadBalancers(ctx: Context): void {
  for (const [id, lb] of ctx.ofType('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
    const p = lb.Properties ?? {};
    const type = p.Type ?? 'application';
    if (type !== 'network' && type !== 'application') {
      ctx.unpriced(lb.Type, id, `a ${String(type)} load balancer: not in the table`);
      continue;
    }
    const nlb = type === 'network';
    const hourly = nlb ? PRICES.elb.nlbHour : PRICES.elb.albHour;
    const unit = nlb ? PRICES.elb.nlcuHour : PRICES.elb.lcuHour;
    const name = nlb ? 'Network Load Balancer' : 'Application Load Balancer';
    ctx.add({
      kind: 'fixed',
      category: 'Load balancer',
      what: `${name} ${id} (${String(p.Scheme ?? 'internet-facing')})`,
      how: `${rate(hourly)} × ${ctx.hours} h`,
      monthly: hourly.usd * ctx.hours,
      resources: [id],
      sources: ['elb'],
    });
    const capacity = USAGE_ASSUMPTIONS.loadBalancerCapacityUnits;
    ctx.add({
      kind: 'usage',
      category: 'Load balancer',
      what: `${name} ${id}: capacity units`,
      how: `${capacity} ${nlb ? 'NLCU' : 'LCU'} on average (${
        nlb ? 'an NLCU is 1 GB an hour processed or 800 new TCP connections a second' : 'an LCU is 1 GB an hour or 25 new connections a second'
      }, whichever is highest) × ${rate(unit)} × ${ctx.hours} h`,
      monthly: capacity * unit.usd * ctx.hours,
      resources: [],
      sources: ['elb'],
    });
    if (p.Scheme === 'internet-facing') {
      const addresses = Math.max(listOf(p.Subnets).length, listOf(p.SubnetMappings).length);
      ctx.add({
        kind: 'fixed',
        category: 'Network',
        what: `public IPv4 addresses of ${id} (one per subnet)`,
        how: `${addresses} × ${rate(PRICES.vpc.publicIpv4Hour)} × ${ctx.hours} h`,
        monthly: addresses * PRICES.vpc.publicIpv4Hour.usd * ctx.hours,
        resources: [],
        sources: ['vpc'],
      });
    }
  }
}

function natGateways(ctx: Context): void {
  const nats = ctx.ofType('AWS::EC2::NatGateway');
  if (nats.length === 0) return;
  const n = nats.length;
  ctx.add({
    kind: 'fixed',
    category: 'Network',
    what: `${plural(n, 'NAT gateway')}`,
    how: `${n} × ${rate(PRICES.vpc.natGatewayHour)} × ${ctx.hours} h`,
    monthly: n * PRICES.vpc.natGatewayHour.usd * ctx.hours,
    count: n,
    resources: nats.map(([id]) => id),
    sources: ['vpc'],
  });
  const gb = USAGE_ASSUMPTIONS.natGatewayGb;
  ctx.add({
    kind: 'usage',
    category: 'Network',
    what: 'NAT gateway data processed',
    how: `${gb} GB a month through them all (image pulls at task starts, AWS API calls without an endpoint) × ${rate(PRICES.vpc.natGatewayGb)}`,
    monthly: gb * PRICES.vpc.natGatewayGb.usd,
    resources: [],
    sources: ['vpc'],
  });
}

function elasticIps(ctx: Context): void {
  const eips = ctx.ofType('AWS::EC2::EIP');
  if (eips.length === 0) return;
  const n = eips.length;
  const forNat = eips.filter(([id]) => ctx.ofType('AWS::EC2::NatGateway').some(([, nat]) => refersTo(nat.Properties?.AllocationId, id))).length;
  ctx.add({
    kind: 'fixed',
    category: 'Network',
    what: `${plural(n, 'Elastic IP address', 'Elastic IP addresses')} (public IPv4${forNat > 0 ? `; ${forNat} of the NAT gateways` : ''})`,
    how: `${n} × ${rate(PRICES.vpc.publicIpv4Hour)} × ${ctx.hours} h`,
    monthly: n * PRICES.vpc.publicIpv4Hour.usd * ctx.hours,
    count: n,
    resources: eips.map(([id]) => id),
    sources: ['vpc'],
  });
}

function vpcEndpoints(ctx: Context): void {
  for (const [id, endpoint] of ctx.ofType('AWS::EC2::VPCEndpoint')) {
    const p = endpoint.Properties ?? {};
    const type = p.VpcEndpointType ?? 'Gateway';
    const service = (textOf(p.ServiceName) ?? '?').split('.').pop();
    if (type === 'Gateway') {
      ctx.free(`${endpoint.Type} (Gateway: ${service})`, id);
      continue;
    }
    if (type !== 'Interface') {
      ctx.unpriced(endpoint.Type, id, `a ${String(type)} endpoint: not in the table`);
      continue;
    }
    const subnets = listOf(p.SubnetIds);
    const azs = subnets.length > 0 ? subnets.length : 2;
    if (subnets.length === 0) ctx.note(`Interface endpoint ${id} lists no subnets in the template: priced for 2 Availability Zones.`);
    const r = PRICES.privatelink.interfaceEndpointAzHour;
    ctx.add({
      kind: 'fixed',
      category: 'Network',
      what: `interface endpoint ${id} (${service}) in ${plural(azs, 'Availability Zone')}`,
      how: `${azs} × ${rate(r)} × ${ctx.hours} h`,
      monthly: azs * r.usd * ctx.hours,
      resources: [id],
      sources: ['privatelink'],
    });
    const gb = USAGE_ASSUMPTIONS.interfaceEndpointGb;
    ctx.add({
      kind: 'usage',
      category: 'Network',
      what: `interface endpoint ${id} (${service}): data processed`,
      how: `${gb} GB a month × ${rate(PRICES.privatelink.interfaceEndpointGb)}`,
      monthly: gb * PRICES.privatelink.interfaceEndpointGb.usd,
      resources: [],
      sources: ['privatelink'],
    });
  }
}

// ---- Databases ----------------------------------------------------------------------------------------------------

/** The compute of an Aurora cluster in the template: its instances, by class or Serverless v2 capacity. */
interface ClusterCompute {
  readonly instances: ReadonlyArray<{ readonly id: string; readonly instanceClass: string }>;
  readonly minAcu?: number;
  readonly maxAcu?: number;
  readonly ioOptimized: boolean;
}

function clusterCompute(ctx: Context, clusterId: string): ClusterCompute {
  const p = ctx.props(clusterId);
  const scaling = objectOf(p.ServerlessV2ScalingConfiguration);
  const instances = ctx
    .ofType('AWS::RDS::DBInstance')
    .filter(([, i]) => logicalIdOf(i.Properties?.DBClusterIdentifier) === clusterId)
    .map(([id, i]) => ({ id, instanceClass: String(i.Properties?.DBInstanceClass ?? '?') }));
  return { instances, minAcu: numberOf(scaling.MinCapacity), maxAcu: numberOf(scaling.MaxCapacity), ioOptimized: p.StorageType === 'aurora-iopt1' };
}

function auroraClusters(ctx: Context): void {
  for (const [id, cluster] of ctx.ofType('AWS::RDS::DBCluster')) {
    const p = cluster.Properties ?? {};
    if (typeof p.Engine !== 'string' || !p.Engine.startsWith('aurora')) {
      ctx.unpriced(cluster.Type, id, 'not an Aurora cluster: RDS Multi-AZ DB cluster prices are not in the table');
      continue;
    }
    const compute = clusterCompute(ctx, id);
    ctx.handled.add(id);
    const serverless = compute.instances.filter((i) => i.instanceClass === 'db.serverless');
    const acuRate = compute.ioOptimized ? PRICES.aurora.ioOptimizedAcuHour : PRICES.aurora.acuHour;
    if (serverless.length > 0) {
      const min = compute.minAcu ?? 0.5;
      const max = compute.maxAcu ?? min;
      const n = serverless.length;
      ctx.add({
        kind: 'fixed',
        category: 'Database',
        what: `Aurora Serverless v2 cluster ${id}: ${plural(n, 'instance')} of ${min}–${max} ACU, at the minimum (idle)`,
        how: `${n} × ${min} ACU × ${rate(acuRate)} × ${ctx.hours} h`,
        monthly: n * min * acuRate.usd * ctx.hours,
        ...(max > min ? { upTo: { monthly: n * max * acuRate.usd * ctx.hours, at: `${max} ACU each` } } : {}),
        resources: serverless.map((i) => i.id),
        sources: ['aurora'],
      });
    }
    const byClass = new Map<string, string[]>();
    for (const i of compute.instances.filter((x) => x.instanceClass !== 'db.serverless')) byClass.set(i.instanceClass, [...(byClass.get(i.instanceClass) ?? []), i.id]);
    for (const [instanceClass, ids] of byClass) {
      const known = PRICES.aurora.instances[instanceClass];
      if (!known) {
        for (const instanceId of ids) ctx.unpriced('AWS::RDS::DBInstance', instanceId, `instance class ${instanceClass} is not in the table (src/cost/pricing.ts)`);
        continue;
      }
      const multiplier = compute.ioOptimized ? PRICES.aurora.ioOptimizedInstanceMultiplier : 1;
      ctx.add({
        kind: 'fixed',
        category: 'Database',
        what: `Aurora cluster ${id}: ${ids.length} × ${instanceClass} (${known.vcpus} vCPU, ${known.memoryGib} GiB)`,
        how: `${ids.length} × ${rate(known.hourly)}${multiplier !== 1 ? ` × ${multiplier} (I/O-Optimized)` : ''} × ${ctx.hours} h`,
        monthly: ids.length * known.hourly.usd * multiplier * ctx.hours,
        resources: ids,
        sources: ['aurora'],
      });
    }
    if (compute.instances.length === 0) ctx.note(`Aurora cluster ${id} has no instances in this template: its compute is not counted.`);
    const gib = USAGE_ASSUMPTIONS.auroraStorageGib;
    const io = compute.ioOptimized ? 0 : USAGE_ASSUMPTIONS.auroraIoMillions;
    const storageRate = compute.ioOptimized ? PRICES.aurora.ioOptimizedStorageGbMonth : PRICES.aurora.storageGbMonth;
    ctx.add({
      kind: 'usage',
      category: 'Database',
      what: `Aurora cluster ${id}: storage${compute.ioOptimized ? ' (I/O-Optimized: I/O included)' : ' and I/O'}`,
      how: `${gib} GiB × ${rate(storageRate)}${compute.ioOptimized ? '' : ` + ${io} million I/O × ${rate(PRICES.aurora.ioMillion)}`}; backups beyond the cluster's size not counted`,
      monthly: gib * storageRate.usd + io * PRICES.aurora.ioMillion.usd,
      resources: [],
      sources: ['aurora'],
    });
    const exports = listOf(p.EnableCloudwatchLogsExports).map(String);
    if (exports.length > 0) {
      const gb = USAGE_ASSUMPTIONS.logGroupGb;
      ctx.add({
        kind: 'usage',
        category: 'Logs',
        what: `Aurora cluster ${id}: exported logs (${exports.join(', ')}) in the log groups RDS creates`,
        how: `${exports.length} × ${gb} GB ingested × ${rate(PRICES.cloudwatch.logsIngestedGb)}`,
        monthly: exports.length * gb * PRICES.cloudwatch.logsIngestedGb.usd,
        resources: [],
        sources: ['cloudwatch'],
      });
    }
  }
  for (const [id, instance] of ctx.ofType('AWS::RDS::DBInstance')) {
    if (ctx.handled.has(id)) continue;
    const inCluster = logicalIdOf(instance.Properties?.DBClusterIdentifier) !== undefined;
    ctx.unpriced(instance.Type, id, inCluster ? 'its cluster is not an Aurora cluster of this template' : 'an RDS (not Aurora) instance: RDS for MySQL prices are not in the table');
  }
}

function rdsProxies(ctx: Context): void {
  for (const [id] of ctx.ofType('AWS::RDS::DBProxy')) {
    const groups = ctx.ofType('AWS::RDS::DBProxyTargetGroup').filter(([, g]) => logicalIdOf(g.Properties?.DBProxyName) === id);
    const clusterIds = groups.flatMap(([, g]) => listOf(g.Properties?.DBClusterIdentifiers).map(logicalIdOf)).filter((x): x is string => x !== undefined);
    const instanceIds = groups.flatMap(([, g]) => listOf(g.Properties?.DBInstanceIdentifiers).map(logicalIdOf)).filter((x): x is string => x !== undefined);
    const classes = [
      ...clusterIds.flatMap((c) => clusterCompute(ctx, c).instances.map((i) => i.instanceClass)),
      ...instanceIds.map((i) => String(ctx.props(i).DBInstanceClass ?? '?')),
    ];
    const serverlessCount = classes.filter((c) => c === 'db.serverless').length;
    const unknown = classes.filter((c) => c !== 'db.serverless' && !PRICES.aurora.instances[c]);
    if (classes.length === 0 || unknown.length > 0 || (serverlessCount > 0 && serverlessCount < classes.length)) {
      ctx.unpriced(
        'AWS::RDS::DBProxy',
        id,
        classes.length === 0 ? 'its targets are not in this template' : unknown.length > 0 ? `the vCPUs of ${unknown.join(', ')} are not in the table` : 'mixed Serverless v2 and provisioned targets',
      );
      continue;
    }
    if (serverlessCount > 0) {
      const compute = clusterIds.map((c) => clusterCompute(ctx, c));
      const minAcus = sum(compute.map((c) => c.instances.length * (c.minAcu ?? 0.5)));
      const maxAcus = sum(compute.map((c) => c.instances.length * (c.maxAcu ?? c.minAcu ?? 0.5)));
      const monthly = rdsProxyMonthly({ acus: minAcus }, ctx.hours);
      const upTo = rdsProxyMonthly({ acus: maxAcus }, ctx.hours);
      ctx.add({
        kind: 'fixed',
        category: 'RDS Proxy',
        what: `RDS Proxy ${id} on ${minAcus}–${maxAcus} ACU of Aurora Serverless v2`,
        how: `max(${PRICES.rdsProxy.minimumAcus}, ${minAcus}) ACU × ${rate(PRICES.rdsProxy.acuHour)} × ${ctx.hours} h`,
        monthly,
        ...(upTo > monthly ? { upTo: { monthly: upTo, at: `${maxAcus} ACU` } } : {}),
        resources: [id],
        sources: ['rdsProxy'],
      });
    } else {
      const vcpus = sum(classes.map((c) => PRICES.aurora.instances[c].vcpus));
      ctx.add({
        kind: 'fixed',
        category: 'RDS Proxy',
        what: `RDS Proxy ${id} on ${vcpus} vCPU (${classes.join(', ')})`,
        how: `max(${PRICES.rdsProxy.minimumVcpus}, ${vcpus}) vCPU × ${rate(PRICES.rdsProxy.vcpuHour)} × ${ctx.hours} h`,
        monthly: rdsProxyMonthly({ vcpus }, ctx.hours),
        resources: [id],
        sources: ['rdsProxy'],
      });
    }
  }
}

// ---- Monitoring ---------------------------------------------------------------------------------------------------

/** The (hostgroup, server) rows of a rendered proxysql.cnf (the ProxySQL task's config template). */
export function configuredServers(cnf: string): Array<{ hostgroup: number }> {
  const block = /^mysql_servers=\s*\(([\s\S]*?)^\)/m.exec(cnf);
  if (!block) return [];
  return [...block[1].matchAll(/\{\s*hostgroup=(\d+)/g)].map((m) => ({ hostgroup: Number(m[1]) }));
}

/** How many custom metrics the collector publishes for a service whose config has these server rows. */
export function collectorMetricCount(servers: ReadonlyArray<{ hostgroup: number }>): { service: number; hostgroup: number; server: number; hostgroups: number; pairs: number; total: number } {
  const scopes = Object.values(METRICS).map((m) => m.scope as MetricScope);
  const service = scopes.filter((s) => s === MetricScope.SERVICE).length;
  const hostgroup = scopes.filter((s) => s === MetricScope.HOSTGROUP).length;
  const server = scopes.filter((s) => s === MetricScope.BACKEND_SERVER).length;
  const hostgroups = new Set(servers.map((s) => s.hostgroup)).size;
  const pairs = servers.length;
  return { service, hostgroup, server, hostgroups, pairs, total: service + hostgroup * hostgroups + server * pairs };
}

function containerEnvironment(ctx: Context, taskDefinitionId: string): Array<{ Name?: unknown; Value?: unknown }> {
  return listOf(ctx.props(taskDefinitionId).ContainerDefinitions).flatMap((c) => listOf(objectOf(c).Environment).map((e) => objectOf(e)));
}

function isCollector(fn: CfnResource): boolean {
  return COLLECTOR_STREAM_PREFIX_ENV in objectOf(objectOf(fn.Properties?.Environment).Variables);
}

/** The desired task count of the service a collector reads (its agents write the figures lines), 2 when unknown. */
function collectorTasks(ctx: Context, fn: CfnResource): number {
  const serviceId = logicalIdOf(objectOf(objectOf(fn.Properties?.Environment).Variables)[COLLECTOR_SERVICE_ENV]);
  return (serviceId !== undefined ? numberOf(ctx.props(serviceId).DesiredCount) : undefined) ?? 2;
}

function monitoring(ctx: Context): void {
  // Custom metrics: the ProxySQL collector's, and log metric filters'.
  const parts: string[] = [];
  let metrics = 0;
  for (const [, fn] of ctx.ofType('AWS::Lambda::Function').filter(([, f]) => isCollector(f))) {
    const serviceId = logicalIdOf(objectOf(objectOf(fn.Properties?.Environment).Variables)[COLLECTOR_SERVICE_ENV]);
    const taskDefinitionId = serviceId !== undefined ? logicalIdOf(ctx.props(serviceId).TaskDefinition) : undefined;
    const cnf = taskDefinitionId !== undefined ? containerEnvironment(ctx, taskDefinitionId).find((e) => e.Name === CONFIG_TEMPLATE_ENV) : undefined;
    let servers = cnf !== undefined ? configuredServers(textOf(cnf.Value) ?? '') : [];
    if (servers.length === 0) {
      servers = [{ hostgroup: 10 }, { hostgroup: 20 }, { hostgroup: 20 }];
      ctx.note("The ProxySQL service's configured servers could not be read from its task definition: the collector's metrics are counted for a writer and one reader.");
    }
    const count = collectorMetricCount(servers);
    metrics += count.total;
    parts.push(
      `${count.total} from the ProxySQL collector (${count.service} per service + ${count.hostgroup} × ${plural(count.hostgroups, 'hostgroup')} + ${count.server} × ${count.pairs} (hostgroup, server) rows)`,
    );
    ctx.note(
      "The collector's per-server metrics are counted for the servers in the rendered proxysql.cnf; Aurora discovery adds 4 metrics (about $1.20 a month) for each instance it finds beyond them.",
    );
  }
  for (const [id, filter] of ctx.ofType('AWS::Logs::MetricFilter')) {
    const transformations = listOf(filter.Properties?.MetricTransformations);
    metrics += transformations.length;
    if (transformations.some((t) => listOf(objectOf(t).Dimensions).length > 0)) {
      ctx.note(`Metric filter ${id} has dimensions: it publishes one metric per dimension value; counted as one.`);
    }
    parts.push(`${transformations.length} from log metric filter ${id}`);
    ctx.free(filter.Type, id);
  }
  if (metrics > 0) {
    const r = PRICES.cloudwatch.customMetricMonth;
    ctx.add({
      kind: 'fixed',
      category: 'Monitoring',
      what: `${metrics} CloudWatch custom metrics: ${parts.join('; ')}`,
      how: `${metrics} × ${rate(r)}`,
      monthly: metrics * r.usd,
      count: metrics,
      resources: [],
      sources: ['cloudwatch'],
    });
  }

  // Alarms: each metric an alarm evaluates is billed; target tracking policies make their own alarms.
  let standard = 0;
  let highResolution = 0;
  const alarms = ctx.ofType('AWS::CloudWatch::Alarm');
  for (const [, alarm] of alarms) {
    const p = alarm.Properties ?? {};
    const stats = listOf(p.Metrics).filter((m) => 'MetricStat' in objectOf(m));
    const count = stats.length > 0 ? stats.length : 1;
    const periods = [numberOf(p.Period), ...stats.map((m) => numberOf(objectOf(objectOf(m).MetricStat).Period))].filter((x): x is number => x !== undefined);
    if (periods.some((period) => period < 60)) highResolution += count;
    else standard += count;
  }
  const policies = [...ctx.ofType('AWS::ApplicationAutoScaling::ScalingPolicy'), ...ctx.ofType('AWS::AutoScaling::ScalingPolicy')].filter(
    ([, s]) => s.Properties?.PolicyType === 'TargetTrackingScaling',
  );
  const trackingAlarms = sum(
    policies.map(([, s]) => {
      const config = objectOf(s.Properties?.TargetTrackingScalingPolicyConfiguration ?? s.Properties?.TargetTrackingConfiguration);
      return config.DisableScaleIn === true ? 1 : 2;
    }),
  );
  standard += trackingAlarms;
  if (alarms.length + trackingAlarms > 0) {
    const std = PRICES.cloudwatch.alarmMetricMonth;
    const high = PRICES.cloudwatch.highResolutionAlarmMetricMonth;
    const tracking = trackingAlarms > 0 ? ` + ${trackingAlarms} that ${plural(policies.length, 'target-tracking policy', 'target-tracking policies')} create (a high and a low alarm each)` : '';
    ctx.add({
      kind: 'fixed',
      category: 'Monitoring',
      what: `CloudWatch alarms: ${plural(alarms.length, 'alarm')} in the template${tracking}`,
      how: `${standard} standard-resolution alarm metrics × ${rate(std)}${highResolution > 0 ? ` + ${highResolution} high-resolution × ${rate(high)}` : ''}`,
      monthly: standard * std.usd + highResolution * high.usd,
      count: standard + highResolution,
      resources: alarms.map(([id]) => id),
      sources: ['cloudwatch'],
    });
  }
  simpleMonthly(ctx, 'AWS::CloudWatch::Dashboard', 'Monitoring', 'CloudWatch dashboard', PRICES.cloudwatch.dashboardMonth);
}

// ---- Lambda, logs, the rest ---------------------------------------------------------------------------------------

/** Runs a month of a `rate(N unit)` schedule, or undefined for a cron expression or anything else. */
export function runsPerMonth(expression: string, hoursPerMonth: number): number | undefined {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const perHour = m[2].startsWith('minute') ? 60 / n : m[2].startsWith('hour') ? 1 / n : 1 / (24 * n);
  return perHour * hoursPerMonth;
}

function lambdaFunctions(ctx: Context): void {
  const functions = ctx.ofType('AWS::Lambda::Function');
  const onDemand: string[] = [];
  for (const [id, fn] of functions) {
    const p = fn.Properties ?? {};
    const gb = (numberOf(p.MemorySize) ?? 128) / 1024;
    const arm = listOf(p.Architectures).includes('arm64');
    const gbSecond = arm ? PRICES.lambda.arm64GbSecond : PRICES.lambda.x86GbSecond;
    const schedule = ctx
      .ofType('AWS::Events::Rule')
      .map(([, r]) => r.Properties ?? {})
      .find((r) => typeof r.ScheduleExpression === 'string' && listOf(r.Targets).some((t) => logicalIdOf(objectOf(t).Arn) === id));
    const runs = schedule ? runsPerMonth(String(schedule.ScheduleExpression), ctx.hours) : undefined;
    if (runs !== undefined) {
      const collector = isCollector(fn);
      const logGroupId = logicalIdOf(objectOf(p.LoggingConfig).LogGroup);
      const seconds = collector ? SCHEDULE_ASSUMPTIONS.collectorSeconds : SCHEDULE_ASSUMPTIONS.otherScheduledSeconds;
      const tasks = collector ? collectorTasks(ctx, fn) : 0;
      // The collector's EMF, and the figures lines the tasks' agents write for it (one a minute per task).
      const emfGb = collector ? (runs * (SCHEDULE_ASSUMPTIONS.collectorEmfKb + tasks * SCHEDULE_ASSUMPTIONS.figuresLineKb)) / 1e6 : 0;
      const emf = collector
        ? ` + ${emfGb.toFixed(3)} GB of EMF (${SCHEDULE_ASSUMPTIONS.collectorEmfKb} KB a run) and figures lines (${SCHEDULE_ASSUMPTIONS.figuresLineKb} KB a minute × ${tasks} tasks) × ${rate(PRICES.cloudwatch.logsIngestedGb)}`
        : '';
      ctx.add({
        kind: 'fixed',
        category: collector ? 'Monitoring' : 'Lambda',
        what: `Lambda ${id}${collector ? ' (the ProxySQL metrics collector)' : ''}: ${schedule?.ScheduleExpression as string}, ${Math.round(runs).toLocaleString('en-US')} runs`,
        how: `${Math.round(runs).toLocaleString('en-US')} × (${rate(PRICES.lambda.requestMillion)} + ${gb} GB × ${seconds} s × ${rate(gbSecond)})${emf}`,
        monthly: (runs / 1e6) * PRICES.lambda.requestMillion.usd + runs * gb * seconds * gbSecond.usd + emfGb * PRICES.cloudwatch.logsIngestedGb.usd,
        resources: [id, ...(collector && logGroupId !== undefined ? [logGroupId] : [])],
        sources: collector ? ['lambda', 'cloudwatch'] : ['lambda'],
      });
      continue;
    }
    const behindApi = ctx
      .ofType('AWS::Lambda::Permission')
      .some(([, perm]) => perm.Properties?.Principal === 'apigateway.amazonaws.com' && logicalIdOf(perm.Properties?.FunctionName) === id);
    if (behindApi) {
      const millions = USAGE_ASSUMPTIONS.apiFunctionInvocationMillions;
      const seconds = USAGE_ASSUMPTIONS.apiFunctionSeconds;
      ctx.add({
        kind: 'usage',
        category: 'Lambda',
        what: `Lambda ${id} (behind an API): ${gb} GB, ${arm ? 'arm64' : 'x86_64'}`,
        how: `${millions} million invocations of ${seconds} s × (${rate(PRICES.lambda.requestMillion)} + ${gb} GB × ${seconds} s × ${rate(gbSecond)})`,
        monthly: millions * PRICES.lambda.requestMillion.usd + millions * 1e6 * gb * seconds * gbSecond.usd,
        resources: [id],
        sources: ['lambda'],
      });
      continue;
    }
    onDemand.push(id);
    ctx.handled.add(id);
  }
  if (onDemand.length > 0) {
    ctx.unpricedByType.set('AWS::Lambda::Function', {
      resources: onDemand,
      reason: 'run at deploy or on events (custom resources, rotation, restarts): a few invocations a month, cents at most',
    });
  }
}

function logGroups(ctx: Context): void {
  for (const [id, group] of ctx.ofType('AWS::Logs::LogGroup')) {
    if (ctx.handled.has(id)) continue; // the collector's: its EMF is on the collector's line
    const retention = numberOf(group.Properties?.RetentionInDays);
    const gb = USAGE_ASSUMPTIONS.logGroupGb;
    const flowLog = ctx.ofType('AWS::EC2::FlowLog').some(([, f]) => logicalIdOf(f.Properties?.LogGroupName) === id);
    ctx.add({
      kind: 'usage',
      category: 'Logs',
      what: `log group ${id}${flowLog ? ' (VPC flow logs)' : ''}, ${retention !== undefined ? `kept ${retention} days` : 'kept forever'}`,
      how: `${gb} GB ingested × ${rate(PRICES.cloudwatch.logsIngestedGb)}; storage ${rate(PRICES.cloudwatch.logsStoredGbMonth)} (compressed) on top for as long as it is kept`,
      monthly: gb * PRICES.cloudwatch.logsIngestedGb.usd,
      resources: [id],
      sources: ['cloudwatch'],
    });
  }
}

function simpleMonthly(ctx: Context, type: string, category: CostCategory, what: string, price: UnitPrice): void {
  const found = ctx.ofType(type);
  if (found.length === 0) return;
  ctx.add({
    kind: 'fixed',
    category,
    what: plural(found.length, what),
    how: `${found.length} × ${rate(price)}`,
    monthly: found.length * price.usd,
    count: found.length,
    resources: found.map(([id]) => id),
    sources: [price.source],
  });
}

function httpApis(ctx: Context): void {
  for (const [id, api] of ctx.ofType('AWS::ApiGatewayV2::Api')) {
    if (api.Properties?.ProtocolType !== 'HTTP') {
      ctx.unpriced(api.Type, id, 'a WebSocket API: not in the table');
      continue;
    }
    const millions = USAGE_ASSUMPTIONS.httpApiRequestMillions;
    ctx.add({
      kind: 'usage',
      category: 'API',
      what: `HTTP API ${id}`,
      how: `${millions} million requests × ${rate(PRICES.apiGateway.httpApiMillion)}`,
      monthly: millions * PRICES.apiGateway.httpApiMillion.usd,
      resources: [id],
      sources: ['apiGateway'],
    });
  }
}
