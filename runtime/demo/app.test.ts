/**
 * The demo handler in-process against a real MariaDB primary + GTID replica (local/topology.ts): connection
 * reuse, reconnection after KILL, read/write targets, validation, an unreachable database, idempotent writes.
 */
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { MariaDbInstance, startTopology, Topology } from '../../local/topology';
import { createDemoHandler, DemoDeps, DemoHandler, DemoResult, readBackendIdentity } from './app';
import { apiEvent, captureOutput, lambdaContext } from './test-support';

const APP_USER = 'demo_app';
// Characters a careless log line or URL would mangle, so a leak cannot hide behind escaping.
const APP_PASSWORD = `pw-${randomBytes(12).toString('hex')}-%@:/`;

let topology: Topology;
let primary: MariaDbInstance;
let replica: MariaDbInstance;
let rootPrimary: mysql.Connection;
let rootReplica: mysql.Connection;

const quiet = () => new Logger({ serviceName: 'demo-test', logLevel: 'SILENT' });
const loud = () => new Logger({ serviceName: 'demo-test', logLevel: 'DEBUG' });

function handlerFor(inst: { host: string; port: number }, database: string, overrides: Partial<DemoDeps> = {}): DemoHandler {
  return createDemoHandler({
    host: inst.host,
    port: inst.port,
    database,
    getCredentials: async () => ({ username: APP_USER, password: APP_PASSWORD }),
    logger: quiet(),
    ...overrides,
  });
}

/** A fresh schema on the primary for one test, so tests do not see each other's rows or tables. */
async function createSchema(name: string): Promise<string> {
  await rootPrimary.query(`CREATE DATABASE ${name}`);
  await rootPrimary.query(`GRANT ALL PRIVILEGES ON ${name}.* TO ?@'127.0.0.1'`, [APP_USER]);
  return name;
}

async function appSessions(root: mysql.Connection): Promise<number[]> {
  const [rows] = await root.query<mysql.RowDataPacket[]>(
    'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? ORDER BY ID',
    [APP_USER],
  );
  return rows.map((r) => Number(r.id));
}

