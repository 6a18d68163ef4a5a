/**
 * Runs the real entrypoint exactly as the task does (ENTRYPOINT_ARGV: `/bin/sh -c 'eval "$PROXYSQL_ENTRYPOINT"'
 * proxysql-entrypoint …` with the script in that variable, and /bin/sh is dash here as in the Debian-based ProxySQL
 * image) with a stand-in for the proxysql binary.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretKind } from '../../src/config/model';
import { hostProblem, mysqlVariableProblem, mysqlVariableRule, portProblem, usernameProblem, ValueRule, valueRuleProblem, valueRuleText } from '../../src/config/rules';
import { deployValueProblem, deployValueRuleEnv, deployValueText, placeholderText, secretValueProblem, sourceEnv, substituteSecrets } from '../../src/config/secrets';
import {
  ADMIN_PASSWORD_ENV,
  CONFIG_TEMPLATE_ENV,
  DEPLOY_VALUE_ENV_PREFIX,
  ENTRYPOINT_ARGV,
  ENTRYPOINT_SCRIPT_ENV,
  MONITOR_PASSWORD_ENV,
  PROXYSQL_ADMIN_USER,
  PROXYSQL_STATS_USER,
  STATS_PASSWORD_ENV,
  USER_PASSWORD_ENV_PREFIX,
} from '../../src/constants';
import { findExecutable } from '../../local/files';
import { run } from '../../local/run';
import { parseLibconfig } from '../../test/support/libconfig';

const SCRIPT = fs.readFileSync(path.join(__dirname, 'entrypoint.sh'), 'utf8');
const USER0_ENV = `${USER_PASSWORD_ENV_PREFIX}0`;
const USER1_ENV = `${USER_PASSWORD_ENV_PREFIX}1`;
const SECRET_ENV: Record<SecretKind, string> = { admin: ADMIN_PASSWORD_ENV, stats: STATS_PASSWORD_ENV, monitor: MONITOR_PASSWORD_ENV, mysql_user: USER0_ENV };

/** proxysql.cnf-shaped template: each kind of secret, and one variable used twice. */
const TEMPLATE = [
  '# rendered by a test',
  'datadir="/var/lib/proxysql"',
  'admin_variables=',
  '{',
  `  admin_credentials="${PROXYSQL_ADMIN_USER}:${placeholderText({ kind: 'admin', env: ADMIN_PASSWORD_ENV })}"`,
  `  stats_credentials="${PROXYSQL_STATS_USER}:${placeholderText({ kind: 'stats', env: STATS_PASSWORD_ENV })}"`,
  '  mysql_ifaces="127.0.0.1:6032"',
  '}',
  'mysql_variables=',
  '{',
  '  monitor_username="proxysql_monitor"',
  `  monitor_password="${placeholderText({ kind: 'monitor', env: MONITOR_PASSWORD_ENV })}"`,
  '}',
  'mysql_users=',
  '(',
  `  { username="app", password="${placeholderText({ kind: 'mysql_user', env: USER0_ENV })}", default_hostgroup=10 },`,
  `  { username="app_ro", password="${placeholderText({ kind: 'mysql_user', env: USER0_ENV })}", default_hostgroup=20 },`,
  `  { username="reports", password="${placeholderText({ kind: 'mysql_user', env: USER1_ENV })}", default_hostgroup=20 }`,
  ')',
  '',
].join('\n');

const SAFE: Record<string, string> = {
  [ADMIN_PASSWORD_ENV]: 'adminPw-1',
  [STATS_PASSWORD_ENV]: 'statsPw-5',
  [MONITOR_PASSWORD_ENV]: 'monitorPw-2',
  [USER0_ENV]: 'userPw-3',
  [USER1_ENV]: 'userPw-4',
};

let root: string;
let counter = 0;
const [ENV_BIN, SLEEP_BIN] = ['env', 'sleep'].map((tool) => findExecutable(tool) ?? `/usr/bin/${tool}`);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'proxysql-entrypoint-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function writeExecutable(file: string, text: string): string {
  fs.writeFileSync(file, text, { mode: 0o755 });
  return file;
}

