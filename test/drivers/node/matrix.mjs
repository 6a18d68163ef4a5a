/* global process, console, setTimeout, clearTimeout */
// The part every Node.js client of the driver matrix shares (test/drivers/CONTRACT.md): the DRV_* environment, the
// rw and readonly loops, the checks, the error counting and the one JSON line of the report. A client file only
// says how its driver or ORM connects and runs each step, through the operations below.
//
// runMatrix({ client, workloads, connect, eager }):
//   connect(env, sessionIndex) -> Promise<session>, a session being one connection (or one ORM instance over a
//   one-connection pool) with these operations, each one round trip or one transaction of the driver's own API:
//     rw:       insertItem(owner, n) -> id                       the driver's / ORM's own insert id
//               lastInsertId() -> id                             SELECT LAST_INSERT_ID() AS id (raw SQL)
//               insertChildWithLastInsertId() -> childId         INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())
//               childParent(childId) -> parent_id                SELECT parent_id FROM drv_child WHERE id = ?
//               findItem(id) -> { owner, n } | null              SELECT owner, n FROM drv_item WHERE id = ? (ORM: find by PK)
//               incrementThenRollback(id)                        begin; UPDATE drv_item SET v = v + 1 WHERE id = ?; rollback
//               incrementThenCommit(id)                          begin; UPDATE drv_item SET v = v + 10 WHERE id = ?; commit
//               readV(id) -> v                                   SELECT v FROM drv_item WHERE id = ?
//     readonly: readSeed(id) -> label                            SELECT label FROM drv_seed WHERE id = ?
//     close()
//   eager: true when connect() itself reaches the server (a driver's createConnection); a lazy ORM counts as
//   connected at its first answered statement.

const RW_CHECKS = ['insert_id', 'last_insert_id', 'last_insert_id_in_statement', 'read_your_writes', 'rollback', 'commit'];
const READONLY_CHECKS = ['read'];

