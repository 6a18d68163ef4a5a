/**
 * The input rules of the whole project, each written once: endpoints, ports, user and schema names, privileges,
 * replication check types, numeric ranges and `mysqlVariables`. The constructs (synth time), the bootstrap and
 * demo runtimes (before any SQL), the CLI and the benchmark all call these.
 *
 * A rule returns its problem as a message WITHOUT the field's name (undefined when the value passes); the caller
 * prefixes its own path with {@link ruleMessage} or {@link check}: the construct the prop path
 * (`ProxySqlServiceProps.users[2].username`), a runtime the environment variable or resource property
 * (`DB_PORT`), the CLI and the benchmark the option (`--port`). So one rule gives one message everywhere.
 *
 * Plain TypeScript on the lowest floor: no aws-cdk-lib (constructs skip CloudFormation tokens themselves), no
 * mysql2, nothing from runtime/ or above.
 */
import { MAX_IDLE_CLIENT_TIMEOUT_SECONDS, NLB_TCP_IDLE_TIMEOUT_SECONDS, SCHEMA_PATTERN, USERNAME_PATTERN } from '../constants';
import { MYSQL_VARIABLES, MYSQL_VARIABLES_RELEASE } from './proxysql-variables';
import { ReplicationCheckType } from './model';

export { SCHEMA_PATTERN, USERNAME_PATTERN };

/** A rule's verdict on one value: a message without the field's name, or undefined when the value passes. */
export type Problem = string | undefined;

/** A problem inside a structured value: `at` is appended to the caller's field (`''`, `'.wait_timeout'`, `'[1]'`). */
export interface Finding {
  readonly at: string;
  readonly problem: string;
}

/** The result of parsing text (an option, an environment variable) by a rule. */
export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** `field: problem`, the one shape of every rule message. A Finding's `at` extends the field. */
export function ruleMessage(field: string, problem: string | Finding): string {
  return typeof problem === 'string' ? `${field}: ${problem}` : `${field}${problem.at}: ${problem.problem}`;
}

/** Throws `toError(ruleMessage(field, problem))` when there is a problem (a plain Error by default). */
export function check(field: string, problem: Problem | Finding, toError: (message: string) => Error = (m) => new Error(m)): void {
  if (problem !== undefined) throw toError(ruleMessage(field, problem));
}

/** The value of a Checked, or throws as {@link check} does. */
export function unwrap<T>(field: string, checked: Checked<T>, toError?: (message: string) => Error): T {
  if (!checked.ok) check(field, checked.problem, toError);
  return (checked as { value: T }).value;
}

/** How a value is quoted in a message: strings in single quotes, anything else as JSON. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? String(value);
}

// ---- ports and endpoints --------------------------------------------------------------------------------

/** A TCP port: 1-65535 (0 too where the caller asks for "any free port"). */
export function portProblem(value: unknown, options: { allowZero?: boolean } = {}): Problem {
  const min = options.allowZero ? 0 : 1;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= 65535) return undefined;
  return `${shown(value)} ${notAPort(min)}`;
}

function notAPort(min: number): string {
  return `is not a TCP port: use a whole number from ${min} to 65535`;
}