/** A fresh directory with a stand-in proxysql that records its argv, pid and environment. */
function workdir(): { dir: string; env: Record<string, string> } {
  const dir = path.join(root, `run-${++counter}`);
  fs.mkdirSync(dir);
  const bin = writeExecutable(
    path.join(dir, 'proxysql'),
    [
      '#!/bin/sh',
      `dir='${dir}'`,
      'printf "%s\\n" "$@" > "$dir/argv"',
      'echo $$ > "$dir/pid"',
      // Absolute paths: a test runs the entrypoint with a PATH of only the tools it needs.
      `'${ENV_BIN}' > "$dir/env"`,
      // ProxySQL exits on TERM; the stand-in runs until then, or exits by itself when told to.
      'trap \'echo TERM >> "$dir/events"; exit "${STANDIN_TERM_EXIT:-0}"\' TERM',
      'echo started >> "$dir/events"',
      '[ -n "${STANDIN_RUN_SECONDS:-}" ] || exit 0',
      'n=0',
      'while :; do',
      `  '${SLEEP_BIN}' 0.05; n=$((n + 1))`,
      '  if [ -n "${STANDIN_EXIT_AFTER_TICKS:-}" ] && [ "$n" -ge "$STANDIN_EXIT_AFTER_TICKS" ]; then',
      '    [ -n "${STANDIN_DIE_BY_KILL:-}" ] && kill -KILL $$',
      '    exit "${STANDIN_EXIT_CODE:-0}"',
      '  fi',
      'done',
      '',
    ].join('\n'),
  );
  return {
    dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      [ENTRYPOINT_SCRIPT_ENV]: SCRIPT,
      PROXYSQL_BIN: bin,
      PROXYSQL_CONFIG_PATH: path.join(dir, 'proxysql.cnf'),
      PROXYSQL_DATADIR: path.join(dir, 'data'),
    },
  };
}

const [SHELL, ...SHELL_ARGS] = ENTRYPOINT_ARGV;

async function runToEnd(env: Record<string, string>, args: string[] = []) {
  const result = await run(SHELL, [...SHELL_ARGS, ...args], { env });
  return { code: result.status, stderr: result.stderr, pid: result.pid };
}

