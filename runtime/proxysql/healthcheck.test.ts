/**
 * The agent container's health check (healthcheck.sh) under /bin/sh with a stand-in admin client, as CI can run it; the
 * same script against a real ProxySQL is in test/proxysql/healthcheck.test.ts (opt-in tier).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../local/files';
import { run as runProcess } from '../../local/run';
import { standInCalls, writeStandInClient } from '../../test/support/stand-in-client';

const SCRIPT = fs.readFileSync(path.join(__dirname, 'healthcheck.sh'), 'utf8');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'healthcheck-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A stand-in `mysql`: answers the admin queries from files in its dir, and logins on 6033 per the file `deny`. */
function standIn(answers: { users?: string; usersWithoutWriter?: string; monitor?: string; deny?: boolean; adminDown?: boolean }): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'case-'));
  const write = (name: string, value: string | undefined) => value !== undefined && fs.writeFileSync(path.join(dir, name), `${value}\n`);
  write('users', answers.users ?? '1');
  write('orphans', answers.usersWithoutWriter ?? '0');
  write('monitor', answers.monitor ?? '0');
  if (answers.deny) fs.writeFileSync(path.join(dir, 'deny'), '');
  if (answers.adminDown) fs.writeFileSync(path.join(dir, 'admin-down'), '');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  writeStandInClient(path.join(bin, 'mysql'), dir, [
    'if [ "$port" = 6033 ]; then [ -f "$d/deny" ] && { echo "ERROR 1045 (28000): Access denied for user" >&2; exit 1; }; echo 1; exit 0; fi',
    '[ -f "$d/admin-down" ] && { echo "ERROR 2002 (HY000): Can\'t connect" >&2; exit 1; }',
    'case $sql in *runtime_mysql_servers*) cat "$d/orphans" ;; *runtime_mysql_users*) cat "$d/users" ;; *connect_log*) cat "$d/monitor" ;; esac',
  ]);
  return dir;
}

async function run(dir: string, env: Record<string, string> = {}) {
  const tools = ['sh', 'cat', 'timeout', 'printf'].map((t) => findExecutable(t));
  for (const tool of tools.filter((t): t is string => t !== undefined)) {
    const link = path.join(dir, 'bin', path.basename(tool));
    if (!fs.existsSync(link)) fs.symlinkSync(tool, link);
  }
  const result = await runProcess('/bin/sh', ['-c', SCRIPT], {
    env: { PATH: path.join(dir, 'bin'), PROXYSQL_ADMIN_PASSWORD: 'admin-secret-value', PROXYSQL_EXPECTED_USERS: '1', PROXYSQL_USER_LOGIN_0: 'app', PROXYSQL_USER_PASSWORD_0: 'user-secret-value', ...env },
  });
  return { code: result.status, stderr: result.stderr, calls: standInCalls(dir) };
}

describe('container health check (stand-in client)', () => {
  it('is healthy when users, writer, logins and monitor are fine; passwords travel in MYSQL_PWD only', async () => {
    const r = await run(standIn({}));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.calls).toContain('-P 6032 -u admin');
    expect(r.calls).toContain('-P 6033 -u app');
    for (const line of r.calls.trim().split('\n')) {
      const [argv] = line.split('|');
      expect(argv).not.toMatch(/secret-value/);
    }
    expect(r.calls).toContain('|user-secret-value');
  });

  it.each([
    [{ users: '1' }, { PROXYSQL_EXPECTED_USERS: '2' }, '1 of 2 application users loaded: ProxySQL dropped a user from its configuration'],
    [{ usersWithoutWriter: '1' }, {}, 'no server in the writer hostgroup of 1 application user(s)'],
    [{ deny: true }, {}, 'user 0 (app) cannot log in through ProxySQL to the database: access denied (wrong password or grants)'],
    [{ monitor: '3' }, {}, 'a backend refused the monitor user in the last 120 s (access denied): wrong monitor password or grants'],
    [{ adminDown: true }, {}, 'the admin interface does not answer'],
    [{}, { PROXYSQL_EXPECTED_USERS: 'two' }, "PROXYSQL_EXPECTED_USERS='two' is not a number"],
  ])('%j %j → unhealthy: %s', async (answers, env, why) => {
    const r = await run(standIn(answers), env);
    expect(r.code).toBe(1);
    // the last line says why (the client's own error, if any, comes before it)
    expect(r.stderr.trim().split('\n').at(-1)).toBe(`proxysql-healthcheck: ${why}`);
    expect(r.stderr).not.toMatch(/secret-value/);
  });

  it('without a client it is unhealthy, saying so: never a silently weaker check', async () => {
    const dir = standIn({});
    fs.rmSync(path.join(dir, 'bin', 'mysql'));
    const r = await run(dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('proxysql-healthcheck: no mariadb or mysql client on PATH: run it in the agent container, whose image has one\n');
  });

  it('uses the name from the secret (PROXYSQL_USER_NAME_n) before the literal one', async () => {
    const r = await run(standIn({}), { PROXYSQL_USER_NAME_0: 'from_secret' });
    expect(r.code).toBe(0);
    expect(r.calls).toContain('-P 6033 -u from_secret');
  });
});
