/**
 * The simulated Lambda fleet: schema, the three operation kinds, writer discovery and the session loops.
 *
 * Every session is an async loop on the one Node event loop (no thread or worker per session), so the cost of
 * a session is one socket and a few closures: 5,000 sessions fit in one process on 2 cores.
 */
import { performance } from 'node:perf_hooks';
import * as mysql from 'mysql2/promise';
import { Endpoint, formatEndpoint, Mix, Mode, OP_KINDS, OpKind, StatementMode, WriterDiscovery } from './options';
import { Counter, errorKey, isConnectionLoss, isReadOnlyError, Samples } from './stats';

export const ITEMS_TABLE = 'bench_items';
export const ACCOUNTS_TABLE = 'bench_accounts';
/** Rows seeded into the items table; point reads pick a random id in 1..SEED_ROWS. */
export const SEED_ROWS = 10_000;
/** Rows of the accounts table the transactions lock and update (few enough to meet some row-lock contention). */
export const ACCOUNT_ROWS = 1_000;

const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;
const PROBE_TIMEOUT_MS = 1_000;
/** The writer is probed at most this often however many sessions ask (one probe serves every waiting session). */
const MIN_PROBE_INTERVAL_MS = 100;

export interface Credentials {
  user: string;
  password: string;
  database: string;
}

export const now = (): number => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

export function connectionOptions(endpoint: Endpoint, creds: Credentials, connectTimeout = CONNECT_TIMEOUT_MS): mysql.ConnectionOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    user: creds.user,
    password: creds.password,
    database: creds.database,
    connectTimeout,
    // mysql2 gives every connection an LRU cache of prepared statements sized by this (default 16000,
    // lib/connection_config.js), and lru.min preallocates it: ~500 KB of heap per connection, 2.5 GB for 5,000
    // sessions. The benchmark uses text-protocol query() only, so a tiny cache (~10 KB per connection) suffices.
    maxPreparedStatements: 8,
  };
}

/** Ends a connection politely (COM_QUIT), or destroys it if that does not finish promptly. Never throws. */
export async function closeQuietly(conn: mysql.Connection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([conn.end(), new Promise<void>((r) => (timer = setTimeout(r, CLOSE_TIMEOUT_MS)))]);
  } catch {
    // already closed
  } finally {
    clearTimeout(timer);
    conn.destroy();
  }
}

/**
 * Creates the benchmark tables if missing and seeds them up to SEED_ROWS items and ACCOUNT_ROWS accounts.
 * Idempotent; run once before the fleet starts, over one connection.
 */
