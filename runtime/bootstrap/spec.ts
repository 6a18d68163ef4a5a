/**
 * What the bootstrap is asked to do (BootstrapSpec), what it reports, and the checks run on a spec before any
 * SQL: the project's rules (src/config/rules.ts), prefixed with the spec's field names.
 */
import { check, hostProblem, managedUsernameProblem, portProblem, privilegesProblem, schemaProblem, UniqueNames } from '../../src/config/rules';

export interface BootstrapUser {
  username: string;
  password: string;
  schema: string;
  /** Schema-level privileges, e.g. ['ALL PRIVILEGES'] or ['SELECT', 'INSERT']. */
  privileges: string[];
}

export interface BootstrapLogger {
  info(msg: string, extra?: object): void;
  warn(msg: string, extra?: object): void;
  error(msg: string, extra?: object): void;
}

/**
 * TLS to the database, as ProxySQL's own backend connections use it:
 * - `false`: clear text (the backend's `backendTls: false`);
 * - `'rds'`: verified against the Amazon RDS CA bundle, host name included;
 * - `{ ca }`: verified against that PEM bundle (the backend's `backendCa`), host name included;
 * - `'unverified'`: encrypted, the certificate not checked (a non-RDS server without `backendCa`, like ProxySQL).
 */
export type BootstrapTls = false | 'rds' | 'unverified' | { readonly ca: string };

export interface BootstrapSpec {
  host: string;
  port: number;
  admin: { username: string; password: string };
  monitor: { username: string; password: string };
  users: BootstrapUser[];
  /** @default false (clear text: local databases; the construct always says) */
  ssl?: BootstrapTls;
  /** Per connection attempt. @default 10_000 */
  connectTimeoutMs?: number;
  /** Total time to keep retrying an unreachable database (bounded, jittered exponential backoff). @default 0 (one attempt) */
  waitForDatabaseMs?: number;
  logger?: BootstrapLogger;
  /**
   * Accounts this stack already manages (an Update: the users and monitor of its previous run). Any other account
   * that exists is someone else's unless its password is the one in our secret (a retried Create): it is not taken
   * over silently (see ensureUser in ./bootstrap.ts). @default [] (a Create)
   */
  managed?: readonly string[];
  /** Existing accounts the user chose to take over (ProxySqlServiceProps.adoptExistingUsers). @default [] */
  adopt?: readonly string[];
  /**
   * Application users may log in only over TLS (`REQUIRE SSL`; `REQUIRE NONE` when false): what ProxySQL's backend
   * connections use when TLS to the database is on. Not the monitor user. @default false
   */
  requireSsl?: boolean;
}

export type DatabaseFlavour = 'mariadb' | 'mysql';

export interface BootstrapUserResult {
  username: string;
  schema: string;
  created: boolean;
  privileges: string[];
  revoked: string[];
  /** The account may log in only over TLS. */
  requireSsl: boolean;
}

export interface BootstrapResult {
  flavour: DatabaseFlavour;
  serverVersion: string;
  monitor: { username: string; created: boolean; privileges: string[]; revoked: string[] };
  users: BootstrapUserResult[];
}

/** A failure of the bootstrap, with a message that names the problem and never holds a password. */
export class BootstrapError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'BootstrapError';
  }
}

const toBootstrapError = (message: string) => new BootstrapError(message);

/** A user name the bootstrap creates, locks or drops: never the admin login or a system account. */
export function checkManagedUsername(field: string, username: unknown, adminUsername: string, monitorUsername?: string): void {
  check(field, managedUsernameProblem(username, { adminUsername, monitorUsername }), toBootstrapError);
}

function checkPassword(field: string, password: unknown): void {
  if (typeof password !== 'string' || password.length === 0) {
    throw new BootstrapError(`${field}: is missing or empty: the secret must hold a non-empty "password" string`);
  }
}

/** Validates the whole spec before any SQL runs; errors name the bad field and never echo a password. */
export function validateSpec(spec: BootstrapSpec): void {
  check('host', hostProblem(spec.host), toBootstrapError);
  check('port', portProblem(spec.port), toBootstrapError);
  if (typeof spec.admin?.username !== 'string' || spec.admin.username === '') {
    throw new BootstrapError('admin.username: is empty: the admin secret must hold a "username"');
  }
  checkPassword('admin.password', spec.admin.password);
  checkManagedUsername('monitor.username', spec.monitor?.username, spec.admin.username);
  checkPassword('monitor.password', spec.monitor.password);
  if (!Array.isArray(spec.users)) throw new BootstrapError('users: must be an array of application users');
  const names = new UniqueNames();
  spec.users.forEach((user, i) => {
    const at = `users[${i}]`;
    checkManagedUsername(`${at}.username`, user?.username, spec.admin.username, spec.monitor.username);
    check(`${at}.username`, names.problem(user.username, `${at}.username`), toBootstrapError);
    checkPassword(`${at}.password`, user.password);
    check(`${at}.schema`, schemaProblem(user.schema), toBootstrapError);
    check(`${at}.privileges`, privilegesProblem(user.privileges), toBootstrapError);
  });
}
