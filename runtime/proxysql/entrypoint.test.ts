/**
 * Runs the real entrypoint exactly as the task does (ENTRYPOINT_ARGV: `/bin/sh -c 'eval "$PROXYSQL_ENTRYPOINT"'
 * proxysql-entrypoint …` with the script in that variable, and /bin/sh is dash here as in the Debian-based ProxySQL
 * image) with stand-ins for the proxysql binary and the admin client.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
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
      'env > "$dir/env"',
      // Drain stand-in: wait for TERM, or exit by itself when told to.
      'trap \'echo TERM >> "$dir/events"; exit "${STANDIN_TERM_EXIT:-0}"\' TERM',
      'echo started >> "$dir/events"',
      '[ -n "${STANDIN_RUN_SECONDS:-}" ] || exit 0',
      'n=0',
      'while :; do',
      '  sleep 0.05; n=$((n + 1))',
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
    // checkContainerDefinitionsSize keeps both containers under 60 KiB). 12 KiB since param checks hosts and ports.
    expect(Buffer.byteLength(SCRIPT)).toBeLessThan(12 * 1024);
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

  it('exits 78 when the template is missing or the drain bound is not a number, 73 when the file cannot be written', async () => {
    const { dir, env } = workdir();
    const noTemplate = await runToEnd({ ...env, ...SAFE });
    expect(noTemplate.code).toBe(78);
    expect(noTemplate.stderr).toMatch(/^proxysql-entrypoint: PROXYSQL_CONFIG_TEMPLATE is missing or empty: set it to/);

    const badBound = await runToEnd({ ...env, ...SAFE, [CONFIG_TEMPLATE_ENV]: TEMPLATE, PROXYSQL_DRAIN_SECONDS: '5s' });
    expect(badBound.code).toBe(78);
    expect(badBound.stderr).toContain("PROXYSQL_DRAIN_SECONDS='5s' must be a whole number of seconds");

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
  exited: Promise<{ code: number | null; stderr: string; at: number }>;
}

/** Signals the entrypoint and waits for it to exit: its result, and the ms from the signal to the exit. */
async function signalAndWait(run: Started, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; stderr: string; elapsed: number }> {
  const sentAt = Date.now();
  run.child.kill(signal);
  const result = await run.exited;
  return { code: result.code, stderr: result.stderr, elapsed: result.at - sentAt };
}

/** What the drain sends first: close the listener, then let ProxySQL close idle sessions outside transactions. */
const PAUSE_SQL = 'PROXYSQL PAUSE; SET mysql-wait_timeout=1; SET mysql-show_processlist_extended=1; LOAD MYSQL VARIABLES TO RUNTIME';
/** The sessions the drain closes at once: idle and holding no backend connection. */
const IDLE_SQL = "SELECT SessionID FROM stats_mysql_processlist WHERE command='Sleep' AND srv_host IS NULL";
/** Sessions that keep the drain going: running a statement, or holding a transaction. */
const COUNT_SQL =
  "SELECT COUNT(*) FROM stats_mysql_processlist WHERE command<>'Sleep' OR coalesce(json_extract(extended_info,'$.active_transactions'),srv_host IS NOT NULL)>0";

/**
 * A stand-in admin client: records argv, MYSQL_PWD and SQL, answers the connection count from a file, and takes
 * as many seconds per call as the file `slow` says, if there is one.
 */
function adminClient(dir: string): string {
  fs.writeFileSync(path.join(dir, 'connections'), '3\n');
  return writeExecutable(
    path.join(dir, 'mysql'),
    [
      '#!/bin/sh',
      `dir='${dir}'`,
      'if [ "$1" = --version ]; then echo "mysql from 11.8.3-MariaDB, client 15.2 for debian-linux-gnu"; exit 0; fi',
      'printf "%s\\n" "$*" >> "$dir/admin-argv"',
      'printf "%s\\n" "${MYSQL_PWD-<unset>}" >> "$dir/admin-pwd"',
      'sql=',
      'while [ $# -gt 0 ]; do [ "$1" = -e ] && sql=$2; shift; done',
      'printf "%s\\n" "$sql" >> "$dir/admin-sql"',
      '[ -f "$dir/slow" ] && sleep "$(cat "$dir/slow")"',
      'case $sql in',
      `  '${PAUSE_SQL}') exit 0 ;;`,
      `  "${IDLE_SQL}") cat "$dir/idle" 2>/dev/null; exit 0 ;;`,
      "  'KILL CONNECTION '*) exit 0 ;;",
      `  "${COUNT_SQL.replace(/\$/g, '\\$')}") cat "$dir/connections"; exit 0 ;;`,
      'esac',
      'echo "ERROR 1045: unexpected SQL" >&2; exit 1',
      '',
    ].join('\n'),
  );
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startDraining(extra: Record<string, string>, prepare?: (dir: string) => Record<string, string>): Promise<Started> {
  const { dir, env } = workdir();
  const more = prepare ? prepare(dir) : {};
  const child = spawn(SHELL, SHELL_ARGS, {
    env: { ...env, ...SAFE, [CONFIG_TEMPLATE_ENV]: TEMPLATE, STANDIN_RUN_SECONDS: '1', ...more, ...extra },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; stderr: string; at: number }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr, at: Date.now() })),
  );
  await waitFor(() => (readIfExists(path.join(dir, 'events')) ?? '').includes('started'), 'the stand-in proxysql to start');
  return { child, dir, exited };
}

