/**
 * Code nobody here wrote, used the way its own documentation shows, through a real ProxySQL running the project's
 * own rendered configuration (backend TLS on), in front of a primary and a replica that applies every change one
 * second late (MASTER_DELAY): a read that reaches the replica too early cannot hide. Each driver and ORM
 * (test/drivers/*, CONTRACT.md) runs 40 concurrent sessions for 15 s: read-your-writes, LAST_INSERT_ID(),
 * rollback and commit must be right in every iteration, with no error and at most 30 backend connections in use.
 *
 * DRV_MATRIX_SESSIONS / DRV_MATRIX_DURATION_MS / DRV_MATRIX_CLIENTS (comma-separated names) shorten a local run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output } from '../../local/run';
import { ALL_CLIENTS, MATRIX_HEADER, matrixRow, MatrixRun, runClient } from '../drivers/runner';
import { startDriverLab } from '../drivers/schema';
import { DEFAULT_READ_YOUR_WRITES_STATEMENTS } from '../../src/config/session-state';
import type { Lab } from './harness';

const SESSIONS = Number(process.env.DRV_MATRIX_SESSIONS ?? 40);
const DURATION_MS = Number(process.env.DRV_MATRIX_DURATION_MS ?? 15_000);
const ONLY = process.env.DRV_MATRIX_CLIENTS?.split(',');
const MAX_BACKEND_IN_USE = 30;
const REPLICA_DELAY_S = 1;

const clients = ALL_CLIENTS.filter((c) => !ONLY || ONLY.includes(c.name));
const table: string[] = [];
// The matrix's table, printed once after all of this file's tests.
afterAll(() => console.log(`\n${MATRIX_HEADER}\n${table.join('\n')}\n`));

/**
 * Clients whose INSERT answers with a result set, not an OK packet with the id: Django 3.2 on MariaDB 10.5+ inserts
 * with `INSERT … RETURNING id`. ProxySQL holds the connection only after an OK packet with a non-zero insert id
 * (lib/MySQL_Session.cpp: `if (mysql_thread___auto_increment_delay_multiplex && myconn->mysql->insert_id)`), so
 * keepConnectionForLastInsertId cannot help them. ASSUMPTION: on Aurora MySQL and RDS for MySQL, which have no
 * RETURNING, Django reads the id from the OK packet like the other clients (django/db/backends/mysql/features.py
 * can_return_columns_from_insert is MariaDB 10.5+ only).
 */
const INSERT_RETURNS_ROWS = new Set(['django']);

/**
 * The default render, and the render with keepConnectionForLastInsertId (what an application that reads
 * LAST_INSERT_ID() in SQL sets). By default a LAST_INSERT_ID() spelled otherwise than ProxySQL's exact forms, outside
 * a transaction, may read another session's id (docs/clients.md): the first run counts those checks without
 * requiring them, the second requires them.
 */
const CONFIGS = [
  { name: 'default render', keepConnectionForLastInsertId: false, lastInsertIdChecks: false },
  { name: 'keepConnectionForLastInsertId: true', keepConnectionForLastInsertId: true, lastInsertIdChecks: true },
].filter((c) => !process.env.DRV_MATRIX_CONFIG || c.name.startsWith(process.env.DRV_MATRIX_CONFIG));

