import * as net from 'node:net';
import { describe, expect, test } from 'vitest';
import { doctorCommand } from './doctor';

function io(env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t), env } };
}

describe('doctor: command line', () => {
  test.each([
    [[], {}, /--password-env VAR is required/],
    [['--password-env', 'lower-case'], {}, /--password-env takes a variable NAME/],
    [['--password-env', 'PW'], {}, /--password-env PW: the variable is not set/],
    [['--password-env', 'PW', '--watch', '0'], { PW: 'x' }, /--watch '0': give 1 to 3600 seconds/],
    [['--password-env', 'PW', '--admin', 'host:99999'], { PW: 'x' }, /--admin: '99999' is not a TCP port/],
    [['--nope'], {}, /Unknown option '--nope'/],
  ])('%j is refused naming the option (exit 2)', async (args, env, message) => {
    const { out, io: streams } = io(env);
    expect(await doctorCommand(args, streams)).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  test('an admin interface nobody listens on: exit 1, naming where, never the password', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    const { out, io: streams } = io({ PW: 'very-secret-admin-pw' });
    expect(await doctorCommand(['--admin', `127.0.0.1:${port}`, '--password-env', 'PW'], streams)).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`cannot reach the admin interface at 127\\.0\\.0\\.1:${port} as 'admin' \\(ECONNREFUSED\\)`));
    expect(out.stderr).not.toContain('very-secret-admin-pw');
  });

  test('--help lists the options and how to reach a task', async () => {
    const { out, io: streams } = io();
    expect(await doctorCommand(['--help'], streams)).toBe(0);
    expect(out.stdout).toContain('--watch SECONDS');
    expect(out.stdout).toContain('ECS Exec');
  });
});
