/**
 * One rule, one message, everywhere: the same bad inputs go to every caller of src/config/rules.ts (the constructs
 * at synth, the bootstrap and demo runtimes, the benchmark's option parser) and each must refuse them with the
 * rule's own message behind its own prefix: `<prop path | env var | resource property | option>: <problem>`.
 *
 * A caller that takes a value as text (an option, an environment variable) shows the rule the text, so the
 * problem quotes '70000' where a prop shows 70000: same rule, same words.
 *
 * The CLI's rows are at the end of CALLERS (render's options and --config keys, local's ports).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { afterAll, describe, expect, test } from 'vitest';
import { BenchArgError, parseBenchArgs } from '../../bench/options';
import { parseLocalArgs } from '../../cli/local';
import { parseRenderArgs } from '../../cli/render';
import { validateSpec, BootstrapSpec } from '../../runtime/bootstrap/bootstrap';
import { specFromProperties } from '../../runtime/bootstrap/handler';
import { createDemoHandler } from '../../runtime/demo/app';
import { fromEnvironment } from '../../runtime/demo/environment';
import {
  checkTypeProblem,
  Finding,
  hostProblem,
  managedUsernameProblem,
  mysqlVariablesProblem,
  portProblem,
  Problem,
  RANGES,
  rangeProblem,
  ruleMessage,
  schemaProblem,
} from '../../src/config/rules';
import { DatabaseBootstrap, DatabaseBootstrapProps } from '../../src/database-bootstrap';
import { DemoApi } from '../../src/demo-api';
import { ProxySqlBackend, MySqlEndpoint } from '../../src/proxysql-backend';
import { ProxySqlService, ProxySqlServiceProps } from '../../src/proxysql-service';
import { withPythonSpelling } from '../../src/validation-error';

// ---- the rules and their bad inputs ---------------------------------------------------------------------

type Kind = 'port' | 'host' | 'username' | 'managedUsername' | 'schema' | 'checkType' | 'backendConnections' | 'mysqlVariables';

const MONITOR = 'proxysql_monitor';

/** Each kind's rule, as the callers apply it. */
const RULES: Record<Kind, (value: unknown) => Problem | Finding> = {
  port: (v) => portProblem(v),
  host: hostProblem,
  username: (v) => managedUsernameProblem(v, { monitorUsername: MONITOR }),
  managedUsername: (v) => managedUsernameProblem(v, { monitorUsername: MONITOR }),
  schema: schemaProblem,
  checkType: checkTypeProblem,
  backendConnections: (v) => rangeProblem(v, RANGES.maxBackendConnectionsPerServer),
  mysqlVariables: mysqlVariablesProblem,
};

/** Bad inputs per kind. `username` is the syntax alone; `managedUsername` the names a managed user may not take. */
const BAD: Record<Kind, readonly unknown[]> = {
  port: [0, 70000, 65536],
  host: ['::1', 'bad host', '999.1.1.1', 'db_1.internal', '-db.internal'],
  username: ['a-b', 'u'.repeat(33), "o'brien"],
  managedUsername: ['root', 'RDSADMIN', MONITOR],
  schema: ['my-db', 'x$y', 's'.repeat(65)],
  checkType: ['read_write', 'READ_ONLY'],
  backendConnections: [0, 10_001],
  mysqlVariables: [
    { interfaces: '0.0.0.0:1' },
    { server_version: 'a"b' },
    { wait_timeout: 2 ** 31 },
    { 'mysql-threads': 4 },
    // names ProxySQL does not know (a slip gets "did you mean"), and values of the wrong type or range
    { wait_timout: 1000 },
    { not_a_var: 1 },
    { multiplexing: 'yes' },
    { monitor_ping_timeout: 50 },
  ],
};

// ---- the callers ------------------------------------------------------------------------------------------

/** One caller's handling of one kind: how a value reaches it, and the prefix it must put on the rule's message. */
interface Entry {
  /** The prefix, e.g. `ProxySqlServiceProps.users[1].username`; a function where it depends on the value. */
  readonly field: string | ((value: unknown) => string);
  /** Runs the caller on the value; it must throw (or reject). */
  readonly run: (value: unknown) => unknown;
  /** What the rule sees, when the caller receives text (an option, an environment variable). */
  readonly seen?: (value: unknown) => unknown;
  /** The caller names the entry itself in `field`, so a Finding's `at` is not appended. */
  readonly ownAt?: boolean;
}

