import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { PROXYSQL_IMAGE } from '../src/constants';
import { parseLibconfig } from '../test/support/libconfig';

const LAUNCHER = path.join(__dirname, '..', 'bin', 'serverless-proxysql.js');
const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 20_000;

/** PATH without any directory that holds a `proxysql` executable: the run must take the docker-line branch. */
function pathWithoutProxySql(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '' && !fs.existsSync(path.join(dir, 'proxysql')))
    .join(path.delimiter);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0) until reaped; it runs nothing.
  try {
    return !/^\S+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const children: ChildProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-local-test-'));
afterAll(() => {
  // Only if a test failed half-way: the CLI's own cleanup runs on SIGTERM.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Running {
  proc: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `local` through the launcher and resolves once it prints its ready line. */
async function startLocal(args: string[], env: NodeJS.ProcessEnv): Promise<Running> {
  const proc = spawn(process.execPath, [LAUNCHER, 'local', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!/^local: ready/m.test(stdout)) {
    if (proc.exitCode !== null) throw new Error(`local exited early (${proc.exitCode}):\n${stdout}\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`no ready line within ${READY_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, output: () => ({ stdout, stderr }), exited };
}

async function stopLocal(running: Running): Promise<unknown> {
  running.proc.kill('SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_TIMEOUT_MS));
  return Promise.race([running.exited, timeout]);
}

async function postAndList(url: string): Promise<void> {
  const name = `item-${Date.now()}`;
  const created = await fetch(`${url}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(created.status).toBe(201);
  const row = (await created.json()) as { id: number; name: string };
  expect(row.name).toBe(name);
  const listed = await fetch(`${url}/items`);
  expect(listed.status).toBe(200);
  const { items } = (await listed.json()) as { items: Array<{ id: number; name: string }> };
  expect(items).toContainEqual(expect.objectContaining({ id: row.id, name }));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** The processes whose command line names `dir` (MariaDB started by local runs with its my.cnf under the data dir). */
function processesUnder(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(alive);
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const answers = (url: string) => async () => (await fetch(url).then((r) => r.status).catch(() => 0)) === 200;

describe('local in the background (`local &`, `npx serverless-proxysql local &`): signal-safe', () => {
  const orphans: number[] = [];
  afterAll(() => {
    for (const pid of orphans.filter(alive)) process.kill(pid, 'SIGTERM');
  });

  test('its output reader gone (a harness stopped reading): it keeps running, and SIGHUP stops it and cleans up', async () => {
    // GIVEN local started with its stdout on a pipe we close once it has said where its data dir is
    const httpPort = await freePort();
    const proc = spawn(process.execPath, [LAUNCHER, 'local', '--http-port', String(httpPort)], {
      env: { ...process.env, PATH: pathWithoutProxySql() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(proc);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await waitFor('the data dir line', () => /^local: data dir \S+$/m.test(stdout) || proc.exitCode !== null);
    const dataDir = /^local: data dir (\S+)$/m.exec(stdout)?.[1] as string;
    const printed = stdout;
    proc.stdout?.destroy();

    // WHEN it writes on (EPIPE) THEN it is still up: the demo API answers
    await waitFor('the demo API', async () => {
      if (proc.exitCode !== null) throw new Error(`local exited (${proc.exitCode}) once its output reader was gone:\n${stderr}`);
      return answers(`http://127.0.0.1:${httpPort}/items`)();
    });
    // AND it said which process to signal
    expect(printed).toMatch(new RegExp(`^local: pid ${proc.pid}; Ctrl-C, or kill -TERM ${proc.pid}, stops everything it starts$`, 'm'));
    const mariadb = processesUnder(dataDir);
    expect(mariadb.length).toBeGreaterThanOrEqual(2);

    // WHEN its terminal goes away (SIGHUP) THEN it stops what it started, removes its data dir and exits 0
    proc.kill('SIGHUP');
    expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), EXIT_TIMEOUT_MS))])).toEqual({ code: 0, signal: null });
    expect(mariadb.filter(alive)).toEqual([]);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(stderr).toBe('');
  });

  test('started by npm (npx, npm run): when npm’s shell is stopped, local stops too instead of running on orphaned', async () => {
    // GIVEN local under a shell as npm starts it (`sh -c "serverless-proxysql local"`), npm's environment included;
    // `; exit` keeps the shell from exec'ing node, as dash does not under npm
    const httpPort = await freePort();
    const shell = spawn('sh', ['-c', '"$0" "$@"; exit $?', process.execPath, LAUNCHER, 'local', '--http-port', String(httpPort)], {
      env: { ...process.env, PATH: pathWithoutProxySql(), npm_lifecycle_event: 'npx' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(shell);
    let stdout = '';
    shell.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    await waitFor('the ready line', () => /^local: ready/m.test(stdout));
    const pid = Number(/^local: pid (\d+);/m.exec(stdout)?.[1]);
    orphans.push(pid);
    const dataDir = /^local: data dir (\S+)$/m.exec(stdout)?.[1] as string;
    expect(pid).not.toBe(shell.pid);
    expect(alive(pid)).toBe(true);

    // WHEN npm passes SIGTERM to its shell, which dies without passing it on
    shell.kill('SIGTERM');

    // THEN local notices its parent is gone and stops everything, as for a signal
    await waitFor('local to stop', () => !alive(pid), EXIT_TIMEOUT_MS + 5_000);
    expect(stdout).toContain('local: the npm process that started it is gone (npx or npm run stops its shell, not this process): stopping');
    expect(stdout).toMatch(/^local: stopped; removed /m);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(processesUnder(dataDir)).toEqual([]);
  });
});

describe('local', () => {
  test('runs MariaDB + the demo API without ProxySQL, serves POST/GET /items, prints the docker line, and cleans up on SIGINT', async () => {
    // GIVEN `local` started as a child process, with no proxysql binary on PATH
    // WHEN it prints its ready line
    const running = await startLocal([], { ...process.env, PATH: pathWithoutProxySql() });
    const { stdout } = running.output();
    const url = /HTTP API: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
    const dataDir = /^local: data dir (\S+)$/m.exec(stdout)?.[1];
    const pids = [...stdout.matchAll(/MariaDB (?:primary|replica): \S+ \(pid (\d+)/g)].map((m) => Number(m[1]));
    expect(url).toBeDefined();
    expect(dataDir).toBeDefined();
    expect(pids).toHaveLength(2);
    expect(pids.every(alive)).toBe(true);

    // THEN it says the demo API talks to the primary directly, and prints the docker line with the image and the mount
    expect(stdout).toMatch(/MySQL \(direct to the MariaDB primary, no ProxySQL\)/);
    const configFile = path.join(dataDir as string, 'proxysql.cnf');
    const dockerLine = stdout.split('\n').find((line) => line.trim().startsWith('docker run'));
    expect(dockerLine).toContain(PROXYSQL_IMAGE);
    expect(dockerLine).toContain('--network host');
    expect(dockerLine).toContain(`-v ${configFile}:/etc/proxysql.cnf:ro`);
    expect(dockerLine).toContain('-f --initial --idle-threads --no-version-check -c /etc/proxysql.cnf -D /var/lib/proxysql');

    // AND the rendered config is private, holds the local servers, and its passwords were not printed
    expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);
    const cnf = parseLibconfig(fs.readFileSync(configFile, 'utf8')) as Record<string, Array<Record<string, unknown>>>;
    expect(cnf.mysql_servers.map((s) => s.address)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(cnf.mysql_servers.every((s) => s.use_ssl === 0)).toBe(true);
    const appPassword = String(cnf.mysql_users[0].password);
    expect(appPassword.length).toBeGreaterThanOrEqual(24);
    expect(stdout + running.output().stderr).not.toContain(appPassword);
    // the read-only stats login has a generated password of its own (not the admin's, not a mask)
    const admin = cnf.admin_variables as unknown as Record<string, string>;
    const [adminPassword, statsPassword] = [admin.admin_credentials, admin.stats_credentials].map((c) => c.split(':')[1]);
    expect(admin.stats_credentials).toMatch(/^stats:[A-Za-z0-9_-]{32}$/);
    expect(statsPassword).not.toBe(adminPassword);
    expect(stdout + running.output().stderr).not.toContain(statsPassword);

    // AND a POST /items writes a row that GET /items reads back
    await postAndList(url as string);
    // an unknown route is the handler's 404, through the bridge
    expect((await fetch(`${url}/nope`)).status).toBe(404);

    // WHEN it gets SIGINT
    const result = await stopLocal(running);

    // THEN it exits 0 in time, its MariaDB processes are gone, and so is its data dir
    expect(result).toEqual({ code: 0, signal: null });
    const after = running.output();
    expect(after.stdout).toMatch(/^local: stopped; removed /m);
    expect(pids.filter(alive)).toEqual([]);
    expect(fs.existsSync(dataDir as string)).toBe(false);
    expect(after.stderr).toBe('');
  });

  test('with a proxysql binary on PATH: starts it with the entrypoint flags, serves the demo API through it, stops it', async () => {
    // GIVEN a stand-in `proxysql` first on PATH: it records its arguments and forwards its MySQL listener (from
    // the rendered config's mysql-interfaces) to the writer of mysql_servers, like ProxySQL does for a write
    const binDir = path.join(tmp, 'bin');
    fs.mkdirSync(binDir, { recursive: true });
    const argsFile = path.join(tmp, 'proxysql-args.json');
    fs.writeFileSync(
      path.join(binDir, 'proxysql'),
      [
        `#!${process.execPath}`,
        "const fs = require('node:fs'); const net = require('node:net');",
        'const args = process.argv.slice(2);',
        `fs.writeFileSync(${JSON.stringify(argsFile)}, JSON.stringify(args));`,
        "const cnf = fs.readFileSync(args[args.indexOf('-c') + 1], 'utf8');",
        'const [host, port] = /\\binterfaces="([^"]+)"/.exec(cnf)[1].split(":");',
        'const writer = /hostgroup=10, address="([^"]+)", port=(\\d+)/.exec(cnf);',
        'net.createServer((c) => { const u = net.connect(Number(writer[2]), writer[1]); c.pipe(u).pipe(c);',
        "  c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); }).listen(Number(port), host);",
        "process.on('SIGTERM', () => process.exit(0));",
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const [proxysqlPort, adminPort] = [await freePort(), await freePort()];

    // WHEN local runs
    const running = await startLocal(['--proxysql-port', String(proxysqlPort), '--admin-port', String(adminPort)], {
      ...process.env,
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
    });
    const { stdout } = running.output();
    const url = /HTTP API: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] as string;
    const dataDir = /^local: data dir (\S+)$/m.exec(stdout)?.[1] as string;
    const proxyPid = Number(/ProxySQL admin: 127\.0\.0\.1:\d+ user 'admin' \(pid (\d+)\)/.exec(stdout)?.[1]);

    // THEN ProxySQL got the entrypoint's flags with the rendered file and a data dir of its own
    expect(JSON.parse(fs.readFileSync(argsFile, 'utf8'))).toEqual([
      '-f',
      '--initial',
      '--idle-threads',
      '--no-version-check',
      '-c',
      path.join(dataDir, 'proxysql.cnf'),
      '-D',
      path.join(dataDir, 'proxysql'),
    ]);
    expect(stdout).toContain(`MySQL (through ProxySQL): 127.0.0.1:${proxysqlPort}`);
    expect(stdout).not.toContain('docker run');
    expect(alive(proxyPid)).toBe(true);
    // AND the demo API works through it
    await postAndList(url);

    // WHEN it gets SIGINT THEN it exits 0 and ProxySQL is gone with everything else
    expect(await stopLocal(running)).toEqual({ code: 0, signal: null });
    expect(alive(proxyPid)).toBe(false);
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(running.output().stderr).toBe('');
  });
});
