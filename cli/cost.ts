/**
 * `cost <template>`: the monthly bill of a synthesized app, before the deploy. Reads the CloudFormation templates
 * `cdk synth` wrote (any app's, this project's reference app or yours) and prices them with the estimator and the
 * pricing table of src/cost, the code `npm run synth` runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CostEstimate, estimateTemplate, SCHEDULE_ASSUMPTIONS, USAGE_ASSUMPTIONS } from '../src/cost/estimate';
import { formatEstimate, formatUsd } from '../src/cost/format';
import { HOURS_PER_MONTH, PRICE_SOURCES, PRICING_DATE, PRICING_REGION } from '../src/cost/pricing';
import { TemplateError } from '../src/cost/template';
import { defineCommand, helpText, parseCommand } from './command-table';
import { CLI_NAME, CommandResult, UsageError } from './common';

export const COST_COMMAND = defineCommand({
  name: 'cost',
  summary: 'estimate the monthly bill of a synthesized app from its CloudFormation templates',
  usage: [`${CLI_NAME} cost [options] <cdk.out/STACK.template.json | cdk.out> …`],
  description: `Prices every resource of the templates that costs money by itself: Fargate tasks (size, count, autoscaling
maximum), load balancers, NAT gateways and their addresses, interface endpoints, Aurora capacity, RDS Proxy, the
ProxySQL collector's custom metrics, alarms, dashboards, secrets, hosted zones and scheduled functions; then what
grows with use (load balancer capacity units, NAT and endpoint data, logs, storage, requests) at an example usage
stated on each line. Prices: ${PRICING_REGION} on-demand list prices of ${PRICING_DATE}, each with its source (src/cost/pricing.ts).
A directory (cdk.out) means every *.template.json in it. Offline: nothing is looked up.`,
  positionals: true,
  options: [
    { name: 'hours', value: 'HOURS', default: String(HOURS_PER_MONTH), help: 'hours in a month (AWS prices monthly figures at 730)' },
    { name: 'summary', help: 'only the always-on lines and their total' },
    { name: 'json', help: 'machine-readable output: the estimate of each stack, the usage assumptions and the price sources' },
  ],
  epilogue: `Examples:
  npx cdk synth && ${CLI_NAME} cost cdk.out
  ${CLI_NAME} cost cdk.out/ServerlessProxySql.template.json --json`,
});

/** The templates a path names: the file itself, or every *.template.json in a directory. */
function templateFiles(given: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(given);
  } catch {
    throw new UsageError(`${given}: no such file or directory (run 'npx cdk synth' first, or give the path of a *.template.json)`);
  }
  if (!stat.isDirectory()) return [given];
  const files = fs
    .readdirSync(given)
    .filter((f) => f.endsWith('.template.json'))
    .sort()
    .map((f) => path.join(given, f));
  if (files.length === 0) throw new UsageError(`${given}: no *.template.json in this directory`);
  return files;
}

function readTemplate(file: string, hoursPerMonth: number): CostEstimate {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${error instanceof SyntaxError ? `not JSON (${error.message})` : (error as Error).message}`);
  }
  try {
    return estimateTemplate(json, { stackName: path.basename(file).replace(/\.template\.json$/, '').replace(/\.json$/, ''), hoursPerMonth });
  } catch (error) {
    if (error instanceof TemplateError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

function parseHours(text: string): number {
  const hours = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || hours <= 0 || hours > 744) {
    throw new UsageError(`--hours: '${text}' is not a number of hours in a month: use a number above 0 and at most 744 (31 days)`);
  }
  return hours;
}

export function costCommand(args: readonly string[]): CommandResult {
  try {
    const parsed = parseCommand(COST_COMMAND, args);
    if (parsed.help) return { stdout: helpText(COST_COMMAND), stderr: '', exitCode: 0 };
    if (parsed.positionals.length === 0) throw new UsageError("give a template: cdk.out/<Stack>.template.json, or cdk.out for every stack in it (run 'npx cdk synth' first)");
    const hours = parseHours(parsed.withDefault('hours'));
    const estimates = parsed.positionals.flatMap(templateFiles).map((file) => readTemplate(file, hours));
    if (parsed.flag('json')) {
      const json = { region: PRICING_REGION, pricesOf: PRICING_DATE, hoursPerMonth: hours, usageAssumptions: USAGE_ASSUMPTIONS, scheduleAssumptions: SCHEDULE_ASSUMPTIONS, sources: PRICE_SOURCES, stacks: estimates };
      return { stdout: `${JSON.stringify(json, null, 2)}\n`, stderr: '', exitCode: 0 };
    }
    const sections = estimates.map((e) => formatEstimate(e, { details: !parsed.flag('summary') }));
    if (estimates.length > 1) {
      const fixed = estimates.reduce((a, e) => a + e.fixedMonthly, 0);
      sections.push(`All ${estimates.length} stacks: ${formatUsd(fixed)} a month always on.`);
    }
    return { stdout: `${sections.join('\n\n')}\n`, stderr: '', exitCode: 0 };
  } catch (error) {
    if (error instanceof UsageError) return { stdout: '', stderr: `${CLI_NAME} cost: ${error.message}\n`, exitCode: error.exitCode };
    throw error;
  }
}
