/**
 * The agent container's script (agent.sh) under /bin/sh with a stand-in admin client, as CI can run it; the same
 * script against a real ProxySQL is in test/proxysql/task.test.ts and collector.test.ts (opt-in tier).
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../local/files';
import { run as runProcess } from '../../local/run';
import { standInCalls, writeStandInClient } from '../../test/support/stand-in-client';

const SCRIPT = fs.readFileSync(path.join(__dirname, 'agent.sh'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const PASSWORD = 'admin-secret-value';
const BASE = { PROXYSQL_ADMIN_PASSWORD: PASSWORD, PROXYSQL_ADMIN_PORT: '6032', PROXYSQL_FIGURES_QUERY: 'SELECT json_object(…)', PROXYSQL_FIGURES_MARKER: 'proxysql-figures' };

/**
 * A bin dir with sh's helpers and, unless `client` is false, a stand-in `mariadb` that records each call (argv and
 * MYSQL_PWD) and answers: the figures query with the file `figures`, the busy count with `busy`, PAUSE with success.
 */
function bin(options: { client?: boolean; figures?: string; busy?: string } = {}): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'case-'));
  const b = path.join(dir, 'bin');
  fs.mkdirSync(b);
  for (const tool of ['sh', 'sleep', 'date', 'head', 'cat', 'printf']) {
    const found = findExecutable(tool);
    if (found) fs.symlinkSync(found, path.join(b, tool));
  }
  fs.writeFileSync(path.join(dir, 'figures'), options.figures ?? '{"v":1,"global":{}}');
  fs.writeFileSync(path.join(dir, 'busy'), options.busy ?? '0');
  if (options.client !== false) {
    writeStandInClient(path.join(b, 'mariadb'), dir, ['case $sql in *json_object*) cat "$d/figures" ;; *"COUNT(*)"*) cat "$d/busy" ;; esac']);
  }
  return dir;
}


async function runToEnd(dir: string, env: Record<string, string>) {
  const r = await runProcess('/bin/sh', ['-c', SCRIPT, 'proxysql-agent'], { env: { PATH: path.join(dir, 'bin'), ...env }, timeoutMs: 5000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function start(dir: string, env: Record<string, string>): { child: ChildProcess; out: string[]; err: string[]; exit: Promise<number | null> } {
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'proxysql-agent'], { env: { PATH: path.join(dir, 'bin'), ...env } });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => err.push(d.toString()));
  return { child, out, err, exit: new Promise((r) => child.once('exit', (code) => r(code))) };
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent settings it refuses (exit 78, one line naming what is wrong)', () => {
  it.each([
    [{ PROXYSQL_DRAIN_SECONDS: '5s' }, "PROXYSQL_DRAIN_SECONDS='5s' must be a whole number of seconds (0 = no drain)"],
    [{ PROXYSQL_FIGURES_SECONDS: 'often' }, "PROXYSQL_FIGURES_SECONDS='often' must be a whole number of seconds (0 = no figures)"],
    [{ PROXYSQL_FIGURES_SECONDS: '60', PROXYSQL_FIGURES_QUERY: '' }, 'PROXYSQL_FIGURES_QUERY or PROXYSQL_FIGURES_MARKER is missing (the ProxySqlService construct sets both)'],
  ])('%j', async (env, message) => {
    const r = await runToEnd(bin(), { ...BASE, ...env });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(`proxysql-agent: ${message}\n`);
  });

  it('an image without a client is refused at start, never a silently weaker agent', async () => {
    const r = await runToEnd(bin({ client: false }), BASE);
    expect(r.code).toBe(78);
    expect(r.stderr).toBe("proxysql-agent: no mariadb or mysql client on PATH: this container's image must have one\n");
  });
});

