/**
 * Random `ProxySqlServiceProps` for the property test: plain data (a {@link Scenario}), an oracle that says
 * from the documented rules alone whether the construct must accept it, must reject it, or may do either,
 * and a builder that turns the data into real props inside a stack.
 *
* Generation: every field has a pool of valid values (boundaries included) and a pool of invalid ones; a
 * scenario corrupts zero to two fields, so about a third of the runs are valid and the rest fail in one or two
 * places (cross-field rules — users vs the backend's admin secret, bootstrap vs database security groups,
 * duplicates — add more). The oracle does not look at which field was corrupted: it re-derives the verdict
 * from the values, so a valid-pool value that is invalid in context is still expected to fail.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { ProxySqlBackend } from '../../src/proxysql-backend';
import { ProxySqlServiceProps, ProxySqlUser } from '../../src/proxysql-service';
import { QueryRuleInput, QueryRuleSpec } from '../../src/config/query-rules';
import { ALLOWED_PRIVILEGES, normalisePrivilege, RANGES, RESERVED_USERNAMES } from '../../src/config/rules';
import { DEFAULT_APP_PRIVILEGES } from '../../src/constants';

export interface DurationSpec {
  readonly unit: 'seconds' | 'millis' | 'minutes';
  readonly amount: number;
}

/** What a ProxySqlService without `users` serves: a generated user `app`, created by the bootstrap step. */
export const DEFAULT_USERS: readonly UserScenario[] = [{ username: 'app', withSecret: false }];

export interface UserScenario {
  readonly username?: string;
  readonly withSecret: boolean;
  readonly createOnBackend?: boolean;
  readonly schema?: string;
  readonly privileges?: readonly string[];
  readonly maxConnections?: number;
}

export interface EndpointScenario {
  readonly hostname: string;
  readonly port?: number;
}

export type BackendScenario =
  | { readonly kind: 'new-aurora'; readonly readers: number }
  | {
      readonly kind: 'endpoints';
      readonly writer: EndpointScenario;
      readonly readers: readonly EndpointScenario[];
      readonly withSecurityGroup: boolean;
      readonly withAdminSecret: boolean;
      readonly checkType?: string;
    }
  | {
      readonly kind: 'imported-aurora';
      readonly endpoint: string;
      readonly instanceIdentifiers?: readonly string[];
      readonly withSecurityGroup: boolean;
      readonly withAdminSecret: boolean;
    };

export interface Scenario {
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  readonly desiredCount?: number;
  readonly autoScaling?: { readonly minCapacity?: number; readonly maxCapacity?: number; readonly targetCpuUtilizationPercent?: number };
  readonly drainTimeout?: DurationSpec;
  readonly maxReplicaLag?: DurationSpec;
  readonly maxClientConnections?: number;
  readonly maxBackendConnectionsPerServer?: number;
  readonly users?: readonly UserScenario[];
  readonly monitorUsername?: string;
  readonly bootstrap?: boolean;
  readonly queryRules?: readonly QueryRuleInput[];
  readonly defaultQueryRules?: boolean;
  readonly mysqlVariables?: Record<string, string | number | boolean>;
  readonly backend: BackendScenario;
  readonly backendTls?: boolean;
  readonly clientTls?: boolean;
  readonly cpuArchitecture?: 'ARM64' | 'X86_64';
  readonly restartOnSecretRotation?: boolean;
}

/**
 * Valid Fargate task sizes, CPU units → memory MiB, copied from the AWS table
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size),
 * not from the construct.
 */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

export function isFargateSize(cpu: number, memory: number): boolean {
  return (FARGATE_SIZES[cpu] ?? []).includes(memory);
}

export function toDuration(spec: DurationSpec): Duration {
  return spec.unit === 'seconds' ? Duration.seconds(spec.amount) : spec.unit === 'millis' ? Duration.millis(spec.amount) : Duration.minutes(spec.amount);
}

export function durationSeconds(spec: DurationSpec): number {
  return spec.unit === 'seconds' ? spec.amount : spec.unit === 'millis' ? spec.amount / 1000 : spec.amount * 60;
}

// ---------------------------------------------------------------------------------------------------------
// Pools: valid (boundaries included) and invalid values of each field
// ---------------------------------------------------------------------------------------------------------