/** A port given as text (an option or an environment variable): digits only, then {@link portProblem}. */
export function parsePort(text: string, options: { allowZero?: boolean } = {}): Checked<number> {
  const trimmed = text.trim();
  const port = /^[0-9]{1,5}$/.test(trimmed) ? Number(trimmed) : NaN;
  const problem = portProblem(port, options);
  return problem === undefined ? { ok: true, value: port } : { ok: false, problem: portProblem(text, options) as string };
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** RFC 1123 host names: labels of letters, digits and inner hyphens, 63 characters each, 253 in all. */
const HOSTNAME_PATTERN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4_PATTERN = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

const EMPTY_HOST = 'is empty: pass a DNS name or IPv4 address (e.g. the writer endpoint)';

/**
 * A host ProxySQL, the bootstrap or a client connects to: a DNS name or an IPv4 address. IPv6 literals are refused
 * everywhere: the construct and the CLI never took them (ProxySQL's rendered `mysql_servers` and Aurora discovery
 * are only exercised with names and IPv4 here), and the benchmark, which did, now follows the stricter rule.
 * The rule itself is {@link valueRuleProblem}'s `host`, which the entrypoint also runs on a host given as a token.
 */
export function hostProblem(value: unknown): Problem {
  if (typeof value !== 'string') return `${shown(value)} is not a host name: pass a DNS name or IPv4 address as text`;
  if (value.trim() === '') return EMPTY_HOST;
  const problem = hostRuleProblem(value);
  return problem && `${shown(value)} ${problem}`;
}

/**
 * The `host` rule without the value in its words. Patterns only, no parser, so that the entrypoint's sh says the same
 * of every value (runtime/proxysql/entrypoint.test.ts): IPv6 is told by its look (hex digits, dots and at least two
 * colons, in brackets or with a %zone or not), which no name or IPv4 address has.
 */
function hostRuleProblem(value: string): Problem {
  if (value === '') return EMPTY_HOST;
  const bare = (value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value).split('%')[0];
  if (/^[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*:[0-9A-Fa-f.:]*$/.test(bare)) {
    return 'is an IPv6 address, which is not supported: use a DNS name or an IPv4 address';
  }
  // All digits and dots reads as an IPv4 address, so it must be one (999.1.1.1 is not).
  if (/^[0-9.]+$/.test(value) ? IPV4_PATTERN.test(value) : HOSTNAME_PATTERN.test(value)) return undefined;
  return 'is not a DNS name or IPv4 address: pass the host only, without scheme, port, path or spaces';
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * `HOST:PORT` (or `HOST` alone when `defaultPort` is given), host and port checked by their rules. The problem
 * is the host's or the port's own message, so an option reports the same words as the construct's prop.
 */
export function parseEndpoint(text: string, defaultPort?: number): Checked<Endpoint> {
  const value = text.trim();
  const ipv6 = /^\[([^\]]*)\](?::(.*))?$/.exec(value);
  if (ipv6 || (value.match(/:/g) ?? []).length > 1) {
    return { ok: false, problem: hostProblem(ipv6 ? ipv6[1] : value) ?? `'${value}' is not HOST:PORT` };
  }
  const [host, portText] = value.split(':') as [string, string | undefined];
  const hostIssue = hostProblem(host);
  if (hostIssue !== undefined) return { ok: false, problem: hostIssue };
  if (portText === undefined) {
    if (defaultPort === undefined) return { ok: false, problem: `'${value}' has no port: give HOST:PORT, e.g. ${host}:3306` };
    return { ok: true, value: { host, port: defaultPort } };
  }
  const port = parsePort(portText);
  return port.ok ? { ok: true, value: { host, port: port.value } } : port;
}

/** A CA bundle the backend's certificates are verified with (`backendCa`): PEM text, small enough for a task definition. */
export function caBundleProblem(value: unknown, tls: boolean): Problem {
  if (!tls) return 'set with backendTls false; turn TLS on or drop the CA';
  if (typeof value !== 'string' || !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(value) || value.includes('{{')) {
    return 'must be PEM text (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)';
  }
  if (Buffer.byteLength(value) > 16 * 1024) {
    return 'keep it under 16 KiB (it travels in the task definition, 64 KiB in all): the CAs that sign your servers only';
  }
  return undefined;
}

// ---- user, schema and privilege names -------------------------------------------------------------------

/** Accounts the project must never create, serve or alter (besides the database's admin user itself). */
export const RESERVED_USERNAMES: readonly string[] = ['root', 'rdsadmin', 'rdsrepladmin', 'rdsproxyadmin'];

/** The syntax of a MySQL user name as the project writes it anywhere (unquoted, 32 characters at most). */
export function usernameProblem(value: unknown): Problem {
  const problem = typeof value === 'string' ? valueRuleProblem({ kind: 'name' }, value) : valueRuleProblem({ kind: 'name' }, '');
  return problem && `${shown(value)} ${problem}`;
}

/** Who a managed user's name must not be: the admin login, and (for application users) the monitor user. */
export interface ManagedUserContext {
  /** The database's admin user name, when known. */
  readonly adminUsername?: string;
  /** The monitor user's name, when the value is an application user. */
  readonly monitorUsername?: string;
}

/**
 * A user the project creates on the database or serves through ProxySQL (the monitor, the application users):
 * the syntax, not a reserved or admin account, not the monitor's name.
 */
export function managedUsernameProblem(value: unknown, context: ManagedUserContext = {}): Problem {
  const syntax = usernameProblem(value);
  if (syntax !== undefined) return syntax;
  const name = value as string;
  if (RESERVED_USERNAMES.includes(name.toLowerCase()) || name === context.adminUsername) {
    return `'${name}' is reserved (the admin user or an RDS/MySQL system account): choose another user name`;
  }
  if (name === context.monitorUsername) {
    return `'${name}' is the monitor user's name: give every user its own name`;
  }
  return undefined;
}

/** A name listed a second time; `firstAt` is where it was first (a full path, e.g. `users[0].username`). */
export function duplicateProblem(value: string, firstAt: string): string {
  return `'${value}' is already used by ${firstAt}: give every user its own name`;
}

/** The names of one list seen so far: {@link UniqueNames.problem} reports a name's second use (by its first's path). */
export class UniqueNames {
  private readonly first = new Map<string, string>();

  /** Records `name` as used at `at` (a full path), or returns the duplicate problem when it was used before. */
  problem(name: string, at: string): Problem {
    const first = this.first.get(name);
    if (first !== undefined) return duplicateProblem(name, first);
    this.first.set(name, at);
    return undefined;
  }
}

/** A schema (database) name: unquoted, 64 characters at most. */
export function schemaProblem(value: unknown): Problem {
  if (typeof value === 'string' && SCHEMA_PATTERN.test(value)) return undefined;
  return `${shown(value)} is not a valid schema name: use 1-64 characters of A-Z, a-z, 0-9 and _`;
}

/** Schema-level privileges an application user may be given (MySQL 8.0 reference, "Privileges Provided by MySQL"). */
export const ALLOWED_PRIVILEGES: readonly string[] = [
  'ALL PRIVILEGES',
  'ALTER',
  'ALTER ROUTINE',
  'CREATE',
  'CREATE ROUTINE',
  'CREATE TEMPORARY TABLES',
  'CREATE VIEW',
  'DELETE',
  'DROP',
  'EVENT',
  'EXECUTE',
  'INDEX',
  'INSERT',
  'LOCK TABLES',
  'REFERENCES',
  'SELECT',
  'SHOW VIEW',
  'TRIGGER',
  'UPDATE',
];

/** Upper-case, single spaces; ALL is ALL PRIVILEGES. */
export function normalisePrivilege(privilege: string): string {
  const p = privilege.trim().replace(/\s+/g, ' ').toUpperCase();
  return p === 'ALL' ? 'ALL PRIVILEGES' : p;
}

/** A non-empty list of allowed schema privileges; a bad entry is reported at its index. */
export function privilegesProblem(value: unknown): Finding | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    return { at: '', problem: "is empty: pass e.g. ['ALL PRIVILEGES'] or ['SELECT', 'INSERT', 'UPDATE', 'DELETE']" };
  }
  const bad = value.findIndex((p: unknown) => typeof p !== 'string' || !ALLOWED_PRIVILEGES.includes(normalisePrivilege(p)));
  if (bad < 0) return undefined;
  return { at: `[${bad}]`, problem: `${shown(value[bad])} is not an allowed schema privilege: use one of ${ALLOWED_PRIVILEGES.join(', ')}` };
}

