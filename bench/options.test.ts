import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { output, run } from '../local/run';
import { assertOpenFileLimit, descriptorsNeeded, openFileLimit } from './limits';
import { BenchArgError, parseBenchArgs, parseEndpoint, parseMix } from './options';

const target = ['--target', '127.0.0.1:6033', '--user', 'app'];
const env = { APP_PW: 'pw-from-env', ADMIN_PW: 'admin-pw' };

function rejects(argv: string[], message: RegExp): void {
  let caught: unknown;
  try {
    parseBenchArgs(argv, env);
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${argv.join(' ')} to be rejected`).toBeInstanceOf(BenchArgError);
  expect((caught as Error).message).toMatch(message);
}

describe('parseBenchArgs: accepted command lines', () => {
  it('applies the documented defaults', () => {
    const o = parseBenchArgs(target, env);
    expect(o).toMatchObject({
      target: { host: '127.0.0.1', port: 6033 },
      local: false,
      user: 'app',
      password: '',
      database: 'bench',
      sessions: 100,
      mode: 'warm',
      mix: { read: 80, write: 15, tx: 5 },
      durationS: 30,
      thinkMs: 200,
      rampS: 0,
      failover: false,
      writerDiscovery: 'none',
      setup: true,
    });
  });

  it('reads passwords from the named environment variables and parses every option', () => {
    const o = parseBenchArgs(
      [
        ...target,
        '--password-env', 'APP_PW', '--database', 'b2', '--sessions', '5000', '--mode', 'cold', '--mix', 'writes=100',
        '--duration', '2.5', '--think-ms', '0', '--ramp', '1', '--admin', 'db1:3306', '--backend', 'db2:3306',
        '--backend', '10.0.0.7:3307', '--admin-user', 'mon', '--admin-password-env', 'ADMIN_PW',
        '--writer-discovery', 'read_only', '--also', 'db2:3306', '--json', '-', '--no-setup',
      ],
      env,
    );
    expect(o).toMatchObject({
      password: 'pw-from-env',
      database: 'b2',
      sessions: 5000,
      mode: 'cold',
      mix: { read: 0, write: 100, tx: 0 },
      durationS: 2.5,
      thinkMs: 0,
      rampS: 1,
      admin: {
        backends: [
          { host: 'db1', port: 3306 },
          { host: 'db2', port: 3306 },
          { host: '10.0.0.7', port: 3307 },
        ],
        user: 'mon',
        password: 'admin-pw',
      },
      writerDiscovery: 'read_only',
      also: [{ host: 'db2', port: 3306 }],
      json: '-',
      setup: false,
    });
  });

  it('puts the failover at half the duration unless told otherwise', () => {
    expect(parseBenchArgs(['--local', '--duration', '20', '--failover'], env)).toMatchObject({ local: true, failover: true, failoverAtS: 10 });
    expect(parseBenchArgs(['--local', '--duration', '20', '--failover', '--failover-at', '3'], env)).toMatchObject({ failoverAtS: 3 });
  });

  it('returns help for -h', () => {
    expect(parseBenchArgs(['-h'], env)).toBe('help');
  });
});

describe('parseBenchArgs: rejected command lines name the problem and the fix', () => {
  it('needs an endpoint, and not two kinds of it', () => {
    rejects([], /No endpoint: give --target HOST:PORT .* or --local/);
    rejects(['--local', '--target', 'h:1'], /--local and --target exclude each other/);
    rejects(['--target', 'h:1'], /--user is required with --target/);
    rejects(['--local', '--user', 'x'], /--user has no effect with --local/);
  });

  it('validates HOST:PORT', () => {
    rejects(['--target', 'localhost', '--user', 'a'], /^--target: 'localhost' has no port: give HOST:PORT, e\.g\. localhost:3306$/);
    rejects(['--target', 'h:70000', '--user', 'a'], /^--target: '70000' is not a TCP port: use a whole number from 1 to 65535$/);
    rejects([...target, '--also', 'h:'], /^--also: '' is not a TCP port/);
    rejects([...target, '--also', 'bad_host:3306'], /^--also: 'bad_host' is not a DNS name or IPv4 address/);
  });

  it('refuses IPv6 literals, as the construct and the CLI always did (the stricter of the copies)', () => {
    rejects([...target, '--backend', '[::1]:3307'], /^--backend: '::1' is an IPv6 address, which is not supported: use a DNS name or an IPv4 address$/);
    rejects(['--target', '[fe80::1]:3306', '--user', 'a'], /^--target: 'fe80::1' is an IPv6 address/);
  });

  it('checks user and schema names with the project rules', () => {
    rejects(['--target', 'h:1', '--user', 'app-user'], /^--user: 'app-user' is not a valid user name: use 1-32 characters/);
    rejects([...target, '--database', 'b$1'], /^--database: 'b\$1' is not a valid schema name/);
  });

  it('keeps --sessions within 1..5000 and whole', () => {
    rejects([...target, '--sessions', '0'], /^--sessions: must be a whole number from 1 to 5000, got '0'$/);
    rejects([...target, '--sessions', '5001'], /--sessions: must be a whole number from 1 to 5000, got '5001'/);
    rejects([...target, '--sessions', '2.5'], /--sessions: must be a whole number .*got '2\.5'/);
    rejects([...target, '--sessions', 'many'], /--sessions: .*got 'many'/);
  });

  it('accepts only cold or warm', () => {
    rejects([...target, '--mode', 'hot'], /--mode 'hot' is not cold or warm/);
  });

  it('validates the mix', () => {
    rejects([...target, '--mix', 'reads=80,writes=15'], /sums to 95%, not 100%/);
    rejects([...target, '--mix', 'reads=80,deletes=20'], /--mix part 'deletes=20' is not one of reads=N, writes=N, tx=N/);
    rejects([...target, '--mix', 'reads=50,reads=50'], /names 'reads' twice/);
    rejects([...target, '--mix', 'reads=-5,writes=105'], /--mix part 'reads=-5'/);
  });

  it('validates durations, ramp and think time', () => {
    rejects([...target, '--duration', '0'], /--duration '0' must be a number of seconds > 0/);
    rejects([...target, '--duration=-3'], /--duration '-3' must be a number of seconds > 0/);
    rejects([...target, '--duration', '5', '--ramp', '5'], /--ramp 5 must be shorter than --duration 5/);
    rejects([...target, '--think-ms', 'x'], /--think-ms: must be a whole number from 0 to 600000, got 'x'/);
  });

  it('keeps the failover to the local topology and inside the run', () => {
    rejects([...target, '--failover'], /--failover needs --local/);
    rejects(['--local', '--duration', '10', '--failover', '--failover-at', '10'], /--failover-at 10 is not before the end of the run/);
    rejects(['--local', '--failover-at', '3'], /--failover-at without --failover/);
  });

  it('checks writer discovery and sampling options', () => {
    rejects([...target, '--writer-discovery', 'dns'], /--writer-discovery 'dns' is not none or read_only/);
    rejects([...target, '--writer-discovery', 'read_only'], /needs at least one --also HOST:PORT/);
    rejects([...target, '--admin', 'db:3306'], /--admin\/--backend need --admin-user/);
    rejects([...target, '--admin-user', 'mon'], /without a server to sample: add --admin HOST:PORT/);
  });

  it('names unset or malformed password variables without printing any secret', () => {
    rejects([...target, '--password-env', 'NOT_SET_ANYWHERE'], /environment variable NOT_SET_ANYWHERE is not set/);
    rejects([...target, '--password-env', 'hunter2!'], /takes the NAME of an environment variable/);
  });

  it('rejects unknown options and missing values via parseArgs, pointing at --help', () => {
    rejects([...target, '--sesions', '5'], /Unknown option '--sesions'.*--help/);
    rejects([...target, '--sessions'], /--sessions.*argument missing.*--help/);
    rejects([...target, '--database', 'x;drop'], /--database: 'x;drop' is not a valid schema name/);
  });

  it('exposes the pieces on their own', () => {
    expect(parseEndpoint('db.internal:3306', '--x')).toEqual({ host: 'db.internal', port: 3306 });
    expect(parseMix('tx=100')).toEqual({ read: 0, write: 0, tx: 100 });
  });
});

describe('open-file limit', () => {
  it('reads the same limit the shell reports', async () => {
    const shell = (await output('sh', ['-c', 'ulimit -n'])).trim();
    expect(openFileLimit()).toBe(shell === 'unlimited' ? Number.POSITIVE_INFINITY : Number(shell));
  });

  it('explains how to raise a limit that is too low', () => {
    expect(() => assertOpenFileLimit(5000, 4, 1024)).toThrow(
      /ulimit -n\) is 1024, but 5000 sessions need about 5132 file descriptors.*'ulimit -n 8192'/,
    );
    expect(() => assertOpenFileLimit(500, 4, descriptorsNeeded(500, 4))).not.toThrow();
  });
});

describe('bench CLI', () => {
  it('exits 2 with the reason and the usage on invalid arguments', async () => {
    const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const res = await run(tsx, [path.join(__dirname, 'main.ts'), '--local', '--sessions', '9000']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/--sessions: must be a whole number from 1 to 5000, got '9000'/);
    expect(res.stderr).toMatch(/Usage: npm run bench/);
    expect(res.stdout).toBe('');
  });
});

describe('parseBenchArgs: through a real ProxySQL', () => {
  it('takes the binary, backend TLS (on by default), overrides, the pool cap, prepared statements and stateful sessions', () => {
    const o = parseBenchArgs(['--local', '--proxysql', '/opt/p/proxysql', '--proxysql-var', 'threads=4', '--proxysql-var', 'poll_timeout=500',
      '--max-backend-connections', '30', '--statements', 'prepared', '--stateful-sessions', '10'], env);
    expect(o).toMatchObject({
      local: true,
      statements: 'prepared',
      statefulPercent: 10,
      proxysql: { bin: '/opt/p/proxysql', backendTls: true, variables: { threads: 4, poll_timeout: 500 }, maxBackendConnectionsPerServer: 30 },
    });
    expect(parseBenchArgs(['--local', '--proxysql', '/p', '--backend-tls', 'off'], env)).toMatchObject({ proxysql: { backendTls: false } });
    expect(o).not.toHaveProperty('proxysql.idleThreads');
    expect(parseBenchArgs(['--local', '--proxysql', '/p', '--idle-threads', 'off'], env)).toMatchObject({ proxysql: { idleThreads: false } });
  });

  it.each([
    [['--target', '127.0.0.1:6033', '--user', 'app', '--proxysql', '/p'], /--proxysql needs --local/],
    [['--local', '--backend-tls', 'off'], /--backend-tls needs --proxysql FILE/],
    [['--local', '--proxysql-var', 'threads=4'], /--proxysql-var needs --proxysql FILE/],
    [['--local', '--max-backend-connections', '5'], /--max-backend-connections needs --proxysql FILE/],
    [['--local', '--proxysql', '/p', '--backend-tls', 'maybe'], /--backend-tls 'maybe' is not on or off/],
    [['--local', '--idle-threads', 'off'], /--idle-threads needs --proxysql FILE/],
    [['--local', '--proxysql', '/p', '--idle-threads', 'no'], /--idle-threads 'no' is not on or off/],
    [['--local', '--proxysql', '/p', '--proxysql-var', 'mysql-threads=4'], /--proxysql-var 'mysql-threads=4' is not NAME=VALUE/],
    [['--local', '--proxysql', '/p', '--proxysql-var', 'threads='], /is not NAME=VALUE/],
    [['--local', '--proxysql', '/p', '--proxysql-var', 'interfaces=0.0.0.0:1'], /^--proxysql-var interfaces: set by the construct/],
    [['--local', '--proxysql', '/p', '--proxysql-var', 'server_version=8"0'], /^--proxysql-var server_version: must not contain a double quote/],
    [['--local', '--proxysql', '/p', '--max-backend-connections', '0'], /--max-backend-connections: must be a whole number from 1 to 10000, got '0'/],
    [['--local', '--proxysql', '/p', '--writer-discovery', 'read_only'], /finding the writer is ProxySQL’s job/],
    [['--local', '--statements', 'binary'], /--statements 'binary' is not text or prepared/],
    [['--local', '--mode', 'cold', '--stateful-sessions', '10'], /--stateful-sessions needs --mode warm/],
    [['--local', '--stateful-sessions', '101'], /--stateful-sessions: must be a whole number from 0 to 100, got '101'/],
  ])('%j is refused with a message that names the option', (argv, message) => {
    rejects(argv, message);
  });
});

describe('construct choices the bench can weigh', () => {
  it('--read-consistency and --keep-connection-for-last-insert-id pass to the render; both need --proxysql', () => {
    const o = parseBenchArgs(['--local', '--proxysql', '/opt/p/proxysql', '--read-consistency', 'eventual', '--keep-connection-for-last-insert-id']);
    expect(o).toMatchObject({ proxysql: { readConsistency: 'eventual', keepConnectionForLastInsertId: true } });
    expect(() => parseBenchArgs(['--local', '--keep-connection-for-last-insert-id'])).toThrow(/--keep-connection-for-last-insert-id needs --proxysql FILE/);
    expect(() => parseBenchArgs(['--local', '--proxysql', '/p', '--read-consistency', 'strong'])).toThrow(/--read-consistency: must be one of 'read-your-writes', 'writer-only', 'eventual', got 'strong'/);
    expect(() => parseBenchArgs(['--local', '--proxysql', '/p', '--proxysql-var', 'auto_increment_delay_multiplex=5'])).toThrow(/set keepConnectionForLastInsertId instead/);
  });
});