const validCpuMemory = fc.oneof(
  fc.constant<Pick<Scenario, 'cpu' | 'memoryLimitMiB'>>({}),
  fc.constantFrom(...Object.keys(FARGATE_SIZES).map(Number)).map((cpu) => ({ cpu })),
  fc
    .constantFrom(...Object.keys(FARGATE_SIZES).map(Number))
    .chain((cpu) => fc.constantFrom(...FARGATE_SIZES[cpu]).map((memoryLimitMiB) => ({ cpu, memoryLimitMiB }))),
  fc.constantFrom(1024, 2048, 4096).map((memoryLimitMiB) => ({ memoryLimitMiB })),
);
const invalidCpuMemory = fc.constantFrom<Pick<Scenario, 'cpu' | 'memoryLimitMiB'>>(
  { cpu: 300 },
  { cpu: 0 },
  { cpu: -512 },
  { cpu: 1024.5 },
  { cpu: Number.NaN },
  { cpu: 512, memoryLimitMiB: 512 },
  { cpu: 256, memoryLimitMiB: 4096 },
  { cpu: 1024, memoryLimitMiB: 1536 },
  { cpu: 8192, memoryLimitMiB: 18432 },
  { cpu: 16384, memoryLimitMiB: 131072 },
  { memoryLimitMiB: 8192 },
  { memoryLimitMiB: 0 },
);

type Scaling = Pick<Scenario, 'desiredCount' | 'autoScaling'>;
const validScaling: fc.Arbitrary<Scaling> = fc.oneof(
  fc.constant({}),
  fc.integer({ min: 1, max: 4 }).map((desiredCount) => ({ desiredCount })),
  fc
    .record({ min: fc.integer({ min: 1, max: 3 }), extra: fc.integer({ min: 0, max: 2 }), spread: fc.integer({ min: 0, max: 6 }), target: fc.option(fc.constantFrom(10, 45, 90), { nil: undefined }) })
    .map(({ min, extra, spread, target }) => ({
      desiredCount: min + Math.min(extra, spread),
      autoScaling: { minCapacity: min, maxCapacity: min + spread, targetCpuUtilizationPercent: target },
    })),
  fc.constantFrom<Scaling>({ desiredCount: 3, autoScaling: {} }, { autoScaling: { maxCapacity: 2 } }, { autoScaling: { minCapacity: 2 } }),
);
const invalidScaling = fc.constantFrom<Scaling>(
  { desiredCount: 0 },
  { desiredCount: -1 },
  { desiredCount: 1.5 },
  { desiredCount: Number.NaN },
  { autoScaling: { minCapacity: 4, maxCapacity: 2 }, desiredCount: 4 },
  { desiredCount: 9, autoScaling: { minCapacity: 2, maxCapacity: 4 } },
  { desiredCount: 1, autoScaling: { minCapacity: 2 } },
  { autoScaling: { minCapacity: 0 } },
  { autoScaling: { maxCapacity: 1 } },
  { autoScaling: { targetCpuUtilizationPercent: 5 } },
  { autoScaling: { targetCpuUtilizationPercent: 95 } },
  { autoScaling: { targetCpuUtilizationPercent: Number.NaN } },
);

const validDrain = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom<DurationSpec | undefined>(
      undefined,
      { unit: 'seconds', amount: 0 },
      { unit: 'seconds', amount: 1 },
      { unit: 'seconds', amount: 30 },
      { unit: 'seconds', amount: 110 },
      { unit: 'millis', amount: 30000 },
      { unit: 'minutes', amount: 1 },
    ),
  },
  // Sub-second precision: the construct may round it or reject it naming the prop (oracle: either).
  { weight: 1, arbitrary: fc.constant<DurationSpec>({ unit: 'millis', amount: 1500 }) },
);
const invalidDrain = fc.constantFrom<DurationSpec>(
  { unit: 'seconds', amount: 111 },
  { unit: 'seconds', amount: 120 },
  { unit: 'seconds', amount: 3600 },
  { unit: 'minutes', amount: 2 },
);
const validLag = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom<DurationSpec | undefined>(
      undefined,
      { unit: 'seconds', amount: 1 },
      { unit: 'seconds', amount: 30 },
      { unit: 'seconds', amount: 600 },
      { unit: 'millis', amount: 2000 },
      { unit: 'minutes', amount: 10 },
    ),
  },
  { weight: 1, arbitrary: fc.constant<DurationSpec>({ unit: 'millis', amount: 500 }) },
);
const invalidLag = fc.constantFrom<DurationSpec>({ unit: 'seconds', amount: 0 }, { unit: 'seconds', amount: 601 }, { unit: 'minutes', amount: 20 });

const validClientConnections = fc.constantFrom(undefined, 1, 10000, 1_000_000);
const invalidClientConnections = fc.constantFrom(0, -5, 1.5, 1_000_001, Number.NaN);
const validBackendConnections = fc.constantFrom(undefined, 1, 200, 10_000);
const invalidBackendConnections = fc.constantFrom(0, 10_001, 2.5);