describe.each(CONFIGS)(`the driver and ORM matrix ($name): ${SESSIONS} sessions x ${DURATION_MS / 1000} s each, replica ${REPLICA_DELAY_S} s behind`, (config) => {
  let lab: Lab;
  beforeAll(async () => {
    table.push(`| **${config.name}** | | | | | | |`);
    lab = await startDriverLab({ spec: { keepConnectionForLastInsertId: config.keepConnectionForLastInsertId }, replicaDelaySeconds: REPLICA_DELAY_S });
  });
  afterAll(async () => lab?.stop());


  it.each(clients.filter((c) => c.workloads.includes('rw')).map((c) => [c.name, c] as const))(
    '%s: every check right, no error, few backend connections',
    async (_name, client) => {
      const run: MatrixRun = await runClient(client, lab.proxy, { workload: 'rw', sessions: SESSIONS, durationMs: DURATION_MS, thinkMs: 100, owner: client.name });
      table.push(matrixRow(client, run));
      const { report } = run;
      expect(report.connected, 'sessions connected').toBe(SESSIONS);
      expect(report.errors).toEqual({});
      expect(report.iterations).toBeGreaterThan(SESSIONS);
      const lastInsertId = config.lastInsertIdChecks && !INSERT_RETURNS_ROWS.has(client.name) ? ['last_insert_id', 'last_insert_id_in_statement'] : [];
      for (const check of ['insert_id', ...lastInsertId, 'read_your_writes', 'rollback', 'commit']) {
        const [ok, failed] = report.checks[check] ?? [0, 0];
        expect({ check, failed, firstFailure: report.firstFailure?.[check] }).toEqual({ check, failed: 0, firstFailure: undefined });
        expect(ok, `${check} ran`).toBeGreaterThan(0);
      }
      expect(run.peakConnUsed).toBeLessThanOrEqual(MAX_BACKEND_IN_USE);
    },
  );
});

describe(`PEP 249 sessions (autocommit off) through the default render, replica ${REPLICA_DELAY_S} s behind`, () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startDriverLab({ replicaDelaySeconds: REPLICA_DELAY_S });
  });
  afterAll(async () => lab?.stop());

  it.each(clients.filter((c) => c.language === 'python' && c.kind === 'driver').map((c) => [c.name, c] as const))(
    '%s: 100 read-only PEP 249 sessions (autocommit off, never commit) stay multiplexed and read from the replica',
    async (_name, client) => {
      const run = await runClient(client, lab.proxy, { workload: 'readonly', sessions: 100, durationMs: DURATION_MS, thinkMs: 100, owner: client.name });
      table.push(matrixRow(client, run).replace(client.name, `${client.name} (readonly, 100 sessions)`));
      expect(run.report.connected).toBe(100);
      expect(run.report.errors).toEqual({});
      expect(run.report.checks.read[1]).toBe(0);
      expect(run.peakConnUsed).toBeLessThanOrEqual(MAX_BACKEND_IN_USE);
      const replica = run.queriesByServer[`127.0.0.1:${lab.topology.replica!.port}`] ?? 0;
      const total = Object.values(run.queriesByServer).reduce((a, b) => a + b, 0);
      expect(replica / total).toBeGreaterThanOrEqual(0.95);
    },
  );

  it('a PEP 249 session that wrote reads its own write, then the replica again once readYourWritesStatements statements have passed', async () => {
    // PyMySQL as its docs show: autocommit off, INSERT, commit(); then reads of @@server_id (1 = primary, 2 = replica).
    const script = `
import json, os, time, pymysql
conn = pymysql.connect(host=os.environ['H'], port=int(os.environ['P']), user=os.environ['U'], password=os.environ['W'], database=os.environ['D'])
with conn.cursor() as cur:
    cur.execute("INSERT INTO drv_item (owner, n, v) VALUES (%s, %s, 0)", ('pep249-ryw', 1))
    new_id = cur.lastrowid
conn.commit()
time.sleep(3)
servers = []
with conn.cursor() as cur:
    cur.execute("SELECT owner FROM drv_item WHERE id = %s", (new_id,))
    found = cur.fetchone() is not None
    for _ in range(${DEFAULT_READ_YOUR_WRITES_STATEMENTS + 2}):
        cur.execute("SELECT @@server_id")
        servers.append(cur.fetchone()[0])
print(json.dumps({"found": found, "servers": servers}))
`;
    const stdout = await output('/usr/bin/python3', ['-c', script], {
      env: { ...process.env, H: lab.proxy.host, P: String(lab.proxy.port), U: lab.proxy.user, W: lab.proxy.password, D: lab.proxy.database },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { found: boolean; servers: number[] };
    // The read of the row is statement 1 after the commit: the writer, where the row is (the replica is 1 s behind,
    // and time does not release a session: ProxySQL's routing state has no clock).
    expect(result.found).toBe(true);
    const onWriter = DEFAULT_READ_YOUR_WRITES_STATEMENTS - 1;
    expect(result.servers).toEqual([...Array(onWriter).fill(1), ...Array(result.servers.length - onWriter).fill(2)]);
  });
});