function readIfExists(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

function record(obj: unknown, key: string): Record<string, unknown> {
  const value = (obj as Record<string, unknown>)[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${key} is not a group`);
  return value as Record<string, unknown>;
}

const HOSTILE: Array<[string, string]> = [
  ['double quote', 'say "hi"'],
  ['backslash', 'a\\b'],
  ['trailing backslash', 'ends-with\\'],
  ['backslash before quote', 'x\\"y'],
  ['dollar', 'pa$HOME$$s'],
  ['backtick', 'a`id`b'],
  ['command substitution', '$(id)'],
  ['ampersand and sed back-references', 'a&b\\1$&'],
  ['slash', 'a/b//c'],
  ['hash', '#not-a-comment'],
  ['space', 'two words'],
  ['semicolon', 'a;b'],
  ['printf format', '%s%d%n'],
  ['literal backslash-n', 'a\\nb'],
  ['literal backslash-x escape', '\\x41\\t'],
  ['non-ASCII', 'pässwörd-ü€-日本'],
  ['leading and trailing spaces', '  padded  '],
  ['glob characters', '*?[!a]'],
  ['tab', 'a\tb'],
  ['single quote', "it's"],
  ['colon', 'a:b'],
  ['leading star', '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'],
  ['leading dash', '--help'],
  ['placeholder-looking value', placeholderText({ kind: 'admin', env: 'OTHER' })],
  ['4096 characters', Array.from({ length: 4096 }, (_, i) => 'aZ9 $`\\"&/#;%€'[i % 14]).join('')],
];

const CASES = HOSTILE.flatMap(([label, value]) =>
  (['admin', 'stats', 'monitor', 'mysql_user'] as const)
    .filter((kind) => secretValueProblem(kind, value) === undefined)
    .map((kind) => ({ label, kind, value })),
);

describe('entrypoint secret substitution', () => {
  it('is small, self-contained POSIX sh (it travels in a variable and runs through eval)', async () => {
    // It travels in the task definition (with the config template; ECS caps a task definition at 64 KiB, and
    // checkContainerDefinitionsSize keeps both containers under 60 KiB): 8 KiB now that the drain is the agent's.
    expect(Buffer.byteLength(SCRIPT)).toBeLessThan(8 * 1024);
    expect(SCRIPT).not.toMatch(/^\s*(\.|source)\s/m);
    expect(SCRIPT).not.toMatch(/set -x|\[\[|\blocal\b|\bfunction\b/);
    expect((await run('/bin/sh', ['-n', '-c', SCRIPT])).status).toBe(0);
  });

  it.each(CASES)('writes a $kind password with $label so ProxySQL reads back the exact value', async ({ kind, value }) => {
    const { dir, env } = workdir();
    const secrets = { ...SAFE, [SECRET_ENV[kind]]: value };
    const run = await runToEnd({ ...env, ...secrets, [CONFIG_TEMPLATE_ENV]: TEMPLATE });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const written = fs.readFileSync(env.PROXYSQL_CONFIG_PATH);
    expect(written.equals(Buffer.from(substituteSecrets(TEMPLATE, secrets), 'utf8'))).toBe(true);

    const cnf = parseLibconfig(written.toString('utf8'));
    expect(record(cnf, 'admin_variables').admin_credentials).toBe(`${PROXYSQL_ADMIN_USER}:${secrets[ADMIN_PASSWORD_ENV]}`);
    expect(record(cnf, 'admin_variables').stats_credentials).toBe(`${PROXYSQL_STATS_USER}:${secrets[STATS_PASSWORD_ENV]}`);
    expect(record(cnf, 'mysql_variables').monitor_password).toBe(secrets[MONITOR_PASSWORD_ENV]);
    expect(cnf.mysql_users).toEqual([
      { username: 'app', password: secrets[USER0_ENV], default_hostgroup: 10 },
      { username: 'app_ro', password: secrets[USER0_ENV], default_hostgroup: 20 },
      { username: 'reports', password: secrets[USER1_ENV], default_hostgroup: 20 },
    ]);
    // ProxySQL gets no secret in its environment: the values live only in the 0600 file.
    const childEnv = fs.readFileSync(path.join(dir, 'env'), 'utf8');
    for (const name of Object.keys(secrets)) expect(childEnv).not.toMatch(new RegExp(`^${name}=`, 'm'));
    if (value.length > 8) expect(childEnv).not.toContain(value);
  });

  it('starts proxysql by exec with -f --initial -c <config> -D <datadir> plus the task command, writing the file 0600', async () => {
    const { dir, env } = workdir();
    const run = await runToEnd({ ...env, ...SAFE, [CONFIG_TEMPLATE_ENV]: TEMPLATE }, ['--idle-threads', 'x y']);
    expect(run.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'argv'), 'utf8').split('\n').slice(0, -1)).toEqual([
      '-f',
      '--initial',
      '--no-version-check',
      '-c',
      env.PROXYSQL_CONFIG_PATH,
      '-D',
      env.PROXYSQL_DATADIR,
      '--idle-threads',
      'x y',
    ]);
    // exec: proxysql replaced the shell, so ECS's SIGTERM reaches it directly.
    expect(Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'))).toBe(run.pid);
    expect(fs.statSync(env.PROXYSQL_CONFIG_PATH).mode & 0o777).toBe(0o600);
    expect(fs.statSync(env.PROXYSQL_DATADIR).isDirectory()).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp.'))).toEqual([]);
  });

  it('replaces an existing config atomically and keeps malformed placeholder text exactly as substituteSecrets does', async () => {
    const { env } = workdir();
    fs.writeFileSync(env.PROXYSQL_CONFIG_PATH, 'stale', { mode: 0o644 });
    const template =
      'a="{{secret:bad:X}}{{secret:admin:lower}}{{secret:admin:{{secret:monitor:M}}"\n' +
      'b="{{secret:mysql_user:U}}}{{secret:admin:A1-}}{{secret:admin:"\nc="{{secret:admin:A'; // no trailing newline
    const secrets = { M: "m'\\", U: 'u\\"' };
    const run = await runToEnd({ ...env, ...secrets, [CONFIG_TEMPLATE_ENV]: template });
    expect(run.code).toBe(0);
    expect(fs.readFileSync(env.PROXYSQL_CONFIG_PATH, 'utf8')).toBe(substituteSecrets(template, secrets));
    expect(fs.statSync(env.PROXYSQL_CONFIG_PATH).mode & 0o777).toBe(0o600);
  });

  const REJECTIONS: Array<{ what: string; kind: SecretKind; value: string | undefined }> = [
    { what: 'missing', kind: 'mysql_user', value: undefined },
    { what: 'empty', kind: 'admin', value: '' },
    { what: 'a newline', kind: 'monitor', value: 'S3cret-line1\nline2' },
    { what: 'a trailing newline', kind: 'admin', value: 'S3cret-pw\n' },
    { what: 'a carriage return', kind: 'mysql_user', value: 'S3cret-pw\r' },
    { what: "a ' in a mysql_user password", kind: 'mysql_user', value: "S3cret'pw" },
    { what: 'a leading * in a mysql_user password', kind: 'mysql_user', value: '*S3cretpw' },
    { what: 'a " in a monitor password', kind: 'monitor', value: 'S3cret"pw' },
    { what: 'a : in an admin password', kind: 'admin', value: 'S3cret:pw' },
    { what: 'a ; in an admin password', kind: 'admin', value: 'S3cret;pw' },
    { what: 'a " in an admin password', kind: 'admin', value: 'S3cret"pw' },
    { what: 'a : in a stats password', kind: 'stats', value: 'S3cret:pw' },
    { what: 'a ; in a stats password', kind: 'stats', value: 'S3cret;pw' },
    { what: 'a " in a stats password', kind: 'stats', value: 'S3cret"pw' },
    { what: 'missing', kind: 'stats', value: undefined },
  ];

  it.each(REJECTIONS)('rejects a $kind secret with $what: exit 78, one line naming it, never the value', async ({ kind, value }) => {
    const { dir, env } = workdir();
    const name = SECRET_ENV[kind];
    const secrets: Record<string, string> = { ...SAFE };
    if (value === undefined) delete secrets[name];
    else secrets[name] = value;
    for (const source of [undefined, `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${kind}-AbCdEf`]) {
      const run = await runToEnd({ ...env, ...secrets, ...(source ? { [`${name}_SOURCE`]: source } : {}), [CONFIG_TEMPLATE_ENV]: TEMPLATE });
      const problem = secretValueProblem(kind, value);
      expect(problem).toBeDefined();
      expect(run.code).toBe(78);
      expect(run.stderr).toBe(`proxysql-entrypoint: secret ${name}${source ? ` (${source})` : ''} (${kind} password) ${problem}\n`);
      if (value) expect(run.stderr).not.toContain(value.replace(/[\r\n]+$/, ''));
      if (!source) expect(() => substituteSecrets(TEMPLATE, secrets)).toThrow(run.stderr.trim().replace('proxysql-entrypoint: ', ''));
      expect(fs.existsSync(env.PROXYSQL_CONFIG_PATH)).toBe(false);
      expect(fs.existsSync(path.join(dir, 'argv'))).toBe(false);
      expect(fs.readdirSync(dir)).toEqual(['proxysql']);
    }
  });

  it('exits 78 when the template is missing, 73 when the file cannot be written', async () => {
    const { dir, env } = workdir();
    const noTemplate = await runToEnd({ ...env, ...SAFE });
    expect(noTemplate.code).toBe(78);
    expect(noTemplate.stderr).toMatch(/^proxysql-entrypoint: PROXYSQL_CONFIG_TEMPLATE is missing or empty: set it to/);

    const cfg = path.join(dir, 'missing-dir', 'proxysql.cnf');
    const unwritable = await runToEnd({ ...env, ...SAFE, [CONFIG_TEMPLATE_ENV]: TEMPLATE, PROXYSQL_CONFIG_PATH: cfg });
    expect(unwritable.code).toBe(73);
    expect(unwritable.stderr).toContain(`cannot write ${cfg}: make its directory writable or set PROXYSQL_CONFIG_PATH`);
    for (const secret of Object.values(SAFE)) expect(unwritable.stderr).not.toContain(secret);
    expect(fs.existsSync(path.join(dir, 'argv'))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** A deploy-time value as the construct passes it (src/proxysql-container.ts DeployValues): value, rule, source. */
function deployValue(n: number, rule: ValueRule, value: string | undefined, source: string): Record<string, string> {
  const env = `${DEPLOY_VALUE_ENV_PREFIX}${n}`;
  return { ...(value === undefined ? {} : { [env]: value }), [deployValueRuleEnv(env)]: valueRuleText(rule), [sourceEnv(env)]: source };
}

/** proxysql.cnf-shaped: a user name, a text, a boolean and a whole-number variable, each given as a CloudFormation token. */
const PARAM_TEMPLATE = [
  'mysql_variables=',
  '{',
  `  monitor_password="${placeholderText({ kind: 'monitor', env: MONITOR_PASSWORD_ENV })}"`,
  `  init_connect="${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}1` })}"`,
  `  multiplexing="${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}2` })}"`,
  `  wait_timeout="${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}3` })}"`,
  '}',
  'mysql_users=',
  '(',
  `  { username="${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}0` })}", password="${placeholderText({ kind: 'mysql_user', env: USER0_ENV })}" }`,
  ')',
  'mysql_servers=',
  '(',
  // a port is a libconfig int: its placeholder stands without quotes (src/config/render.ts)
  `  { hostgroup=10, address="${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}4` })}", port=${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}5` })} }`,
  ')',
  'mysql_aws_aurora_hostgroups=',
  '(',
  `  { writer_hostgroup=10, reader_hostgroup=20, domain_name="${deployValueText({ param: `${DEPLOY_VALUE_ENV_PREFIX}6` })}" }`,
  ')',
  '',
].join('\n');

