/**
 * The deployment alarm's log filter (src/config/deployment-alarm.ts) against what a real ProxySQL writes, started
 * through the task's entrypoint with the rendered configuration: what a client can cause (a wrong password, a user
 * name of its choice, a statement whose error quotes "Access denied", a SET carrying a line break) leaves the metric
 * at 0; the proxy's own backend and monitor logins refused raise it; a database that is down does not.
 *
 * The metric is the filter's count over the lines each step added to ProxySQL's log, evaluated as CloudWatch Logs
 * matches a regular-expression filter (test/support/cloudwatch-filter.ts). With UPDATE_LOG_FIXTURE=1 the run also
 * writes the lines to test/fixtures/proxysql-2.7.1/deployment-alarm-log-lines.json, which the unit test reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MONITOR_USER } from '../../src/constants';
import { DEPLOYMENT_FAILURE_FILTER_PATTERN } from '../../src/config/deployment-alarm';
import { filterCount } from '../support/cloudwatch-filter';
import { Lab, startLab } from './harness';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'proxysql-2.7.1', 'deployment-alarm-log-lines.json');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A backend refusal line as a client would forge it, to smuggle in after a line break. */
const FORGED =
  "2026-01-01 00:00:00 mysql_connection.cpp:1203:handler(): [ERROR] Failed to mysql_real_connect() on 10:db:3306 , FD (Conn:1 , MyDS:1) , 1045: Access denied for user app";