export interface Caller {
  readonly name: string;
  /** A construct that names itself before the prop (`Stack/Proxy: ProxySqlServiceProps.cpu: …`, src/validation-error.ts). */
  readonly constructPath?: string;
  readonly entries: Partial<Record<Kind, Entry>>;
}

/** The path of the constructs the synth callers below create. */
const PROXY_PATH = 'Parity/Proxy';

const text = (v: unknown) => String(v);

function construct(run: (stack: Stack, vpc: ec2.Vpc) => void): void {
  const stack = new Stack(new App(), 'Parity', { env: { account: '111111111111', region: 'us-east-1' } });
  run(stack, new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] }));
}

function proxy(make: (stack: Stack) => Partial<ProxySqlServiceProps>, writer: MySqlEndpoint = { hostname: 'db.internal' }, checkType?: string): void {
  construct((stack, vpc) => {
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({ writer, replicationCheckType: checkType as never }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'App') }],
      bootstrap: false,
      ...make(stack),
    });
  });
}

function bootstrapConstruct(change: (p: DatabaseBootstrapProps) => DatabaseBootstrapProps): void {
  construct((stack, vpc) => {
    const secret = (id: string) => new secretsmanager.Secret(stack, id);
    const props: DatabaseBootstrapProps = {
      vpc,
      endpoint: { hostname: 'db.internal', port: 3306 },
      database: new ec2.SecurityGroup(stack, 'Db', { vpc }),
      adminSecret: secret('Admin'),
      monitorUsername: MONITOR,
      monitorSecret: secret('Monitor'),
      users: [{ username: 'app', secret: secret('App'), schema: 'app', privileges: ['SELECT'] }],
    };
    new DatabaseBootstrap(stack, 'Bootstrap', change(props));
  });
}

function demoApi(extra: Record<string, unknown>): void {
  construct((stack, vpc) => {
    new DemoApi(stack, 'Demo', { vpc, proxyHostname: 'proxy.internal', userSecret: new secretsmanager.Secret(stack, 'S'), databaseName: 'app', ...extra });
  });
}

const spec = (change: Partial<BootstrapSpec>, user: Partial<BootstrapSpec['users'][number]> = {}): BootstrapSpec => ({
  host: 'db.internal',
  port: 3306,
  admin: { username: 'admin', password: 'a' },
  monitor: { username: MONITOR, password: 'm' },
  users: [
    { username: 'app', password: 'p', schema: 'app', privileges: ['SELECT'] },
    { username: 'reporting', password: 'r', schema: 'reports', privileges: ['SELECT'], ...user },
  ],
  ...change,
});

