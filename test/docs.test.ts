/**
 * Docs that cannot drift: every default, count and claim in README.md and docs/ that the code determines is checked
 * here against the code (or generated from it: docs/cli.md's tables by `npm run docs:cli`, API.md by jsii-docgen).
 * The sources of truth: the props' `@default` tags (read from the TypeScript source with the compiler's own JSDoc
 * parser, the text jsii copies into the assembly and API.md), the constants, and the reference app as `npm run synth`
 * synthesizes it. CLAIMS below is the one table of the claims checked; a doc that rewords a claim must keep a
 * pattern here matching, or the test fails with "claim not found".
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildReferenceApp } from '../app/build-app';
import { synthesizeReferenceApp } from '../app/synth';
import { CONFIG_KEYS } from '../cli/config-file';
import { DEFAULT_MAX_CLIENT_CONNECTIONS, NLB_DEREGISTRATION_DELAY_SECONDS, PROXYSQL_IMAGE } from '../src/constants';
import { ASSUMED_DATABASE_MAX_CONNECTIONS, MONITOR_CONNECTIONS_PER_SERVER, writerConnectionBudget } from '../src/config/connection-budget';
import { RANGES } from '../src/config/rules';
import { ReadConsistency } from '../src/config/session-state';
import { renderedConfig } from './support/stack';

const ROOT = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

test("every stats_mysql_global variable the figures read, and docs/operations.md names, exists in the real 2.7.1 capture", async () => {
  const { FIGURES_GLOBALS, FIGURES_MEMORY_GLOBALS } = await import('../src/config/figures');
  const captured = new Set(read('test/fixtures/proxysql-2.7.1/stats_mysql_global.tsv').split('\n').map((line) => line.split('\t')[0]));
  const ops = read('docs/operations.md');
  const section = ops.slice(ops.indexOf('### Other signals in stats_mysql_global'));
  const documented = [...section.matchAll(/^\| `([A-Za-z_]+)`/gm)].map((m) => m[1]);
  expect(documented.length).toBeGreaterThan(2);
  const names = [...Object.values(FIGURES_GLOBALS), ...FIGURES_MEMORY_GLOBALS, ...documented];
  expect(names.filter((n) => !captured.has(n))).toEqual([]);
});

test('README.md\'s Python snippet is the part of the Python reference app that npm run test:python synthesizes', () => {
  const app = read('app/python/reference_stack.py');
  const region = /^( *)# \[README:python\]\n([\s\S]*?)^ *# \[\/README:python\]$/m.exec(app);
  if (!region) throw new Error('app/python/reference_stack.py has no # [README:python] … # [/README:python] region');
  const indent = new RegExp(`^${region[1]}`, 'gm');
  const snippet = region[2].replace(indent, '').trimEnd();
  const blocks = [...read('README.md').matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1].trimEnd());
  expect(blocks).toEqual([snippet]);
});

test('docs/operations.md ("Monitoring") names every metric the collector publishes', async () => {
  const { METRICS } = await import('../src/config/metrics');
  const ops = read('docs/operations.md');
  const section = ops.slice(ops.indexOf('## Monitoring'));
  expect(Object.values(METRICS).map((m) => m.name).filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
});

// ---- the props' @default tags ------------------------------------------------------------------------------

/** `Interface.prop` → the text of its `@default` tag, for every interface of `file`. */
function jsdocDefaults(file: string): Map<string, string> {
  const source = ts.createSourceFile(file, read(file), ts.ScriptTarget.Latest, true);
  const defaults = new Map<string, string>();
  for (const node of source.statements) {
    if (!ts.isInterfaceDeclaration(node)) continue;
    for (const member of node.members) {
      const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
      if (tag && member.name) defaults.set(`${node.name.text}.${member.name.getText(source)}`, (ts.getTextOfJSDocComment(tag.comment) ?? '').trim());
    }
  }
  return defaults;
}

const PROP_DEFAULTS = new Map([...jsdocDefaults('src/proxysql-service-props.ts'), ...jsdocDefaults('src/proxysql-monitoring.ts')]);

/**
 * The value an `@default` states: `20 - measured …` → `20`; `- desiredCount` (computed, no literal) → `desiredCount`;
 * `Duration.seconds(30)` → `30 s`; an enum member → its value.
 */