const PARAM_RULES: Array<{ n: number; rule: ValueRule; source: string; ok: string }> = [
  { n: 0, rule: { kind: 'name' }, source: 'ProxySqlServiceProps.users[0].username', ok: 'app_1' },
  { n: 1, rule: mysqlVariableRule('init_connect'), source: 'ProxySqlServiceProps.mysqlVariables.init_connect', ok: "SET @a='x'" },
  { n: 2, rule: mysqlVariableRule('multiplexing'), source: 'ProxySqlServiceProps.mysqlVariables.multiplexing', ok: 'true' },
  { n: 3, rule: mysqlVariableRule('wait_timeout'), source: 'ProxySqlServiceProps.mysqlVariables.wait_timeout', ok: '28800000' },
  { n: 4, rule: { kind: 'host' }, source: 'ProxySqlServiceProps.backend.writer.hostname', ok: 'db.example.com' },
  { n: 5, rule: { kind: 'port' }, source: 'ProxySqlServiceProps.backend.writer.port', ok: '3306' },
  { n: 6, rule: { kind: 'domain' }, source: 'ProxySqlServiceProps.backend (the Aurora instance domain)', ok: '.xyz.eu-west-1.rds.amazonaws.com' },
];

/** Where the value of PARAM_RULES[n] stands in the parsed PARAM_TEMPLATE. */
function readBack(cnf: Record<string, unknown>, n: number): unknown {
  if (n === 0) return (cnf.mysql_users as Array<Record<string, unknown>>)[0].username;
  if (n === 4) return (cnf.mysql_servers as Array<Record<string, unknown>>)[0].address;
  if (n === 5) return String((cnf.mysql_servers as Array<Record<string, unknown>>)[0].port);
  if (n === 6) return (cnf.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>)[0].domain_name;
  return Object.values(record(cnf, 'mysql_variables'))[n];
}