// ---- replication check types and numeric ranges ---------------------------------------------------------

/** The server variables ProxySQL's config loader keeps as `mysql_replication_hostgroups.check_type`. */
export const CHECK_TYPES: readonly `${ReplicationCheckType}`[] = Object.values(ReplicationCheckType);

export function checkTypeProblem(value: unknown): Problem {
  if (CHECK_TYPES.includes(value as ReplicationCheckType)) return undefined;
  return `${shown(value)} is not one of ${CHECK_TYPES.join(', ')} (the values ProxySQL's config loader keeps)`;
}

/** An inclusive range of whole numbers; `unit` is said in the message (e.g. 'seconds'). */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly unit?: string;
}

/**
 * The ranges of the settings the construct, the CLI and the benchmark share. Where two copies disagreed the
 * stricter bound won: maxBackendConnectionsPerServer was 1-100,000 in the construct and 1-10,000 in the benchmark.
 */
export const RANGES = {
  /** Replicas lagging more than this are shunned. */
  maxReplicaLagSeconds: { min: 1, max: 600, unit: 'seconds' },
  /** ProxySQL worker threads. */
  threads: { min: 1, max: 256 },
  /** Client connections one ProxySQL accepts. */
  maxClientConnections: { min: 1, max: 1_000_000 },
  /** Backend connections one ProxySQL opens to each server (per hostgroup) at most. */
  maxBackendConnectionsPerServer: { min: 1, max: 10_000 },
  /** Statements after a write that stay on the writer (read-your-writes); each is five rules ProxySQL walks past. */
  readYourWritesStatements: { min: 1, max: 15, unit: 'statements' },
  /**
   * borrowTimeout: how long a query waits for a backend connection (`mysql-connect_timeout_server_max`). At least one
   * connect attempt (`mysql-connect_timeout_server`, 1 s); at most ProxySQL's own bound, 3,600,000 ms.
   */
  borrowTimeoutSeconds: { min: 1, max: 3600, unit: 'seconds' },
} as const satisfies Record<string, Range>;