describe('the deployment alarm through a real ProxySQL', () => {
  let lab: Lab;
  let offset = 0;
  const captured: Record<string, string[]> = {};
  let monitorPassword = '';

  /** The lines ProxySQL wrote since the last call. */
  function newLines(): string[] {
    const text = fs.readFileSync(lab.proxy.logFile);
    const added = text.subarray(offset).toString('utf8');
    const complete = added.slice(0, added.lastIndexOf('\n') + 1);
    offset += Buffer.byteLength(complete);
    return complete.split('\n').filter((line) => line !== '');
  }

  /** Runs `act`, then collects ProxySQL's lines until one satisfies `seen` (bounded), and records them as `step`. */
  async function step(name: string, act: () => Promise<void>, seen: (line: string) => boolean, timeoutMs = 15_000): Promise<string[]> {
    newLines();
    await act();
    const lines: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!lines.some(seen)) {
      if (Date.now() > deadline) throw new Error(`step '${name}': ProxySQL logged no expected line within ${timeoutMs} ms; it logged:\n${lines.join('\n')}`);
      await sleep(200);
      lines.push(...newLines());
    }
    // what follows at once belongs to the same event (a refusal is logged once per retry)
    await sleep(500);
    lines.push(...newLines());
    captured[name] = lines;
    return lines;
  }

  const root = (which: 'primary' | 'replica') => {
    const inst = which === 'primary' ? lab.topology.primary : lab.topology.replica!;
    return mysql.createConnection({ host: inst.host, port: inst.port, user: inst.rootUser, password: inst.rootPassword });
  };
  const client = (user: string, password: string) =>
    mysql.createConnection({ host: lab.proxy.host, port: lab.proxy.port, user, password, database: lab.proxy.database, connectTimeout: 5000 });

  beforeAll(async () => {
    // The monitor's connect check runs every 60 s as rendered; every 2 s here, so its refusal shows at once.
    lab = await startLab({ mysqlVariables: { monitor_connect_interval: 2000 } });
    captured['start'] = newLines();
  });

  afterAll(async () => {
    if (process.env.UPDATE_LOG_FIXTURE === '1') {
      const fixture = {
        captured: `ProxySQL ${await lab.proxy.version()} through the task's entrypoint with the rendered configuration (monitor_connect_interval 2000), in front of a MariaDB primary and replica over TLS; test/proxysql/deployment-alarm.test.ts with UPDATE_LOG_FIXTURE=1`,
        steps: captured,
      };
      fs.writeFileSync(FIXTURE, JSON.stringify(fixture, null, 2) + '\n');
    }
    await lab?.stop();
  });

  const count = (lines: string[]) => filterCount(DEPLOYMENT_FAILURE_FILTER_PATTERN, lines);

  it('starting up logs nothing it counts', () => {
    expect(captured['start'].length).toBeGreaterThan(10);
    expect(count(captured['start'])).toBe(0);
  });

  it("a client with a wrong password: ProxySQL logs 'Access denied', the metric stays at 0", async () => {
    const lines = await step(
      'clientWrongPassword',
      async () => {
        await expect(client(lab.proxy.user, 'not-the-password')).rejects.toThrow(/Access denied/);
      },
      (line) => line.includes(`ProxySQL Error: Access denied for user '${lab.proxy.user}'`),
    );
    expect(count(lines)).toBe(0);
  });

  it('a client whose user name is a refusal line: 0', async () => {
    const name = "mysql_connection.cpp:1203:handler(): [ERROR] Failed to mysql_real_connect() 1045: Access denied";
    const lines = await step(
      'clientForgedUserName',
      async () => {
        await expect(client(name, 'x')).rejects.toThrow(/Access denied/);
      },
      (line) => line.includes(name),
    );
    expect(count(lines)).toBe(0);
  });

  it("a statement whose error quotes 'Access denied' (a syntax error): 0", async () => {
    const lines = await step(
      'queryErrorWithPhrase',
      async () => {
        const conn = await client(lab.proxy.user, lab.proxy.password);
        await expect(conn.query("SELECT 'Access denied")).rejects.toThrow(/near ''Access denied'/);
        await conn.end();
      },
      (line) => line.includes('Error during query') && line.includes('Access denied'),
    );
    expect(count(lines)).toBe(0);
  });

  it("a statement refused for a duplicate key: ProxySQL logs the server's message, data value included; 0", async () => {
    const lines = await step(
      'duplicateKeyError',
      async () => {
        const conn = await client(lab.proxy.user, lab.proxy.password);
        await conn.query('CREATE TABLE IF NOT EXISTS alarm_people (email VARCHAR(100) PRIMARY KEY)');
        await conn.query("INSERT INTO alarm_people VALUES ('alice@example.com')");
        await expect(conn.query("INSERT INTO alarm_people VALUES ('alice@example.com')")).rejects.toThrow(/Duplicate entry/);
        await conn.end();
      },
      (line) => line.includes('1062'),
    );
    expect(lines.some((line) => line.includes("Duplicate entry 'alice@example.com'"))).toBe(true);
    expect(count(lines)).toBe(0);
  });

  it('a SET ProxySQL cannot parse, carrying a line break and a forged refusal line: logged as its digest, 0', async () => {
    const lines = await step(
      'unparsableSetWithLineBreak',
      async () => {
        const conn = await client(lab.proxy.user, lab.proxy.password);
        await expect(conn.query(`SET no_such_variable = 'x\n${FORGED}'`)).rejects.toThrow(/no_such_variable/);
        await conn.end();
      },
      (line) => line.includes('Unable to parse unknown SET query'),
    );
    expect(lines.some((line) => line.endsWith('SET no_such_variable = ?'))).toBe(true);
    expect(lines.some((line) => line.startsWith(FORGED))).toBe(false);
    expect(count(lines)).toBe(0);
  });

  it("with ProxySQL's own parse_failure_logs_digest=false the same SET would start a line of the client's: why it is on", async () => {
    const admin = await lab.proxy.admin();
    await admin.query("SET mysql-parse_failure_logs_digest='false'");
    await admin.query('LOAD MYSQL VARIABLES TO RUNTIME');
    try {
      const lines = await step(
        'unparsableSetLoggedRaw',
        async () => {
          const conn = await client(lab.proxy.user, lab.proxy.password);
          await expect(conn.query(`SET no_such_variable = 'x\n${FORGED}'`)).rejects.toThrow(/no_such_variable/);
          await conn.end();
        },
        (line) => line.startsWith(FORGED),
      );
      expect(count(lines)).toBe(1);
    } finally {
      await admin.query("SET mysql-parse_failure_logs_digest='true'");
      await admin.query('LOAD MYSQL VARIABLES TO RUNTIME');
      await admin.end();
    }
  });

  it("the application user refused by the database (its password changed there): the metric rises", async () => {
    const [primary, replica] = [await root('primary'), await root('replica')];
    try {
      const lines = await step(
        'backendLoginRefused',
        async () => {
          await primary.query("ALTER USER ?@'%' IDENTIFIED BY 'changed-behind-the-proxy'", [lab.proxy.user]);
          await lab.topology.waitForReplication();
          // Pooled connections stay logged in: close them so the next statement needs a new backend login.
          await primary.query(`KILL USER ${primary.escape(lab.proxy.user)}`);
          await replica.query(`KILL USER ${replica.escape(lab.proxy.user)}`);
          for (let i = 0; i < 2; i++) {
            const conn = await client(lab.proxy.user, lab.proxy.password);
            await conn.query('DO 1').catch(() => undefined);
            await conn.end().catch(() => undefined);
          }
        },
        (line) => line.includes('Failed to mysql_real_connect()') && line.includes('1045'),
      );
      expect(count(lines)).toBeGreaterThanOrEqual(1);
      // and only those lines: not the broken pooled connections' nor the client's own error
      expect(lines.filter((line) => count([line]) === 1).every((line) => /mysql_connection\.cpp:\d+:handler\(\): \[ERROR\] Failed to mysql_real_connect\(\) .* 1045: Access denied for user 'app'/.test(line))).toBe(true);
    } finally {
      await primary.query("ALTER USER ?@'%' IDENTIFIED BY ?", [lab.proxy.user, lab.proxy.password]);
      await lab.topology.waitForReplication();
      await Promise.all([primary.end(), replica.end()]);
    }
  });

  it('the monitor user refused by the database: the metric rises', async () => {
    const [primary, admin] = [await root('primary'), await lab.proxy.admin()];
    const [[row]] = await admin.query<mysql.RowDataPacket[]>("SELECT variable_value AS v FROM runtime_global_variables WHERE variable_name = 'mysql-monitor_password'");
    monitorPassword = String(row.v);
    try {
      const lines = await step(
        'monitorLoginRefused',
        async () => {
          await primary.query("ALTER USER ?@'%' IDENTIFIED BY 'changed-behind-the-proxy'", [DEFAULT_MONITOR_USER]);
          await lab.topology.waitForReplication();
        },
        (line) => line.includes('for monitoring user'),
      );
      expect(count(lines)).toBeGreaterThanOrEqual(1);
    } finally {
      await primary.query("ALTER USER ?@'%' IDENTIFIED BY ?", [DEFAULT_MONITOR_USER, String(row.v)]);
      await lab.topology.waitForReplication();
      await Promise.all([primary.end(), admin.end()]);
      // a connect check already under way may still be refused once
      await sleep(3000);
    }
  });

  it('a database server that is down (a failover): connect errors, 0', async () => {
    const replicaPort = lab.topology.replica!.port;
    const lines = await step(
      'serverDown',
      async () => {
        await lab.topology.replica!.stop();
        // new backend connections to the reader hostgroup are needed for reads
        for (let i = 0; i < 3; i++) {
          const conn = await client(lab.proxy.user, lab.proxy.password).catch(() => undefined);
          await conn?.query('SELECT 1').catch(() => undefined);
          await conn?.end().catch(() => undefined);
        }
      },
      (line) => line.includes(`:${replicaPort}`) && /Can't connect|Lost connection|missed \d+ heartbeats|shunning/.test(line),
      30_000,
    );
    expect(count(lines)).toBe(0);
  });

  it('after all of it, the log holds no password: not the admin, monitor or application user\'s (docs/operations.md, "What ProxySQL writes to its log")', () => {
    const log = fs.readFileSync(lab.proxy.logFile, 'utf8');
    expect(monitorPassword.length).toBeGreaterThan(10);
    for (const secret of [lab.proxy.adminPassword, monitorPassword, lab.proxy.password]) expect(log).not.toContain(secret);
    // what it does hold: client addresses and user names
    expect(log).toContain(`Access denied for user '${lab.proxy.user}'@'127.0.0.1'`);
  });
});
