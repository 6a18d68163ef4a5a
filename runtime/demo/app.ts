/**
 * The demo API behind API Gateway (HTTP API, payload v2): it shows ProxySQL doing its job for a Lambda function.
 *
 * One execution environment = one MySQL session. The connection is opened lazily on the first invocation and
 * kept in module scope (the handler closure) for every warm invocation after it: no pool, because ProxySQL is the
 * pool — it multiplexes many such client sessions over few backend connections.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as mysql from 'mysql2/promise';
import { check, hostProblem, portProblem, schemaProblem } from '../../src/config/rules';
import { backoffDelayMs, classifyDbError, DEFAULT_RETRY_POLICY, mayRetry, RetryPolicy, validateRetryPolicy } from './retry';
import { CreateItemRequest, parseCreateItem, parseListLimit, RequestError } from './validation';
import { DatabaseFailure, describeDbError, isoFromEpoch, ITEMS_TABLE_DDL, readBackendIdentity } from './database';
import { CredentialsFailure, DemoResult, json, MethodNotAllowed } from './http';

export { DatabaseFailure, describeDbError, ITEMS_TABLE_DDL, readBackendIdentity } from './database';
export type { BackendIdentity } from './database';
export type { DemoResult } from './http';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DbCredentials {
  readonly username: string;
  readonly password: string;
}

export interface DemoDeps {
  /** The MySQL endpoint: the ProxySQL load balancer in AWS, a MariaDB instance in tests. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Called once per execution environment (again only after the server refused the credentials). */
  getCredentials(): Promise<DbCredentials>;
  /** @default a Powertools Logger configured from the environment */
  readonly logger?: Logger;
  /** @default DEFAULT_RETRY_POLICY (3 attempts, 50 ms base, 1 s cap) */
  readonly retry?: RetryPolicy;
  /** Bound of one connection attempt (TCP + handshake). @default 2000 */
  readonly connectTimeoutMs?: number;
  /** Inactivity bound of one statement; on expiry the session is dropped. @default 5000 */
  readonly queryTimeoutMs?: number;
}

export interface DemoHandler {
  (event: APIGatewayProxyEventV2, context: Context): Promise<DemoResult>;
  /** Ends this environment's database session (tests; Lambda simply freezes the environment). */
  close(): Promise<void>;
}

/** A retry is only started when the Lambda has at least this much time left after the backoff. */
const MIN_ATTEMPT_BUDGET_MS = 500;

interface Operation<T> {
  readonly name: string;
  /** Safe to run twice: only then is it retried after an outcome-unknown failure (see retry.ts). */
  readonly idempotent: boolean;
  run(conn: mysql.Connection): Promise<T>;
}