/**
 * idleClientTimeout in whole seconds (ProxySQL's `mysql-wait_timeout`): from 1 s to MAX_IDLE_CLIENT_TIMEOUT_SECONDS,
 * 10 s under the NLB's TCP idle timeout (350 s, stated on the listener).
 */
export function idleClientTimeoutProblem(seconds: unknown): Problem {
  if (typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 1 && seconds <= MAX_IDLE_CLIENT_TIMEOUT_SECONDS) return undefined;
  const range = `must be a whole number of seconds from 1 to ${MAX_IDLE_CLIENT_TIMEOUT_SECONDS}, got ${shown(seconds)}`;
  if (typeof seconds === 'number' && seconds > MAX_IDLE_CLIENT_TIMEOUT_SECONDS) {
    return (
      `${range}: the load balancer drops a TCP flow idle for ${NLB_TCP_IDLE_TIMEOUT_SECONDS} s without telling either end, so ProxySQL must ` +
      'close an idle session first (10 s earlier, for its idle-session pass); a client wanting longer idle sessions sends a keepalive query'
    );
  }
  return range;
}

/**
 * initQuery (ProxySQL's `mysql-init_connect`): SQL run on every new backend connection. Text the 3.0 config loader
 * takes (it splices variable values into SQL between double quotes, unescaped: see mysqlVariableValueProblem).
 */
export function initQueryProblem(value: unknown): Problem {
  if (typeof value !== 'string') return `must be SQL text, got ${shown(value)}`;
  if (value.trim() === '') return 'is empty: leave it out for no init query';
  const problem = textProblem(value);
  return problem && `${problem} (ProxySQL's config loader splices it into SQL between double quotes, unescaped): quote strings in it with single quotes`;
}

/**
 * proxyName: the NLB's name and the ECS service's. The load balancer's rules are the stricter (the service takes 255
 * letters, digits, hyphens and underscores): 1-32 letters, digits and hyphens, no hyphen first or last, not
 * starting with `internal-` (Elastic Load Balancing API reference, CreateLoadBalancer Name).
 */
export function proxyNameProblem(value: unknown): Problem {
  const rule = "use 1-32 letters, digits and hyphens, not starting or ending with a hyphen and not starting with 'internal-' (the load balancer's name rules)";
  if (typeof value !== 'string' || !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(value) || /^internal-/i.test(value)) {
    return `${shown(value)} is not a valid name: ${rule}`;
  }
  return undefined;
}

