/**
 * Property test of `ProxySqlService` props: 200 random props objects, valid and invalid (./scenario.ts). For
 * each, either the stack synthesizes AND its template passes the secrets hygiene check and the structural
 * checks below, or construction throws an Error whose message names the prop. Never a crash from inside
 * aws-cdk-lib (a message naming no prop, a TypeError) and never a silent bad template.
 *
 * Cost: ~20-80 ms per run with CDK_VALIDATION=false. The bootstrap Lambda is really bundled (esbuild), once:
 * every App shares one outdir, and aws-cdk-lib caches a staged asset per (outdir, source, bundling options).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sessionStateRules } from '../../src/config/session-state';
import { AGENT_CONTAINER_NAME } from '../../src/constants';
import { ProxySqlBackend } from '../../src/proxysql-backend';
import { ProxySqlService, ProxySqlServiceProps } from '../../src/proxysql-service';
import { turnEventLoop } from '../support/event-loop';
import { findTemplateLeaks } from '../support/hygiene';
import { renderedConfig } from '../support/stack';
import { buildProps, DEFAULT_USERS, durationSeconds, isFargateSize, judge, Scenario, scenarioArbitrary, Verdict } from './scenario';

const SEED = 20260517;
/** 200 asked for; 500 fit in a few seconds. */
const NUM_RUNS = 500;
/** An error that names the prop it is about (the construct's, a query rule's as ProxySqlServiceProps.queryRules[i], or the bootstrap's). */
const NAMES_A_PROP = /ProxySqlServiceProps\.|DatabaseBootstrapProps\./;

interface Outcome {
  readonly scenario: Scenario;
  readonly verdict: Verdict;
  readonly synthesized: boolean;
  readonly error?: string;
  /** What is wrong with the outcome; empty when it is acceptable. */
  readonly problems: string[];
}

const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-props-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

