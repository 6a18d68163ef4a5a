/**
 * The prices the cost estimator (./estimate.ts) uses: on-demand list prices of one region, each with the page it
 * comes from and the copy of that page (or of its figures) that was actually read. No live lookup: the machine that
 * compiled this table had no internet access, and `npm run synth` must work offline. Check the pages before
 * relying on a figure, and update the table (its date too) when they change.
 *
 * Plain data (no aws-cdk-lib), like the model floor: the CLI and the reference app read it.
 */

/** The region every price below is for. */
export const PRICING_REGION = 'us-east-1';

/** When the table was compiled from the sources below (each source says how old its own figures are). */
export const PRICING_DATE = '2026-12-03';

/** Hours in a month: AWS's own convention for monthly figures (8,760 hours a year / 12). */
export const HOURS_PER_MONTH = 730;

export interface PriceSource {
  /** The official AWS pricing page the price belongs to. */
  readonly page: string;
  /** What was read for the figures: the pricing pages render their rates in the browser, so a copy was read. */
  readonly readFrom: string;
  /** false: at least one figure of this source could not be read in any copy; it is stated from knowledge. */
  readonly confirmed: boolean;
}

/** Where each price comes from. Read on {@link PRICING_DATE} through the project's search tool (stored copies). */
export const PRICE_SOURCES = {
  fargate: {
    page: 'https://aws.amazon.com/fargate/pricing/',
    readFrom:
      'Vantage, "AWS Fargate Pricing Explained" (us-east-1 table: Linux/x86 $0.04048 per vCPU-hour and $0.004445 per GB-hour, Linux/ARM $0.03238 and $0.00356, ephemeral storage over 20 GB $0.000111 per GB-hour), https://www.vantage.sh/blog/fargate-pricing; the x86 vCPU rate cross-checked against the ECS pricing page example "$0.000011244 per vCPU second" (= $0.04048 an hour) as transcribed in api-evangelist/amazon-ecs (read 2026-09-20)',
    confirmed: true,
  },
  elb: {
    page: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
    readFrom:
      'awsnegotiations.com, "Elastic Load Balancer Cost" (May 2026: NLB $0.0225 per hour and $0.006 per NLCU-hour, ALB $0.0225 and $0.008 per LCU-hour, an NLCU is 800 new TCP connections a second); clustercost.com, "AWS Network Load Balancer Pricing (US-East-1 2025 Guide)"',
    confirmed: true,
  },
  vpc: {
    page: 'https://aws.amazon.com/vpc/pricing/',
    readFrom:
      'NAT gateway $0.045 per hour and per GB: aws/agent-toolkit-for-aws, skills/core-skills/aws-billing-and-cost-management/references/service-optimization.md ("us-east-1 approximate as of early 2026", commit d6ad2e4), agreeing with basavytix.com and cloudburn.io (February 2026); public IPv4 address $0.005 per hour (charged since 2024-02-01, Elastic IPs of NAT gateways included): AWS Networking & Content Delivery blog "Identify and optimize public IPv4 address usage on AWS" and doit.com "AWS Public IPv4 price increase"',
    confirmed: true,
  },
  privatelink: {
    page: 'https://aws.amazon.com/privatelink/pricing/',
    readFrom:
      'the page itself (interface endpoints billed per hour in each Availability Zone; data processed $0.01 per GB for the first PB) and aws/agent-toolkit-for-aws service-optimization.md ("~$0.01/hr/AZ + ~$0.01/GB")',
    confirmed: true,
  },
  aurora: {
    page: 'https://aws.amazon.com/rds/aurora/pricing/',
    readFrom:
      'aws/agent-toolkit-for-aws (AWS\'s own repository), skills/specialized-skills/database-skills/amazon-aurora-mysql/scripts/acu_calculator.py, its static us-east-1 fallback (_STATIC_LAST_UPDATED 2026-03-28: ACU-hour $0.12, I/O-Optimized $0.156, storage $0.10 and $0.225 per GiB-month, the instance classes below), and references/serverless-advisory-formulas-and-examples.md (Aurora Standard on-demand, single-AZ; I/O $0.20 per million requests; Aurora MySQL and PostgreSQL compute rates identical), commit d6ad2e4',
    confirmed: true,
  },
  rdsProxy: {
    page: 'https://aws.amazon.com/rds/proxy/pricing/',
    readFrom:
      '$0.015 per vCPU-hour of the database instances: aws/agent-toolkit-for-aws, skills/specialized-skills/database-skills/rds-oss/references/proxy-advisor-workflow.md ("RDS Proxy pricing is $0.015 per vCPU per hour in us-east-1"). NOT READ in any source available here, stated from knowledge and from this repository\'s earlier docs/architecture.md: the minimum of 2 vCPUs, the Aurora Serverless v2 rate of $0.015 per ACU-hour and its minimum of 8 ACUs — check them on the pricing page',
    confirmed: false,
  },
  cloudwatch: {
    page: 'https://aws.amazon.com/cloudwatch/pricing/',
    readFrom:
      'custom metrics $0.30 a month (first 10,000) and log storage $0.03 per GB-month: aws/agent-toolkit-for-aws service-optimization.md and signoz.io "CloudWatch Pricing" (February 2026); log ingestion $0.50 per GB and dashboards $3 a month: factualminds.com "Amazon CloudWatch Pricing" (2026-06-13); alarms $0.10 a month (standard resolution) and $0.30 (high resolution): c3x.dev "aws_cloudwatch_metric_alarm cost estimation"; free tier (3 dashboards, 10 alarm metrics, 5 GB of logs): the page itself',
    confirmed: true,
  },
  lambda: {
    page: 'https://aws.amazon.com/lambda/pricing/',
    readFrom:
      'cloudchipr.com "AWS Lambda Pricing Breakdown" (US East: arm64 $0.0000133334 and x86_64 $0.0000166667 per GB-second, first tier) and a public cost note (lambda_local_runner, docs/lambdas-md/lambda-13-cost.md: requests $0.20 per million)',
    confirmed: true,
  },
  route53: {
    page: 'https://aws.amazon.com/route53/pricing/',
    readFrom: 'ns1.com "AWS DNS—Route 53 Features, Pricing and Limitations": $0.50 per hosted zone a month for the first 25 zones',
    confirmed: true,
  },
  secretsManager: {
    page: 'https://aws.amazon.com/secrets-manager/pricing/',
    readFrom: 'hivebook.wiki "AWS Secrets Manager": $0.40 per secret a month, $0.05 per 10,000 API calls',
    confirmed: true,
  },
  apiGateway: {
    page: 'https://aws.amazon.com/api-gateway/pricing/',
    readFrom: 'awsforengineers.com "AWS API Gateway Pricing Explained" (2025-05-19) and amnic.com: HTTP APIs $1.00 per million requests for the first 300 million',
    confirmed: true,
  },
} as const satisfies Record<string, PriceSource>;