const demoEnv = { DB_HOST: 'proxy.internal', DB_PORT: '3306', DB_NAME: 'app', DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:x' };
const demoDeps = { host: 'proxy.internal', port: 3306, database: 'app', getCredentials: () => Promise.reject(new Error('not called')) };
const bench = (argv: string[]) => parseBenchArgs(argv, {});
const hostPortOption = (host: unknown) => (String(host).includes(':') ? `[${String(host)}]:3306` : `${String(host)}:3306`);
const [variableName, variableValue] = [(v: unknown) => Object.keys(v as object)[0], (v: unknown) => Object.values(v as object)[0] as unknown];

const cliDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-parity-cli-'));
afterAll(() => fs.rmSync(cliDir, { recursive: true, force: true }));
/** The CLI's --config file, rewritten for each row (the rows of one file run one after another). */
const CLI_CONFIG = path.join(cliDir, 'proxysql.json');
const render = (backend: string[], user = 'app') => parseRenderArgs([...backend, `--user=${user}`]);
function renderWithConfig(config: Record<string, unknown>): unknown {
  fs.writeFileSync(CLI_CONFIG, JSON.stringify(config));
  return render(['--writer', 'db.internal:3306', '--config', CLI_CONFIG]);
}

const CALLERS: Caller[] = [
  {
    name: 'ProxySqlService (synth)',
    constructPath: PROXY_PATH,
    entries: {
      port: { field: 'ProxySqlServiceProps.backend.writer.port', run: (v) => proxy(() => ({}), { hostname: 'db.internal', port: v as number }) },
      host: { field: 'ProxySqlServiceProps.backend.writer.hostname', run: (v) => proxy(() => ({}), { hostname: v as string }) },
      username: { field: 'ProxySqlServiceProps.users[1].username', run: (v) => proxy((s) => ({ users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'A') }, { username: v as string, secret: new secretsmanager.Secret(s, 'B') }] })) },
      managedUsername: { field: 'ProxySqlServiceProps.users[1].username', run: (v) => proxy((s) => ({ users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'A') }, { username: v as string, secret: new secretsmanager.Secret(s, 'B') }] })) },
      schema: { field: 'ProxySqlServiceProps.users[0].schema', run: (v) => proxy((s) => ({ users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'A'), schema: v as string }] })) },
      checkType: { field: 'ProxySqlServiceProps.backend.replicationCheckType', run: (v) => proxy(() => ({}), undefined, v as string) },
      backendConnections: { field: 'ProxySqlServiceProps.maxBackendConnectionsPerServer', run: (v) => proxy(() => ({ maxBackendConnectionsPerServer: v as number })) },
      mysqlVariables: { field: 'ProxySqlServiceProps.mysqlVariables', run: (v) => proxy(() => ({ mysqlVariables: v as Record<string, string> })) },
    },
  },
  {
    name: 'DatabaseBootstrap (synth)',
    entries: {
      port: { field: 'DatabaseBootstrapProps.endpoint.port', run: (v) => bootstrapConstruct((p) => ({ ...p, endpoint: { hostname: 'db.internal', port: v as number } })) },
      host: { field: 'DatabaseBootstrapProps.endpoint.hostname', run: (v) => bootstrapConstruct((p) => ({ ...p, endpoint: { hostname: v as string, port: 3306 } })) },
      username: { field: 'DatabaseBootstrapProps.users[0].username', run: (v) => bootstrapConstruct((p) => ({ ...p, users: [{ ...p.users[0], username: v as string }] })) },
      managedUsername: { field: 'DatabaseBootstrapProps.users[0].username', run: (v) => bootstrapConstruct((p) => ({ ...p, users: [{ ...p.users[0], username: v as string }] })) },
      schema: { field: 'DatabaseBootstrapProps.users[0].schema', run: (v) => bootstrapConstruct((p) => ({ ...p, users: [{ ...p.users[0], schema: v as string }] })) },
    },
  },
  {
    name: 'DemoApi (synth)',
    entries: {
      port: { field: 'DemoApiProps.proxyPort', run: (v) => demoApi({ proxyPort: v }) },
      host: { field: 'DemoApiProps.proxyHostname', run: (v) => demoApi({ proxyHostname: v }) },
      schema: { field: 'DemoApiProps.databaseName', run: (v) => demoApi({ databaseName: v }) },
    },
  },
  {
    name: 'bootstrap runtime: validateSpec',
    entries: {
      port: { field: 'port', run: (v) => validateSpec(spec({ port: v as number })) },
      host: { field: 'host', run: (v) => validateSpec(spec({ host: v as string })) },
      username: { field: 'users[1].username', run: (v) => validateSpec(spec({}, { username: v as string })) },
      managedUsername: { field: 'users[1].username', run: (v) => validateSpec(spec({}, { username: v as string })) },
      schema: { field: 'users[1].schema', run: (v) => validateSpec(spec({}, { schema: v as string })) },
    },
  },
  {
    name: 'bootstrap runtime: resource properties',
    entries: {
      port: {
        field: 'resource property DatabasePort',
        seen: text,
        run: (v) => specFromProperties({ DatabaseHost: 'db.internal', DatabasePort: String(v) }, () => Promise.reject(new Error('no secret is read before the port is checked')), undefined),
      },
    },
  },
  {
    name: 'demo runtime: environment',
    entries: {
      port: { field: 'environment variable DB_PORT', seen: text, run: (v) => fromEnvironment({ ...demoEnv, DB_PORT: String(v) }) },
      host: { field: 'environment variable DB_HOST', run: (v) => fromEnvironment({ ...demoEnv, DB_HOST: v as string }) },
      schema: { field: 'environment variable DB_NAME', run: (v) => fromEnvironment({ ...demoEnv, DB_NAME: v as string }) },
    },
  },
  {
    name: 'demo runtime: createDemoHandler',
    entries: {
      port: { field: 'DemoDeps.port', run: (v) => createDemoHandler({ ...demoDeps, port: v as number }) },
      host: { field: 'DemoDeps.host', run: (v) => createDemoHandler({ ...demoDeps, host: v as string }) },
      schema: { field: 'DemoDeps.database', run: (v) => createDemoHandler({ ...demoDeps, database: v as string }) },
    },
  },
  {
    name: 'benchmark options',
    entries: {
      port: { field: '--target', seen: text, run: (v) => bench([`--target=db.internal:${String(v)}`, '--user', 'app']) },
      host: { field: '--target', run: (v) => bench([`--target=${hostPortOption(v)}`, '--user', 'app']) },
      // The benchmark logs in as an existing account (root included): only the syntax applies to --user.
      username: { field: '--user', run: (v) => bench(['--target', 'db.internal:3306', `--user=${String(v)}`]) },
      schema: { field: '--database', run: (v) => bench(['--target', 'db.internal:3306', '--user', 'app', `--database=${String(v)}`]) },
      backendConnections: { field: '--max-backend-connections', seen: text, run: (v) => bench(['--local', '--proxysql', '/p', '--max-backend-connections', String(v)]) },
      mysqlVariables: {
        field: (v) => `--proxysql-var ${variableName(v)}`,
        ownAt: true,
        run: (v) => bench(['--local', '--proxysql', '/p', '--proxysql-var', `${variableName(v)}=${String(variableValue(v))}`]),
      },
    },
  },
  // ---- CLI: the message after `serverless-proxysql <command>: ` on stderr (exit 2). Options and --config keys
  // reach the same rules; the option or `--config FILE: key` is the prefix.
  {
    name: 'CLI render',
    entries: {
      port: { field: '--writer', seen: text, run: (v) => render([`--writer=db.internal:${String(v)}`]) },
      host: { field: '--writer', run: (v) => render([`--writer=${hostPortOption(v)}`]) },
      // render's users are created and served by the deploy: the managed-user rule, monitor proxysql_monitor by default.
      username: { field: '--user', run: (v) => render(['--writer', 'db.internal:3306'], String(v)) },
      managedUsername: { field: '--user', run: (v) => render(['--writer', 'db.internal:3306'], String(v)) },
      checkType: { field: `--config ${CLI_CONFIG}: checkType`, run: (v) => renderWithConfig({ checkType: v }) },
      backendConnections: { field: `--config ${CLI_CONFIG}: maxBackendConnectionsPerServer`, run: (v) => renderWithConfig({ maxBackendConnectionsPerServer: v }) },
      mysqlVariables: { field: `--config ${CLI_CONFIG}: mysqlVariables`, run: (v) => renderWithConfig({ mysqlVariables: v }) },
    },
  },
  {
    name: 'CLI local',
    entries: {
      port: { field: '--proxysql-port', seen: text, run: (v) => parseLocalArgs([`--proxysql-port=${String(v)}`], {}) },
    },
  },
];

