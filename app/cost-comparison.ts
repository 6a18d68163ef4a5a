/**
 * The whole bill against RDS Proxy's for the same databases, as docs/architecture.md ("Cost against RDS Proxy")
 * shows it: the ProxySQL side is the estimate of the minimal app's synthesized template (the service with its
 * defaults, app/minimal-stack.ts), the RDS Proxy and database sides come from the same pricing table.
 * `npm run docs:cost` rewrites the table in the doc; test/app/cost.test.ts fails while the doc and this disagree.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CostCategory, CostEstimate, USAGE_ASSUMPTIONS } from '../src/cost/estimate';
import { formatUsd } from '../src/cost/format';
import { HOURS_PER_MONTH, PRICES, PRICING_DATE, PRICING_REGION, rdsProxyMonthly } from '../src/cost/pricing';
import { estimateMinimalApp } from './minimal-stack';

/** A database both proxies would front: provisioned instances of one class, or Serverless v2 instances. */
export interface DatabaseScenario {
  readonly title: string;
  readonly instances: number;
  readonly instanceClass?: string;
  /** Serverless v2 capacity of each instance. */
  readonly acu?: { readonly min: number; readonly max: number };
}

export const SCENARIOS: readonly DatabaseScenario[] = [
  { title: 'db.r6g.large writer', instances: 1, instanceClass: 'db.r6g.large' },
  { title: 'db.r6g.large writer + reader', instances: 2, instanceClass: 'db.r6g.large' },
  { title: 'Serverless v2 writer + reader, 2–8 ACU each', instances: 2, acu: { min: 2, max: 8 } },
];

/** A monthly amount, or a range where the database's capacity sets it. */
export interface Amount {
  readonly min: number;
  readonly max: number;
}

const fixed = (usd: number): Amount => ({ min: usd, max: usd });
const add = (...amounts: Amount[]): Amount => ({ min: amounts.reduce((a, x) => a + x.min, 0), max: amounts.reduce((a, x) => a + x.max, 0) });
const text = (a: Amount): string => (Math.abs(a.max - a.min) < 0.005 ? formatUsd(a.min) : `${formatUsd(a.min)}–${formatUsd(a.max)}`);

export interface ScenarioBill {
  readonly scenario: DatabaseScenario;
  readonly proxysqlEstimate: CostEstimate;
  readonly database: Amount;
  readonly proxysql: Readonly<Record<'Fargate' | 'Load balancer' | 'Monitoring' | 'Secrets', Amount>>;
  readonly proxysqlLayer: Amount;
  readonly rdsProxy: Amount;
  readonly rdsProxySecret: Amount;
  readonly rdsProxyLayer: Amount;
  readonly withProxysql: Amount;
  readonly withRdsProxy: Amount;
}

export function scenarioBill(scenario: DatabaseScenario, hours: number = HOURS_PER_MONTH): ScenarioBill {
  const identifiers = Array.from({ length: scenario.instances }, (_, i) => `shop-${i + 1}`);
  const estimate = estimateMinimalApp({ instanceIdentifiers: identifiers });
  const category = (c: CostCategory) => fixed(estimate.lines.filter((l) => l.kind === 'fixed' && l.category === c).reduce((a, l) => a + l.monthly, 0));
  const proxysql = { Fargate: category('Fargate'), 'Load balancer': category('Load balancer'), Monitoring: category('Monitoring'), Secrets: category('Secrets') };
  const others = estimate.lines.filter((l) => l.kind === 'fixed' && !(l.category in proxysql));
  if (others.length > 0) throw new Error(`the minimal app has always-on lines this comparison does not show: ${others.map((l) => l.what).join('; ')}`);
  const proxysqlLayer = add(...Object.values(proxysql));
  let database: Amount;
  let rdsProxy: Amount;
  if (scenario.acu) {
    const acu = PRICES.aurora.acuHour.usd;
    database = { min: scenario.instances * scenario.acu.min * acu * hours, max: scenario.instances * scenario.acu.max * acu * hours };
    rdsProxy = { min: rdsProxyMonthly({ acus: scenario.instances * scenario.acu.min }, hours), max: rdsProxyMonthly({ acus: scenario.instances * scenario.acu.max }, hours) };
  } else {
    const instance = PRICES.aurora.instances[scenario.instanceClass ?? ''];
    if (!instance) throw new Error(`${scenario.instanceClass} is not in the pricing table`);
    database = fixed(scenario.instances * instance.hourly.usd * hours);
    rdsProxy = fixed(rdsProxyMonthly({ vcpus: scenario.instances * instance.vcpus }, hours));
  }
  // RDS Proxy reads each database user's credentials from a Secrets Manager secret: one for the app user.
  const rdsProxySecret = fixed(PRICES.secretsManager.secretMonth.usd);
  const rdsProxyLayer = add(rdsProxy, rdsProxySecret);
  return {
    scenario,
    proxysqlEstimate: estimate,
    database,
    proxysql,
    proxysqlLayer,
    rdsProxy,
    rdsProxySecret,
    rdsProxyLayer,
    withProxysql: add(database, proxysqlLayer),
    withRdsProxy: add(database, rdsProxyLayer),
  };
}