const VALID_NAMES = ['app', 'reader_1', 'Orders', 'u'.repeat(32), 'mon'];
const INVALID_NAMES = ['', 'a-b', "o'brien", 'x'.repeat(33), 'bad name', 'ünï'];

const validUser: fc.Arbitrary<UserScenario> = fc.oneof(
  fc.record(
    {
      username: fc.constantFrom(...VALID_NAMES),
      withSecret: fc.boolean(),
      createOnBackend: fc.constantFrom(undefined, false),
      schema: fc.constantFrom(undefined, 'app', 'orders_2024', 's'.repeat(64)),
      privileges: fc.constantFrom(undefined, ['SELECT', 'INSERT'], ['ALL PRIVILEGES'], ['all', 'lock tables']),
      maxConnections: fc.constantFrom(undefined, 1, 500),
    },
    { requiredKeys: ['username', 'withSecret'] },
  ),
  // A secret you bring, the name read from it when the task starts.
  fc.record({ withSecret: fc.constant(true), createOnBackend: fc.constantFrom(undefined, false) }, { requiredKeys: ['withSecret'] }),
);
const invalidUser = fc.oneof(
  fc.constantFrom(...INVALID_NAMES).map((username): UserScenario => ({ username, withSecret: false })),
  fc.constantFrom<UserScenario>(
    { withSecret: false },
    { withSecret: true, createOnBackend: true },
    { username: 'app', withSecret: false, schema: 'a-b' },
    { username: 'app', withSecret: false, schema: 's'.repeat(65) },
    { username: 'app', withSecret: false, maxConnections: 0 },
    { username: 'app', withSecret: false, maxConnections: 1.5 },
    // Invalid only where the bootstrap step creates the user (the oracle decides).
    { username: 'app', withSecret: false, privileges: ['DROP DATABASE x'] },
    { username: 'app', withSecret: true, createOnBackend: true, privileges: [] },
    { username: 'root', withSecret: false },
  ),
);
const validUsers: fc.Arbitrary<readonly UserScenario[] | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.uniqueArray(validUser, { minLength: 1, maxLength: 3, selector: (u) => u.username ?? Symbol() }),
);
const invalidUsers: fc.Arbitrary<readonly UserScenario[]> = fc.oneof(
  fc.constant<readonly UserScenario[]>([]),
  fc.tuple(validUser, invalidUser).map(([a, b]) => [a, b]),
  fc.constantFrom('app', 'mon').map((username): UserScenario[] => [
    { username, withSecret: false },
    { username, withSecret: true },
  ]),
);

const validMonitor = fc.constantFrom(undefined, 'proxysql_monitor', 'mon', 'M'.repeat(32));
const invalidMonitor = fc.constantFrom('mon itor', '', 'x'.repeat(33), "mon'", 'root');

const RE2_PATTERNS = ['^SELECT\\b', '(?i)\\bFROM\\s+orders\\b', '^INSERT', '\\x22quoted\\x22', 'a|b', '[0-9]+', '^\\(?SELECT'];
const BAD_PATTERNS = ['(?<=x)y', '(?=x)', '(?!x)', '(a)\\1', '"quoted"', '', 'a\nb', '(unclosed'];

const validRule: fc.Arbitrary<QueryRuleInput> = fc
  .record({
    field: fc.constantFrom('matchDigest', 'matchPattern'),
    pattern: fc.constantFrom(...RE2_PATTERNS),
    action: fc.constantFrom<Partial<QueryRuleInput>>({ destination: 'reader' }, { destination: 'writer' }, { cacheTtlMs: 1000 }, { multiplex: 'keep' }, { destination: 'reader', cacheTtlMs: 2_147_483_647 }),
    extra: fc.constantFrom<Partial<QueryRuleInput>>({}, { comment: 'cache the orders list' }, { username: 'app' }, { active: false }, { apply: false }),
  })
  .map(({ field, pattern, action, extra }) => ({ [field]: pattern, ...action, ...extra }));