export async function ensureSchema(endpoint: Endpoint, creds: Credentials): Promise<void> {
  const conn = await mysql.createConnection(connectionOptions(endpoint, creds));
  try {
    await conn.query(
      `CREATE TABLE IF NOT EXISTS ${ITEMS_TABLE} (
         id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         session_id INT NOT NULL,
         payload VARCHAR(64) NOT NULL,
         created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
       ) ENGINE=InnoDB`,
    );
    await conn.query(
      `CREATE TABLE IF NOT EXISTS ${ACCOUNTS_TABLE} (
         id INT NOT NULL PRIMARY KEY,
         balance BIGINT NOT NULL DEFAULT 0,
         updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
       ) ENGINE=InnoDB`,
    );
    const [itemRows] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${ITEMS_TABLE}`);
    let items = Number(itemRows[0].n);
    while (items < SEED_ROWS) {
      const batch = Math.min(1000, SEED_ROWS - items);
      const rows = Array.from({ length: batch }, (_, i) => [0, `seed-${items + i + 1}`]);
      await conn.query(`INSERT INTO ${ITEMS_TABLE} (session_id, payload) VALUES ?`, [rows]);
      items += batch;
    }
    const accounts = Array.from({ length: ACCOUNT_ROWS }, (_, i) => [i + 1, 0]);
    await conn.query(`INSERT IGNORE INTO ${ACCOUNTS_TABLE} (id, balance) VALUES ?`, [accounts]);
  } finally {
    await closeQuietly(conn);
  }
}

export function pickOp(mix: Mix, r = Math.random() * 100): OpKind {
  if (r < mix.read) return 'read';
  if (r < mix.read + mix.write) return 'write';
  return 'tx';
}

const randomId = (max: number) => 1 + Math.floor(Math.random() * max);

/**
 * Runs one operation of the given kind on the connection: with 'text' mysql2 interpolates the values client-side
 * (COM_QUERY), with 'prepared' it uses the binary protocol (COM_STMT_PREPARE once per connection, then
 * COM_STMT_EXECUTE), as ORMs with server-side prepared statements do.
 */
export async function runOp(conn: mysql.Connection, kind: OpKind, sessionId: number, timeout: number, statements: StatementMode = 'text'): Promise<void> {
  const run = (sql: string, values?: Array<string | number>) =>
    statements === 'prepared' && values ? conn.execute({ sql, timeout }, values) : conn.query({ sql, timeout }, values);
  switch (kind) {
    case 'read':
      await run(`SELECT id, payload FROM ${ITEMS_TABLE} WHERE id = ?`, [randomId(SEED_ROWS)]);
      return;
    case 'write':
      await run(`INSERT INTO ${ITEMS_TABLE} (session_id, payload) VALUES (?, ?)`, [sessionId, `s${sessionId}-${Date.now()}`]);
      return;
    case 'tx': {
      const id = randomId(ACCOUNT_ROWS);
      await conn.query({ sql: 'BEGIN', timeout });
      try {
        await run(`SELECT balance FROM ${ACCOUNTS_TABLE} WHERE id = ? FOR UPDATE`, [id]);
        await run(`UPDATE ${ACCOUNTS_TABLE} SET balance = balance + 1 WHERE id = ?`, [id]);
        await conn.query({ sql: 'COMMIT', timeout });
      } catch (err) {
        // Leave no open transaction on a connection that is reused (warm mode); a dead one needs nothing.
        await conn.query({ sql: 'ROLLBACK', timeout }).catch(() => undefined);
        throw err;
      }
      return;
    }
  }
}

// ---- writer discovery ---------------------------------------------------------------------------------------

export interface WriterChange {
  /** ms since the run started */
  atMs: number;
  from: string;
  to: string;
}

/**
 * Knows the current writer endpoint. With discovery 'read_only' it re-resolves on request by asking every known
 * endpoint for @@global.read_only and taking the one that answers 0, the way ProxySQL's monitor classifies
 * writers and readers (mysql_replication_hostgroups, check_type read_only). Requests are coalesced: one probe
 * round at a time, at most one per MIN_PROBE_INTERVAL_MS, so a thousand sessions failing at once cost a few
 * probe connections, not a thousand.
 */
export class WriterResolver {
  private writer: Endpoint;
  private inflight?: Promise<Endpoint>;
  private lastProbeAt = Number.NEGATIVE_INFINITY;
  readonly changes: WriterChange[] = [];
  probes = 0;

  constructor(
    private readonly endpoints: Endpoint[],
    private readonly discovery: WriterDiscovery,
    private readonly creds: Credentials,
    private readonly startedAt: number,
  ) {
    this.writer = endpoints[0];
  }

  get current(): Endpoint {
    return this.writer;
  }

  /** Re-resolves the writer (coalesced) and returns it; with discovery 'none' the target never changes. */
  rediscover(): Promise<Endpoint> {
    if (this.discovery === 'none') return Promise.resolve(this.writer);
    if (this.inflight) return this.inflight;
    if (now() - this.lastProbeAt < MIN_PROBE_INTERVAL_MS) return Promise.resolve(this.writer);
    this.lastProbeAt = now();
    this.inflight = this.probe().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async probe(): Promise<Endpoint> {
    this.probes++;
    const results = await Promise.all(this.endpoints.map((e) => this.readOnlyOf(e)));
    const writable = this.endpoints.filter((_, i) => results[i] === false);
    // Keep the current writer while it is still writable (no flapping); otherwise take the first writable one.
    if (writable.length > 0 && !writable.includes(this.writer)) {
      const next = writable[0];
      this.changes.push({ atMs: now() - this.startedAt, from: formatEndpoint(this.writer), to: formatEndpoint(next) });
      this.writer = next;
    }
    return this.writer;
  }

  /** true/false for @@global.read_only, undefined if the endpoint could not be asked. */
  private async readOnlyOf(endpoint: Endpoint): Promise<boolean | undefined> {
    let conn: mysql.Connection | undefined;
    try {
      conn = await mysql.createConnection(connectionOptions(endpoint, this.creds, PROBE_TIMEOUT_MS));
      const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql: 'SELECT @@global.read_only AS ro', timeout: PROBE_TIMEOUT_MS });
      return Number(rows[0].ro) !== 0;
    } catch {
      return undefined;
    } finally {
      if (conn) await closeQuietly(conn);
    }
  }
}

// ---- recording ----------------------------------------------------------------------------------------------

export type Phase = 'before' | 'during' | 'after';

export interface TimelineBucket {
  ok: number;
  errors: number;
  writesOk: number;
}

/** Everything the sessions measure. Times are ms since `startedAt` (performance.now() based). */
export class Recorder {
  readonly latency: Record<OpKind, Samples> = { read: new Samples(), write: new Samples(), tx: new Samples() };
  readonly connect = new Samples();
  readonly errorsByKind: Record<OpKind, Counter> = { read: new Counter(), write: new Counter(), tx: new Counter() };
  readonly errorsByCode = new Counter();
  readonly errorsByPhase: Record<Phase, Record<OpKind, Counter>> = {
    before: { read: new Counter(), write: new Counter(), tx: new Counter() },
    during: { read: new Counter(), write: new Counter(), tx: new Counter() },
    after: { read: new Counter(), write: new Counter(), tx: new Counter() },
  };
  readonly timeline = new Map<number, TimelineBucket>();
  /** Failover bookkeeping: after `watchWriter` is set, the first successful write there ends the 'during' phase. */
  phase: Phase = 'before';
  private watchedWriter?: string;
  firstWriteOnWatchedMs?: number;
  connects = 0;

  constructor(readonly startedAt: number) {}

  private bucket(atMs: number): TimelineBucket {
    const second = Math.floor(atMs / 1000);
    let b = this.timeline.get(second);
    if (!b) {
      b = { ok: 0, errors: 0, writesOk: 0 };
      this.timeline.set(second, b);
    }
    return b;
  }

  connected(ms: number): void {
    this.connects++;
    this.connect.add(ms);
  }

  ok(kind: OpKind, ms: number, endpoint: Endpoint): void {
    this.latency[kind].add(ms);
    const at = now() - this.startedAt;
    const b = this.bucket(at);
    b.ok++;
    if (kind !== 'read') {
      b.writesOk++;
      if (this.phase === 'during' && this.watchedWriter === formatEndpoint(endpoint)) {
        this.firstWriteOnWatchedMs = at;
        this.phase = 'after';
      }
    }
  }

  error(kind: OpKind, err: unknown): void {
    const key = errorKey(err);
    this.errorsByKind[kind].add(key);
    this.errorsByCode.add(key);
    this.errorsByPhase[this.phase][kind].add(key);
    this.bucket(now() - this.startedAt).errors++;
  }

  /** Called when the failover starts: errors count as 'during' until a write succeeds on `newWriter`. */
  failoverStarted(newWriter: Endpoint): void {
    this.watchedWriter = formatEndpoint(newWriter);
    this.phase = 'during';
  }

  okCount(kind?: OpKind): number {
    return kind ? this.latency[kind].count : OP_KINDS.reduce((n, k) => n + this.latency[k].count, 0);
  }
}

// ---- sessions -----------------------------------------------------------------------------------------------

export interface FleetOptions {
  sessions: number;
  mode: Mode;
  mix: Mix;
  thinkMs: number;
  rampS: number;
  queryTimeoutMs: number;
  statements: StatementMode;
  /** Share of sessions (0-100) that set a user variable once per connection, as ORMs do: session state. @default 0 */
  statefulPercent?: number;
  creds: Credentials;
  resolver: WriterResolver;
  recorder: Recorder;
  /** performance.now() at which sessions stop starting invocations. */
  endAt: number;
}

/** Think time jittered uniformly in [0.5, 1.5] x thinkMs, so sessions do not fire in lockstep. */
export function jitter(thinkMs: number, r = Math.random()): number {
  return thinkMs * (0.5 + r);
}

async function connectTimed(endpoint: Endpoint, fleet: FleetOptions): Promise<mysql.Connection> {
  const t0 = now();
  const conn = await mysql.createConnection(connectionOptions(endpoint, fleet.creds));
  fleet.recorder.connected(now() - t0);
  return conn;
}

/** After a failure: with writer discovery, a read-only refusal or a lost connection means "find the writer". */
async function afterFailure(err: unknown, fleet: FleetOptions): Promise<void> {
  if (isReadOnlyError(err) || isConnectionLoss(err)) await fleet.resolver.rediscover();
}

/** One simulated function instance. Resolves when the run is over and its connection is closed. */
async function runSession(id: number, fleet: FleetOptions, startDelayMs: number): Promise<void> {
  await sleep(Math.min(startDelayMs, fleet.endAt - now()));
  let conn: mysql.Connection | undefined;
  let connEndpoint: Endpoint | undefined;
  const drop = () => {
    const c = conn;
    conn = undefined;
    if (c) void closeQuietly(c);
  };

  while (now() < fleet.endAt) {
    const kind = pickOp(fleet.mix);
    const t0 = now();
    if (fleet.mode === 'cold') {
      // A cold start: connect, run the one operation, close. The latency includes the connect.
      const endpoint = fleet.resolver.current;
      let c: mysql.Connection | undefined;
      try {
        c = await connectTimed(endpoint, fleet);
        c.on('error', () => undefined); // a kill between statements must not crash the process
        await runOp(c, kind, id, fleet.queryTimeoutMs, fleet.statements);
        fleet.recorder.ok(kind, now() - t0, endpoint);
      } catch (err) {
        fleet.recorder.error(kind, err);
        await afterFailure(err, fleet);
      } finally {
        if (c) await closeQuietly(c);
      }
    } else {
      // Warm: reuse the session's connection; (re)connect when there is none or the writer moved.
      try {
        if (conn && connEndpoint !== fleet.resolver.current) drop();
        if (!conn) {
          const endpoint = fleet.resolver.current;
          const c = await connectTimed(endpoint, fleet);
          // Session state, as an ORM's `SELECT @x := …` leaves it: through ProxySQL the session stays on the writer.
          if (id % 100 < (fleet.statefulPercent ?? 0)) await c.query({ sql: 'SELECT @bench_session := ?', timeout: fleet.queryTimeoutMs }, [id]);
          // The server can close an idle connection (KILL, restart, wait_timeout): forget it, reconnect next time.
          const forget = () => {
            if (conn === c) conn = undefined;
          };
          c.on('error', forget);
          c.on('end', forget);
          conn = c;
          connEndpoint = endpoint;
        }
        await runOp(conn, kind, id, fleet.queryTimeoutMs, fleet.statements);
        fleet.recorder.ok(kind, now() - t0, connEndpoint!);
      } catch (err) {
        fleet.recorder.error(kind, err);
        if (isConnectionLoss(err)) drop();
        await afterFailure(err, fleet);
      }
    }
    await sleep(Math.min(jitter(fleet.thinkMs), fleet.endAt - now()));
  }
  if (conn) await closeQuietly(conn);
}

/** Runs every session to the end of the run; sessions start evenly spread over the ramp. */
export async function runFleet(fleet: FleetOptions): Promise<void> {
  const rampMs = fleet.rampS * 1000;
  const sessions: Promise<void>[] = [];
  for (let i = 0; i < fleet.sessions; i++) {
    // Without a ramp, stagger the first invocation over one think time, as independent functions would be.
    const delay = rampMs > 0 ? (rampMs * i) / fleet.sessions : Math.random() * fleet.thinkMs;
    sessions.push(runSession(i + 1, fleet, delay));
  }
  await Promise.all(sessions);
}