function defaultValue(key: string): string {
  const text = PROP_DEFAULTS.get(key);
  if (text === undefined) throw new Error(`no @default on ${key}`);
  // a computed default: its first words (`- unknown: synth warns …` → `unknown`)
  const value = text.startsWith('- ') ? text.slice(2).split(/[:;(]/)[0].trim() : text.split(/ - /)[0];
  const seconds = /^Duration\.seconds\((\d+)\)$/.exec(value);
  if (seconds) return `${seconds[1]} s`;
  if (value === 'ReadConsistency.READ_YOUR_WRITES') return ReadConsistency.READ_YOUR_WRITES;
  return value.replace(/`/g, '');
}

describe('the props’ @default tags are what the construct does (the reference app keeps these defaults)', () => {
  const { stack } = buildReferenceApp(new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'spx-docs-defaults-')) }));
  const template = Template.fromStack(stack);
  const only = (type: string) => Object.values(template.findResources(type))[0].Properties as Record<string, unknown>;
  const taskDefinition = only('AWS::ECS::TaskDefinition') as {
    Cpu: string;
    Memory: string;
    ContainerDefinitions: Array<{ Name: string; StopTimeout: number; Environment: Array<{ Name: string; Value: unknown }> }>;
  };
  const cnf = renderedConfig(template) as { mysql_variables: Record<string, unknown>; mysql_servers: Array<{ hostgroup: number; max_connections: number; comment: string }> };
  const cpuPolicy = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'))
    .map((p) => p.Properties.TargetTrackingScalingPolicyConfiguration)
    .find((c) => c.PredefinedMetricSpecification?.PredefinedMetricType === 'ECSServiceAverageCPUUtilization');
  // the agent container drains (the ProxySQL container has no drain setting)
  const drain = taskDefinition.ContainerDefinitions.find((c) => c.Name === 'agent')?.Environment.find((e) => e.Name === 'PROXYSQL_DRAIN_SECONDS')?.Value;

  test.each([
    ['ProxySqlServiceProps.desiredCount', () => String(only('AWS::ECS::Service').DesiredCount)],
    ['ProxySqlServiceProps.cpu', () => taskDefinition.Cpu],
    ['ProxySqlServiceProps.memoryLimitMiB', () => taskDefinition.Memory],
    ['ProxySqlServiceProps.maxClientConnections', () => String(cnf.mysql_variables.max_connections)],
    ['ProxySqlServiceProps.maxBackendConnectionsPerServer', () => String(cnf.mysql_servers.find((s) => s.hostgroup === 10)?.max_connections)],
    ['ProxySqlServiceProps.drainTimeout', () => `${String(drain)} s`],
    ['ProxySqlAutoScaling.targetCpuUtilizationPercent', () => String(cpuPolicy.TargetValue)],
    ['ProxySqlAutoScaling.maxCapacity', () => (Number(only('AWS::ApplicationAutoScaling::ScalableTarget').MaxCapacity) === 3 * Number(only('AWS::ECS::Service').DesiredCount) ? '3 × minCapacity' : 'something else')],
  ])('%s', (key, synthesized) => {
    expect(synthesized()).toBe(defaultValue(key));
  });
});

// ---- the claims ----------------------------------------------------------------------------------------------

interface ReferenceApp {
  /** `npm run synth`'s output, offline (no region). */
  readonly text: string;
  /** The same with CDK_DEFAULT_REGION set, as `cdk deploy` does. */
  readonly textWithRegion: string;
  readonly template: Template;
  readonly monitoringAlarmIds: string[];
}

let app: ReferenceApp;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-docs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => {
  const saved = { region: process.env.CDK_DEFAULT_REGION, account: process.env.CDK_DEFAULT_ACCOUNT };
  const restore = () => {
    for (const [name, value] of [['CDK_DEFAULT_REGION', saved.region], ['CDK_DEFAULT_ACCOUNT', saved.account]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  try {
    delete process.env.CDK_DEFAULT_REGION;
    delete process.env.CDK_DEFAULT_ACCOUNT;
    const { stack } = buildReferenceApp(new App({ outdir: path.join(tmp, 'tree') }));
    const text = synthesizeReferenceApp(path.join(tmp, 'offline')).text;
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    const textWithRegion = synthesizeReferenceApp(path.join(tmp, 'region')).text;
    app = {
      text,
      textWithRegion,
      template: Template.fromStack(stack),
      monitoringAlarmIds: (stack.proxy.monitoring?.alarms ?? []).map((a) => a.node.id),
    };
  } finally {
    restore();
  }
}, 120_000);

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
/** A count as a doc may write it: `11` or `eleven`. */
const count = (text: string) => (/^\d+$/.test(text) ? Number(text) : WORDS.indexOf(text.toLowerCase()));

interface Claim {
  /** What the doc claims, in words. */
  readonly claim: string;
  readonly file: string;
  /** Every match's first group is the claimed value (global flag added). */
  readonly pattern: RegExp;
  /** The claimed value as the code determines it, as text comparable with the capture. */
  readonly truth: () => string;
  /** How a capture is read before comparing (default: as it is). */
  readonly read?: (captured: string) => string;
}

const alarmCount = () => String(Object.keys(app.template.findResources('AWS::CloudWatch::Alarm')).length);
const templateOf = (type: string) => Object.values(app.template.findResources(type))[0].Properties as Record<string, unknown>;
const scalingCooldowns = () =>
  Object.values(app.template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map((p) => {
    const c = p.Properties.TargetTrackingScalingPolicyConfiguration as { ScaleOutCooldown: number; ScaleInCooldown: number };
    return `${c.ScaleOutCooldown / 60}/${c.ScaleInCooldown / 60}`;
  });

const CLAIMS: Claim[] = [
  // counts
  { claim: 'the alarms a default deploy makes', file: 'README.md', pattern: /\b(\w+) alarms[ ,]/, truth: alarmCount, read: (c) => String(count(c)) },
  { claim: 'the alarms on ProxySQL’s metrics (ProxySqlMonitoring)', file: 'README.md', pattern: /alarms \((\d+) on ProxySQL's metrics/, truth: () => String(app.monitoringAlarmIds.length) },
  { claim: 'alarms in the monitoring cost table', file: 'docs/architecture.md', pattern: /\| alarms \| (\d+) \(/, truth: () => String(app.monitoringAlarmIds.length) },
  // defaults the README states
  {
    claim: 'the default tasks',
    file: 'README.md',
    pattern: /What you get by default: (\d+ \w+ Fargate tasks \([\d.]+ vCPU \/ [\d.]+ GiB\))/,
    truth: () => {
      const task = templateOf('AWS::ECS::TaskDefinition') as { Cpu: string; Memory: string; RuntimePlatform: { CpuArchitecture: string } };
      return `${String(templateOf('AWS::ECS::Service').DesiredCount)} ${task.RuntimePlatform.CpuArchitecture} Fargate tasks (${Number(task.Cpu) / 1024} vCPU / ${Number(task.Memory) / 1024} GiB)`;
    },
  },
  { claim: 'minHealthyPercent', file: 'README.md', pattern: /`minHealthyPercent`\s+(\d+)/, truth: () => String((templateOf('AWS::ECS::Service').DeploymentConfiguration as { MinimumHealthyPercent: number }).MinimumHealthyPercent) },
  { claim: 'the NLB deregistration delay', file: 'README.md', pattern: /a (\d+) s NLB deregistration delay/, truth: () => String(NLB_DEREGISTRATION_DELAY_SECONDS) },
  { claim: 'the NLB deregistration delay', file: 'docs/operations.md', pattern: /\*\*deregistration\s+delay\*\* is (\d+) s/, truth: () => String(NLB_DEREGISTRATION_DELAY_SECONDS) },
  { claim: 'the pinned image', file: 'README.md', pattern: /`(proxysql\/proxysql:[^`]+)`/, truth: () => PROXYSQL_IMAGE },
  ...['docs/architecture.md', 'docs/operations.md', 'docs/cli.md', 'docs/real-proxysql.md'].map(
    (file): Claim => ({ claim: 'the pinned image', file, pattern: /(proxysql\/proxysql:[0-9][^`'\s)]*)/, truth: () => PROXYSQL_IMAGE }),
  ),
  // defaults docs/operations.md states outside the Scale table (which is checked whole below)
  { claim: 'drainTimeout’s default', file: 'docs/operations.md', pattern: /`drainTimeout`, default (\d+ s)/, truth: () => defaultValue('ProxySqlServiceProps.drainTimeout') },
  { claim: 'the connection scaling target', file: 'docs/operations.md', pattern: /half of `maxClientConnections`, ([\d,]+)\)/, truth: () => String(DEFAULT_MAX_CLIENT_CONNECTIONS / 2), read: (c) => c.replace(/,/g, '') },
  { claim: 'scaling cooldowns (out/in, minutes)', file: 'docs/operations.md', pattern: /[Ss]cale-out cooldown (?:is )?(\d+ minutes?, scale-in(?: cooldown)? \d+) minutes/, truth: () => [...new Set(scalingCooldowns())].join(), read: (c) => c.replace(/ minutes?, scale-in(?: cooldown)? /, '/') },
  { claim: 'MultiplexingLow’s ratio threshold', file: 'docs/operations.md', pattern: /`MultiplexingRatio` < (\d+)\*/, truth: () => defaultValue('ProxySqlAlarmThresholds.multiplexingRatio') },
  { claim: 'MultiplexingLow’s client floor', file: 'docs/operations.md', pattern: /`ClientConnections` ≥ (\d+)\*/, truth: () => defaultValue('ProxySqlAlarmThresholds.multiplexingMinClientConnections') },
  { claim: 'ClientConnectionsNearLimit’s threshold', file: 'docs/operations.md', pattern: /`ClientConnectionsUsedPercent` ≥ (\d+)\*/, truth: () => defaultValue('ProxySqlAlarmThresholds.clientConnectionsPercent') },
  { claim: 'TaskCpuHigh’s threshold', file: 'docs/operations.md', pattern: /ECS `CPUUtilization` ≥ (\d+)\*/, truth: () => defaultValue('ProxySqlAlarmThresholds.cpuUtilizationPercent') },
  { claim: 'TaskMemoryHigh’s threshold', file: 'docs/operations.md', pattern: /ECS `MemoryUtilization` ≥ (\d+)\*/, truth: () => defaultValue('ProxySqlAlarmThresholds.memoryUtilizationPercent') },
  // docs/architecture.md
  {
    claim: 'the default connection budget',
    file: 'docs/operations.md',
    pattern: /with the\s+defaults (\d+ × \(\d+ \+ \d+ \+ \d+\) \+ \d+ = \d+)/,
    truth: () => {
      const n = Number(defaultValue('ProxySqlServiceProps.maxBackendConnectionsPerServer'));
      const tasks = Number(templateOf('AWS::ApplicationAutoScaling::ScalableTarget').MaxCapacity);
      const b = writerConnectionBudget(n, tasks, true);
      return `${tasks} × (${n} + ${b.poolPerTask - n} + ${MONITOR_CONNECTIONS_PER_SERVER}) + ${b.bootstrap} = ${b.total}`;
    },
  },
  { claim: 'the assumed max_connections', file: 'docs/operations.md', pattern: /or ([\d,]+) when it is not given/, truth: () => String(ASSUMED_DATABASE_MAX_CONNECTIONS), read: (c) => c.replace(/,/g, '') },
  { claim: 'the pool cap', file: 'docs/architecture.md', pattern: /Backend pool: at most (\d+) connections per server/, truth: () => defaultValue('ProxySqlServiceProps.maxBackendConnectionsPerServer') },
  {
    claim: 'the pool cap’s range',
    file: 'docs/architecture.md',
    pattern: /`maxBackendConnectionsPerServer` ([\d,]+-[\d,]+)/,
    truth: () => `${RANGES.maxBackendConnectionsPerServer.min}-${RANGES.maxBackendConnectionsPerServer.max}`,
    read: (c) => c.replace(/,/g, ''),
  },
];

describe('README.md and docs/ say what the code does', () => {
  test.each(CLAIMS.map((c) => [`${c.file}: ${c.claim}`, c] as const))('%s', (_name, c) => {
    const found = [...read(c.file).matchAll(new RegExp(c.pattern.source, `${c.pattern.flags.replace('g', '')}g`))].map((m) => (c.read ?? ((x: string) => x))(m[1]));
    expect(found.length, `claim not found in ${c.file}: ${c.pattern}`).toBeGreaterThan(0);
    expect(found).toEqual(found.map(() => c.truth()));
  });

  test('docs/operations.md "Scale": every Default is the prop’s @default', () => {
    const ops = read('docs/operations.md');
    const table = ops.slice(ops.indexOf('## Scale'), ops.indexOf('Scale-out cooldown'));
    const rows = [...table.matchAll(/^\| (`[^|]+) \| ([^|]+) \| [^|]+ \|$/gm)].map((m) => ({ props: m[1], defaults: m[2].trim() }));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const mismatches: string[] = [];
    for (const row of rows) {
      // `a` / `b` | x / y: one default per prop, in order; `autoScaling.x` is ProxySqlAutoScaling.x
      const props = [...row.props.matchAll(/`([\w.]+)`/g)].map((m) => m[1]);
      const stated = row.defaults.split(' / ').map((d) => d.replace(/`/g, '').trim());
      const prefix = props[0].startsWith('autoScaling.') ? 'autoScaling.' : '';
      props.forEach((prop, i) => {
        const name = prop.startsWith('autoScaling.') || !prefix ? prop : `${prefix}${prop}`;
        const key = name.startsWith('autoScaling.') ? `ProxySqlAutoScaling.${name.slice('autoScaling.'.length)}` : `ProxySqlServiceProps.${name}`;
        if (stated[i] !== defaultValue(key)) mismatches.push(`${prop}: docs say ${stated[i]}, @default says ${defaultValue(key)}`);
      });
    }
    expect(mismatches).toEqual([]);
  });

  test('docs/operations.md "Alarms" lists exactly the alarms ProxySqlMonitoring creates', () => {
    const ops = read('docs/operations.md');
    const section = ops.slice(ops.indexOf('### Alarms'), ops.indexOf('### Dashboard'));
    const listed = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(app.monitoringAlarmIds);
  });

  test('docs/cli.md: each --config key’s default is the construct prop’s @default', () => {
    const mismatches = Object.entries(CONFIG_KEYS)
      .filter(([, spec]) => PROP_DEFAULTS.has(`ProxySqlServiceProps.${spec.prop.split(' ')[0]}`))
      .map(([key, spec]) => {
        const prop = defaultValue(`ProxySqlServiceProps.${spec.prop.split(' ')[0]}`);
        return spec.default === prop || `${spec.default} s` === prop ? undefined : `${key}: ${spec.default} vs @default ${prop}`;
      })
      .filter((m) => m !== undefined);
    expect(Object.keys(CONFIG_KEYS).length).toBeGreaterThan(10);
    expect(mismatches).toEqual([]);
  });

  describe('backend TLS: verified where the region is known, and the docs say when it is not', () => {
    const unverified = /backendTlsUnverified/;

    test('npm run synth offline warns backendTlsUnverified and says that a region makes it go away', () => {
      // (booleans, not toMatch: a failure would print the whole synth output)
      expect(unverified.test(app.text), 'the offline synth warns backendTlsUnverified').toBe(true);
      expect(/CDK_DEFAULT_REGION/.test(app.text), 'the offline synth output names CDK_DEFAULT_REGION').toBe(true);
    });

    test('with CDK_DEFAULT_REGION (what cdk deploy sets) the warning is gone and the RDS CAs are in the task', () => {
      expect(unverified.test(app.textWithRegion), 'with a region the synth still warns backendTlsUnverified').toBe(false);
      expect(/ssl_p2s_ca="\/var\/lib\/proxysql\/backend-ca\.pem"/.test(app.textWithRegion), 'with a region ProxySQL verifies against the RDS CAs').toBe(true);
    });

    test('README states the condition where it claims verification, and what removes the warning', () => {
      const paragraphs = read('README.md').split(/\n\s*\n/);
      const claim = paragraphs.find((p) => p.includes('TLS to the database verified'));
      expect(claim, 'README: the claim of verified TLS').toBeDefined();
      expect(claim).toMatch(/region/);
      expect(claim).toMatch(unverified);
      expect(paragraphs.filter((p) => unverified.test(p) && /CDK_DEFAULT_REGION/.test(p))).not.toEqual([]);
    });
  });
});

test('the stack the claims are read from is the reference app (not an empty one)', () => {
  expect(Number(alarmCount())).toBeGreaterThan(5);
  expect(app.monitoringAlarmIds.length).toBeGreaterThan(5);
});