describe('the agent at work (stand-in client)', () => {
  it('writes one figures line per interval, the admin password in MYSQL_PWD only, never in argv or its output', async () => {
    const dir = bin({ figures: '{"v":1,"global":{"Client_Connections_connected":"3"}}' });
    const agent = start(dir, { ...BASE, PROXYSQL_FIGURES_SECONDS: '1' });
    await until(() => agent.out.join('').split('\n').filter(Boolean).length >= 2);
    agent.child.kill('SIGTERM');
    expect(await agent.exit).toBe(0);
    const lines = agent.out.join('').trim().split('\n');
    expect(lines[0]).toBe('proxysql-figures {"v":1,"global":{"Client_Connections_connected":"3"}}');
    expect(new Set(lines).size).toBe(1);
    for (const line of standInCalls(dir).trim().split('\n')) {
      const [argv, pwd] = line.split('|');
      expect(argv).not.toContain(PASSWORD);
      expect(argv).toContain('-h 127.0.0.1 -P 6032 -u admin');
      expect(pwd).toBe(PASSWORD);
    }
    expect(agent.err.join('') + agent.out.join('')).not.toContain(PASSWORD);
  });

  it("a refused login is logged by its error code, never the client's message (which the deployment alarm would count)", async () => {
    const dir = bin();
    fs.writeFileSync(
      path.join(dir, 'bin', 'mariadb'),
      '#!/bin/sh\n[ "$1" = --version ] && { echo "mariadb from 11.8.3-MariaDB"; exit 0; }\necho "ERROR 1045 (28000): ProxySQL Error: Access denied for user \'admin\'@\'127.0.0.1\'" >&2; exit 1\n',
      { mode: 0o755 },
    );
    const agent = start(dir, { ...BASE, PROXYSQL_FIGURES_SECONDS: '1' });
    await until(() => agent.err.join('').includes('figures:'));
    agent.child.kill('SIGTERM');
    await agent.exit;
    expect(agent.err.join('')).toContain('proxysql-agent: figures: the admin interface did not answer (ERROR 1045)');
    expect(agent.err.join('')).not.toMatch(/Access denied/);
  });

  it('while ProxySQL is still starting it retries after 5 s, not after the whole interval', async () => {
    const dir = bin();
    fs.writeFileSync(
      path.join(dir, 'bin', 'mariadb'),
      [
        '#!/bin/sh',
        `d='${dir}'`,
        '[ "$1" = --version ] && { echo "mariadb from 11.8.3-MariaDB"; exit 0; }',
        'if [ -f "$d/up" ]; then echo \'{"v":1}\'; exit 0; fi',
        ': > "$d/up"; echo "ERROR 2002 (HY000): Can\'t connect to server on \'127.0.0.1\'" >&2; exit 1',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const agent = start(dir, { ...BASE, PROXYSQL_FIGURES_SECONDS: '60' });
    const started = Date.now();
    await until(() => agent.out.join('').includes('proxysql-figures'), 8000);
    const ms = Date.now() - started;
    agent.child.kill('SIGTERM');
    await agent.exit;
    expect(ms).toBeGreaterThan(4000);
    expect(ms).toBeLessThan(8000);
    expect(agent.err.join('')).toContain('proxysql-agent: figures: the admin interface did not answer (ERROR 2002)');
  });

  it('an answer that is not one JSON object is logged, never written as a figures line', async () => {
    const agent = start(bin({ figures: 'ERROR 1045 (28000): denied' }), { ...BASE, PROXYSQL_FIGURES_SECONDS: '1' });
    await until(() => agent.err.join('').includes('figures:'));
    agent.child.kill('SIGTERM');
    await agent.exit;
    expect(agent.out.join('')).toBe('');
    expect(agent.err.join('')).toContain('proxysql-agent: figures: the admin interface answered something other than one JSON object');
  });

  it('on SIGTERM it closes idle sessions, pauses ProxySQL and exits once nothing is in flight; with figures off it only waits', async () => {
    const dir = bin({ busy: '0' });
    const agent = start(dir, { ...BASE, PROXYSQL_DRAIN_SECONDS: '20', PROXYSQL_FIGURES_SECONDS: '0' });
    await until(() => agent.err.join('').includes('started'));
    const termAt = Date.now();
    agent.child.kill('SIGTERM');
    expect(await agent.exit).toBe(0);
    // at once, not after a sleep: the wait is in the background
    expect(Date.now() - termAt).toBeLessThan(2000);
    expect(standInCalls(dir)).toContain('PROXYSQL PAUSE');
    expect(standInCalls(dir)).not.toContain('json_object');
    expect(agent.err.join('')).toMatch(/got SIGTERM: draining ProxySQL for at most 20 s[\s\S]*no statement or transaction left[\s\S]*drain done/);
  });

  it('stops waiting when the admin interface stops answering (ProxySQL is gone)', async () => {
    const dir = bin({ busy: '' });
    const agent = start(dir, { ...BASE, PROXYSQL_DRAIN_SECONDS: '20' });
    await until(() => agent.err.join('').includes('started'));
    agent.child.kill('SIGTERM');
    expect(await agent.exit).toBe(0);
    expect(agent.err.join('')).toContain('the admin interface stopped answering: ProxySQL is gone');
  });

  it('drain 0: exits at once on SIGTERM', async () => {
    const agent = start(bin(), { ...BASE, PROXYSQL_DRAIN_SECONDS: '0' });
    await until(() => agent.err.join('').includes('started'));
    agent.child.kill('SIGTERM');
    expect(await agent.exit).toBe(0);
    expect(agent.err.join('')).toContain('got SIGTERM: no drain (PROXYSQL_DRAIN_SECONDS=0)');
  });
});