const invalidRule: fc.Arbitrary<QueryRuleInput> = fc.oneof(
  fc.constantFrom(...BAD_PATTERNS).map((matchDigest): QueryRuleInput => ({ matchDigest, destination: 'reader' })),
  fc.constantFrom<QueryRuleInput>(
    { matchDigest: '^SELECT', matchPattern: '^SELECT', destination: 'reader' },
    { destination: 'reader' },
    { matchDigest: '^SELECT' },
    { matchDigest: '^SELECT', destination: 'primary' as never },
    { matchDigest: '^SELECT', cacheTtlMs: 0 },
    { matchDigest: '^SELECT', cacheTtlMs: -1 },
    { matchDigest: '^SELECT', cacheTtlMs: 1.5 },
    { matchDigest: '^SELECT', multiplex: 'off' as never },
    { matchDigest: '^SELECT', destination: 'reader', comment: "it's" },
    { matchDigest: '^SELECT', destination: 'reader', username: 'bad name' },
  ),
);
const validRules = fc.option(fc.array(validRule, { maxLength: 3 }), { nil: undefined });
const invalidRules = fc.tuple(fc.array(validRule, { maxLength: 2 }), invalidRule).map(([ok, bad]) => [...ok, bad]);

const VALID_VARIABLES: Record<string, string | number | boolean> = {
  wait_timeout: 28_800_000,
  max_allowed_packet: 67_108_864,
  server_version: '8.0.36',
  connect_timeout_server: 3000,
  multiplexing: false,
  poll_timeout: 2000,
  eventslog_filename: 'events.log',
};
const validVariables = fc.option(fc.subarray(Object.keys(VALID_VARIABLES)).map((names) => Object.fromEntries(names.map((n) => [n, VALID_VARIABLES[n]]))), {
  nil: undefined,
});
const invalidVariables = fc.oneof(
  fc.constantFrom<Record<string, string | number | boolean>>(
  { 'mysql-wait_timeout': 1 },
  { Wait: 1 },
  { '1abc': 1 },
  { 'a-b': 1 },
  { '': 1 },
  { 'wait timeout': 1 },
  { server_version: 'a\nb' },
  { wait_timeout: 1.5 },
  { wait_timeout: 2 ** 40 },
  { wait_timeout: Number.NaN },
  { server_version: '{{secret:admin:X}}' },
  ),
  // ProxySQL's 3.0 config loader splices mysql_variables values into SQL unescaped (src/config/secrets.ts).
  fc.constant({ server_version: 'a"b' }),
  // A password in plain text in the task definition.
  fc.constant({ monitor_password: 'hunter2hunter2' }),
);

const VALID_HOSTS = ['db1.internal', 'db2.internal', '10.0.0.5', 'replica-1.abc.us-east-1.rds.amazonaws.com'];
const INVALID_HOSTS = ['bad host!', '', '-lead.internal', 'under_score.internal'];
const validEndpoint = fc.record({ hostname: fc.constantFrom(...VALID_HOSTS), port: fc.constantFrom(undefined, 3306, 3307) }, { requiredKeys: ['hostname'] });
const invalidEndpoint = fc.oneof(
  fc.constantFrom(...INVALID_HOSTS).map((hostname): EndpointScenario => ({ hostname })),
  fc.constantFrom(0, 70000, 3306.5, -1, Number.NaN).map((port): EndpointScenario => ({ hostname: 'db3.internal', port })),
);
const AURORA_ENDPOINT = 'orders.cluster-c9akciq32.eu-west-1.rds.amazonaws.com';

const validBackend: fc.Arbitrary<BackendScenario> = fc.oneof(
  fc.integer({ min: 0, max: 2 }).map((readers): BackendScenario => ({ kind: 'new-aurora', readers })),
  fc
    .record({
      hosts: fc.shuffledSubarray(VALID_HOSTS, { minLength: 1, maxLength: 4 }),
      port: fc.constantFrom(undefined, 3306, 3307),
      withSecurityGroup: fc.boolean(),
      withAdminSecret: fc.boolean(),
      checkType: fc.constantFrom(undefined, 'read_only', 'innodb_read_only', 'super_read_only'),
    })
    .map(({ hosts, port, ...rest }): BackendScenario => {
      const [writer, ...readers] = hosts.map((hostname) => ({ hostname, port }));
      return { kind: 'endpoints', writer, readers, ...rest };
    }),
  fc
    .record({ instanceIdentifiers: fc.constantFrom(['orders-1'], ['orders-1', 'orders-2']), withSecurityGroup: fc.constant(true), withAdminSecret: fc.boolean() })
    .map((r): BackendScenario => ({ kind: 'imported-aurora', endpoint: AURORA_ENDPOINT, ...r })),
);
const invalidBackend: fc.Arbitrary<BackendScenario> = fc.oneof(
  // readers from a small pool: duplicates, bad hosts and ports, mixed ports with a security group
  fc
    .record({
      writer: validEndpoint,
      readers: fc.array(fc.oneof(validEndpoint, invalidEndpoint), { minLength: 1, maxLength: 3 }),
      withSecurityGroup: fc.boolean(),
      withAdminSecret: fc.boolean(),
      checkType: fc.constantFrom(undefined, 'read_only|innodb_read_only', 'READ_ONLY'),
    })
    .map((r): BackendScenario => ({ kind: 'endpoints', ...r })),
  invalidEndpoint.map((writer): BackendScenario => ({ kind: 'endpoints', writer, readers: [], withSecurityGroup: true, withAdminSecret: true })),
  // An imported cluster without security groups (otherwise valid): the tasks must still reach it.
  fc.constantFrom(['orders-1'], ['orders-1', 'orders-2']).map(
    (instanceIdentifiers): BackendScenario => ({ kind: 'imported-aurora', endpoint: AURORA_ENDPOINT, instanceIdentifiers, withSecurityGroup: false, withAdminSecret: false }),
  ),
  fc
    .record({
      endpoint: fc.constantFrom(AURORA_ENDPOINT, 'db.example.com'),
      instanceIdentifiers: fc.constantFrom(undefined, [], ['orders-1']),
      withSecurityGroup: fc.boolean(),
      withAdminSecret: fc.boolean(),
    })
    .map((r): BackendScenario => ({ kind: 'imported-aurora', ...r })),
);