/** What synth says of the same value given as a literal (undefined when it takes it). */
function literalProblem(rule: ValueRule, source: string, value: string): string | undefined {
  switch (rule.kind) {
    case 'name':
      return usernameProblem(value);
    case 'host':
      return hostProblem(value);
    case 'port':
      // a literal port is a number: only the text a number prints as is comparable
      return String(Number(value)) === value ? portProblem(Number(value)) : 'not a number literal';
    case 'domain':
      // derived at synth from a literal cluster endpoint (src/config/aurora.ts); as text, a dot and a host
      return value.startsWith('.') ? hostProblem(value.slice(1)) : 'no dot';
    default: {
      const finding = mysqlVariableProblem(source.split('.').at(-1) as string, value);
      return finding && finding.problem;
    }
  }
}

function paramEnv(values: Partial<Record<number, string>> = {}): Record<string, string> {
  return Object.assign({}, ...PARAM_RULES.map(({ n, rule, source, ok }) => deployValue(n, rule, n in values ? values[n] : ok, source)));
}

/** Values a CfnParameter could carry, hostile for libconfig, the loader's SQL and the shell. */
const PARAM_VALUES: string[] = [
  'app_1', 'A'.repeat(32), 'A'.repeat(33), '', 'app-1', 'app 1', 'bö', "o'brien", 'say "hi"', 'a\\b', 'ends-with\\', 'x\\"y',
  'line1\nline2', 'cr\r', "SET @a='x'", 'SET @a="x"', '$(id) `id` $HOME', 'a&b\\1$&', '%s%n', '{{secret:admin:PROXYSQL_ADMIN_PASSWORD}}',
  '{{param:PROXYSQL_PARAM_0}}', '{{other}}', '*?[!a]', 'TRUE', 'False', '1', '0', 'yes', ' true', '28800000', '-1', '-0', '007',
  '1728000000', '1728000001', '1e3', ' 5', '5 ', '  -7  ', '\t5', '5\n', '- 5', '5 5', '  ', '--5', '-', '12345678901234567', '0x10',
  // hosts, ports and Aurora domains: what synth's hostProblem/portProblem take and refuse
  'db.example.com', 'DB-1.Example.COM', 'name.cluster-xyz.eu-west-1.rds.amazonaws.com', '.xyz.eu-west-1.rds.amazonaws.com',
  '..xyz.rds.amazonaws.com', '.', '.-x.example', 'db"; x', 'db\nx', '$(id)', 'db$(id)', '127.0.0.1', '10.0.255.254', '999.1.1.1',
  '01.2.3.4', '1.2.3', '1.2.3.4.', '1.2.3.4a', '::1', '[fe80::1]', 'fe80::1%eth0', '::ffff:10.0.0.1', 'db:3306', 'a:b:c', 'mysql://db',
  'db.', '-db', 'db-', 'a..b', 'a_b.example', `${'a'.repeat(63)}.com`, `${'a'.repeat(64)}.com`, Array(51).fill('abcd').join('.'),
  Array(50).fill('abcd').join('.'), '3306', '65535', '65536', '99999', '100000', '00', '0080', 'x'.repeat(300),
];

