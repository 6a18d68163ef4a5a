/**
 * When may the demo handler retry a database operation, and how long does it wait?
 *
 * Retrying is only correct when a second run cannot do something the first run already did. Two cases:
 *
 * - `not-executed`: the statement provably did not run, so any operation may be retried:
 *   - every failure while *connecting* (no statement was sent yet);
 *   - mysql2 refusing a command locally because it already knows the socket is closed;
 *   - the server rejecting the statement before running it: 1290 / 1836 read-only (a write reached a reader,
 *     e.g. during a failover), 1040 / 1203 too many connections;
 *   - ProxySQL 9001 "Max connect timeout reached while reaching hostgroup": ProxySQL found no backend within
 *     `mysql-connect_timeout_server_max`, so it never forwarded the statement
 *     (https://proxysql.com/documentation/global-variables/mysql-variables/#mysql-connect_timeout_server_max);
 *   - 1213 deadlock / 1205 lock wait timeout: InnoDB rolled the statement (deadlock: the whole transaction)
 *     back, and the caller rolls the rest of its transaction back before retrying.
 * - `outcome-unknown`: the connection died after the statement was sent (PROTOCOL_CONNECTION_LOST,
 *   ECONNRESET, EPIPE, ETIMEDOUT, a query timeout, 2006/2013 lost connection, 1927 killed, 1053 server
 *   shutdown, 1317 interrupted). The server may or may not have applied it — a COMMIT can be durable
 *   even though its OK packet never arrived. Only idempotent operations are retried then; the demo makes its
 *   one write idempotent with a unique idempotency key (INSERT … ON DUPLICATE KEY UPDATE).
 *
 * Everything else (syntax errors, constraint violations, unknown database, …) is `permanent`: retrying cannot help.
 */
import { backoffStepMs, NETWORK_ERROR_CODES } from '../shared/network-errors';

export type FailureKind = 'not-executed' | 'outcome-unknown' | 'permanent';

export interface Classification {
  readonly kind: FailureKind;
  /** The session is gone or in an unknown state: drop it and connect again before the next attempt. */
  readonly reconnect: boolean;
  /** The database (or the proxy) is unreachable or not accepting this work right now: answer 503, not 500. */
  readonly unavailable: boolean;
  /** The credentials were refused: fetch them again (the secret may have been rotated) before reconnecting. */
  readonly refreshCredentials: boolean;
}

/** The fields of a mysql2 / Node.js network error that the classification reads. */
interface DbErrorLike {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  message?: unknown;
}

/** Server errors returned instead of running the statement. */
const REJECTED_BEFORE_RUNNING = new Set([
  1290, // ER_OPTION_PREVENTS_STATEMENT: --read-only (a reader, or the old writer during a failover)
  1836, // ER_READ_ONLY_MODE
  1040, // ER_CON_COUNT_ERROR: too many connections
  1203, // ER_TOO_MANY_USER_CONNECTIONS
  9001, // ProxySQL: max connect timeout reached while reaching hostgroup
]);

/** InnoDB rolled the work back; the session itself is fine. */
const ROLLED_BACK = new Set([
  1213, // ER_LOCK_DEADLOCK
  1205, // ER_LOCK_WAIT_TIMEOUT
]);

/** Server errors that end (or interrupt) the session after the statement may have run. */
const LOST_AFTER_SENDING = new Set([
  1927, // ER_CONNECTION_KILLED (KILL <id>)
  1053, // ER_SERVER_SHUTDOWN
  1317, // ER_QUERY_INTERRUPTED (KILL QUERY)
  2006, // CR_SERVER_GONE_ERROR (ProxySQL also uses it for a backend that went away)
  2013, // CR_SERVER_LOST
]);

const ACCESS_DENIED = 1045;

/** mysql2 throws this without sending anything when the connection is already known to be closed. */
const CLOSED_STATE_MESSAGE = /^Can't add new command when connection is in closed state/;

function asErrorLike(err: unknown): DbErrorLike {
  return typeof err === 'object' && err !== null ? (err as DbErrorLike) : {};
}

/**
 * Classifies a failure of a database call.
 * @param phase `connect` when the error came from opening the connection, `statement` when from a query.
 */
export function classifyDbError(err: unknown, phase: 'connect' | 'statement'): Classification {
  const e = asErrorLike(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const message = typeof e.message === 'string' ? e.message : '';

  if (phase === 'connect') {
    if (errno === ACCESS_DENIED) {
      return { kind: 'not-executed', reconnect: true, unavailable: false, refreshCredentials: true };
    }
    // Unknown database (1049) or no access to it (1044): configuration, not a transient fault.
    if (errno === 1049 || errno === 1044) {
      return { kind: 'permanent', reconnect: true, unavailable: false, refreshCredentials: false };
    }
    return { kind: 'not-executed', reconnect: true, unavailable: true, refreshCredentials: false };
  }

  if (CLOSED_STATE_MESSAGE.test(message)) {
    return { kind: 'not-executed', reconnect: true, unavailable: true, refreshCredentials: false };
  }
  if (errno !== undefined && REJECTED_BEFORE_RUNNING.has(errno)) {
    // Reconnect too: without ProxySQL a fresh connection re-resolves the writer endpoint after a failover.
    return { kind: 'not-executed', reconnect: true, unavailable: true, refreshCredentials: false };
  }
  if (errno !== undefined && ROLLED_BACK.has(errno)) {
    return { kind: 'not-executed', reconnect: false, unavailable: false, refreshCredentials: false };
  }
  if ((errno !== undefined && LOST_AFTER_SENDING.has(errno)) || (code !== undefined && NETWORK_ERROR_CODES.has(code))) {
    return { kind: 'outcome-unknown', reconnect: true, unavailable: true, refreshCredentials: false };
  }
  if (e.fatal === true) {
    // mysql2 marks every error that closes the connection fatal: the session is gone, its last statement unknown.
    return { kind: 'outcome-unknown', reconnect: true, unavailable: true, refreshCredentials: false };
  }
  return { kind: 'permanent', reconnect: false, unavailable: false, refreshCredentials: false };
}

/** May an operation that failed this way run again? */
export function mayRetry(classification: Classification, idempotent: boolean): boolean {
  return classification.kind === 'not-executed' || (classification.kind === 'outcome-unknown' && idempotent);
}

export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Backoff before the 2nd attempt; doubles per attempt. */
  readonly baseDelayMs: number;
  /** Upper bound of one backoff. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 };

/**
 * The wait before attempt `attempt + 1` (attempt >= 1): "equal jitter", half fixed and half random, of an
 * exponentially growing step capped at `maxDelayMs`. The random half spreads many Lambda environments that
 * lost the proxy at the same moment; the fixed half gives a failover at least some time to finish.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = backoffStepMs(attempt, policy.baseDelayMs, policy.maxDelayMs);
  return Math.round(step / 2 + random() * (step / 2));
}

/** Throws an error naming the field when a retry policy cannot work. */
export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1 || policy.attempts > 10) {
    throw new Error(`retry.attempts must be an integer from 1 to 10, got ${policy.attempts}`);
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= policy.baseDelayMs)) {
    throw new Error(
      `retry.baseDelayMs must be >= 0 and retry.maxDelayMs >= retry.baseDelayMs, got ${policy.baseDelayMs} and ${policy.maxDelayMs}`,
    );
  }
  return policy;
}
