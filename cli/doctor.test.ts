import * as net from 'node:net';
import * as mysql from 'mysql2';
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

  test('an admin interface nobody listens on: exit 1, "nothing listens" and the port-forward fix, never the password', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as net.AddressInfo;
        server.close(() => resolve(p));
      });
    });
    const { out, io: streams } = io({ PW: 'very-secret-admin-pw' });
    expect(await doctorCommand(['--admin', `127.0.0.1:${port}`, '--password-env', 'PW'], streams)).toBe(1);
    expect(out.stderr).toBe(
      `serverless-proxysql doctor: nothing listens at 127.0.0.1:${port} (ECONNREFUSED): the admin interface is not reachable there. ` +
        "Fix: start the port forward to the task's 127.0.0.1:6032 (docs/cli.md, \"doctor\") and give its local port with --admin\n",
    );
    expect(out.stderr).not.toContain('very-secret-admin-pw');
  });

  test('a wrong admin password: exit 1, the admin interface refused the login (1045), with the fix; not "unreachable"', async () => {
    // GIVEN a MySQL-protocol server that answers every login as ProxySQL's admin module does a wrong password
    const server = mysql.createServer((conn) => {
      (conn as unknown as { serverHandshake(args: object): void }).serverHandshake({
        protocolVersion: 10,
        serverVersion: '8.0.11 (ProxySQL Admin Module)',
        connectionId: 1,
        statusFlags: 2,
        characterSet: 8,
        capabilityFlags: 0xffffff,
        authCallback: (_params: unknown, done: (error: null, refusal: { message: string; code: number }) => void) =>
          done(null, { message: "ProxySQL Error: Access denied for user 'admin'@'127.0.0.1' (using password: YES)", code: 1045 }),
      });
    });
    // mysql2's Server wraps a net.Server (its typings declare listen(port) only)
    const listening = (server as unknown as { _server: net.Server })._server;
    const port = await new Promise<number>((resolve) => listening.listen(0, '127.0.0.1', () => resolve((listening.address() as net.AddressInfo).port)));
    try {
      const { out, io: streams } = io({ PW: 'wrong-admin-pw' });
      expect(await doctorCommand(['--admin', `127.0.0.1:${port}`, '--password-env', 'PW'], streams)).toBe(1);
      expect(out.stderr).toBe(
        `serverless-proxysql doctor: the admin interface at 127.0.0.1:${port} refused the login of 'admin' ` +
          "(error 1045: ProxySQL Error: Access denied for user 'admin'@'127.0.0.1' (using password: YES)): " +
          'the password in PW is not the admin password, or the user is not the admin user. ' +
          "Fix: put the task's admin password (the secret ProxySqlService.adminSecret, AdminSecret in the stack) in PW, with --user admin\n",
      );
      expect(out.stderr).not.toContain('wrong-admin-pw');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test('a port that accepts but never answers: exit 1, no answer within the timeout (ETIMEDOUT), with the fix', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    const port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as net.AddressInfo).port)));
    try {
      const { out, io: streams } = io({ PW: 'x' });
      expect(await doctorCommand(['--admin', `127.0.0.1:${port}`, '--password-env', 'PW'], { ...streams, connectTimeoutMs: 300 })).toBe(1);
      expect(out.stderr).toBe(
        `serverless-proxysql doctor: no answer from 127.0.0.1:${port} within 0.3 s (ETIMEDOUT): the port is open but no admin interface answered. ` +
          "Fix: check that the port forward reaches the task's 127.0.0.1:6032 and that --admin names the forward's local port, not a client port (6033)\n",
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('--help lists the options and how to reach a task', async () => {
    const { out, io: streams } = io();
    expect(await doctorCommand(['--help'], streams)).toBe(0);
    expect(out.stdout).toContain('--watch SECONDS');
    expect(out.stdout).toContain('ECS Exec');
  });
});