/** The DRV_* environment of the contract. */
export function readEnv() {
  const e = process.env;
  const need = (name) => {
    const value = e[name];
    if (value === undefined || value === '') throw new Error(`${name} is not set`);
    return value;
  };
  const int = (name, fallback) => {
    const raw = e[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name}=${raw} is not a whole number`);
    return value;
  };
  const workload = e.DRV_WORKLOAD || 'rw';
  if (workload !== 'rw' && workload !== 'readonly') throw new Error(`DRV_WORKLOAD=${workload}: rw or readonly`);
  return {
    host: need('DRV_HOST'),
    port: int('DRV_PORT', 3306),
    user: need('DRV_USER'),
    password: e.DRV_PASSWORD ?? '',
    database: need('DRV_DATABASE'),
    sessions: Math.max(1, int('DRV_SESSIONS', 1)),
    durationMs: int('DRV_DURATION_MS', 10_000),
    thinkMs: int('DRV_THINK_MS', 0),
    workload,
    owner: e.DRV_OWNER || `node-${process.pid}`,
  };
}

/** The driver error under an ORM's wrapper (Sequelize .parent/.original, TypeORM .driverError, Drizzle .cause). */
function driverError(error) {
  let deepest = error;
  for (let current = error, depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if (current.errno !== undefined || current.sqlMessage !== undefined || typeof current.code === 'string') return current;
    deepest = current;
    current = current.parent ?? current.original ?? current.driverError ?? current.cause;
  }
  return deepest;
}

/** An exception's message for the report: the driver's errno and text, numbers and ids kept, at most 200 characters. */
export function errorMessage(error) {
  const inner = driverError(error);
  let message;
  if (inner && typeof inner === 'object') {
    const text = String(inner.sqlMessage ?? inner.message ?? inner);
    if (typeof inner.errno === 'number' && inner.errno > 0 && inner.sqlMessage !== undefined) message = `(${inner.errno}) ${text}`;
    else if (typeof inner.code === 'string' && !text.includes(inner.code)) message = `${inner.code}: ${text}`;
    else if (inner instanceof Error && inner.name && inner.name !== 'Error' && !text.includes(inner.name)) message = `${inner.name}: ${text}`;
    else message = text;
  } else {
    message = String(error);
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 200 ? message.slice(0, 200) : message;
}

const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ER_CON_COUNT_ERROR',
]);

/** True when the error broke the session's connection: the session then reconnects. */
export function isConnectionError(error) {
  for (let current = error, depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    if (current.fatal === true) return true;
    if (typeof current.code === 'string' && CONNECTION_CODES.has(current.code)) return true;
    if (/closed state|connection (is )?closed|connection lost|server has gone away|lost connection|connection.*terminated|ECONNRESET|EPIPE/i.test(String(current.message ?? ''))) return true;
    current = current.parent ?? current.original ?? current.driverError ?? current.cause;
  }
  return false;
}

/** The same id, whether the driver hands it back as a number, a string or a BigInt. */
export function sameId(a, b) {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  try {
    return BigInt(a) === BigInt(b);
  } catch {
    return String(a) === String(b);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Report {
  constructor(client, env) {
    this.client = client;
    this.sessions = env.sessions;
    this.connected = new Set();
    this.iterations = 0;
    this.checks = Object.fromEntries((env.workload === 'rw' ? RW_CHECKS : READONLY_CHECKS).map((name) => [name, [0, 0]]));
    this.errors = {};
    this.firstFailure = {};
  }

  check(name, ok, failure) {
    const counts = (this.checks[name] ??= [0, 0]);
    if (ok) {
      counts[0]++;
    } else {
      counts[1]++;
      if (!(name in this.firstFailure)) this.firstFailure[name] = failure();
    }
  }

  error(error) {
    const message = errorMessage(error);
    this.errors[message] = (this.errors[message] ?? 0) + 1;
  }

  toJSON() {
    return {
      client: this.client,
      sessions: this.sessions,
      connected: this.connected.size,
      iterations: this.iterations,
      checks: this.checks,
      errors: this.errors,
      firstFailure: this.firstFailure,
    };
  }
}

const show = (value) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

async function rwIteration(session, report, owner, n, markConnected) {
  const id = await session.insertItem(owner, n);
  markConnected();
  report.check('insert_id', id !== null && id !== undefined && Number(id) > 0, () => `expected an id > 0, got ${show(id)}`);

  const last = await session.lastInsertId();
  report.check('last_insert_id', sameId(last, id), () => `expected ${id}, got ${show(last)}`);

  const childId = await session.insertChildWithLastInsertId();
  const parent = await session.childParent(childId);
  report.check('last_insert_id_in_statement', sameId(parent, id), () => `expected parent_id ${id}, got ${show(parent)} (child ${childId})`);

  const row = await session.findItem(id);
  report.check(
    'read_your_writes',
    row !== null && row !== undefined && row.owner === owner && Number(row.n) === n,
    () => `expected (${owner}, ${n}) for id ${id}, got ${row ? `(${show(row.owner)}, ${show(row.n)})` : 'no row'}`,
  );

  await session.incrementThenRollback(id);
  const afterRollback = await session.readV(id);
  report.check('rollback', afterRollback !== null && afterRollback !== undefined && Number(afterRollback) === 0, () => `expected v 0 for id ${id}, got ${show(afterRollback)}`);

  await session.incrementThenCommit(id);
  const afterCommit = await session.readV(id);
  report.check('commit', afterCommit !== null && afterCommit !== undefined && Number(afterCommit) === 10, () => `expected v 10 for id ${id}, got ${show(afterCommit)}`);
}

async function readonlyIteration(session, report, markConnected) {
  const id = 1 + Math.floor(Math.random() * 100);
  const label = await session.readSeed(id);
  markConnected();
  report.check('read', label === `seed-${id}`, () => `expected seed-${id}, got ${label === null || label === undefined ? 'no row' : show(label)}`);
}

async function runSession(options, env, report, index, deadline) {
  const owner = `${env.owner}-${index}`;
  const markConnected = () => report.connected.add(index);
  let session = null;
  let n = 0;
  while (Date.now() < deadline) {
    if (session === null) {
      try {
        session = await options.connect(env, index);
        if (options.eager) markConnected();
      } catch (error) {
        report.error(error);
        await sleep(Math.max(env.thinkMs, 100));
        continue;
      }
    }
    report.iterations++;
    n++;
    try {
      if (env.workload === 'rw') await rwIteration(session, report, owner, n, markConnected);
      else await readonlyIteration(session, report, markConnected);
    } catch (error) {
      report.error(error);
      if (isConnectionError(error)) {
        const broken = session;
        session = null;
        await broken.close().catch(() => undefined);
      }
    }
    if (env.thinkMs > 0) await sleep(env.thinkMs);
  }
  if (session !== null) await session.close().catch((error) => report.error(error));
}

/**
 * Runs DRV_SESSIONS sessions of the client concurrently for DRV_DURATION_MS and prints the report. Exits 0 once
 * the report is printed, non-zero only when the program could not run at all (bad environment, unsupported
 * workload).
 */
export async function runMatrix(options) {
  let env;
  try {
    env = readEnv();
    if (!options.workloads.includes(env.workload)) throw new Error(`${options.client} does not implement workload ${env.workload}`);
  } catch (error) {
    console.error(`${options.client}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  }
  const report = new Report(options.client, env);
  const deadline = Date.now() + env.durationMs;
  // A session stuck in a statement that never answers must not keep the report from being printed.
  const graceMs = 60_000;
  let printed = false;
  // Exits once the line is written: a driver's idle timer or a pool that did not close must not hold the process.
  const printAndExit = () => {
    if (printed) return;
    printed = true;
    process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
  };
  const watchdog = setTimeout(() => {
    report.error(new Error(`a session was still running ${graceMs / 1000} s after DRV_DURATION_MS`));
    printAndExit();
  }, env.durationMs + graceMs);
  await Promise.all(Array.from({ length: env.sessions }, (_, i) => runSession(options, env, report, i, deadline)));
  clearTimeout(watchdog);
  printAndExit();
}