/** Builds the Lambda handler. All state (connection, credentials, schema flag) lives in this closure. */
export function createDemoHandler(deps: DemoDeps): DemoHandler {
  check('DemoDeps.host', hostProblem(deps.host));
  check('DemoDeps.port', portProblem(deps.port));
  check('DemoDeps.database', schemaProblem(deps.database));
  const logger = deps.logger ?? new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'serverless-proxysql-demo' });
  const policy = validateRetryPolicy(deps.retry ?? DEFAULT_RETRY_POLICY);
  const connectTimeoutMs = deps.connectTimeoutMs ?? 2000;
  const queryTimeoutMs = deps.queryTimeoutMs ?? 5000;

  // ---- per-environment state ---------------------------------------------------------------------------
  let connection: mysql.Connection | undefined;
  let credentials: Promise<DbCredentials> | undefined;
  let schemaReady = false;
  const identityState = { optionalVariableMissing: false };

  const getCredentials = (): Promise<DbCredentials> => {
    credentials ??= deps.getCredentials().catch((err: unknown) => {
      credentials = undefined; // let the next invocation try again
      throw err;
    });
    return credentials;
  };

  const discardConnection = (): void => {
    const conn = connection;
    connection = undefined;
    // destroy, not end: the session is broken or in an unknown state; there is nothing to say goodbye to.
    conn?.destroy();
  };

  const connect = async (): Promise<mysql.Connection> => {
    if (connection) return connection;
    const creds = await getCredentials().catch((err: unknown) => {
      throw new CredentialsFailure(err);
    });
    const conn = await mysql.createConnection({
      host: deps.host,
      port: deps.port,
      database: deps.database,
      user: creds.username,
      password: creds.password,
      connectTimeout: connectTimeoutMs,
      // One statement per call: ProxySQL routes (and multiplexes) per statement.
      multipleStatements: false,
    });
    // A server-side close between invocations (KILL, wait_timeout, a proxy restart) arrives as an 'error'
    // event. Without a listener it would crash the process; with it, the next invocation reconnects up front.
    const onGone = (err?: unknown) => {
      if (connection === conn) {
        connection = undefined;
        logger.warn('database connection closed by the peer; the next request reconnects', { error: describeDbError(err) });
      }
    };
    conn.on('error', onGone);
    conn.on('end', () => onGone({ message: 'connection ended' }));
    connection = conn;
    logger.info('connected to the database', { host: deps.host, port: deps.port, database: deps.database, threadId: conn.threadId });
    return conn;
  };

  /**
   * Runs `op` on this environment's session with bounded, jittered exponential retries — only where retry.ts
   * says a second run is safe — and within the Lambda's remaining time.
   */
  const withDatabase = async <T>(op: Operation<T>, context: Context): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      let phase: 'connect' | 'statement' = 'connect';
      try {
        const conn = await connect();
        phase = 'statement';
        return await op.run(conn);
      } catch (err) {
        if (err instanceof RequestError || err instanceof CredentialsFailure) throw err;
        const classification = classifyDbError(err, phase);
        if (classification.refreshCredentials) credentials = undefined;
        if (classification.reconnect) discardConnection();
        const delay = backoffDelayMs(attempt, policy);
        const remaining = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
        const retry =
          attempt < policy.attempts && mayRetry(classification, op.idempotent) && remaining - delay >= Math.min(connectTimeoutMs, MIN_ATTEMPT_BUDGET_MS);
        logger.warn(retry ? 'database operation failed; retrying' : 'database operation failed; giving up', {
          operation: op.name,
          phase,
          attempt,
          kind: classification.kind,
          retryInMs: retry ? delay : undefined,
          error: describeDbError(err),
        });
        if (!retry) throw new DatabaseFailure(op.name, classification, attempt, { cause: err });
        await sleep(delay);
      }
    }
  };

  /**
   * START TRANSACTION … COMMIT. Besides atomicity this pins the statements to the writer: ProxySQL sends a
   * transaction to the user's default_hostgroup (the writer) and keeps it there with transaction_persistent=1
   * (https://proxysql.com/documentation/main-runtime/#mysql_users).
   */
  const inTransaction = async <T>(conn: mysql.Connection, body: () => Promise<T>): Promise<T> => {
    await conn.query({ sql: 'START TRANSACTION', timeout: queryTimeoutMs });
    try {
      const result = await body();
      await conn.query({ sql: 'COMMIT', timeout: queryTimeoutMs });
      return result;
    } catch (err) {
      // A dead session rolls back on the server by itself; a live one must not carry an open transaction into
      // the next invocation.
      if (!classifyDbError(err, 'statement').reconnect) {
        await conn.query({ sql: 'ROLLBACK', timeout: queryTimeoutMs }).catch(() => discardConnection());
      }
      throw err;
    }
  };

  const ensureSchema = async (conn: mysql.Connection): Promise<void> => {
    if (schemaReady) return;
    // Look before creating: CREATE TABLE IF NOT EXISTS is refused with 1290 on a read-only server even when the
    // table exists, and a reader-pointed environment must still be able to list items.
    const [rows] = await conn.query<mysql.RowDataPacket[]>({
      sql: "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items'",
      timeout: queryTimeoutMs,
    });
    if (Number(rows[0]?.n) === 0) {
      await conn.query({ sql: ITEMS_TABLE_DDL, timeout: queryTimeoutMs });
      logger.info('created table items');
    }
    schemaReady = true;
  };

  // ---- routes ------------------------------------------------------------------------------------------

  const createItem = async (req: CreateItemRequest, context: Context): Promise<DemoResult> => {
    // Every insert carries an idempotency key — the client's, or one made up for this request — so that
    // re-running it after a lost connection cannot create a second row (ON DUPLICATE KEY UPDATE is a no-op).
    const key = req.idempotencyKey ?? randomUUID();
    const row = await withDatabase(
      {
        name: 'create-item',
        idempotent: true,
        run: async (conn) => {
          await ensureSchema(conn);
          return inTransaction(conn, async () => {
            // Bound parameters (binary protocol), never text built from values: no escaping to get wrong, whatever
            // the server's sql_mode (NO_BACKSLASH_ESCAPES defeats client-side escaping). ProxySQL multiplexes them.
            await conn.execute({
              sql: 'INSERT INTO items (name, idempotency_key) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = id',
              values: [req.name, key],
              timeout: queryTimeoutMs,
            });
            // In the transaction, so it reads the writer (not a possibly lagging reader).
            const [rows] = await conn.execute<mysql.RowDataPacket[]>({
              sql: 'SELECT id, name, UNIX_TIMESTAMP(created_at) AS created_epoch FROM items WHERE idempotency_key = ?',
              values: [key],
              timeout: queryTimeoutMs,
            });
            return rows[0];
          });
        },
      },
      context,
    );
    if (row === undefined) throw new Error('the inserted item was not found by its idempotency key');
    if (row.name !== req.name) {
      throw new RequestError(409, "'idempotencyKey' was already used for an item with a different name: use a new key", 'idempotencyKey');
    }
    return json(201, { id: Number(row.id), name: String(row.name), createdAt: isoFromEpoch(row.created_epoch) });
  };

  const listItems = async (limit: number, context: Context): Promise<DemoResult> => {
    const rows = await withDatabase(
      {
        name: 'list-items',
        idempotent: true,
        run: async (conn) => {
          await ensureSchema(conn);
          // A plain SELECT: ProxySQL's read rule sends it to a reader.
          const [result] = await conn.execute<mysql.RowDataPacket[]>({
            sql: 'SELECT id, name, UNIX_TIMESTAMP(created_at) AS created_epoch FROM items ORDER BY id DESC LIMIT ?',
            // as a string: mysql2 sends JS numbers as DOUBLE, which MySQL 8 refuses for LIMIT
            values: [String(limit)],
            timeout: queryTimeoutMs,
          });
          return result;
        },
      },
      context,
    );
    return json(200, {
      items: rows.map((r) => ({ id: Number(r.id), name: String(r.name), createdAt: isoFromEpoch(r.created_epoch) })),
    });
  };

  const whoami = async (context: Context): Promise<DemoResult> => {
    const result = await withDatabase(
      {
        name: 'whoami',
        idempotent: true,
        run: async (conn) => {
          const probe = () => readBackendIdentity(conn, { queryTimeoutMs, state: identityState });
          const read = await probe();
          const write = await inTransaction(conn, probe);
          return { read, write };
        },
      },
      context,
    );
    return json(200, result);
  };

  const ROUTES: Record<string, Record<string, (event: APIGatewayProxyEventV2, context: Context) => Promise<DemoResult>>> = {
    '/items': {
      GET: (event, context) => listItems(parseListLimit(event.queryStringParameters), context),
      POST: (event, context) => createItem(parseCreateItem(event.body, event.isBase64Encoded), context),
    },
    '/whoami': {
      GET: (_event, context) => whoami(context),
    },
  };

  const route = (event: APIGatewayProxyEventV2, context: Context): Promise<DemoResult> => {
    const rawPath = event.rawPath ?? event.requestContext?.http?.path ?? '/';
    const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
    const method = (event.requestContext?.http?.method ?? '').toUpperCase();
    const methods = Object.prototype.hasOwnProperty.call(ROUTES, path) ? ROUTES[path] : undefined;
    if (!methods) throw new RequestError(404, `no route for path '${path.slice(0, 100)}': use GET/POST /items or GET /whoami`, 'path');
    const handle = Object.prototype.hasOwnProperty.call(methods, method) ? methods[method] : undefined;
    if (!handle) {
      throw new MethodNotAllowed(path, Object.keys(methods));
    }
    return handle(event, context);
  };

  const handler = async (event: APIGatewayProxyEventV2, context: Context): Promise<DemoResult> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    logger.addContext(context);
    logger.appendKeys({ apiRequestId: requestId });
    try {
      return await route(event, context);
    } catch (err) {
      if (err instanceof MethodNotAllowed) {
        return json(405, { message: err.message, field: 'method' }, { allow: err.allowed.join(', ') });
      }
      if (err instanceof RequestError) {
        return json(err.statusCode, { message: err.message, ...(err.field ? { field: err.field } : {}) });
      }
      if (err instanceof DatabaseFailure && err.classification.unavailable) {
        logger.error('database unavailable', { operation: err.operation, attempts: err.attempts, error: describeDbError(err.cause) });
        return json(503, { message: 'the database is unavailable; try again shortly', requestId }, { 'retry-after': '1' });
      }
      if (err instanceof CredentialsFailure) {
        logger.error('could not get the database credentials', { error: describeDbError(err.cause) });
      } else if (err instanceof DatabaseFailure) {
        logger.error('database error', { operation: err.operation, attempts: err.attempts, error: describeDbError(err.cause) });
      } else {
        logger.error('unexpected error', { error: describeDbError(err) });
      }
      return json(500, { message: 'internal error', requestId });
    } finally {
      logger.removeKeys(['apiRequestId']);
    }
  };

  return Object.assign(handler, {
    close: async (): Promise<void> => {
      const conn = connection;
      connection = undefined;
      if (conn) await conn.end().catch(() => conn.destroy());
    },
  });
}
