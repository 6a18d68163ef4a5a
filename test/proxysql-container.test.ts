import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { afterAll, describe, expect, test } from 'vitest';
import { findExecutable } from '../local/files';
import { run as runProcess } from '../local/run';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
import { parseLibconfig } from './support/libconfig';
import { standInCalls, writeStandInClient } from './support/stand-in-client';
import { givenStack } from './support/stack';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-container-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface ContainerDefinition {
  EntryPoint: string[];
  Command?: string[];
  Environment: Array<{ Name: string; Value: unknown }>;
  Secrets: Array<{ Name: string; ValueFrom: unknown }>;
}

/**
 * The contract between the construct and the container: run the task definition's own entry point the way
 * the container runtime does (`/bin/sh -c <script> proxysql-entrypoint`), with its environment and a value for
 * each secret ECS would inject, and check the file ProxySQL would read. A stand-in records what would start.
 */
describe('the task definition runs as ECS would run it', () => {
  // GIVEN a proxy whose users' login names come from their secrets (the cluster-secret default) and by name
  const { stack, vpc } = givenStack();
  new ProxySqlService(stack, 'Proxy', {
    vpc,
    backend: ProxySqlBackend.endpoints({
      writer: { hostname: 'primary.abc.us-east-1.rds.amazonaws.com' },
      readers: [{ hostname: 'replica-1.abc.us-east-1.rds.amazonaws.com' }],
      databaseConnections: new ec2.SecurityGroup(stack, 'Db', { vpc }),
    }),
    users: [{ secret: new secretsmanager.Secret(stack, 'Owner') }, { username: 'app', secret: new secretsmanager.Secret(stack, 'App') }],
  });
  const [container, agent] = (
    Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition'))[0] as { Properties: { ContainerDefinitions: ContainerDefinition[] } }
  ).Properties.ContainerDefinitions;

  function environment(secretValues: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const { Name, Value } of container.Environment) {
      // Deploy-time values (secret ARNs for messages) become readable placeholders here.
      env[Name] = typeof Value === 'string' ? Value : `arn:aws:secretsmanager:us-east-1:111111111111:secret:${Name}`;
    }
    for (const { Name } of container.Secrets) env[Name] = secretValues[Name];
    const bin = path.join(tmp, 'proxysql');
    fs.writeFileSync(bin, `#!/bin/sh\nprintf '%s\\n' "$@" > "${path.join(tmp, 'argv')}"\n`, { mode: 0o755 });
    env.PROXYSQL_BIN = bin;
    env.PROXYSQL_CONFIG_PATH = path.join(tmp, 'proxysql.cnf');
    env.PROXYSQL_DATADIR = path.join(tmp, 'data');
    // like the other paths: the task's is /var/lib/proxysql/backend-ca.pem
    if (env.PROXYSQL_BACKEND_CA_FILE) env.PROXYSQL_BACKEND_CA_FILE = path.join(tmp, 'data', 'backend-ca.pem');
    return env;
  }

  // The container runtime runs the entry point with the command appended.
  const [shell, ...shellArgs] = [...container.EntryPoint, ...(container.Command ?? [])];

  function run(secretValues: Record<string, string>) {
    fs.rmSync(path.join(tmp, 'proxysql.cnf'), { force: true });
    return runProcess(shell, shellArgs, { env: environment(secretValues) });
  }

  test('every placeholder has a secret or variable behind it, and the written file has the real values', async () => {
    // WHEN ECS injects these secrets (hostile but legal for each kind)
    const secrets = {
      PROXYSQL_ADMIN_PASSWORD: 'Adm1n $HOME `id` & / # ü',
      PROXYSQL_STATS_PASSWORD: 'St4ts $PATH ü',
      PROXYSQL_MONITOR_PASSWORD: "m0n'itor \\ €",
      PROXYSQL_USER_NAME_0: 'owner',
      PROXYSQL_USER_PASSWORD_0: 'Own"er\\pw',
      PROXYSQL_USER_PASSWORD_1: 'app pw; with spaces',
    };
    expect(container.Secrets.map((s) => s.Name).sort()).toEqual(Object.keys(secrets).sort());
    const result = await run(secrets);
    // THEN ProxySQL starts with --initial on the written file, which holds the values exactly
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const argv = fs.readFileSync(path.join(tmp, 'argv'), 'utf8').trim().split('\n');
    expect(argv).toEqual(['-f', '--initial', '--no-version-check', '-c', path.join(tmp, 'proxysql.cnf'), '-D', path.join(tmp, 'data'), '--idle-threads']);
    const cnf = parseLibconfig(fs.readFileSync(path.join(tmp, 'proxysql.cnf'), 'utf8'));
    expect((cnf.admin_variables as Record<string, string>).admin_credentials).toBe(`admin:${secrets.PROXYSQL_ADMIN_PASSWORD}`);
    expect((cnf.admin_variables as Record<string, string>).stats_credentials).toBe(`stats:${secrets.PROXYSQL_STATS_PASSWORD}`);
    expect((cnf.mysql_variables as Record<string, string>).monitor_password).toBe(secrets.PROXYSQL_MONITOR_PASSWORD);
    expect((cnf.mysql_users as Array<Record<string, unknown>>).map((u) => [u.username, u.password])).toEqual([
      ['owner', secrets.PROXYSQL_USER_PASSWORD_0],
      ['app', secrets.PROXYSQL_USER_PASSWORD_1],
    ]);
    expect(JSON.stringify(cnf)).not.toContain('{{secret:');
    // the RDS CA bundle from the task definition is the file the config's ssl_p2s_ca names
    const ca = container.Environment.find((e) => e.Name === 'PROXYSQL_BACKEND_CA')?.Value as string;
    expect(ca).toContain('-----BEGIN CERTIFICATE-----');
    expect(fs.readFileSync(path.join(tmp, 'data', 'backend-ca.pem'), 'utf8')).toBe(`${ca}\n`);
  });

  test('no secret ECS injects stays in /proc/<pid>/environ of ProxySQL, which the entry point became', async () => {
    // GIVEN every secret of the task definition with a value found nowhere else
    // (a user name kept in a secret must pass the user-name rule: letters, digits and _)
    const secrets = Object.fromEntries(container.Secrets.map((s, i) => [s.Name, s.Name.startsWith('PROXYSQL_USER_NAME_') ? `s3cret_${i}_name` : `s3cret-${i}-${s.Name.toLowerCase()} x`]));
    const bin = path.join(tmp, 'proxysql-running');
    fs.writeFileSync(bin, `#!/bin/sh\necho $$ > "${path.join(tmp, 'pid')}"\ntrap 'exit 0' TERM\nwhile :; do sleep 0.05; done\n`, { mode: 0o755 });
    fs.rmSync(path.join(tmp, 'pid'), { force: true });
    const env = { ...environment(secrets), PROXYSQL_BIN: bin };
    // WHEN the task definition's entry point has rendered the config and started ProxySQL
    const child = spawn(shell, shellArgs, { env, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(path.join(tmp, 'pid')) || fs.readFileSync(path.join(tmp, 'pid'), 'utf8') === '') {
      if (Date.now() > deadline) throw new Error('the stand-in proxysql did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    // THEN the one process that lives for the task's life (exec: the entry point's pid) holds no secret name or value
    expect(Number(fs.readFileSync(path.join(tmp, 'pid'), 'utf8'))).toBe(child.pid);
    const environ = fs.readFileSync(`/proc/${child.pid as number}/environ`, 'utf8').split('\0');
    expect(environ.filter((e) => Object.keys(secrets).some((name) => e.startsWith(`${name}=`)))).toEqual([]);
    for (const value of Object.values(secrets)) expect(environ.join('\n')).not.toContain(value);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('a secret ProxySQL cannot take stops the task, naming the secret by its ARN and never its value', async () => {
    const result = await run({
      PROXYSQL_ADMIN_PASSWORD: 'fine',
      PROXYSQL_STATS_PASSWORD: 'fine',
      PROXYSQL_MONITOR_PASSWORD: 'fine',
      PROXYSQL_USER_NAME_0: 'owner',
      PROXYSQL_USER_PASSWORD_0: "it's-secret",
      PROXYSQL_USER_PASSWORD_1: 'fine',
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(/secret PROXYSQL_USER_PASSWORD_0 \(arn:aws:secretsmanager:.*PROXYSQL_USER_PASSWORD_0_SOURCE\) \(mysql_user password\) holds a single quote/);
    expect(result.stderr).not.toContain("it's-secret");
    expect(fs.existsSync(path.join(tmp, 'proxysql.cnf'))).toBe(false);
  });

  test.each(["own'er", 'own"er', 'a'.repeat(33), '', 'own er', 'owner\n'])(
    'a user name read from a secret that is not a user name (%j) stops the task, naming the secret by its ARN and never the value',
    async (name) => {
      const result = await run({
        PROXYSQL_ADMIN_PASSWORD: 'fine',
        PROXYSQL_STATS_PASSWORD: 'fine',
        PROXYSQL_MONITOR_PASSWORD: 'fine',
        PROXYSQL_USER_NAME_0: name,
        PROXYSQL_USER_PASSWORD_0: 'fine',
        PROXYSQL_USER_PASSWORD_1: 'fine',
      });
      expect(result.status).toBe(78);
      expect(result.stderr).toMatch(
        /^proxysql-entrypoint: arn:aws:secretsmanager:\S*PROXYSQL_USER_NAME_0_SOURCE\S* \(PROXYSQL_USER_NAME_0\) is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _\n$/,
      );
      if (name.trim() !== '') expect(result.stderr).not.toContain(name.trim());
      expect(fs.existsSync(path.join(tmp, 'proxysql.cnf'))).toBe(false);
    },
  );

  test('the ProxySQL container needs no MySQL client: its entry point starts ProxySQL, and ProxySQL gets SIGTERM, with only sh and four tools on PATH', async () => {
    // GIVEN a PATH of symlinks to sh, mkdir, chmod, mv and rm only (no mysql, no mariadb), as the task definition sets it up otherwise
    const clientless = fs.mkdtempSync(path.join(tmp, 'clientless-'));
    for (const tool of ['sh', 'mkdir', 'chmod', 'mv', 'rm']) fs.symlinkSync(findExecutable(tool) as string, path.join(clientless, tool));
    const bin = path.join(tmp, 'proxysql-waiting');
    // (the stand-in's own sleep by its full path: it is not on the entry point's PATH)
    const sleep = findExecutable('sleep') as string;
    fs.writeFileSync(bin, `#!/bin/sh\necho $$ > "${path.join(tmp, 'waiting-pid')}"\ntrap 'exit 0' TERM\nwhile :; do ${sleep} 0.05; done\n`, { mode: 0o755 });
    fs.rmSync(path.join(tmp, 'waiting-pid'), { force: true });
    const secrets = Object.fromEntries(container.Secrets.map((s) => [s.Name, `${s.Name === 'PROXYSQL_USER_NAME_0' ? 'owner' : 'pw'}`]));
    const env: Record<string, string> = { ...environment(secrets), PATH: clientless, PROXYSQL_BIN: bin };
    expect(Object.keys(env).filter((name) => /DRAIN/.test(name))).toEqual([]);
    // WHEN it starts, and ECS stops the container
    const child = spawn(shell, shellArgs, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: string[] = [];
    child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(path.join(tmp, 'waiting-pid'))) {
      if (Date.now() > deadline) throw new Error(`the stand-in proxysql did not start: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // THEN the entry point became ProxySQL (exec, no shell left behind) and SIGTERM reaches it
    await new Promise((r) => setTimeout(r, 50));
    expect(Number(fs.readFileSync(path.join(tmp, 'waiting-pid'), 'utf8'))).toBe(child.pid);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr.join('')).toBe('');
  });

  test("the agent container as ECS runs it: its entry point, environment and secrets write a figures line and drain on SIGTERM (stand-in client)", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'agent-'));
    writeStandInClient(path.join(dir, 'mariadb'), dir, ['case $sql in *json_object*) echo \'{"v":1}\' ;; *"COUNT(*)"*) echo 0 ;; esac']);
    const env: Record<string, string> = { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    for (const { Name, Value } of agent.Environment) env[Name] = typeof Value === 'string' ? Value : `token-${Name}`;
    for (const { Name } of agent.Secrets) env[Name] = `value-of-${Name}`;
    const [agentShell, ...agentArgs] = agent.EntryPoint;
    const child = spawn(agentShell, agentArgs, { env });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => err.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const deadline = Date.now() + 5000;
    while (!out.join('').includes('\n')) {
      if (Date.now() > deadline) throw new Error(`no figures line: ${err.join('')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(out.join('')).toBe('proxysql-figures {"v":1}\n');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err.join('')).toMatch(/draining ProxySQL for at most 30 s[\s\S]*sent PROXYSQL PAUSE[\s\S]*no statement or transaction left/);
    // every admin call on 127.0.0.1:6032 as admin, the password from the injected secret in MYSQL_PWD only
    for (const line of standInCalls(dir).trim().split('\n')) {
      const [argv, pwd] = line.split('|');
      expect(argv).toContain('-h 127.0.0.1 -P 6032 -u admin');
      expect(argv).not.toContain('value-of-');
      expect(pwd).toBe('value-of-PROXYSQL_ADMIN_PASSWORD');
    }
  });

  test('the template itself carries no deploy-time token for this backend: it is the rendered file', () => {
    const template = container.Environment.find((e) => e.Name === 'PROXYSQL_CONFIG_TEMPLATE');
    expect(typeof template?.Value).toBe('string');
    expect(Stack.of(stack).resolve(template?.Value)).toContain('mysql_replication_hostgroups=');
  });
});