/** The read-consistency modes (src/config/session-state.ts ReadConsistency's values). */
export const READ_CONSISTENCY_MODES = ['read-your-writes', 'writer-only', 'eventual'] as const;

export function readConsistencyProblem(value: unknown): Problem {
  return (READ_CONSISTENCY_MODES as readonly unknown[]).includes(value)
    ? undefined
    : `must be one of ${READ_CONSISTENCY_MODES.map((m) => `'${m}'`).join(', ')}, got ${shown(value)}`;
}

export function rangeProblem(value: unknown, range: Range): Problem {
  if (typeof value === 'number' && Number.isInteger(value) && value >= range.min && value <= range.max) return undefined;
  const what = range.unit ? `a whole number of ${range.unit}` : 'a whole number';
  return `must be ${what} from ${range.min} to ${range.max}, got ${shown(value)}`;
}

/** A whole number given as text (digits; a leading minus only where the range has negatives), then {@link rangeProblem}. */
export function parseWholeNumber(text: string, range: Range): Checked<number> {
  const trimmed = text.trim();
  const n = (range.min < 0 ? /^-?[0-9]{1,16}$/ : /^[0-9]{1,16}$/).test(trimmed) ? Number(trimmed) : NaN;
  const problem = rangeProblem(n, range);
  return problem === undefined ? { ok: true, value: n } : { ok: false, problem: rangeProblem(text, range) as string };
}

// ---- mysqlVariables -------------------------------------------------------------------------------------

/** Variables the construct sets from its own props or secrets: overriding them would break an invariant. */
export const CONSTRUCT_OWNED_VARIABLES: Readonly<Record<string, string>> = {
  monitor_username: 'set monitorUsername instead',
  monitor_password: 'it is the generated MonitorSecret, injected at task start; a value here would sit in the template in clear text',
  interfaces: 'the load balancer forwards to port 6033',
  query_processor_regex: 'query rules are validated with RE2 at synth, so ProxySQL must run RE2',
  have_ssl: 'set clientTls instead',
  // TLS to the database is verified against the CAs the construct delivers; another CA file here would silently
  // trust someone else's chain or none.
  ssl_p2s_ca: 'set backendCa instead: the construct delivers the RDS CAs and ProxySQL verifies the chain with them',
  ssl_p2s_capath: 'set backendCa instead: the construct delivers the RDS CAs and ProxySQL verifies the chain with them',
  auto_increment_delay_multiplex: 'set keepConnectionForLastInsertId instead (docs/clients.md weighs it)',
  auto_increment_delay_multiplex_timeout_ms: 'set keepConnectionForLastInsertId instead (docs/clients.md weighs it)',
};

/**
 * `mysqlVariables` the construct accepts but warns about: they write what clients send, data values included, to
 * files on the task's disk (gone with the task, readable with ECS Exec), or weaken TLS to the database.
 */
export const RISKY_MYSQL_VARIABLES: Readonly<Record<string, string>> = {
  eventslog_filename: "logs every client statement's text, data values included, to a file in the task",
  eventslog_default_log: "logs every client statement's text, data values included, when eventslog_filename is set",
  auditlog_filename: 'logs every client login and its source address to a file in the task',
  ssl_p2s_cipher: 'restricts the ciphers of TLS to the database: a weak list weakens every backend connection',
};

/** A warning for a risky `mysqlVariables` entry that turns the feature on, or undefined. */
export function riskyMysqlVariableWarning(name: string, value: unknown): string | undefined {
  const risk = RISKY_MYSQL_VARIABLES[name];
  if (risk === undefined) return undefined;
  const off = value === false || value === 0 || value === '' || (typeof value === 'string' && /^(false|0)$/i.test(value.trim()));
  return off ? undefined : `mysqlVariables.${name}: ${risk}; remove it unless you mean it`;
}

/** Where a user reads what each variable does (ProxySQL's documentation of the `mysql-` variables). */
export const MYSQL_VARIABLES_DOC = 'https://proxysql.com/documentation/global-variables/mysql-variables/';