async function globalStatus(root: mysql.Connection, name: string): Promise<number> {
  const [rows] = await root.query<mysql.RowDataPacket[]>('SHOW GLOBAL STATUS WHERE Variable_name = ?', [name]);
  return Number(rows[0].Value);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const parse = (res: DemoResult) => JSON.parse(res.body) as Record<string, unknown>;
const post = (name: string, idempotencyKey?: string) => apiEvent('POST', '/items', { body: JSON.stringify({ name, idempotencyKey }) });

/** A TCP port on 127.0.0.1 that nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  topology = await startTopology({ replica: true });
  primary = topology.primary;
  replica = topology.replica!;
  const root = (inst: MariaDbInstance) =>
    mysql.createConnection({ host: inst.host, port: inst.port, user: inst.rootUser, password: inst.rootPassword });
  rootPrimary = await root(primary);
  rootReplica = await root(replica);
  // A normal application user (replicated to the replica with everything else).
  await rootPrimary.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [APP_USER, APP_PASSWORD]);
});

afterAll(async () => {
  await rootPrimary?.end();
  await rootReplica?.end();
  await topology?.stop();
});

describe('one session per execution environment', () => {
  it('serves 100 warm invocations (reads, writes, whoami) over exactly one server connection and creates the table once', async () => {
    const db = await createSchema('demo_warm');
    const h = handlerFor(primary, db);
    try {
      const connectionsBefore = await globalStatus(rootPrimary, 'Connections');
      const createsBefore = await globalStatus(rootPrimary, 'Com_create_table');

      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        const event =
          i % 3 === 0 ? apiEvent('GET', '/items', { query: { limit: '5' } }) : i % 3 === 1 ? post(`item ${i}`) : apiEvent('GET', '/whoami');
        statuses.push((await h(event, lambdaContext())).statusCode);
      }

      expect(statuses.filter((s) => s < 200 || s > 299)).toEqual([]);
      // Root's own connection was opened before the first reading: the whole delta is the handler's.
      expect((await globalStatus(rootPrimary, 'Connections')) - connectionsBefore).toBe(1);
      expect(await appSessions(rootPrimary)).toHaveLength(1);
      expect((await globalStatus(rootPrimary, 'Com_create_table')) - createsBefore).toBe(1);
      const [[{ n }]] = await rootPrimary.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${db}.items`);
      expect(Number(n)).toBe(33);
    } finally {
      await h.close();
    }
  });

  it('replaces a session the server closed between invocations without a failed attempt', async () => {
    const db = await createSchema('demo_kill_idle');
    // One attempt only: the close must be noticed from the connection's events, not by a failing statement.
    const h = handlerFor(primary, db, { retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
    try {
      expect((await h(post('before the kill'), lambdaContext())).statusCode).toBe(201);
      const [before] = await appSessions(rootPrimary);
      expect(before).toBeDefined();

      await rootPrimary.query(`KILL ${before}`);
      // Let the FIN arrive, as it does while a Lambda environment sits frozen between invocations.
      for (let i = 0; i < 50 && (await appSessions(rootPrimary)).includes(before); i++) await sleep(20);
      await sleep(50);

      expect((await h(post('after the kill'), lambdaContext())).statusCode).toBe(201);
      const list = parse(await h(apiEvent('GET', '/items'), lambdaContext())).items as { name: string }[];
      expect(list.map((i) => i.name)).toEqual(['after the kill', 'before the kill']);
      const after = await appSessions(rootPrimary);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before);
    } finally {
      await h.close();
    }
  });

  it('retries an INSERT whose session was killed while it ran, and the idempotency key keeps it to one row', async () => {
    const db = await createSchema('demo_kill_busy');
    const h = handlerFor(primary, db);
    const blocker = await mysql.createConnection({ host: primary.host, port: primary.port, user: primary.rootUser, password: primary.rootPassword });
    try {
      expect((await h(post('creates the table'), lambdaContext())).statusCode).toBe(201);
      const [victim] = await appSessions(rootPrimary);
      // An uncommitted row with the same key makes the handler's INSERT wait on the unique-key lock...
      await blocker.query('START TRANSACTION');
      await blocker.query(`INSERT INTO ${db}.items (name, idempotency_key) VALUES ('blocker', 'contended')`);
      const pending = h(post('killed mid-statement', 'contended'), lambdaContext());
      let waiting = false;
      for (let i = 0; i < 100 && !waiting; i++) {
        const [rows] = await rootPrimary.query<mysql.RowDataPacket[]>(
          "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'INSERT INTO items%'",
          [victim],
        );
        waiting = rows.length === 1;
        if (!waiting) await sleep(10);
      }
      expect(waiting).toBe(true);
      // ...so the server kills its session mid-statement: the client cannot know whether the INSERT ran.
      await rootPrimary.query(`KILL ${victim}`);
      await blocker.query('ROLLBACK');

      const res = await pending;
      expect(res.statusCode).toBe(201);
      const [rows] = await rootPrimary.query<mysql.RowDataPacket[]>(`SELECT name FROM ${db}.items WHERE idempotency_key = 'contended'`);
      expect(rows).toEqual([{ name: 'killed mid-statement' }]);
      const after = await appSessions(rootPrimary);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(victim);
    } finally {
      await blocker.end();
      await h.close();
    }
  });
});

describe('read and write targets', () => {
  it('writes through the primary; the row replicates; the replica-pointed handler reads it and reports read_only=1', async () => {
    const db = await createSchema('demo_repl');
    const onPrimary = handlerFor(primary, db);
    const onReplica = handlerFor(replica, db);
    try {
      const created = await onPrimary(post('replicated item'), lambdaContext());
      expect(created.statusCode).toBe(201);
      const { id } = parse(created);
      expect(id).toEqual(expect.any(Number));

      await topology.waitForReplication(10_000);
      const [rows] = await rootReplica.query<mysql.RowDataPacket[]>(`SELECT name FROM ${db}.items WHERE id = ?`, [id]);
      expect(rows.map((r) => r.name)).toEqual(['replicated item']);
      const listed = await onReplica(apiEvent('GET', '/items', { query: { limit: '1' } }), lambdaContext());
      expect(listed.statusCode).toBe(200);
      expect(parse(listed).items).toEqual([{ id, name: 'replicated item', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);

      const fromReplica = parse(await onReplica(apiEvent('GET', '/whoami'), lambdaContext()));
      const fromPrimary = parse(await onPrimary(apiEvent('GET', '/whoami'), lambdaContext()));
      // MariaDB 10.11 does have innodb_read_only (0 here: InnoDB itself is writable; read_only is the server flag).
      const replicaIdentity = { server_id: 2, hostname: expect.any(String), read_only: 1, innodb_read_only: 0 };
      const primaryIdentity = { server_id: 1, hostname: expect.any(String), read_only: 0, innodb_read_only: 0 };
      expect(fromReplica).toEqual({ read: replicaIdentity, write: replicaIdentity });
      expect(fromPrimary).toEqual({ read: primaryIdentity, write: primaryIdentity });
    } finally {
      await onPrimary.close();
      await onReplica.close();
    }
  });

  it('reports innodb_read_only as null where the server lacks the variable', async () => {
    const conn = await mysql.createConnection({ host: primary.host, port: primary.port, user: primary.rootUser, password: primary.rootPassword });
    try {
      const state = { optionalVariableMissing: false };
      const identity = await readBackendIdentity(conn, { optionalVariable: 'no_such_variable_here', state });
      expect(identity).toEqual({ server_id: 1, hostname: expect.any(String), read_only: 0, innodb_read_only: null });
      expect(state.optionalVariableMissing).toBe(true);
    } finally {
      await conn.end();
    }
  });

  it('answers 503 to a write on a read-only server after exactly the bounded number of attempts (1290 is retried)', async () => {
    const db = 'demo_repl_ro';
    await createSchema(db);
    await rootPrimary.query(`CREATE TABLE ${db}.items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(200) NOT NULL,
      idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL UNIQUE, created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`);
    await topology.waitForReplication(10_000);
    const logs = captureOutput();
    const h = handlerFor(replica, db, { logger: loud() });
    let res: DemoResult;
    try {
      res = await h(post('must not land on a reader'), lambdaContext());
    } finally {
      logs.restore();
      await h.close();
    }
    expect(res.statusCode).toBe(503);
    const failures = logs
      .text()
      .split('\n')
      .filter((l) => l.includes('database operation failed') && l.includes('"errno":1290'));
    expect(failures).toHaveLength(3);
    const [[{ n }]] = await rootReplica.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${db}.items`);
    expect(Number(n)).toBe(0);
  });
});

describe('request validation', () => {
  let h: DemoHandler;
  beforeAll(async () => {
    h = handlerFor(primary, await createSchema('demo_validation'));
  });
  afterAll(async () => {
    await h.close();
  });

  test.each([
    ['no body', undefined, 'body'],
    ['not JSON', '{"name": ', 'body'],
    ['a JSON array', '["x"]', 'body'],
    ['a JSON string', '"x"', 'body'],
    ['name missing', '{}', 'name'],
    ['name empty', '{"name": ""}', 'name'],
    ['name blank', '{"name": "   "}', 'name'],
    ['name too long', JSON.stringify({ name: 'x'.repeat(201) }), 'name'],
    ['name a number', '{"name": 42}', 'name'],
    ['name null', '{"name": null}', 'name'],
    ['name with a lone surrogate', '{"name": "a\\ud800b"}', 'name'],
    ['idempotencyKey a number', '{"name": "ok", "idempotencyKey": 7}', 'idempotencyKey'],
    ['idempotencyKey empty', '{"name": "ok", "idempotencyKey": ""}', 'idempotencyKey'],
    ['idempotencyKey too long', JSON.stringify({ name: 'ok', idempotencyKey: 'k'.repeat(65) }), 'idempotencyKey'],
    ['idempotencyKey with a space', '{"name": "ok", "idempotencyKey": "a b"}', 'idempotencyKey'],
    ['an unknown field', '{"name": "ok", "colour": "red"}', 'colour'],
  ])('POST /items with %s → 400 naming %s', async (_label, body, field) => {
    const res = await h(apiEvent('POST', '/items', { body }), lambdaContext());
    expect(res.statusCode).toBe(400);
    const payload = parse(res);
    expect(payload.field).toBe(field);
    expect(payload.message).toContain(field === 'body' ? 'body' : `'${field}'`);
  });

  it('accepts a 200-character name (counted in characters, not UTF-16 units) and a base64 body', async () => {
    const name = '😀'.repeat(200);
    const body = Buffer.from(JSON.stringify({ name })).toString('base64');
    const res = await h(apiEvent('POST', '/items', { body, isBase64Encoded: true }), lambdaContext());
    expect(res.statusCode).toBe(201);
    expect(parse(res).name).toBe(name);
  });

  test.each(['0', '101', '-1', '1.5', 'abc', '1e2'])('GET /items?limit=%s → 400 naming limit', async (limit) => {
    const res = await h(apiEvent('GET', '/items', { query: { limit } }), lambdaContext());
    expect(res.statusCode).toBe(400);
    expect(parse(res).field).toBe('limit');
  });

  it('stores a hostile name verbatim even when the server runs with NO_BACKSLASH_ESCAPES (bound parameters)', async () => {
    // Client-side escaping writes \' for a quote; with NO_BACKSLASH_ESCAPES the server reads that backslash as a
    // character and the quote as the end of the string. Bound parameters are never parsed as SQL.
    await rootPrimary.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    const fresh = handlerFor(primary, await createSchema('demo_nbe'));
    try {
      const name = "x\\'), ('injected', 'k2') -- ";
      const res = await fresh(post(name), lambdaContext());
      expect(res.statusCode).toBe(201);
      expect(parse(res).name).toBe(name);
      const list = await fresh(apiEvent('GET', '/items', { query: { limit: '10' } }), lambdaContext());
      expect((parse(list).items as { name: string }[]).map((i) => i.name)).toEqual([name]);
    } finally {
      await fresh.close();
      await rootPrimary.query("SET GLOBAL sql_mode = REPLACE(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES', '')");
    }
  });

  it('lists newest first and honours limit', async () => {
    for (const name of ['first', 'second', 'third']) expect((await h(post(name), lambdaContext())).statusCode).toBe(201);
    const res = await h(apiEvent('GET', '/items', { query: { limit: '2' } }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect((parse(res).items as { name: string }[]).map((i) => i.name)).toEqual(['third', 'second']);
  });

  test.each([
    ['GET', '/nope', 404],
    ['GET', '/', 404],
    ['DELETE', '/items', 405],
    ['POST', '/whoami', 405],
  ])('%s %s → %i', async (method, path, status) => {
    const res = await h(apiEvent(method, path), lambdaContext());
    expect(res.statusCode).toBe(status);
    expect(res.headers?.['content-type']).toMatch(/^application\/json/);
    if (status === 405) expect(res.headers?.allow).toMatch(/GET/);
  });
});

describe('an unreachable database', () => {
  function expectNoInternals(res: DemoResult, port: number) {
    expect(res.body).not.toMatch(/127\.0\.0\.1|SELECT|INSERT|ECONN|at .*\.ts/);
    expect(res.body).not.toContain(String(port));
    expect(res.body).not.toContain(APP_PASSWORD);
    expect(parse(res)).toEqual({ message: expect.any(String), requestId: expect.stringMatching(/^req-/) });
  }

  it('answers 503 after bounded retries on a closed port, and logs details but never the password', async () => {
    const port = await closedPort();
    const logs = captureOutput();
    const h = handlerFor({ host: '127.0.0.1', port }, 'demo', { logger: loud() });
    const started = Date.now();
    let res: DemoResult;
    try {
      res = await h(apiEvent('GET', '/items'), lambdaContext());
    } finally {
      logs.restore();
      await h.close();
    }
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('1');
    expectNoInternals(res, port);
    const text = logs.text();
    const attempts = text.split('\n').filter((l) => l.includes('database operation failed') && l.includes('ECONNREFUSED'));
    expect(attempts).toHaveLength(3);
    expect(text).toContain('database unavailable');
    expect(text).not.toContain(APP_PASSWORD);
  });

  it('answers 503 within the connect timeout bound when the port accepts but never speaks', async () => {
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    const port = (blackHole.address() as net.AddressInfo).port;
    const h = handlerFor({ host: '127.0.0.1', port }, 'demo', { connectTimeoutMs: 200 });
    const started = Date.now();
    try {
      const res = await h(apiEvent('GET', '/whoami'), lambdaContext());
      expect(res.statusCode).toBe(503);
      expectNoInternals(res, port);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(3 * 200 - 50);
      expect(elapsed).toBeLessThan(3 * 200 + 1_000);
      expect(sockets).toHaveLength(3);
    } finally {
      await h.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => blackHole.close(r));
    }
  });

  it('does not start a retry the Lambda has no time left for', async () => {
    const port = await closedPort();
    const h = handlerFor({ host: '127.0.0.1', port }, 'demo', { retry: { attempts: 5, baseDelayMs: 400, maxDelayMs: 1000 } });
    const started = Date.now();
    const res = await h(apiEvent('GET', '/items'), lambdaContext(700));
    await h.close();
    expect(res.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(700);
  });

  it('answers 503 once a database it was connected to has stopped, and logs no password', async () => {
    const lone = await startTopology();
    const root = await mysql.createConnection({
      host: lone.primary.host,
      port: lone.primary.port,
      user: lone.primary.rootUser,
      password: lone.primary.rootPassword,
    });
    await root.query('CREATE DATABASE demo_down');
    await root.query(`CREATE USER ?@'127.0.0.1' IDENTIFIED BY ?`, [APP_USER, APP_PASSWORD]);
    await root.query(`GRANT ALL PRIVILEGES ON demo_down.* TO ?@'127.0.0.1'`, [APP_USER]);
    await root.end();
    const logs = captureOutput();
    const h = handlerFor(lone.primary, 'demo_down', { logger: loud() });
    try {
      expect((await h(post('while up'), lambdaContext())).statusCode).toBe(201);
      await lone.stop();
      const started = Date.now();
      const res = await h(post('while down'), lambdaContext());
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(res.statusCode).toBe(503);
      expectNoInternals(res, lone.primary.port);
    } finally {
      logs.restore();
      await h.close();
      await lone.stop();
    }
    expect(logs.text()).toContain('connected to the database');
    expect(logs.text()).not.toContain(APP_PASSWORD);
  });
});

describe('credentials and idempotency', () => {
  it('fetches the credentials once per environment, and again after the server refuses them (rotation)', async () => {
    const db = await createSchema('demo_rotation');
    let calls = 0;
    const h = handlerFor(primary, db, {
      getCredentials: async () => {
        calls += 1;
        const password = calls === 1 ? 'the-password-before-rotation' : APP_PASSWORD;
        return { username: APP_USER, password };
      },
    });
    try {
      expect((await h(apiEvent('GET', '/whoami'), lambdaContext())).statusCode).toBe(200);
      for (let i = 0; i < 5; i++) expect((await h(apiEvent('GET', '/items'), lambdaContext())).statusCode).toBe(200);
      expect(calls).toBe(2);
    } finally {
      await h.close();
    }
  });

  it('creates one row for repeated POSTs with the same idempotencyKey, and refuses the key for another name', async () => {
    const db = await createSchema('demo_idem');
    const h = handlerFor(primary, db);
    try {
      const first = await h(post('once', 'order-42'), lambdaContext());
      const again = await h(post('once', 'order-42'), lambdaContext());
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(201);
      expect(parse(again)).toEqual(parse(first));
      // Keys are compared byte for byte: a differently cased key is another key.
      expect(parse(await h(post('once', 'ORDER-42'), lambdaContext())).id).not.toBe(parse(first).id);

      const conflict = await h(post('something else', 'order-42'), lambdaContext());
      expect(conflict.statusCode).toBe(409);
      expect(parse(conflict).field).toBe('idempotencyKey');

      const [rows] = await rootPrimary.query<mysql.RowDataPacket[]>(`SELECT name FROM ${db}.items WHERE idempotency_key = 'order-42'`);
      expect(rows).toEqual([{ name: 'once' }]);
      // Without a key every POST is a new item (the handler makes up a key per request).
      expect((await h(post('twice'), lambdaContext())).statusCode).toBe(201);
      expect((await h(post('twice'), lambdaContext())).statusCode).toBe(201);
      const [[{ n }]] = await rootPrimary.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${db}.items WHERE name = 'twice'`);
      expect(Number(n)).toBe(2);
    } finally {
      await h.close();
    }
  });
});