const FIELDS = ['cpuMemory', 'scaling', 'drain', 'lag', 'clientConnections', 'backendConnections', 'users', 'monitor', 'rules', 'variables', 'backend'] as const;
type FieldName = (typeof FIELDS)[number];

function pick<T>(corrupt: readonly FieldName[], field: FieldName, valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return corrupt.includes(field) ? invalid : valid;
}

/** A random scenario: 2 in 5 with every field from its valid pool, 2 in 5 with one corrupted field, 1 in 5 with two. */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .oneof(
    { weight: 2, arbitrary: fc.constant<FieldName[]>([]) },
    { weight: 2, arbitrary: fc.subarray([...FIELDS], { minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.subarray([...FIELDS], { minLength: 2, maxLength: 2 }) },
  )
  .chain((corrupt) =>
    fc.record({
      cpuMemory: pick(corrupt, 'cpuMemory', validCpuMemory, invalidCpuMemory),
      scaling: pick(corrupt, 'scaling', validScaling, invalidScaling),
      drainTimeout: pick<DurationSpec | undefined>(corrupt, 'drain', validDrain, invalidDrain),
      maxReplicaLag: pick<DurationSpec | undefined>(corrupt, 'lag', validLag, invalidLag),
      maxClientConnections: pick<number | undefined>(corrupt, 'clientConnections', validClientConnections, invalidClientConnections),
      maxBackendConnectionsPerServer: pick<number | undefined>(corrupt, 'backendConnections', validBackendConnections, invalidBackendConnections),
      users: pick<readonly UserScenario[] | undefined>(corrupt, 'users', validUsers, invalidUsers),
      monitorUsername: pick<string | undefined>(corrupt, 'monitor', validMonitor, invalidMonitor),
      queryRules: pick<readonly QueryRuleInput[] | undefined>(corrupt, 'rules', validRules, invalidRules),
      mysqlVariables: pick<Record<string, string | number | boolean> | undefined>(corrupt, 'variables', validVariables, invalidVariables),
      backend: pick(corrupt, 'backend', validBackend, invalidBackend),
      bootstrap: fc.constantFrom(undefined, undefined, true, false),
      defaultQueryRules: fc.constantFrom(undefined, true, false),
      backendTls: fc.constantFrom(undefined, true, false),
      clientTls: fc.constantFrom(undefined, true, false),
      cpuArchitecture: fc.constantFrom<Scenario['cpuArchitecture']>(undefined, 'ARM64', 'X86_64'),
      restartOnSecretRotation: fc.constantFrom(undefined, true, false),
    }),
  )
  .map(({ cpuMemory, scaling, ...rest }) => ({ ...cpuMemory, ...scaling, ...rest }));

// ---------------------------------------------------------------------------------------------------------
// Oracle: from the documented rules (prop docs, AWS limits, ProxySQL constraints), not from the construct
// ---------------------------------------------------------------------------------------------------------

export interface Verdict {
  /** `synth`: must synthesize; `throw`: must throw naming a prop; `either`: may do either. */
  readonly expect: 'synth' | 'throw' | 'either';
  /** Why it must throw (invalid) or why either is fine. */
  readonly reasons: string[];
  /** Derived facts the template checks use. */
  readonly bootstrapEnabled: boolean;
  readonly userCount: number;
}

const NAME = /^[A-Za-z0-9_]{1,32}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const isWhole = (v: number, min: number, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(v) && v >= min && v <= max;

export function judge(s: Scenario): Verdict {
  const invalid: string[] = [];
  const either: string[] = [];

  // Fargate size (AWS table); memory defaults to a valid size for the CPU.
  const cpu = s.cpu ?? 512;
  if (!(cpu in FARGATE_SIZES)) invalid.push(`cpu ${cpu}`);
  else if (s.memoryLimitMiB !== undefined && !isFargateSize(cpu, s.memoryLimitMiB)) invalid.push(`memory ${s.memoryLimitMiB} with cpu ${cpu}`);

  // Task count: whole numbers ≥ 1, min ≤ desired ≤ max; documented defaults min = desired, max = 3 × min.
  const desired = s.desiredCount ?? 2;
  const min = s.autoScaling?.minCapacity ?? desired;
  const max = s.autoScaling?.maxCapacity ?? min * 3;
  const target = s.autoScaling?.targetCpuUtilizationPercent ?? 60;
  if (![desired, min, max].every((v) => isWhole(v, 1))) invalid.push('task counts must be whole numbers ≥ 1');
  else if (!(min <= desired && desired <= max)) invalid.push(`desired ${desired} outside ${min}..${max}`);
  if (!(target >= 10 && target <= 90)) invalid.push(`target CPU ${target}`);

  // Drain ≤ 110 s (Fargate stops a container at most 120 s after SIGTERM); replica lag 1..600 s.
  if (s.drainTimeout) {
    const seconds = durationSeconds(s.drainTimeout);
    if (seconds > 110) invalid.push(`drain ${seconds} s`);
    else if (!Number.isInteger(seconds)) either.push(`drain ${seconds} s is not whole seconds`);
  }
  if (s.maxReplicaLag) {
    const seconds = durationSeconds(s.maxReplicaLag);
    if (seconds < 1 && Number.isInteger(seconds)) invalid.push(`lag ${seconds} s`);
    else if (seconds > 600) invalid.push(`lag ${seconds} s`);
    else if (!Number.isInteger(seconds)) either.push(`lag ${seconds} s is not whole seconds`);
  }
  if (s.maxClientConnections !== undefined && !isWhole(s.maxClientConnections, 1, 1_000_000)) invalid.push(`maxClientConnections ${s.maxClientConnections}`);
  if (s.maxBackendConnectionsPerServer !== undefined && !isWhole(s.maxBackendConnectionsPerServer, RANGES.maxBackendConnectionsPerServer.min, RANGES.maxBackendConnectionsPerServer.max)) {
    invalid.push(`maxBackendConnectionsPerServer ${s.maxBackendConnectionsPerServer}`);
  }

  // Backend.
  const b = s.backend;
  const hasAdminSecret = b.kind === 'new-aurora' || b.withAdminSecret;
  const hasDatabaseConnections = b.kind !== 'endpoints' || b.withSecurityGroup;
  if (b.kind === 'endpoints') {
    const all = [b.writer, ...b.readers];
    for (const e of all) {
      if (!HOST.test(e.hostname)) invalid.push(`host '${e.hostname}'`);
      if (e.port !== undefined && !isWhole(e.port, 1, 65535)) invalid.push(`port ${e.port}`);
    }
    const keys = all.map((e) => `${e.hostname}:${e.port ?? 3306}`);
    if (new Set(keys).size !== keys.length) invalid.push('an endpoint listed twice');
    if (b.withSecurityGroup && new Set(all.map((e) => e.port ?? 3306)).size > 1) invalid.push('mixed ports with a database security group');
    if (b.checkType !== undefined && !['read_only', 'innodb_read_only', 'super_read_only'].includes(b.checkType)) invalid.push(`checkType ${b.checkType}`);
  } else if (b.kind === 'imported-aurora') {
    if (!/\.cluster-/.test(b.endpoint)) invalid.push(`'${b.endpoint}' is not an Aurora cluster endpoint`);
    if (!b.instanceIdentifiers || b.instanceIdentifiers.length === 0) invalid.push('imported Aurora cluster without instances');
    if (!b.withSecurityGroup) either.push('imported Aurora cluster without security groups: the tasks must still reach it (checked in the template)');
  }

  // Users: at least one; each with a name or a secret; names valid and unique; schema/maxConnections valid.
  // Left out, they are one generated least-privilege user 'app', which the bootstrap step must create.
  const users = s.users ?? (hasAdminSecret ? DEFAULT_USERS : undefined);
  if (s.users === undefined && !hasAdminSecret) invalid.push('users left out and no admin secret for the bootstrap that creates the default user');
  if (s.users === undefined && s.bootstrap === false) invalid.push('users left out with bootstrap: false: nothing would create the default user');
  if (users !== undefined && users.length === 0) invalid.push('empty users');
  const names = new Set<string>();
  for (const u of users ?? []) {
    if (u.username !== undefined) {
      if (!NAME.test(u.username)) invalid.push(`username '${u.username}'`);
      if (names.has(u.username)) invalid.push(`username '${u.username}' twice`);
      names.add(u.username);
    } else if (!u.withSecret) invalid.push('a user with neither name nor secret');
    if ((u.createOnBackend ?? !u.withSecret) && u.username === undefined) invalid.push('createOnBackend without a name');
    if (u.schema !== undefined && !/^[A-Za-z0-9_]{1,64}$/.test(u.schema)) invalid.push(`schema '${u.schema}'`);
    if (u.maxConnections !== undefined && !isWhole(u.maxConnections, 1)) invalid.push(`user maxConnections ${u.maxConnections}`);
    else if (u.maxConnections !== undefined && u.maxConnections > (s.maxClientConnections ?? 10_000)) invalid.push(`user maxConnections ${u.maxConnections} above maxClientConnections`);
  }
  // Reserved names and the monitor's name are refused for every user the proxy serves, bootstrap or not (the
  // stricter of the two former copies: before, only the bootstrap's own check knew them).
  const monitor = s.monitorUsername ?? 'proxysql_monitor';
  if (!NAME.test(monitor)) invalid.push(`monitorUsername '${monitor}'`);
  else if (RESERVED_USERNAMES.includes(monitor.toLowerCase())) invalid.push(`monitorUsername '${monitor}' is reserved`);
  for (const u of users ?? []) {
    if (u.username === undefined || !NAME.test(u.username)) continue;
    if (RESERVED_USERNAMES.includes(u.username.toLowerCase())) invalid.push(`username '${u.username}' is reserved`);
    if (u.username === monitor) invalid.push(`username '${u.username}' is the monitor's`);
  }

  // Bootstrap: needs admin credentials and the database's security groups; it creates the monitor and the
  // users with createOnBackend (default: those without a secret of their own), with its own rules.
  const bootstrapEnabled = s.bootstrap ?? hasAdminSecret;
  if (bootstrapEnabled && !hasAdminSecret) invalid.push('bootstrap without an admin secret');
  if (bootstrapEnabled && !hasDatabaseConnections) invalid.push('bootstrap without database security groups');
  if (bootstrapEnabled) {
    for (const u of users ?? []) {
      if (!(u.createOnBackend ?? !u.withSecret) || u.username === undefined) continue;
      const privileges = u.privileges ?? DEFAULT_APP_PRIVILEGES;
      if (privileges.length === 0 || privileges.some((p) => !ALLOWED_PRIVILEGES.includes(normalisePrivilege(p)))) invalid.push('privileges');
    }
  }

  // Query rules: exactly one RE2 match field (no double quote or line break), an action, valid fields.
  (s.queryRules ?? []).forEach((r, i) => {
    const patterns = [r.matchDigest, r.matchPattern].filter((p): p is string => p !== undefined);
    if (patterns.length !== 1) invalid.push(`rule ${i}: ${patterns.length} match fields`);
    for (const p of patterns) if (p === '' || /["\n\r]/.test(p) || !compilesAsRe2(p)) invalid.push(`rule ${i}: pattern not RE2`);
    if (r.destination === undefined && r.cacheTtlMs === undefined && r.multiplex === undefined) invalid.push(`rule ${i}: no action`);
    if (r.destination !== undefined && !['writer', 'reader'].includes(r.destination)) invalid.push(`rule ${i}: destination`);
    if (r.cacheTtlMs !== undefined && !isWhole(r.cacheTtlMs, 1, 2_147_483_647)) invalid.push(`rule ${i}: cacheTtlMs`);
    if (r.multiplex !== undefined && !['disable', 'enable', 'keep'].includes(r.multiplex)) invalid.push(`rule ${i}: multiplex`);
    if (r.comment !== undefined && /['"\n\r]/.test(r.comment)) invalid.push(`rule ${i}: comment`);
    if (r.username !== undefined && !NAME.test(r.username)) invalid.push(`rule ${i}: username`);
  });

  // mysql_variables: names without the prefix; values proxysql.cnf and ProxySQL's loader can take.
  for (const [name, value] of Object.entries(s.mysqlVariables ?? {})) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) invalid.push(`variable name '${name}'`);
    if (typeof value === 'number' && !isWhole(value, -2_147_483_648, 2_147_483_647)) invalid.push(`variable ${name}=${value}`);
    if (typeof value === 'string' && (/["\n\r]/.test(value) || value.includes('{{secret:') || value.includes('{{param:'))) invalid.push(`variable ${name} value`);
    if (/password|credentials/.test(name)) either.push(`variable ${name}: a secret in mysqlVariables (checked by the hygiene check)`);
  }

  const userCount = users === undefined ? 1 : users.length;
  if (invalid.length > 0) return { expect: 'throw', reasons: invalid, bootstrapEnabled, userCount };
  return { expect: either.length > 0 ? 'either' : 'synth', reasons: either, bootstrapEnabled, userCount };
}

function compilesAsRe2(pattern: string): boolean {
  try {
    RE2JS.compile(pattern);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------------------------------------

/** The real props for `scenario`, with the resources it needs (cluster, secrets, security groups) in `stack`. */
export function buildProps(stack: Stack, vpc: ec2.IVpc, s: Scenario): ProxySqlServiceProps {
  const users: ProxySqlUser[] | undefined = s.users?.map((u, i) => ({
    username: u.username,
    secret: u.withSecret ? broughtSecret(stack, `BroughtUserSecret${i}`, `app-user-${i}`) : undefined,
    createOnBackend: u.createOnBackend,
    schema: u.schema,
    privileges: u.privileges && [...u.privileges],
    maxConnections: u.maxConnections,
  }));
  return {
    vpc,
    backend: buildBackend(stack, vpc, s.backend),
    users,
    monitorUsername: s.monitorUsername,
    bootstrap: s.bootstrap,
    // The enums' values are these strings; invalid ones must be caught at runtime too (a jsii caller can send any).
    queryRules: s.queryRules && ([...s.queryRules] as QueryRuleSpec[]),
    defaultQueryRules: s.defaultQueryRules,
    cpu: s.cpu,
    memoryLimitMiB: s.memoryLimitMiB,
    desiredCount: s.desiredCount,
    autoScaling: s.autoScaling,
    drainTimeout: s.drainTimeout && toDuration(s.drainTimeout),
    maxReplicaLag: s.maxReplicaLag && toDuration(s.maxReplicaLag),
    maxClientConnections: s.maxClientConnections,
    maxBackendConnectionsPerServer: s.maxBackendConnectionsPerServer,
    mysqlVariables: s.mysqlVariables,
    backendTls: s.backendTls,
    clientTls: s.clientTls,
    cpuArchitecture: s.cpuArchitecture === undefined ? undefined : s.cpuArchitecture === 'ARM64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
    restartOnSecretRotation: s.restartOnSecretRotation,
  };
}

/** A secret the user brings: an existing one, by ARN (what is generated is the construct's, and checked). */
function broughtSecret(stack: Stack, id: string, name: string): secretsmanager.ISecret {
  return secretsmanager.Secret.fromSecretCompleteArn(stack, id, `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${name}-AbCdEf`);
}

function buildBackend(stack: Stack, vpc: ec2.IVpc, b: BackendScenario): ProxySqlBackend {
  if (b.kind === 'new-aurora') {
    const cluster = new rds.DatabaseCluster(stack, 'Database', {
      engine: rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_10_3 }),
      credentials: rds.Credentials.fromGeneratedSecret('admin'),
      writer: rds.ClusterInstance.serverlessV2('writer'),
      readers: Array.from({ length: b.readers }, (_, i) => rds.ClusterInstance.serverlessV2(`reader${i}`, { scaleWithWriter: true })),
      vpc,
    });
    return ProxySqlBackend.auroraCluster(cluster);
  }
  const adminSecret = b.withAdminSecret ? broughtSecret(stack, 'AdminSecret', 'db-admin') : undefined;
  const securityGroup = b.withSecurityGroup ? new ec2.SecurityGroup(stack, 'DatabaseSg', { vpc }) : undefined;
  if (b.kind === 'endpoints') {
    return ProxySqlBackend.endpoints({
      writer: b.writer,
      readers: [...b.readers],
      databaseConnections: securityGroup,
      adminSecret,
      replicationCheckType: b.checkType as never,
    });
  }
  const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Imported', {
    clusterIdentifier: 'orders',
    clusterEndpointAddress: b.endpoint,
    port: 3306,
    instanceIdentifiers: b.instanceIdentifiers && [...b.instanceIdentifiers],
    securityGroups: securityGroup ? [securityGroup] : undefined,
  });
  return ProxySqlBackend.auroraCluster(cluster, { adminSecret });
}