/**
 * One `mysql_variables` override: a name without the `mysql-` prefix that ProxySQL knows (a near miss gets a "did
 * you mean"), not construct-owned, and a value its loader takes: of the variable's type where ProxySQL's source gives
 * one (./proxysql-variables.ts). ProxySQL itself refuses none of these at start: it logs "Impossible to set …" and
 * runs without the setting. Options: `valueAtDeploy`, the value is a CloudFormation token known only at deploy time,
 * so only the name is checked here and the value at task start, by the same rule ({@link mysqlVariableRule}, the
 * entrypoint's `param`); `anyName`, the caller runs another ProxySQL than the pinned one (an `image` of its
 * own) and reports an unknown name itself ({@link unknownMysqlVariableProblem}).
 */
export function mysqlVariableProblem(name: string, value: unknown, options: { valueAtDeploy?: boolean; anyName?: boolean } = {}): Finding | undefined {
  if (name.startsWith('mysql-') || !/^[a-z][a-z0-9_]*$/.test(name)) {
    return { at: '', problem: `'${name}' must be a variable name in lower case without the mysql- prefix (e.g. 'wait_timeout')` };
  }
  const at = `.${name}`;
  const unknown = options.anyName ? undefined : unknownMysqlVariableProblem(name);
  if (unknown !== undefined) return { at, problem: unknown };
  if (name in CONSTRUCT_OWNED_VARIABLES) return { at, problem: `set by the construct (${CONSTRUCT_OWNED_VARIABLES[name]})` };
  if (options.valueAtDeploy) return undefined;
  const problem = mysqlVariableValueProblem(name, value);
  return problem === undefined ? undefined : { at, problem };
}

/** A value ProxySQL's loader takes for the variable `name`: of its type and range where known (./proxysql-variables.ts). */
export function mysqlVariableValueProblem(name: string, value: unknown): Problem {
  if (!['string', 'number', 'boolean'].includes(typeof value)) return 'must be a string, a number or a boolean';
  if (typeof value === 'number' && !(Number.isInteger(value) && Math.abs(value) <= 2_147_483_647)) {
    const rule = mysqlVariableRule(name);
    if (rule.kind !== 'int') return `${value} must be a whole number that fits 32 bits (ProxySQL's config loader reads an int)`;
    return `${valueRuleProblem(rule, String(value))}, got ${shown(value)}`;
  }
  const problem = valueRuleProblem(mysqlVariableRule(name), String(value));
  // A rule's message never shows the value (the entrypoint says it of a deploy-time value); a literal's is shown.
  return problem && (mysqlVariableRule(name).kind === 'text' ? problem : `${problem}, got ${shown(value)}`);
}

/**
 * The rule a `mysql_variables` value must pass, by the variable's type (./proxysql-variables.ts): the same rule for a
 * literal at synth and for a CloudFormation token at task start (the entrypoint's `param`: {@link ValueRule}).
 */
export function mysqlVariableRule(name: string): ValueRule {
  const type = MYSQL_VARIABLES[name] ?? 'unchecked';
  if (type === 'boolean') return { kind: 'bool' };
  if (type === 'unchecked') return { kind: 'text' };
  return { kind: 'int', min: type[0], max: type[1] };
}

// ---- values known only at deploy time ------------------------------------------------------------------

/**
 * A rule for a value written into proxysql.cnf. A literal is checked at synth; a CloudFormation token (a CfnParameter
 * as a user name, a `mysqlVariables` value or a backend's host and port; an attribute such as a new cluster's
 * endpoint) reaches the container as an environment variable instead, and the entrypoint
 * (runtime/proxysql/entrypoint.sh, `param`) checks it by the same rule before it escapes it into the file; so is a
 * user name read from its secret at task start:
 * - `name`: a user name, {@link USERNAME_PATTERN} (1-32 of A-Z, a-z, 0-9, _);
 * - `text`: any text ProxySQL's loader takes between double quotes (see {@link textProblem});
 * - `bool`: true, false, 1 or 0, any case;
 * - `int`: a whole number (digits, a leading minus, spaces around it: ProxySQL reads it with atoi) from min to max;
 * - `host`: a DNS name or IPv4 address, {@link hostProblem}'s rule;
 * - `domain`: a dot, then a host name: an Aurora instance domain (`.<hash>.<region>.rds.amazonaws.com`);
 * - `port`: a TCP port, 1-65535, digits only and no leading zero: it is written without quotes (a libconfig int),
 *   where a leading zero could read as octal.
 * The entrypoint writes each again in sh; runtime/proxysql/entrypoint.test.ts runs both on the same values.
 */