/** The generated block of docs/architecture.md: the table and the figures around it. */
export function costComparisonMarkdown(bills: readonly ScenarioBill[] = SCENARIOS.map((s) => scenarioBill(s))): string {
  const first = bills[0].proxysqlEstimate;
  const fargate = first.lines.find((l) => l.category === 'Fargate');
  const metrics = (b: ScenarioBill) => String(b.proxysqlEstimate.lines.find((l) => /custom metrics/.test(l.what))?.count ?? '?');
  const rowOf = (label: string, pick: (b: ScenarioBill) => Amount, bold = false) =>
    `| ${bold ? `**${label}**` : label} | ${bills.map((b) => (bold ? `**${text(pick(b))}**` : text(pick(b)))).join(' | ')} |`;
  const vcpus = (b: ScenarioBill) => (b.scenario.acu ? `${b.scenario.instances * b.scenario.acu.min}–${b.scenario.instances * b.scenario.acu.max} ACU` : `${b.scenario.instances * (PRICES.aurora.instances[b.scenario.instanceClass ?? '']?.vcpus ?? 0)} vCPU`);
  const p = PRICES.rdsProxy;
  const nlcu = USAGE_ASSUMPTIONS.loadBalancerCapacityUnits * PRICES.elb.nlcuHour.usd * HOURS_PER_MONTH;
  const perServer = 4 * PRICES.cloudwatch.customMetricMonth.usd;
  if (!fargate?.count) throw new Error('the minimal app has no Fargate line with a task count');
  const perTask = fargate.monthly / fargate.count;
  const unit = (usd: number) => `$${usd}`;
  return [
    `Per month, ${PRICING_REGION} on-demand list prices of ${PRICING_DATE} (src/cost/pricing.ts), ${HOURS_PER_MONTH} hours; computed by \`npm run docs:cost\` from the estimate of the minimal app's template (app/minimal-stack.ts: the service with its defaults in an existing VPC and cluster).`,
    '',
    `| | ${bills.map((b) => b.scenario.title).join(' | ')} |`,
    `|---|${bills.map(() => '---').join('|')}|`,
    rowOf('the database (the same either way)', (b) => b.database),
    rowOf(`ProxySQL: ${fargate.what.replace(/^ECS service \S+: /, '')}`, (b) => b.proxysql.Fargate),
    rowOf('ProxySQL: Network Load Balancer, hours', (b) => b.proxysql['Load balancer']),
    rowOf(`ProxySQL: monitoring (${bills.map(metrics).join(' / ')} custom metrics, alarms, dashboard, collector)`, (b) => b.proxysql.Monitoring),
    rowOf('ProxySQL: secrets (admin, stats, monitor, app user)', (b) => b.proxysql.Secrets),
    rowOf('ProxySQL layer', (b) => b.proxysqlLayer, true),
    rowOf(`RDS Proxy (${bills.map(vcpus).join(' / ')})`, (b) => b.rdsProxy),
    rowOf("RDS Proxy: the app user's secret", (b) => b.rdsProxySecret),
    rowOf('RDS Proxy layer', (b) => b.rdsProxyLayer, true),
    rowOf('whole bill with ProxySQL', (b) => b.withProxysql, true),
    rowOf('whole bill with RDS Proxy', (b) => b.withRdsProxy, true),
    '',
    `RDS Proxy is billed ${unit(p.vcpuHour.usd)} per vCPU-hour of the instances it fronts (at least ${p.minimumVcpus} vCPUs) and, for Aurora Serverless v2, ${unit(p.acuHour.usd)} per ACU-hour of the cluster's capacity (at least ${p.minimumAcus} ACUs): the ranges run from the instances' minimum to their maximum capacity. NOT CONFIRMED: the minimums and the per-ACU rate could not be read in any source available when the table was compiled; check https://aws.amazon.com/rds/proxy/pricing/.`,
    '',
    `On top of the ProxySQL layer, with traffic: NLB capacity units at ${unit(PRICES.elb.nlcuHour.usd)} per NLCU-hour (${formatUsd(nlcu)} a month per average NLCU: 1 GB an hour or 800 new connections a second), ${formatUsd(perTask)} a month for each task autoscaling adds, and ${formatUsd(perServer)} a month of metrics for each database instance Aurora discovery adds. RDS Proxy has no traffic charge; its cost follows the database's size instead.`,
  ].join('\n');
}

export const ARCHITECTURE_DOC = path.join(__dirname, '..', 'docs', 'architecture.md');
const BEGIN = '<!-- generated: cost comparison (npm run docs:cost; computed by app/cost-comparison.ts, edit there) -->';
const END = '<!-- end generated -->';

/** `doc` with the generated block replaced by `block`. Throws if its markers are missing. */
export function updateCostComparison(doc: string, block: string): string {
  const start = doc.indexOf(BEGIN);
  const end = start < 0 ? -1 : doc.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error(`docs/architecture.md: no generated cost comparison: add the lines ${BEGIN} and ${END}`);
  return `${doc.slice(0, start)}${BEGIN}\n${block}\n${doc.slice(end)}`;
}

if (require.main === module) {
  const before = fs.readFileSync(ARCHITECTURE_DOC, 'utf8');
  const after = updateCostComparison(before, costComparisonMarkdown());
  if (after !== before) fs.writeFileSync(ARCHITECTURE_DOC, after);
  process.stdout.write(`${path.relative(process.cwd(), ARCHITECTURE_DOC)}: ${after === before ? 'up to date' : 'updated'}\n`);
}