/** Inputs a caller cannot be given at all (e.g. the benchmark's NAME=VALUE syntax stops a prefixed name first). */
const NOT_APPLICABLE: ReadonlyArray<[caller: string, kind: Kind, value: unknown]> = [
  ['benchmark options', 'mysqlVariables', { 'mysql-threads': 4 }],
];

// ---- the test -----------------------------------------------------------------------------------------------

async function thrown(run: () => unknown): Promise<Error | undefined> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

function expected(caller: Caller, entry: Entry, kind: Kind, value: unknown): string {
  const seen = entry.seen ? entry.seen(value) : value;
  const problem = RULES[kind](seen);
  if (problem === undefined) throw new Error(`the table's input ${JSON.stringify(value)} passes the ${kind} rule: fix the table`);
  const field = typeof entry.field === 'function' ? entry.field(value) : entry.field;
  const message = ruleMessage(field, entry.ownAt && typeof problem !== 'string' ? problem.problem : problem);
  return caller.constructPath ? `${caller.constructPath}: ${withPythonSpelling(message)}` : message;
}

const rows = CALLERS.flatMap((caller) =>
  (Object.entries(caller.entries) as Array<[Kind, Entry]>).flatMap(([kind, entry]) =>
    BAD[kind]
      .filter((value) => !NOT_APPLICABLE.some(([c, k, v]) => c === caller.name && k === kind && JSON.stringify(v) === JSON.stringify(value)))
      .map((value) => ({ caller, kind, value, entry })),
  ),
);