function lines(file: string): string[] {
  return (readIfExists(file) ?? '').split('\n').filter((l) => l !== '');
}

describe('entrypoint drain', () => {
  it('on SIGTERM pauses ProxySQL, polls until no client is connected, then forwards TERM and exits with its code', async () => {
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '10', STANDIN_TERM_EXIT: '7' }, (dir) => ({
      PROXYSQL_ADMIN_CLIENT: adminClient(dir),
      PROXYSQL_ADMIN_PORT: '16032',
    }));
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    await waitFor(() => lines(path.join(run.dir, 'admin-sql')).includes(COUNT_SQL), 'PAUSE and a first poll');
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started']); // still serving while clients remain
    await new Promise((r) => setTimeout(r, 1200));
    fs.writeFileSync(path.join(run.dir, 'connections'), '0\n');
    const result = await run.exited;

    expect(result.code).toBe(7);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
    const sql = lines(path.join(run.dir, 'admin-sql'));
    // idle sessions are closed first, then PAUSE; each turn counts busy sessions and closes idle ones again
    expect(sql.slice(0, 4)).toEqual([IDLE_SQL, PAUSE_SQL, COUNT_SQL, IDLE_SQL]);
    expect(sql.filter((q) => q === PAUSE_SQL)).toHaveLength(1);
    expect(sql.every((q) => [IDLE_SQL, PAUSE_SQL, COUNT_SQL].includes(q))).toBe(true);
    expect(sql.filter((q) => q === COUNT_SQL).length).toBeGreaterThanOrEqual(2);
    expect(result.at - sentAt).toBeGreaterThan(1100);
    expect(result.at - sentAt).toBeLessThan(4000);
    // The admin password travels in MYSQL_PWD, never in argv (which /proc shows to everyone).
    expect(new Set(lines(path.join(run.dir, 'admin-pwd')))).toEqual(new Set([SAFE[ADMIN_PASSWORD_ENV]]));
    for (const argv of lines(path.join(run.dir, 'admin-argv'))) {
      expect(argv).toContain(`-h 127.0.0.1 -P 16032 -u ${PROXYSQL_ADMIN_USER}`);
      expect(argv).toContain('--skip-ssl');
      expect(argv).not.toContain(SAFE[ADMIN_PASSWORD_ENV]);
    }
    const log = result.stderr.trim().split('\n');
    expect(log[0]).toBe('proxysql-entrypoint: got SIGTERM: draining ProxySQL for at most 10 s');
    expect(log).toContain('proxysql-entrypoint: sent PROXYSQL PAUSE: listener closed; idle sessions are closed, statements and transactions may finish');
    expect(log).toContain('proxysql-entrypoint: 3 session(s) in a statement or transaction after 0 s');
    expect(log.some((l) => /^proxysql-entrypoint: no statement or transaction left after [1-3] s$/.test(l))).toBe(true);
    expect(log.at(-1)).toBe('proxysql-entrypoint: proxysql exited with status 7');
    for (const secret of Object.values(SAFE)) expect(result.stderr).not.toContain(secret);
  });

  it('forwards TERM when the bound is reached although clients stay connected', async () => {
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '2' }, (dir) => ({ PROXYSQL_ADMIN_CLIENT: adminClient(dir) }));
    const result = await signalAndWait(run);
    const elapsed = result.elapsed;
    expect(result.code).toBe(0);
    expect(elapsed).toBeGreaterThan(1900);
    expect(elapsed).toBeLessThan(3500);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
    // PAUSE, then a poll every 0.2 s for about 2 s
    expect(lines(path.join(run.dir, 'admin-sql')).filter((q) => q === COUNT_SQL).length).toBeGreaterThanOrEqual(4);
    expect(result.stderr).toContain('proxysql-entrypoint: drain bound of 2 s reached\n');
  });

  it('kills the idle sessions ProxySQL lists, in one admin call, ignoring anything that is not a session id', async () => {
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '1' }, (dir) => {
      fs.writeFileSync(path.join(dir, 'idle'), '12\n15\n7; DROP\n');
      return { PROXYSQL_ADMIN_CLIENT: adminClient(dir) };
    });
    run.child.kill('SIGTERM');
    await run.exited;
    const kills = lines(path.join(run.dir, 'admin-sql')).filter((q) => q.startsWith('KILL'));
    expect(kills.length).toBeGreaterThanOrEqual(1);
    expect(new Set(kills)).toEqual(new Set(['KILL CONNECTION 12;KILL CONNECTION 15;']));
  });

  it('keeps the bound in seconds of wall-clock time however slow the admin client is', async () => {
    // Each admin call takes 2 s: a bound that counted loop turns would last (2 + 0.2) s per turn.
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '3' }, (dir) => {
      fs.writeFileSync(path.join(dir, 'slow'), '2\n');
      return { PROXYSQL_ADMIN_CLIENT: adminClient(dir) };
    });
    const result = await signalAndWait(run);
    const elapsed = result.elapsed;
    expect(result.code).toBe(0);
    // PAUSE (2 s) and one poll (2 s) fit before the bound is checked again; a third call would start after 4 s.
    expect(elapsed).toBeGreaterThan(2900);
    expect(elapsed).toBeLessThan(5500);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
    expect(result.stderr).toContain('proxysql-entrypoint: drain bound of 3 s reached\n');
  });

  it('exits with proxysql\'s own code when it exits by itself, without draining', async () => {
    const run = await startDraining(
      { PROXYSQL_DRAIN_SECONDS: '5', STANDIN_EXIT_AFTER_TICKS: '4', STANDIN_EXIT_CODE: '5' },
      (dir) => ({ PROXYSQL_ADMIN_CLIENT: adminClient(dir) }),
    );
    const result = await run.exited;
    expect(result.code).toBe(5);
    expect(result.stderr).toBe('proxysql-entrypoint: proxysql exited on its own with status 5\n');
    expect(fs.existsSync(path.join(run.dir, 'admin-sql'))).toBe(false);
  });

  it('reports death by signal as 128+signal', async () => {
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '5', STANDIN_EXIT_AFTER_TICKS: '2', STANDIN_DIE_BY_KILL: '1' });
    expect((await run.exited).code).toBe(128 + 9);
  });

  it('stops waiting as soon as proxysql exits during the drain', async () => {
    const run = await startDraining(
      { PROXYSQL_DRAIN_SECONDS: '10', STANDIN_EXIT_AFTER_TICKS: '20', STANDIN_EXIT_CODE: '4' },
      (dir) => ({ PROXYSQL_ADMIN_CLIENT: adminClient(dir) }),
    );
    const result = await signalAndWait(run);
    expect(result.code).toBe(4);
    expect(result.elapsed).toBeLessThan(3000);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started']); // never needed a TERM
  });

  it('degrades to a timed wait, logged once, when no admin client is on PATH (SIGINT drains too)', async () => {
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '1' }, (dir) => {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      for (const tool of ['sh', 'sleep', 'date', 'mkdir', 'chmod', 'mv', 'rm', 'cat', 'env']) {
        fs.symlinkSync(findExecutable(tool) as string, path.join(bin, tool));
      }
      return { PATH: bin };
    });
    const result = await signalAndWait(run, 'SIGINT');
    expect(result.code).toBe(0);
    expect(result.elapsed).toBeGreaterThan(900);
    expect(result.elapsed).toBeLessThan(2500);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
    expect(result.stderr.split('\n').filter((l) => l.includes('degraded'))).toEqual([
      'proxysql-entrypoint: drain degraded: no mysql or mariadb client on PATH (set PROXYSQL_ADMIN_CLIENT): waiting 1 s without PROXYSQL PAUSE',
    ]);
  });

  it('names a configured admin client that does not exist', async () => {
    const run = await startDraining({ PROXYSQL_DRAIN_SECONDS: '1', PROXYSQL_ADMIN_CLIENT: '/nonexistent/mysql' });
    run.child.kill('SIGTERM');
    const result = await run.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("drain degraded: admin client '/nonexistent/mysql' not found (set PROXYSQL_ADMIN_CLIENT)");
  });

  const realClient = findExecutable('mariadb') ?? findExecutable('mysql');

  // Checks that a real client accepts the options the script passes (an unknown option would abort the PAUSE),
  // against a port where nothing listens: PAUSE fails, polling reads nothing, the bound still holds.
  it.skipIf(!realClient)('passes options a real MariaDB client accepts, and survives an unreachable admin port', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    const run = await startDraining({
      PROXYSQL_DRAIN_SECONDS: '1',
      PROXYSQL_ADMIN_CLIENT: realClient as string,
      PROXYSQL_ADMIN_PORT: String(port),
    });
    run.child.kill('SIGTERM');
    const result = await run.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/unknown (variable|option)/i);
    expect(result.stderr).toMatch(/Can't connect to (MySQL |MariaDB )?server on '127\.0\.0\.1'/);
    expect(result.stderr).toContain('PROXYSQL PAUSE failed (client error above); waiting for clients anyway');
    expect(result.stderr).toContain('unknown session(s) in a statement or transaction after 0 s');
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
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

  it('with a drain, the shell that waits is the script re-run without secrets (environ, argv, no fd 3), and so is ProxySQL; the drain still logs in', async () => {
    const run = await startDraining({ ...UNIQUE, PROXYSQL_DRAIN_SECONDS: '5' }, (dir) => ({ PROXYSQL_ADMIN_CLIENT: adminClient(dir) }));
    const shell = run.child.pid as number;
    const proxysql = Number(fs.readFileSync(path.join(run.dir, 'pid'), 'utf8'));
    expect(secretsIn(shell, UNIQUE)).toEqual([]);
    expect(secretsIn(proxysql, UNIQUE)).toEqual([]);
    // the pid ECS signals stays the same; its argv says it is the waiting stage
    expect(procArgv(shell).slice(0, 5)).toEqual([SHELL, ...SHELL_ARGS.slice(0, 2), 'proxysql-entrypoint-wait', '-f']);
    // what is left is the non-secret environment (the script itself among it)
    expect(procEnviron(shell)).toContain(`${ENTRYPOINT_SCRIPT_ENV}=${SCRIPT}`);
    expect(procEnviron(proxysql)).toContain(`${CONFIG_TEMPLATE_ENV}=${TEMPLATE}`);
    // the pipe that carried the admin password is closed before ProxySQL starts
    for (const pid of [shell, proxysql]) expect(fs.existsSync(`/proc/${pid}/fd/3`)).toBe(false);

    run.child.kill('SIGTERM');
    await waitFor(() => lines(path.join(run.dir, 'admin-sql')).includes(COUNT_SQL), 'PAUSE and a first poll');
    fs.writeFileSync(path.join(run.dir, 'connections'), '0\n');
    const result = await run.exited;
    expect(result.code).toBe(0);
    expect(lines(path.join(run.dir, 'events'))).toEqual(['started', 'TERM']);
    // the admin password reached the client byte for byte (leading, trailing and inner spaces, backslashes, $)
    expect(new Set(fs.readFileSync(path.join(run.dir, 'admin-pwd'), 'utf8').split('\n').slice(0, -1))).toEqual(new Set([UNIQUE[ADMIN_PASSWORD_ENV]]));
    for (const value of Object.values(UNIQUE)) expect(result.stderr).not.toContain(value.trim());
  });

  it('without a drain, ProxySQL replaces the shell and starts with none of the secrets', async () => {
    const run = await startDraining({ ...UNIQUE, PROXYSQL_DRAIN_SECONDS: '0' });
    const proxysql = Number(fs.readFileSync(path.join(run.dir, 'pid'), 'utf8'));
    expect(proxysql).toBe(run.child.pid);
    expect(secretsIn(proxysql, UNIQUE)).toEqual([]);
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });

  it('with a drain but no PROXYSQL_ENTRYPOINT to re-run from, exits 78 before writing anything', async () => {
    const { dir, env } = workdir();
    const { [ENTRYPOINT_SCRIPT_ENV]: script, ...rest } = env;
    const result = await run(SHELL, ['-c', script, 'proxysql-entrypoint'], {
      env: { ...rest, ...SAFE, [CONFIG_TEMPLATE_ENV]: TEMPLATE, PROXYSQL_DRAIN_SECONDS: '5' },
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toBe(
      'proxysql-entrypoint: PROXYSQL_ENTRYPOINT is missing: the drain re-runs this script from it (the ProxySqlService construct sets it)\n',
    );
    expect(fs.readdirSync(dir)).toEqual(['proxysql']);
  });
});