export type ValueRule =
  | { readonly kind: 'name' }
  | { readonly kind: 'text' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'host' }
  | { readonly kind: 'domain' }
  | { readonly kind: 'port' };

/** How a rule travels to the entrypoint (in `<ENV>_RULE`): `name`, `text`, `bool`, `int MIN MAX`, `host`, `domain` or `port`. */
export function valueRuleText(rule: ValueRule): string {
  return rule.kind === 'int' ? `int ${rule.min} ${rule.max}` : rule.kind;
}

const REFUSED = '(ProxySQL would log "Impossible to set variable" and keep its default)';

/** Why `value` does not pass `rule`, without showing the value; undefined when it passes. */
export function valueRuleProblem(rule: ValueRule, value: string): Problem {
  switch (rule.kind) {
    case 'name':
      return USERNAME_PATTERN.test(value) ? undefined : 'is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _';
    case 'text':
      return textProblem(value);
    case 'bool':
      return /^(true|false|1|0)$/i.test(value) ? undefined : `must be true or false ${REFUSED}`;
    case 'int': {
      const n = /^ *-?[0-9]{1,16} *$/.test(value) ? Number(value) : NaN;
      return n >= rule.min && n <= rule.max ? undefined : `must be a whole number from ${rule.min} to ${rule.max} ${REFUSED}`;
    }
    case 'host':
      return hostRuleProblem(value);
    case 'domain':
      return value.startsWith('.') && hostRuleProblem(value.slice(1)) === undefined
        ? undefined
        : 'is not a dot and a DNS name (.<hash>.<region>.rds.amazonaws.com)';
    case 'port':
      return /^[1-9][0-9]{0,4}$/.test(value) && portProblem(Number(value)) === undefined ? undefined : notAPort(1);
  }
}

/**
 * Text ProxySQL's loader takes in a `mysql_variables` value: no double quote (the 3.0-era loader splices values into
 * SQL between double quotes, unescaped), no line break (one line of proxysql.cnf), and neither placeholder opening
 * (./secrets.ts RESERVED_OPENINGS: the entrypoint would fill one in).
 */
export function textProblem(value: string): Problem {
  if (/["\n\r]/.test(value) || value.includes('{{secret:') || value.includes('{{param:')) {
    return "must not contain a double quote, a line break, '{{secret:' or '{{param:'";
  }
  return undefined;
}

/** A name ProxySQL does not know, with the nearest one it does when that looks like a slip. */
export function unknownMysqlVariableProblem(name: string): Problem {
  if (MYSQL_VARIABLES[name] !== undefined) return undefined;
  const near = nearestName(name, Object.keys(MYSQL_VARIABLES));
  return (
    `not a variable of ProxySQL ${MYSQL_VARIABLES_RELEASE} (it would log "Impossible to set not existing variable" and ignore it)` +
    (near === undefined ? `; the variables are listed at ${MYSQL_VARIABLES_DOC}` : `; did you mean ${near}?`)
  );
}

/**
 * The candidate nearest to `name` when it is close enough to be a slip: at most 2 edits, or a quarter of the name's
 * length for long names (Levenshtein distance; the first candidate in order wins a tie).
 */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 4));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(name, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** An object of `mysql_variables` overrides: the first bad entry. */
export function mysqlVariablesProblem(value: unknown): Finding | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { at: '', problem: 'must be an object of variable name (without mysql-) to value, e.g. {"wait_timeout": 28800000}' };
  }
  for (const [name, v] of Object.entries(value)) {
    const finding = mysqlVariableProblem(name, v);
    if (finding) return finding;
  }
  return undefined;
}