function evaluate(scenario: Scenario): Outcome {
  const verdict = judge(scenario);
  const app = new App({ outdir });
  const stack = new Stack(app, 'PropsStack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  let template: Template;
  try {
    const props = buildProps(stack, vpc, scenario);
    new ProxySqlService(stack, 'Proxy', props);
    template = Template.fromStack(stack);
  } catch (error) {
    const message = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
    const problems: string[] = [];
    if (!(error instanceof Error) || error instanceof TypeError || !NAMES_A_PROP.test(error.message)) {
      problems.push(`crash without a prop name: ${message}`);
    } else if (verdict.expect === 'synth') {
      problems.push(`valid props rejected: ${message}`);
    }
    return { scenario, verdict, synthesized: false, error: message, problems };
  }
  const problems = verdict.expect === 'throw' ? [`invalid props accepted (${verdict.reasons.join('; ')})`] : [];
  problems.push(...templateProblems(template, scenario, verdict));
  return { scenario, verdict, synthesized: true, problems };
}

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

/** What a synthesized template must be, beyond "it synthesized". */
function templateProblems(template: Template, s: Scenario, verdict: Verdict): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const json = template.toJSON() as { Resources: Record<string, Resource> };
  const ofType = (type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);

  for (const leak of findTemplateLeaks(json)) problems.push(`hygiene: ${leak.kind} at ${leak.location}: ${leak.detail}`);

  // Fargate size: a pair from the AWS table, the one asked for.
  const [[, task]] = ofType('AWS::ECS::TaskDefinition');
  const cpu = Number(task.Properties.Cpu);
  const memory = Number(task.Properties.Memory);
  check(isFargateSize(cpu, memory), `task size ${cpu}/${memory} is not a Fargate size`);
  check(s.cpu === undefined || cpu === s.cpu, `cpu ${cpu}, asked ${s.cpu}`);
  check(s.memoryLimitMiB === undefined || memory === s.memoryLimitMiB, `memory ${memory}, asked ${s.memoryLimitMiB}`);
  const platform = task.Properties.RuntimePlatform as { CpuArchitecture: string };
  check(platform.CpuArchitecture === (s.cpuArchitecture ?? 'ARM64'), `architecture ${platform.CpuArchitecture}`);

  // Task counts and scaling.
  const desired = s.desiredCount ?? 2;
  const [[, service]] = ofType('AWS::ECS::Service');
  check(service.Properties.DesiredCount === desired, `DesiredCount ${String(service.Properties.DesiredCount)}`);
  const [[, scalable]] = ofType('AWS::ApplicationAutoScaling::ScalableTarget');
  const min = s.autoScaling?.minCapacity ?? desired;
  const max = s.autoScaling?.maxCapacity ?? min * 3;
  check(scalable.Properties.MinCapacity === min && scalable.Properties.MaxCapacity === max, `scaling ${String(scalable.Properties.MinCapacity)}..${String(scalable.Properties.MaxCapacity)}`);

  // Drain: a fixed 5 s NLB deregistration delay; the agent container drains: the bound in its env, its stop timeout =
  // drain + 10 s ≤ 120 s. ProxySQL's container has no drain setting (it exits at once on SIGTERM, after the agent).
  const drain = s.drainTimeout ? durationSeconds(s.drainTimeout) : 30;
  const [[, targetGroup]] = ofType('AWS::ElasticLoadBalancingV2::TargetGroup');
  const attributes = targetGroup.Properties.TargetGroupAttributes as Array<{ Key: string; Value: string }>;
  const delay = Number(attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value);
  const containers = task.Properties.ContainerDefinitions as Array<{ Name: string; StopTimeout: number; Environment: Array<{ Name: string; Value: unknown }> }>;
  const agent = containers.find((c) => c.Name === AGENT_CONTAINER_NAME);
  const drainEnv = Number(agent?.Environment.find((e) => e.Name === 'PROXYSQL_DRAIN_SECONDS')?.Value);
  check(delay === 5 && Number.isInteger(drainEnv) && Math.abs(drainEnv - drain) < 1, `deregistration delay ${delay} / drain env ${drainEnv} for drain ${drain} s`);
  check(agent !== undefined && agent.StopTimeout <= 120 && agent.StopTimeout === Math.min(120, drainEnv + 10), `StopTimeout ${agent?.StopTimeout} for drain ${drainEnv}`);
  const proxy = containers.find((c) => c.Name !== AGENT_CONTAINER_NAME);
  check(proxy !== undefined && !proxy.Environment.some((e) => /DRAIN/.test(e.Name)), 'the ProxySQL container has a drain setting');

  // The tasks reach the database port (and the bootstrap function, when there is one).
  const b = s.backend;
  const dbPort = b.kind === 'endpoints' ? (b.writer.port ?? 3306) : 3306;
  const egressTo = (description: RegExp): boolean => {
    const groups = ofType('AWS::EC2::SecurityGroup').filter(([, r]) => description.test(String(r.Properties.GroupDescription)));
    return groups.some(([id, group]) => {
      const rules = [
        ...((group.Properties.SecurityGroupEgress as Array<Record<string, unknown>>) ?? []),
        ...ofType('AWS::EC2::SecurityGroupEgress')
          .map(([, r]) => r.Properties)
          .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [id, 'GroupId'] })),
      ];
      return rules.some((r) => r.IpProtocol === 'tcp' && Number(r.FromPort) <= dbPort && dbPort <= Number(r.ToPort));
    });
  };
  check(egressTo(/^ProxySQL tasks/), `the ProxySQL tasks have no egress to the database port ${dbPort}`);
  const bootstraps = ofType('Custom::ProxySqlDatabaseBootstrap');
  check(bootstraps.length === (verdict.bootstrapEnabled ? 1 : 0), `${bootstraps.length} bootstrap resources, bootstrap ${verdict.bootstrapEnabled}`);
  if (verdict.bootstrapEnabled) check(egressTo(/bootstrap Lambda/), `the bootstrap function has no egress to the database port ${dbPort}`);

  // The rendered proxysql.cnf parses and says what the props said.
  let cnf: Record<string, unknown>;
  try {
    cnf = renderedConfig(template);
  } catch (error) {
    problems.push(`proxysql.cnf does not parse: ${(error as Error).message}`);
    return problems;
  }
  const users = cnf.mysql_users as Array<Record<string, unknown>>;
  check(users.length === verdict.userCount, `${users.length} mysql_users for ${verdict.userCount} users`);
  (s.users ?? DEFAULT_USERS).forEach((u, i) => {
    const expected = u.username ?? `{{param:PROXYSQL_USER_NAME_${i}}}`;
    check(users[i]?.username === expected, `mysql_users[${i}].username ${String(users[i]?.username)}, expected ${expected}`);
    check(users[i]?.password === `{{secret:mysql_user:PROXYSQL_USER_PASSWORD_${i}}}`, `mysql_users[${i}].password is not its placeholder`);
  });
  const rules = (cnf.mysql_query_rules as Array<Record<string, unknown>> | undefined) ?? [];
  // the 6 session-state rules always, the custom ones, and the 3 default split rules unless turned off
  const expectedRules = sessionStateRules().length + (s.queryRules?.length ?? 0) + ((s.defaultQueryRules ?? true) ? 3 : 0);
  check(rules.length === expectedRules, `${rules.length} query rules, expected ${expectedRules}`);
  const ids = rules.map((r) => Number(r.rule_id));
  check(ids.every((id, i) => i === 0 || id > ids[i - 1]), `rule ids not ascending: ${ids.join(',')}`);
  const variables = cnf.mysql_variables as Record<string, unknown>;
  for (const [name, value] of Object.entries(s.mysqlVariables ?? {})) {
    check(variables[name] === value, `mysql_variables.${name} is ${JSON.stringify(variables[name])}, asked ${JSON.stringify(value)}`);
  }
  for (const [name, value] of Object.entries(variables)) {
    // ProxySQL's 3.0 loader splices variable values into SQL between double quotes (src/config/secrets.ts).
    check(!(typeof value === 'string' && value.includes('"')), `mysql_variables.${name} holds a double quote, which ProxySQL's loader cannot take`);
  }
  check(variables.have_ssl === (s.clientTls ?? false), `have_ssl ${String(variables.have_ssl)}`);
  const servers = cnf.mysql_servers as Array<Record<string, unknown>>;
  const firstUserServers =
    b.kind === 'endpoints' ? 2 + b.readers.length : b.kind === 'new-aurora' ? 2 + b.readers : 1 + (b.instanceIdentifiers?.length ?? 0);
  // Each further user's own writer pool: every server again but the writer's last-resort reader row.
  const expectedServers = firstUserServers + (verdict.userCount - 1) * (firstUserServers - 1);
  check(servers.length === expectedServers, `${servers.length} mysql_servers, expected ${expectedServers}`);
  const tls = (s.backendTls ?? true) ? 1 : 0;
  check(servers.every((server) => server.use_ssl === tls), `use_ssl is not ${tls} on every server`);
  const lag = s.maxReplicaLag ? durationSeconds(s.maxReplicaLag) : 30;
  if (Number.isInteger(lag)) {
    if (b.kind === 'endpoints') {
      check(servers.slice(2, firstUserServers).every((server) => server.max_replication_lag === lag), `max_replication_lag is not ${lag}`);
    } else {
      const aurora = (cnf.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>)[0];
      check(aurora.max_lag_ms === lag * 1000, `max_lag_ms ${String(aurora.max_lag_ms)} for ${lag} s`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Known construct bugs found by this test, reported to the lead (not patched here: src/ is not ours). Each
// one is excused in the property below and pinned by its own failing test further down, until fixed.
// ---------------------------------------------------------------------------------------------------------

interface KnownBug {
  readonly id: string;
  readonly matches: (outcome: Outcome) => boolean;
}

// Construct bugs this test found, pinned until fixed. All five found so far are fixed in src/ (sub-second
// durations, mysqlVariables values and construct-owned names, imported Aurora without security groups).
const KNOWN_BUGS: KnownBug[] = [];

function knownBug(outcome: Outcome): KnownBug | undefined {
  return outcome.problems.length === 0 ? undefined : KNOWN_BUGS.find((bug) => bug.matches(outcome));
}

function describeOutcome(o: Outcome): string {
  const scenario = JSON.stringify(o.scenario, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  return `${scenario}\n  expected ${o.verdict.expect}${o.verdict.reasons.length ? ` (${o.verdict.reasons.join('; ')})` : ''}\n  ${o.problems.join('\n  ')}`;
}

describe(`ProxySqlService props: ${NUM_RUNS} random props objects (seed ${SEED})`, () => {
  let outcomes: Outcome[] = [];
  beforeAll(async () => {
    // A turn of the event loop between synths: all 500 take over a minute on a busy machine (test/support/event-loop.ts).
    outcomes = [];
    for (const scenario of fc.sample(scenarioArbitrary, { seed: SEED, numRuns: NUM_RUNS })) {
      outcomes.push(evaluate(scenario));
      await turnEventLoop();
    }
  }, 300_000);

  test('the generator covers valid and invalid props (at least 40 of each)', () => {
    const valid = outcomes.filter((o) => o.verdict.expect === 'synth').length;
    const invalid = outcomes.filter((o) => o.verdict.expect === 'throw').length;
    console.info(`props runs: ${outcomes.length}; valid ${valid}, invalid ${invalid}, either ${outcomes.length - valid - invalid}; synthesized ${outcomes.filter((o) => o.synthesized).length}`);
    expect(outcomes).toHaveLength(NUM_RUNS);
    expect(valid).toBeGreaterThanOrEqual(40);
    expect(invalid).toBeGreaterThanOrEqual(40);
    // and the invalid ones fail in many different places, not one
    const firstReasons = new Set(outcomes.filter((o) => o.verdict.expect === 'throw').map((o) => o.verdict.reasons[0].replace(/[\d'"].*$/, '')));
    expect(firstReasons.size).toBeGreaterThanOrEqual(15);
  });

  test('every invalid props object is refused with an Error naming the prop: no crash inside aws-cdk-lib', () => {
    const bad = outcomes.filter((o) => !o.synthesized && o.problems.length > 0 && !knownBug(o));
    expect(bad.map(describeOutcome)).toEqual([]);
    const refused = outcomes.filter((o) => !o.synthesized && o.problems.length === 0);
    expect(refused.length).toBeGreaterThanOrEqual(40);
    for (const o of refused) expect(o.error).toMatch(NAMES_A_PROP);
  });

  test('every accepted props object gives a clean template: hygiene, Fargate size, counts, drain, network, proxysql.cnf', () => {
    const bad = outcomes.filter((o) => o.synthesized && o.problems.length > 0 && !knownBug(o));
    expect(bad.map(describeOutcome)).toEqual([]);
    expect(outcomes.filter((o) => o.synthesized && o.problems.length === 0).length).toBeGreaterThanOrEqual(40);
  });

  test('each known construct bug is still generated and hit (a bug no run hits any more is fixed: delete it here)', () => {
    const hits = new Map<string, number>(KNOWN_BUGS.map((b) => [b.id, 0]));
    for (const o of outcomes) {
      const bug = knownBug(o);
      if (bug) hits.set(bug.id, (hits.get(bug.id) ?? 0) + 1);
    }
    console.info(`known bugs hit: ${JSON.stringify(Object.fromEntries(hits))}`);
    expect([...hits.entries()].filter(([, n]) => n === 0).map(([id]) => id)).toEqual([]);
  });
});

describe('the template checks can fail (a template with each defect is caught)', () => {
  const scenario: Scenario = { backend: { kind: 'endpoints', writer: { hostname: 'db1.internal' }, readers: [], withSecurityGroup: true, withAdminSecret: true } };
  const verdict = judge(scenario);
  const app = new App({ outdir });
  const stack = new Stack(app, 'CheckStack', { env: { account: '111111111111', region: 'eu-west-1' } });
  new ProxySqlService(stack, 'Proxy', buildProps(stack, new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }), scenario));
  const clean = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  const mutate = (change: (t: { Resources: Record<string, Resource> }) => void) => {
    const copy = JSON.parse(JSON.stringify(clean)) as { Resources: Record<string, Resource> };
    change(copy);
    return templateProblems(Template.fromJSON(copy), scenario, verdict);
  };
  const ofType = (t: { Resources: Record<string, Resource> }, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);

  test('the unchanged template has no problem', () => {
    expect(verdict.expect).toBe('synth');
    expect(templateProblems(Template.fromJSON(clean), scenario, verdict)).toEqual([]);
  });

  test.each<[string, (t: { Resources: Record<string, Resource> }) => void, RegExp]>([
    ['a task size Fargate does not offer', (t) => void (ofType(t, 'AWS::ECS::TaskDefinition')[0].Properties.Memory = '1536'), /not a Fargate size/],
    ['a literal password in a resource', (t) => void (t.Resources.Db = { Type: 'AWS::RDS::DBInstance', Properties: { MasterUserPassword: 'pw' } }), /hygiene: password-literal/],
    ['no egress from the tasks to the database', (t) => {
      for (const r of ofType(t, 'AWS::EC2::SecurityGroupEgress')) r.Properties.FromPort = r.Properties.ToPort = 1;
    }, /tasks have no egress to the database port 3306/],
    ['a stop timeout shorter than the drain', (t) => {
      const containers = ofType(t, 'AWS::ECS::TaskDefinition')[0].Properties.ContainerDefinitions as Array<{ Name: string; StopTimeout: number }>;
      (containers.find((c) => c.Name === AGENT_CONTAINER_NAME) as { StopTimeout: number }).StopTimeout = 5;
    }, /StopTimeout 5 for drain 30/],
    ['a drain setting in the ProxySQL container', (t) => {
      const containers = ofType(t, 'AWS::ECS::TaskDefinition')[0].Properties.ContainerDefinitions as Array<{ Name: string; Environment: Array<{ Name: string; Value: unknown }> }>;
      (containers.find((c) => c.Name !== AGENT_CONTAINER_NAME) as { Environment: Array<{ Name: string; Value: unknown }> }).Environment.push({ Name: 'PROXYSQL_DRAIN_SECONDS', Value: '30' });
    }, /the ProxySQL container has a drain setting/],
    ['a lost application user in proxysql.cnf', (t) => {
      const env = (ofType(t, 'AWS::ECS::TaskDefinition')[0].Properties.ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>)[0].Environment;
      const cnf = env.find((e) => e.Name === 'PROXYSQL_CONFIG_TEMPLATE') as { Value: unknown };
      cnf.Value = JSON.parse(JSON.stringify(cnf.Value).replace(/mysql_users=[^)]*\)/, 'mysql_users=\\n(\\n)')) as unknown;
    }, /0 mysql_users for 1 users/],
  ])('%s', (_name, change, problem) => {
    expect(mutate(change)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });
});

/**
 * The construct bugs this test found, each as its smallest input. They FAIL until src/ is fixed (reported to
 * the lead); then delete the matching KNOWN_BUGS entry above.
 */
describe('known construct bugs (failing until fixed in src/)', () => {
  function attempt(extra: Partial<ProxySqlServiceProps>, backend?: (stack: Stack, vpc: ec2.IVpc) => ProxySqlServiceProps['backend']) {
    const app = new App({ outdir });
    const stack = new Stack(app, 'BugStack', { env: { account: '111111111111', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const props: ProxySqlServiceProps = {
      vpc,
      backend: backend ? backend(stack, vpc) : ProxySqlBackend.endpoints({ writer: { hostname: 'db1.internal' } }),
      users: [{ username: 'app', secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:app-AbCdEf') }],
      ...extra,
    };
    try {
      new ProxySqlService(stack, 'Proxy', props);
      return { template: Template.fromStack(stack) };
    } catch (error) {
      return { error: error as Error };
    }
  }

  test.each<[string, Partial<ProxySqlServiceProps>, RegExp]>([
    ['drainTimeout of 1.5 s', { drainTimeout: Duration.millis(1500) }, /ProxySqlServiceProps\.drainTimeout/],
    ['maxReplicaLag of 0.5 s', { maxReplicaLag: Duration.millis(500) }, /ProxySqlServiceProps\.maxReplicaLag/],
  ])('a sub-second %s is rounded or refused naming the prop (today: UnscopedValidationError from Duration.toSeconds)', (_name, extra, prop) => {
    const { error } = attempt(extra);
    if (error) expect(error.message).toMatch(prop);
  });

  test.each<[string, Record<string, string | number>]>([
    ['a line break', { server_version: 'a\nb' }],
    ['a fraction', { wait_timeout: 1.5 }],
    ['more than 32 bits', { wait_timeout: 2 ** 40 }],
    ['a {{secret: opening', { server_version: '{{secret:admin:X}}' }],
  ])('a mysqlVariables value with %s is refused naming ProxySqlServiceProps.mysqlVariables (today: the renderer\'s message names no prop)', (_name, mysqlVariables) => {
    expect(attempt({ mysqlVariables }).error?.message).toMatch(/ProxySqlServiceProps\.mysqlVariables/);
  });

  test('a mysqlVariables value with a double quote is refused (ProxySQL 3.0 loader splices it into SQL unescaped; today: accepted)', () => {
    expect(attempt({ mysqlVariables: { server_version: 'a"b' } }).error?.message).toMatch(/ProxySqlServiceProps\.mysqlVariables/);
  });

  test('mysqlVariables cannot put a password in plain text into the task definition (today: monitor_password is accepted)', () => {
    const { template, error } = attempt({ mysqlVariables: { monitor_password: 'hunter2hunter2' } });
    if (error) expect(error.message).toMatch(/ProxySqlServiceProps\.mysqlVariables/);
    else expect(findTemplateLeaks(template?.toJSON() as object)).toEqual([]);
  });

  test('an imported Aurora cluster without securityGroups is refused or still reachable from the tasks (today: no egress at all)', () => {
    const { template, error } = attempt({}, (stack) =>
      ProxySqlBackend.auroraCluster(
        rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Imported', {
          clusterIdentifier: 'orders',
          clusterEndpointAddress: 'orders.cluster-c9akciq32.eu-west-1.rds.amazonaws.com',
          port: 3306,
          instanceIdentifiers: ['orders-1'],
        }),
      ),
    );
    if (error) {
      expect(error.message).toMatch(/ProxySqlServiceProps\.backend/);
      return;
    }
    const problems = templateProblems(template as Template, { backend: { kind: 'imported-aurora', endpoint: 'x.cluster-y', instanceIdentifiers: ['orders-1'], withSecurityGroup: false, withAdminSecret: false }, users: [{ username: 'app', withSecret: true }] }, { expect: 'synth', reasons: [], bootstrapEnabled: false, userCount: 1 });
    expect(problems.filter((p) => /egress/.test(p))).toEqual([]);
  });
});
