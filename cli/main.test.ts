import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { run } from '../local/run';
import { main, MainIo } from './main';

const LAUNCHER = path.join(__dirname, '..', 'bin', 'serverless-proxysql.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-main-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, content);
  return p;
};
const badJson = file('bad.json', '{ "threads": ');
const unknownKey = file('unknown.json', JSON.stringify({ thread: 4 }));
const badCheckType = file('check.json', JSON.stringify({ checkType: 'read_write' }));
const badLag = file('lag.json', JSON.stringify({ maxReplicaLag: 0 }));
const badRule = file('rule.json', JSON.stringify({ queryRules: [{ matchDigest: '(?<=a)b', destination: 'reader' }] }));
const ruleNotObject = file('rule2.json', JSON.stringify({ queryRules: ['^SELECT'] }));

async function runMain(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: MainIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readStdin: () => '',
  };
  const code = await main(argv, io, {});
  return { code, stdout, stderr };
}

const W = ['--writer', 'db.example.com:3306', '--user', 'app'];

describe('bad command lines: a one-line message that says what to fix, exit 2, no stack trace', () => {
  test.each<[string, string[], RegExp]>([
    ['no command', [], /Usage: serverless-proxysql <command>/],
    ['unknown command', ['deploy'], /unknown command 'deploy'; the commands are render, explain, local, doctor and cost \(see --help\)/],
    ['unknown flag', ['render', ...W, '--writter', 'x'], /^serverless-proxysql render: Unknown option '--writter'\. Run 'serverless-proxysql render --help' for the options\.\n$/],
    ['flag without its value', ['render', '--user', 'app', '--writer'], /Option '--writer <value>' argument missing/],
    ['no backend', ['render', '--user', 'app'], /give the backend: --writer HOST:PORT .* or --aurora-cluster-endpoint HOST/],
    ['both backends', ['render', ...W, '--aurora-cluster-endpoint', 'a.cluster-x.eu-west-1.rds.amazonaws.com'], /either --writer .* or --aurora-cluster-endpoint/],
    ['port 0', ['render', '--writer', 'db:0', '--user', 'app'], /--writer: '0' is not a TCP port: use a whole number from 1 to 65535/],
    ['port 65536', ['render', '--writer', 'db:65536', '--user', 'app'], /--writer: '65536' is not a TCP port/],
    ['port not a number', ['render', '--writer', 'db:mysql', '--user', 'app'], /--writer: 'mysql' is not a TCP port/],
    ['bad host', ['render', '--writer', 'db_1!:3306', '--user', 'app'], /--writer: 'db_1!' is not a DNS name or IPv4 address/],
    ['IPv6 literal', ['render', '--writer', '::1', '--user', 'app'], /--writer: '::1' is an IPv6 address, which is not supported/],
    ['no user', ['render', '--writer', 'db:3306'], /give at least one application user with --user NAME/],
    ['bad user name', ['render', '--writer', 'db:3306', '--user', 'app-user'], /--user: 'app-user' is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _/],
    ['user name too long', ['render', '--writer', 'db:3306', '--user', 'a'.repeat(33)], /is not a valid user name: use 1-32 characters/],
    ['duplicate user', ['render', ...W, '--user', 'app'], /--user: 'app' is already used by --user #1: give every user its own name/],
    ['monitor user is an app user', ['render', ...W, '--monitor-user', 'app'], /--user: 'app' is the monitor user's name/],
    // Stricter than the CLI's own copy was: the construct's rule refuses reserved accounts.
    ['reserved user name', ['render', '--writer', 'db:3306', '--user', 'rdsadmin'], /--user: 'rdsadmin' is reserved/],
    ['reserved monitor name', ['render', ...W, '--monitor-user', 'root'], /--monitor-user: 'root' is reserved/],
    ['duplicate endpoint', ['render', ...W, '--reader', 'DB.example.com:3306'], /endpoint db.example.com:3306 is given twice/],
    ['--aurora-instance with --writer', ['render', ...W, '--aurora-instance', 'x1'], /--aurora-instance is for --aurora-cluster-endpoint/],
    ['not an Aurora endpoint', ['render', '--aurora-cluster-endpoint', 'db.example.com', '--aurora-instance', 'a', '--user', 'app'], /is not an Aurora cluster endpoint/],
    ['Aurora without instances', ['render', '--aurora-cluster-endpoint', 'a.cluster-x1.eu-west-1.rds.amazonaws.com', '--user', 'app'], /needs at least one --aurora-instance ID/],
    ['bad Aurora instance id', ['render', '--aurora-cluster-endpoint', 'a.cluster-x1.eu-west-1.rds.amazonaws.com', '--aurora-instance', '1db', '--user', 'app'], /--aurora-instance '1db'/],
    ['bad admin env name', ['render', ...W, '--admin-password-env', 'admin-pw'], /--admin-password-env 'admin-pw': an environment variable name/],
    ['listen and admin on one port', ['render', ...W, '--listen', '0.0.0.0:6032'], /--listen and --admin both use port 6032/],
    ['relative datadir', ['render', ...W, '--datadir', 'data'], /--datadir 'data': give an absolute path/],
    ['missing config file', ['render', ...W, '--config', path.join(tmp, 'nope.json')], /--config .*nope.json: cannot read the file \(ENOENT\)/],
    ['config not JSON', ['render', ...W, '--config', badJson], /bad.json: not valid JSON/],
    ['config unknown key', ['render', ...W, '--config', unknownKey], /unknown key 'thread'; the keys are queryRules, /],
    ['config bad checkType', ['render', ...W, '--config', badCheckType], /checkType: 'read_write' is not one of read_only, innodb_read_only, super_read_only/],
    ['config lag out of range', ['render', ...W, '--config', badLag], /maxReplicaLag: must be a whole number of seconds from 1 to 600, got 0/],
    ['config rule not RE2', ['render', ...W, '--config', badRule], /queryRules\[0\]\.matchDigest: not a valid RE2 pattern/],
    ['config rule not an object', ['explain', '--config', ruleNotObject, 'SELECT 1'], /queryRules\[0\]: must be an object/],
    ['explain without SQL', ['explain'], /give the statement as one argument in quotes, or '-'/],
    ['explain with unquoted SQL', ['explain', 'SELECT', '1'], /got 2 arguments; quote the statement/],
    ['explain bad --user', ['explain', '--user', 'a b', 'SELECT 1'], /--user: 'a b' is not a valid user name/],
    ['local bad --http-port', ['local', '--http-port=-1'], /^serverless-proxysql local: --http-port: '-1' is not a TCP port: use a whole number from 0 to 65535\n$/],
    ['local --proxysql-port 70000', ['local', '--proxysql-port', '70000'], /--proxysql-port: '70000' is not a TCP port: use a whole number from 1 to 65535/],
    ['local ports clash', ['local', '--proxysql-port', '7000', '--admin-port', '7000'], /--proxysql-port and --admin-port are both 7000/],
    ['local --proxysql-bin not executable', ['local', '--proxysql-bin', path.join(tmp, 'nope')], /--proxysql-bin '.*nope' is not an executable file/],
  ])('%s', async (_name, argv, message) => {
    const result = await runMain(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help of every command exits 0 on stdout', async () => {
    for (const argv of [['--help'], ['render', '--help'], ['explain', '-h'], ['local', '--help'], ['doctor', '--help']]) {
      const result = await runMain(argv);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: serverless-proxysql/);
    }
  });
});

describe('the launcher (bin/serverless-proxysql.js)', () => {
  test('runs the CLI: output on stdout, usage errors on stderr with exit 2 and no stack', async () => {
    const ok = await run(process.execPath, [LAUNCHER, 'explain', '--json', 'SELECT 1 FOR UPDATE']);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ hostgroup: 10, rule: { ruleId: 1000 } });

    const bad = await run(process.execPath, [LAUNCHER, 'render', '--writer', 'db:0', '--user', 'app']);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe("serverless-proxysql render: --writer: '0' is not a TCP port: use a whole number from 1 to 65535\n");
  });

  test('render: a password ProxySQL cannot take exits 1; stdin feeds explain -', async () => {
    const env = { ...process.env, PROXYSQL_USER_PASSWORD_0: "o'neil" };
    const bad = await run(process.execPath, [LAUNCHER, 'render', '--writer', 'db:3306', '--user', 'app'], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/PROXYSQL_USER_PASSWORD_0 .* holds a single quote/);
    expect(bad.stderr).not.toContain("o'neil");

    const piped = await run(process.execPath, [LAUNCHER, 'explain', '--json', '-'], { input: 'select * from t lock in share mode' });
    expect(piped.status).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ hostgroup: 10, digest: 'select * from t lock in share mode' });
  });
});
