import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { HOURS_PER_MONTH, PRICES } from '../src/cost/pricing';
import { costCommand } from './cost';
import { main, MainIo } from './main';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cost-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, content: unknown): string => {
  const file = path.join(tmp, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

const natStack = { Resources: { Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} }, Zone: { Type: 'AWS::Route53::HostedZone', Properties: {} } } };
const natMonthly = (hours: number) => PRICES.vpc.natGatewayHour.usd * hours + PRICES.route53.hostedZoneMonth.usd;
const usd = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

describe('cost', () => {
  test('prices a template file: each line, the total and the assumptions', () => {
    const file = write('out/Net.template.json', natStack);
    const result = costCommand([file]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^Monthly cost of Net: us-east-1 on-demand list prices of \d{4}-\d{2}-\d{2} \(src\/cost\/pricing\.ts\), 730 hours a month/);
    expect(result.stdout).toContain(`${usd(PRICES.vpc.natGatewayHour.usd * HOURS_PER_MONTH)}  Network: 1 NAT gateway`);
    expect(result.stdout).toContain(`${usd(natMonthly(HOURS_PER_MONTH))}  TOTAL always on`);
    expect(result.stdout).toMatch(/Grows with use, priced at the example usage on each line:\n.*NAT gateway data processed/);
    expect(result.stdout).toMatch(/Assumptions:\n {2}- 730 hours a month/);
  });

  test('a directory means every *.template.json in it, with the stacks together at the end; --hours and --summary', () => {
    write('many/A.template.json', natStack);
    write('many/B.template.json', natStack);
    write('many/manifest.json', { version: '1' });
    const result = costCommand([path.join(tmp, 'many'), '--hours', '744', '--summary']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.match(/^Monthly cost of [AB]:.*744 hours a month$/gm)).toHaveLength(2);
    expect(result.stdout).toContain(`All 2 stacks: ${usd(2 * natMonthly(744))} a month always on.`);
    expect(result.stdout).not.toMatch(/Grows with use|Assumptions/);
  });

  test('--json carries the estimate, the assumptions and the sources', () => {
    const file = write('json/Net.template.json', natStack);
    const result = costCommand([file, '--json']);
    const json = JSON.parse(result.stdout) as { region: string; hoursPerMonth: number; sources: Record<string, { page: string }>; stacks: Array<{ stackName: string; fixedMonthly: number }> };
    expect(json.region).toBe('us-east-1');
    expect(json.hoursPerMonth).toBe(HOURS_PER_MONTH);
    expect(json.sources.vpc.page).toBe('https://aws.amazon.com/vpc/pricing/');
    expect(json.stacks).toHaveLength(1);
    expect(json.stacks[0].stackName).toBe('Net');
    expect(json.stacks[0].fixedMonthly).toBeCloseTo(natMonthly(HOURS_PER_MONTH), 10);
  });

  test.each<[string, () => string[], RegExp]>([
    ['no template', () => [], /give a template: cdk\.out\/<Stack>\.template\.json, or cdk\.out/],
    ['a missing file', () => [path.join(tmp, 'none.template.json')], /none\.template\.json: no such file or directory \(run 'npx cdk synth' first/],
    ['an empty directory', () => [fs.mkdtempSync(path.join(tmp, 'empty-'))], /no \*\.template\.json in this directory/],
    ['not JSON', () => [write('bad.template.json', '{ "Resources": ')], /bad\.template\.json: not JSON/],
    ['not a template', () => [write('package.json', { name: 'x' })], /package\.json: not a CloudFormation template: it has no Resources/],
    ['bad --hours', () => [write('ok.template.json', natStack), '--hours', '0'], /--hours: '0' is not a number of hours in a month/],
    ['too many --hours', () => [write('ok2.template.json', natStack), '--hours', '800'], /at most 744/],
  ])('%s: exit 2 and a line that says what to fix', (_, args, message) => {
    const result = costCommand(args());
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^serverless-proxysql cost: /);
    expect(result.stderr).toMatch(message);
  });

  test('is a command of the CLI, with its help', async () => {
    let stdout = '';
    const io: MainIo = { stdout: (t) => (stdout += t), stderr: () => undefined, readStdin: () => '' };
    expect(await main(['cost', '--help'], io, {})).toBe(0);
    expect(stdout).toMatch(/^Usage: serverless-proxysql cost \[options\] <cdk\.out\/STACK\.template\.json \| cdk\.out>/);
    stdout = '';
    expect(await main(['--help'], io, {})).toBe(0);
    expect(stdout).toMatch(/cost\s+estimate the monthly bill of a synthesized app/);
  });
});