export type PriceSourceId = keyof typeof PRICE_SOURCES;

/** One price: dollars per unit, and where it comes from. */
export interface UnitPrice {
  readonly usd: number;
  /** The unit, for humans: 'vCPU-hour', 'GB-month', 'million requests'. */
  readonly per: string;
  readonly source: PriceSourceId;
}

const price = (usd: number, per: string, source: PriceSourceId): UnitPrice => ({ usd, per, source });

/** An Aurora DB instance class: its vCPUs (what RDS Proxy bills by) and its on-demand hourly price (Aurora Standard). */
export interface AuroraInstanceClass {
  readonly vcpus: number;
  readonly memoryGib: number;
  readonly hourly: UnitPrice;
}

const instance = (vcpus: number, memoryGib: number, usd: number): AuroraInstanceClass => ({ vcpus, memoryGib, hourly: price(usd, 'instance-hour', 'aurora') });

/** Every price the estimator uses, by service. */
export const PRICES = {
  fargate: {
    ARM64: { vcpuHour: price(0.03238, 'vCPU-hour', 'fargate'), gbHour: price(0.00356, 'GB-hour', 'fargate') },
    X86_64: { vcpuHour: price(0.04048, 'vCPU-hour', 'fargate'), gbHour: price(0.004445, 'GB-hour', 'fargate') },
    /** Ephemeral storage above the 20 GB every task has. */
    extraStorageGbHour: price(0.000111, 'GB-hour', 'fargate'),
    includedStorageGb: 20,
  },
  elb: {
    nlbHour: price(0.0225, 'NLB-hour', 'elb'),
    nlcuHour: price(0.006, 'NLCU-hour', 'elb'),
    albHour: price(0.0225, 'ALB-hour', 'elb'),
    lcuHour: price(0.008, 'LCU-hour', 'elb'),
  },
  vpc: {
    natGatewayHour: price(0.045, 'NAT gateway-hour', 'vpc'),
    natGatewayGb: price(0.045, 'GB processed', 'vpc'),
    publicIpv4Hour: price(0.005, 'public IPv4 address-hour', 'vpc'),
  },
  privatelink: {
    interfaceEndpointAzHour: price(0.01, 'endpoint-hour per AZ', 'privatelink'),
    interfaceEndpointGb: price(0.01, 'GB processed', 'privatelink'),
  },
  aurora: {
    acuHour: price(0.12, 'ACU-hour', 'aurora'),
    ioOptimizedAcuHour: price(0.156, 'ACU-hour (I/O-Optimized)', 'aurora'),
    /** I/O-Optimized instances cost this multiple of the Aurora Standard hourly price. */
    ioOptimizedInstanceMultiplier: 1.3,
    storageGbMonth: price(0.1, 'GiB-month', 'aurora'),
    ioOptimizedStorageGbMonth: price(0.225, 'GiB-month (I/O-Optimized)', 'aurora'),
    ioMillion: price(0.2, 'million I/O requests', 'aurora'),
    /** Aurora MySQL (and PostgreSQL: same compute rates) on-demand, Aurora Standard, single-AZ. */
    instances: {
      'db.t3.medium': instance(2, 4, 0.082),
      'db.t3.large': instance(2, 8, 0.164),
      'db.t4g.medium': instance(2, 4, 0.073),
      'db.t4g.large': instance(2, 8, 0.146),
      'db.r5.large': instance(2, 16, 0.29),
      'db.r5.xlarge': instance(4, 32, 0.58),
      'db.r5.2xlarge': instance(8, 64, 1.16),
      'db.r6g.large': instance(2, 16, 0.26),
      'db.r6g.xlarge': instance(4, 32, 0.519),
      'db.r6g.2xlarge': instance(8, 64, 1.038),
      'db.r6g.4xlarge': instance(16, 128, 2.076),
      'db.r7g.large': instance(2, 16, 0.276),
      'db.r7g.xlarge': instance(4, 32, 0.553),
      'db.r7g.2xlarge': instance(8, 64, 1.106),
      'db.r7g.4xlarge': instance(16, 128, 2.211),
      'db.r8g.large': instance(2, 16, 0.276),
      'db.r8g.xlarge': instance(4, 32, 0.552),
      'db.r8g.2xlarge': instance(8, 64, 1.104),
      'db.r8g.4xlarge': instance(16, 128, 2.208),
    } as Readonly<Record<string, AuroraInstanceClass>>,
  },
  rdsProxy: {
    vcpuHour: price(0.015, 'vCPU-hour of the database', 'rdsProxy'),
    minimumVcpus: 2,
    acuHour: price(0.015, 'ACU-hour of the database (Serverless v2)', 'rdsProxy'),
    minimumAcus: 8,
  },
  cloudwatch: {
    customMetricMonth: price(0.3, 'metric-month', 'cloudwatch'),
    alarmMetricMonth: price(0.1, 'alarm metric-month (standard resolution)', 'cloudwatch'),
    highResolutionAlarmMetricMonth: price(0.3, 'alarm metric-month (high resolution)', 'cloudwatch'),
    dashboardMonth: price(3, 'dashboard-month', 'cloudwatch'),
    logsIngestedGb: price(0.5, 'GB ingested', 'cloudwatch'),
    logsStoredGbMonth: price(0.03, 'GB-month stored', 'cloudwatch'),
  },
  lambda: {
    requestMillion: price(0.2, 'million requests', 'lambda'),
    arm64GbSecond: price(0.0000133334, 'GB-second (arm64)', 'lambda'),
    x86GbSecond: price(0.0000166667, 'GB-second (x86_64)', 'lambda'),
  },
  route53: { hostedZoneMonth: price(0.5, 'hosted zone-month', 'route53') },
  secretsManager: { secretMonth: price(0.4, 'secret-month', 'secretsManager') },
  apiGateway: { httpApiMillion: price(1, 'million HTTP API requests', 'apiGateway') },
} as const;

/** RDS Proxy's monthly price for a database of `vcpus` (provisioned instances) or `acus` (Serverless v2 capacity). */
export function rdsProxyMonthly(capacity: { readonly vcpus: number } | { readonly acus: number }, hoursPerMonth: number = HOURS_PER_MONTH): number {
  const p = PRICES.rdsProxy;
  return 'vcpus' in capacity
    ? Math.max(p.minimumVcpus, capacity.vcpus) * p.vcpuHour.usd * hoursPerMonth
    : Math.max(p.minimumAcus, capacity.acus) * p.acuHour.usd * hoursPerMonth;
}
