/**
 * The demo's database side apart from the handler: its table, what `GET /whoami` reads, and how a failed
 * database operation is reported and logged.
 */
import * as mysql from 'mysql2/promise';
import type { Classification } from './retry';

/** What `GET /whoami` reports about the backend that served a probe. */
export interface BackendIdentity {
  readonly server_id: number | null;
  readonly hostname: string | null;
  readonly read_only: number | null;
  /** Aurora MySQL's reliable writer/reader flag; null where the server has no such variable. */
  readonly innodb_read_only: number | null;
}

export const ITEMS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS items (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_items_idempotency_key (idempotency_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const ER_UNKNOWN_SYSTEM_VARIABLE = 1193;

/** A database operation failed for good (retries exhausted, not allowed, or not worth it). */
export class DatabaseFailure extends Error {
  constructor(
    readonly operation: string,
    readonly classification: Classification,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`database operation '${operation}' failed after ${attempts} attempt(s)`, options);
    this.name = 'DatabaseFailure';
  }
}

/** The fields of a database error worth logging: never the SQL text or its values, never credentials. */
export function describeDbError(err: unknown): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return { message: String(err) };
  const e = err as { name?: unknown; code?: unknown; errno?: unknown; sqlState?: unknown; fatal?: unknown; message?: unknown };
  return {
    name: e.name,
    code: e.code,
    errno: e.errno,
    sqlState: e.sqlState,
    fatal: e.fatal,
    message: typeof e.message === 'string' ? e.message.slice(0, 300) : undefined,
  };
}

function toNumberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

export function isoFromEpoch(epochSeconds: unknown): string {
  // UNIX_TIMESTAMP(<TIMESTAMP column>) is the stored UTC instant, independent of the session time zone.
  return new Date(Math.round(Number(epochSeconds) * 1000)).toISOString();
}

/**
 * Reads the identity of the backend this statement lands on. `@@innodb_read_only` is queried when the server
 * knows it (Aurora MySQL, MySQL, MariaDB 10.x); a server that does not gets `null` instead of an error.
 * `optionalVariable` is a parameter so a test can exercise the fallback on a server that has innodb_read_only.
 * Through ProxySQL, a query that reads @@variables disables multiplexing for the session unless the variables
 * are listed in `mysql-keep_multiplexing_variables`, which the service's configuration does for these.
 */
export async function readBackendIdentity(
  conn: mysql.Connection,
  opts: { optionalVariable?: string; queryTimeoutMs?: number; state?: { optionalVariableMissing: boolean } } = {},
): Promise<BackendIdentity> {
  const variable = opts.optionalVariable ?? 'innodb_read_only';
  if (!/^[a-z_]+$/.test(variable)) throw new Error(`optionalVariable must be a system variable name, got '${variable}'`);
  const base = '@@server_id AS server_id, @@hostname AS hostname, @@read_only AS read_only';
  const state = opts.state ?? { optionalVariableMissing: false };
  let row: mysql.RowDataPacket | undefined;
  if (!state.optionalVariableMissing) {
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql: `SELECT ${base}, @@${variable} AS optional_value`, timeout: opts.queryTimeoutMs });
      row = rows[0];
    } catch (err) {
      if ((err as { errno?: unknown }).errno !== ER_UNKNOWN_SYSTEM_VARIABLE) throw err;
      // Remembered per environment: the server will not grow the variable between invocations.
      state.optionalVariableMissing = true;
    }
  }
  if (row === undefined) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql: `SELECT ${base}`, timeout: opts.queryTimeoutMs });
    row = rows[0];
  }
  return {
    server_id: toNumberOrNull(row?.server_id),
    hostname: row?.hostname === null || row?.hostname === undefined ? null : String(row.hostname),
    read_only: toNumberOrNull(row?.read_only),
    innodb_read_only: state.optionalVariableMissing ? null : toNumberOrNull(row?.optional_value),
  };
}