describe('rules parity: every caller reports the same rule with its own prefix', () => {
  test.each(rows.map((r) => [r.caller.name, r.kind, JSON.stringify(r.value), r] as const))('%s, %s %s', async (_caller, kind, _value, row) => {
    const error = await thrown(() => row.entry.run(row.value));
    expect(error, 'the caller accepted a value its rule refuses').toBeInstanceOf(Error);
    expect(error?.message).toBe(expected(row.caller, row.entry, kind, row.value));
  });

  test('every kind of rule has a construct among its callers, and a runtime or tool besides', () => {
    // Check types are taken by the construct and the CLI's config file only: the CLI's rows add the second caller.
    const constructAndCliOnly: Kind[] = ['checkType'];
    for (const kind of Object.keys(BAD) as Kind[]) {
      const callers = CALLERS.filter((c) => c.entries[kind]).map((c) => c.name);
      expect(callers.some((c) => c.includes('(synth)')), `${kind}: ${callers.join(', ')}`).toBe(true);
      if (!constructAndCliOnly.includes(kind)) expect(callers.some((c) => !c.includes('(synth)')), `${kind}: ${callers.join(', ')}`).toBe(true);
    }
  });

  test('the benchmark reports through its own error class (exit status 2)', async () => {
    expect(await thrown(() => bench(['--target', 'db:0', '--user', 'app']))).toBeInstanceOf(BenchArgError);
  });
});

describe('where two copies disagreed, the stricter rule won', () => {
  test.each<[string, () => unknown, string]>([
    // The construct refused IPv6 and the benchmark took it: now both refuse it.
    ['IPv6 at the benchmark', () => bench(['--target', '[::1]:3306', '--user', 'app']), "--target: '::1' is an IPv6 address, which is not supported: use a DNS name or an IPv4 address"],
    // Only the bootstrap knew reserved names, so ProxySqlService reported them as DatabaseBootstrapProps.users[i] with
    // the index among created users; now the service names its own prop and index, created on the backend or not.
    ['a reserved name at ProxySqlService', () => proxy((s) => ({ users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'A') }, { username: 'root', secret: new secretsmanager.Secret(s, 'B') }] })),
      `${PROXY_PATH}: ProxySqlServiceProps.users[1].username: 'root' is reserved (the admin user or an RDS/MySQL system account): choose another user name`],
    ["the monitor's name at ProxySqlService", () => proxy((s) => ({ users: [{ username: MONITOR, secret: new secretsmanager.Secret(s, 'A') }] })),
      `${PROXY_PATH}: ProxySqlServiceProps.users[0].username: 'proxysql_monitor' is the monitor user's name: give every user its own name`],
    // The construct allowed 100,000 backend connections per server, the benchmark 10,000.
    ['100,000 backend connections at ProxySqlService', () => proxy(() => ({ maxBackendConnectionsPerServer: 100_000 })),
      `${PROXY_PATH}: ProxySqlServiceProps.maxBackendConnectionsPerServer: must be a whole number from 1 to 10000, got 100000 (in Python: max_backend_connections_per_server)`],
    // The benchmark allowed $ in schema names, the construct did not.
    ['$ in a schema at the benchmark', () => bench(['--target', 'db:3306', '--user', 'app', '--database', 'b$1']),
      "--database: 'b$1' is not a valid schema name: use 1-64 characters of A-Z, a-z, 0-9 and _"],
    // The CLI's own mysqlVariables check let construct-owned names and double quotes through, and it took
    // reserved accounts as --user: render printed a config the construct refuses to synthesize.
    ['a construct-owned variable at the CLI', () => renderWithConfig({ mysqlVariables: { have_ssl: true } }),
      `--config ${CLI_CONFIG}: mysqlVariables.have_ssl: set by the construct (set clientTls instead)`],
    ['a reserved name at the CLI', () => render(['--writer=db.internal:3306'], 'rdsadmin'),
      "--user: 'rdsadmin' is reserved (the admin user or an RDS/MySQL system account): choose another user name"],
    // The bootstrap runtime only checked that the host was not empty, the demo runtime not even that.
    ['a URL as the bootstrap host', () => validateSpec(spec({ host: 'mysql://db' })), "host: 'mysql://db' is not a DNS name or IPv4 address: pass the host only, without scheme, port, path or spaces"],
  ])('%s', async (_label, run, message) => {
    expect((await thrown(run))?.message).toBe(message);
  });
});