describe('entrypoint: values given as CloudFormation tokens (user names, mysqlVariables, backend hosts and ports)', () => {
  it('writes each checked value escaped, so the file reads back the exact value, as substituteSecrets does', async () => {
    const { env } = workdir();
    const values = { 0: 'App_user_9', 1: "SET @p='back\\slash, ends \\' $HOME `id` %s ü", 2: 'FALSE', 3: '-0' };
    const all = { ...env, [MONITOR_PASSWORD_ENV]: 'mon-pw', [USER0_ENV]: 'user-pw', ...paramEnv(values) };
    const run = await runToEnd({ ...all, [CONFIG_TEMPLATE_ENV]: PARAM_TEMPLATE });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const written = fs.readFileSync(env.PROXYSQL_CONFIG_PATH, 'utf8');
    expect(written).toBe(substituteSecrets(PARAM_TEMPLATE, all));
    const cnf = parseLibconfig(written);
    expect(record(cnf, 'mysql_variables')).toEqual({ monitor_password: 'mon-pw', init_connect: values[1], multiplexing: 'FALSE', wait_timeout: '-0' });
    expect(cnf.mysql_users).toEqual([{ username: 'App_user_9', password: 'user-pw' }]);
    expect(cnf.mysql_servers).toEqual([{ hostgroup: 10, address: 'db.example.com', port: 3306 }]);
    expect(cnf.mysql_aws_aurora_hostgroups).toEqual([{ writer_hostgroup: 10, reader_hostgroup: 20, domain_name: '.xyz.eu-west-1.rds.amazonaws.com' }]);
    expect(values[1]).toContain('\\');
  });

  // The rule is written in TypeScript (src/config/rules.ts valueRuleProblem, what synth checks literals with) and in
  // sh (the entrypoint's `param`): both run on the same values here, and must agree on every one, message included.
  it.each(PARAM_RULES.map(({ n, rule, source }) => ({ n, rule, source, label: valueRuleText(rule) })))(
    'checks a $label value by the same rule synth checks a literal with, naming the prop, never the value',
    async ({ n, rule, source }) => {
      const accepted: string[] = [];
      for (const value of PARAM_VALUES) {
        const problem = valueRuleProblem(rule, value);
        // synth's own checks of a literal say the same (the literal's message adds the value)
        const literal = literalProblem(rule, source, value);
        if (literal !== 'not a number literal') expect({ value, refused: literal !== undefined }).toEqual({ value, refused: problem !== undefined });
        if (rule.kind === 'host' && problem !== undefined && value.trim() !== '') expect(literal).toBe(`'${value}' ${problem}`);
        if (problem === undefined) {
          accepted.push(value);
          continue;
        }
        const { dir, env } = workdir();
        const all = { ...env, [MONITOR_PASSWORD_ENV]: 'mon-pw', [USER0_ENV]: 'user-pw', ...paramEnv({ [n]: value }) };
        const run = await runToEnd({ ...all, [CONFIG_TEMPLATE_ENV]: PARAM_TEMPLATE });
        expect({ value, code: run.code, stderr: run.stderr }).toEqual({
          value,
          code: 78,
          stderr: `proxysql-entrypoint: ${source} (${DEPLOY_VALUE_ENV_PREFIX}${n}) ${problem}\n`,
        });
        expect(deployValueProblem(`${DEPLOY_VALUE_ENV_PREFIX}${n}`, all)).toBe(`${source} (${DEPLOY_VALUE_ENV_PREFIX}${n}) ${problem}`);
        expect(() => substituteSecrets(PARAM_TEMPLATE, all)).toThrow(run.stderr.trim().replace('proxysql-entrypoint: ', ''));
        if (value.trim().length > 3 && !problem.includes(value.trim())) expect(run.stderr).not.toContain(value.trim());
        expect(fs.readdirSync(dir)).toEqual(['proxysql']);
      }
      // every accepted value is written so that libconfig reads it back exactly
      for (const value of accepted) {
        const { env } = workdir();
        const all = { ...env, [MONITOR_PASSWORD_ENV]: 'mon-pw', [USER0_ENV]: 'user-pw', ...paramEnv({ [n]: value }) };
        const run = await runToEnd({ ...all, [CONFIG_TEMPLATE_ENV]: PARAM_TEMPLATE });
        expect({ value, code: run.code, stderr: run.stderr }).toEqual({ value, code: 0, stderr: '' });
        const written = fs.readFileSync(env.PROXYSQL_CONFIG_PATH, 'utf8');
        expect(written).toBe(substituteSecrets(PARAM_TEMPLATE, all));
        expect({ value, read: readBack(parseLibconfig(written), n) }).toEqual({ value, read: value });
      }
      expect(accepted.length).toBeGreaterThan(0);
    },
  );

  it('refuses a value with no rule (a template and environment the construct did not write together), naming the variable', async () => {
    const { env } = workdir();
    const all: Record<string, string> = { ...env, [MONITOR_PASSWORD_ENV]: 'mon-pw', [USER0_ENV]: 'user-pw', ...paramEnv() };
    delete all[deployValueRuleEnv(`${DEPLOY_VALUE_ENV_PREFIX}2`)];
    delete all[sourceEnv(`${DEPLOY_VALUE_ENV_PREFIX}2`)];
    const run = await runToEnd({ ...all, [CONFIG_TEMPLATE_ENV]: PARAM_TEMPLATE });
    expect(run.code).toBe(78);
    expect(run.stderr).toBe(`proxysql-entrypoint: PROXYSQL_PARAM_2 has no rule in PROXYSQL_PARAM_2_RULE (the ProxySqlService construct sets it)\n`);
    expect(deployValueProblem('PROXYSQL_PARAM_2', all)).toBe(run.stderr.trim().replace('proxysql-entrypoint: ', ''));
  });

  it('fills secrets and values in one pass: a secret that looks like a value placeholder is written as it is', async () => {
    const { env } = workdir();
    const all = { ...env, [MONITOR_PASSWORD_ENV]: `{{param:${DEPLOY_VALUE_ENV_PREFIX}0}}`, [USER0_ENV]: 'user-pw', ...paramEnv() };
    const run = await runToEnd({ ...all, [CONFIG_TEMPLATE_ENV]: `{{{${PARAM_TEMPLATE}{{param:}}{{param:lower}}{{{param:${DEPLOY_VALUE_ENV_PREFIX}3}}` });
    expect(run.stderr).toBe('');
    const written = fs.readFileSync(env.PROXYSQL_CONFIG_PATH, 'utf8');
    expect(written).toBe(substituteSecrets(`{{{${PARAM_TEMPLATE}{{param:}}{{param:lower}}{{{param:${DEPLOY_VALUE_ENV_PREFIX}3}}`, all));
    expect(written).toContain(`monitor_password="{{param:${DEPLOY_VALUE_ENV_PREFIX}0}}"`);
    expect(written.endsWith('{{param:}}{{param:lower}}{28800000')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------

interface Started {
  child: ChildProcess;
  dir: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; at: number }>;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The entrypoint with a stand-in proxysql that runs until TERM (or as `extra` says), started and running. */
async function startRunning(extra: Record<string, string>): Promise<Started> {
  const { dir, env } = workdir();
  const child = spawn(SHELL, SHELL_ARGS, {
    env: { ...env, ...SAFE, [CONFIG_TEMPLATE_ENV]: TEMPLATE, STANDIN_RUN_SECONDS: '1', ...extra },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; at: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr, at: Date.now() })),
  );
  await waitFor(() => (readIfExists(path.join(dir, 'events')) ?? '').includes('started'), 'the stand-in proxysql to start');
  return { child, dir, exited };
}

function lines(file: string): string[] {
  return (readIfExists(file) ?? '').split('\n').filter((l) => l !== '');
}

describe('entrypoint: stopping', () => {
  it('ProxySQL replaces the shell: SIGTERM to the entrypoint reaches it at once, and its exit code is the container\'s', async () => {
    const run = await startRunning({ STANDIN_TERM_EXIT: '7' });
    expect(Number(fs.readFileSync(path.join(run.dir, 'pid'), 'utf8'))).toBe(run.child.pid);
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.exited;
    expect(result.code).toBe(7);
    expect(result.at - sentAt).toBeLessThan(1000);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
    expect(result.stderr).toBe('');
  });

  it("exits with proxysql's own code when it exits by itself, and dies with it when it is killed", async () => {
    const byItself = await startRunning({ STANDIN_EXIT_AFTER_TICKS: '4', STANDIN_EXIT_CODE: '5' });
    expect(await byItself.exited).toMatchObject({ code: 5, signal: null, stderr: '' });
    const killed = await startRunning({ STANDIN_EXIT_AFTER_TICKS: '2', STANDIN_DIE_BY_KILL: '1' });
    expect(await killed.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
  });

  it('needs no MySQL client: it writes the file and starts ProxySQL with a PATH of only sh, mkdir, chmod, mv and rm', async () => {
    const bin = path.join(root, `clientless-${++counter}`);
    fs.mkdirSync(bin);
    for (const tool of ['sh', 'mkdir', 'chmod', 'mv', 'rm']) fs.symlinkSync(findExecutable(tool) as string, path.join(bin, tool));
    const run = await startRunning({ PATH: bin, PROXYSQL_BACKEND_CA: 'not a secret' });
    expect(fs.statSync(path.join(run.dir, 'proxysql.cnf')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(run.dir, 'data', 'backend-ca.pem'), 'utf8')).toBe('not a secret\n');
    run.child.kill('SIGTERM');
    expect(await run.exited).toMatchObject({ code: 0, stderr: '' });
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** A process's environment as the kernel shows it to anyone who may read /proc/<pid>/environ: what it was exec'd with. */
function procEnviron(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((e) => e !== '');
}

function procArgv(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

/** Values no script text, template or path contains by chance, each hostile for the shell and the heredoc. */
const UNIQUE: Record<string, string> = {
  [ADMIN_PASSWORD_ENV]: '  Adm1n-Q7 \\x41 $HOME `id` %s ü  ',
  [STATS_PASSWORD_ENV]: 'St4ts-Q11 $PATH',
  [MONITOR_PASSWORD_ENV]: "M0nitor-Q8 it's $(id)",
  [USER0_ENV]: 'Us3r-Q9 back\\slash',
  [USER1_ENV]: 'Us3r-Q10 two  spaces',
};

/** Every secret name and value that appears in a process's environment or argv. */
function secretsIn(pid: number, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  const environ = procEnviron(pid);
  const text = [...environ, ...procArgv(pid)].join('\n');
  for (const [name, value] of Object.entries(secrets)) {
    if (environ.some((e) => e.startsWith(`${name}=`))) found.push(`${name}=`);
    if (text.includes(value.trim())) found.push(`the value of ${name}`);
  }
  return found;
}

describe('entrypoint: no secret in the environment of the processes that stay', () => {
  it('the probe sees what the issue is about: a shell that unsets a variable still shows it in /proc/<pid>/environ', async () => {
    const child = spawn('/bin/sh', ['-c', 'unset PROXYSQL_ADMIN_PASSWORD; while :; do sleep 0.05; done'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [ADMIN_PASSWORD_ENV]: UNIQUE[ADMIN_PASSWORD_ENV] },
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(secretsIn(child.pid as number, UNIQUE)).toEqual([`${ADMIN_PASSWORD_ENV}=`, `the value of ${ADMIN_PASSWORD_ENV}`]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('ProxySQL replaces the shell and starts with none of the secrets in its environment or argv', async () => {
    const run = await startRunning(UNIQUE);
    const proxysql = Number(fs.readFileSync(path.join(run.dir, 'pid'), 'utf8'));
    expect(proxysql).toBe(run.child.pid);
    expect(secretsIn(proxysql, UNIQUE)).toEqual([]);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });
});
