/**
 * Command-line options of the Lambda-fleet benchmark: parsing and validation only (pure; no I/O beyond reading
 * the environment variables the user names). Every rejection is a `BenchArgError` whose message says what is
 * wrong and how to fix it; `main.ts` prints it with the usage text and exits with status 2.
 */
import { parseArgs } from 'node:util';
import {
  check,
  mysqlVariableProblem,
  parseEndpoint as parseEndpointRule,
  parseWholeNumber,
  RANGES,
  Range,
  readConsistencyProblem,
  schemaProblem,
  unwrap,
  usernameProblem,
} from '../src/config/rules';
import type { ReadConsistency } from '../src/config/session-state';

export type Mode = 'cold' | 'warm';
export type OpKind = 'read' | 'write' | 'tx';
export const OP_KINDS: readonly OpKind[] = ['read', 'write', 'tx'];
export type WriterDiscovery = 'none' | 'read_only';
/** How statements reach the server: client-interpolated text (COM_QUERY) or binary-protocol prepared statements. */
export type StatementMode = 'text' | 'prepared';

/** `--proxysql`: run the local topology behind a real ProxySQL with the project's own rendered configuration. */
export interface ProxySqlRunOptions {
  /** The proxysql binary. */
  bin: string;
  /** Backend TLS as deployed (on), or off for a side-by-side comparison. */
  backendTls: boolean;
  /** `--proxysql-var NAME=VALUE` overrides of mysql_variables, for probing a setting. */
  variables: Record<string, string | number>;
  /** `--max-backend-connections N`: the per-server cap (the construct's maxBackendConnectionsPerServer). */
  maxBackendConnectionsPerServer?: number;
  /** `--idle-threads off`: the construct's idleThreads false (ProxySQL without --idle-threads), to weigh its cost. */
  idleThreads?: boolean;
  /** `--read-consistency MODE`: the construct's readConsistency, to compare a mode with another side by side. */
  readConsistency?: `${ReadConsistency}`;
  /** `--keep-connection-for-last-insert-id`: the construct's keepConnectionForLastInsertId, to weigh its cost. */
  keepConnectionForLastInsertId?: boolean;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** Percentages of each operation kind; they sum to 100. */
export type Mix = Record<OpKind, number>;

export interface AdminOptions {
  /** The servers whose connection counts are sampled (`--admin` first, then each `--backend`). */
  backends: Endpoint[];
  user: string;
  /** Read from the environment variable named by `--admin-password-env`; never printed. */
  password: string;
}

export interface BenchOptions {
  /** Where the sessions connect; undefined with `--local` (the topology's primary is filled in at run time). */
  target?: Endpoint;
  local: boolean;
  /** Application user; with `--local` the benchmark creates its own. */
  user: string;
  /** Read from the environment variable named by `--password-env`; never printed. */
  password: string;
  database: string;
  sessions: number;
  mode: Mode;
  mix: Mix;
  durationS: number;
  thinkMs: number;
  rampS: number;
  admin?: AdminOptions;
  /** Further endpoints for `--writer-discovery read_only` (besides the target). */
  also: Endpoint[];
  failover: boolean;
  /** Seconds after the start at which the replica is promoted (only with `failover`). */
  failoverAtS: number;
  writerDiscovery: WriterDiscovery;
  /** `-` for stdout, a file path, or undefined for no JSON. */
  json?: string;
  /** Create the tables if missing and seed them. */
  setup: boolean;
  /** Per-statement client timeout; a statement that takes longer counts as an error (PROTOCOL_SEQUENCE_TIMEOUT). */
  queryTimeoutMs: number;
  /** @default 'text' */
  statements?: StatementMode;
  /** `--stateful-sessions PCT`: that share of sessions sets a user variable on each new connection. @default 0 */
  statefulPercent?: number;
  /** With `--local --proxysql FILE`: the sessions go through a real ProxySQL. */
  proxysql?: ProxySqlRunOptions;
}

export const MIN_SESSIONS = 1;
export const MAX_SESSIONS = 5000;
export const DEFAULT_THINK_MS = 200;
export const DEFAULT_MIX: Mix = { read: 80, write: 15, tx: 5 };

export class BenchArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchArgError';
  }
}

export const USAGE = `Usage: npm run bench -- (--target HOST:PORT --user USER [--password-env VAR] | --local) [options]

Simulates a fleet of Lambda functions against a MySQL endpoint (ProxySQL, or a server directly).

Target
  --target HOST:PORT        MySQL endpoint the sessions connect to (ProxySQL's NLB, or a server)
  --local                   start the local MariaDB primary + replica (local/topology.ts) and target the primary
  --user USER               application user (not with --local: it creates its own)
  --password-env VAR        name of the environment variable holding the user's password
  --database NAME           schema holding the benchmark tables (default bench)
  --no-setup                do not create/seed the tables (they must exist)
Load
  --sessions N              concurrent simulated functions, ${MIN_SESSIONS}..${MAX_SESSIONS} (default 100)
  --mode cold|warm          cold: connect, query, close per invocation; warm: one reused connection per session
  --mix reads=80,writes=15,tx=5   percentages of point reads, INSERTs and short transactions (sum 100)
  --duration S              run length in seconds (default 30)
  --think-ms MS             pause between a session's invocations, jittered +-50% (default ${DEFAULT_THINK_MS})
  --ramp S                  start the sessions evenly over the first S seconds (default 0)
  --query-timeout-ms MS     client-side statement timeout (default 10000)
  --statements text|prepared   text: mysql2 query() (COM_QUERY); prepared: execute() (binary protocol)
  --stateful-sessions PCT   that share of sessions sets a user variable once per connection (warm mode), as ORMs
                            do: through ProxySQL those sessions then stay on the writer (the cost of session state)
Through a real ProxySQL (with --local only; none ships with the project)
  --proxysql FILE           run ProxySQL FILE with the project's rendered config in front of the local topology,
                            started through the container entrypoint; reports its backend connections, CPU and RSS
  --backend-tls on|off      TLS from ProxySQL to MariaDB (default on, as deployed; the app user has REQUIRE SSL)
  --proxysql-var NAME=VALUE override one mysql_variables setting (without mysql-), repeatable: to probe a choice
  --max-backend-connections N   the per-server pool cap (mysql_servers.max_connections; default the construct's)
  --keep-connection-for-last-insert-id   the construct's keepConnectionForLastInsertId (default off), to weigh it
  --read-consistency MODE   read-your-writes | writer-only | eventual (the construct's readConsistency; default
                            read-your-writes)
  --idle-threads on|off     idle client sessions on ProxySQL's idle threads (the construct's idleThreads; default on)
Server connections
  --admin HOST:PORT         a backend MySQL server whose connections are sampled (Threads_connected, 250 ms)
  --backend HOST:PORT       another backend to sample (repeatable)
  --admin-user USER         user for the sampling connections (needs PROCESS or just USAGE; RELOAD for FLUSH STATUS)
  --admin-password-env VAR  environment variable holding that user's password
Failover (with --local only)
  --failover                promote the replica mid-run
  --failover-at S           when to promote (default half the duration)
  --writer-discovery none|read_only   read_only: on error 1290 or a lost connection, sessions look for the endpoint
                            with @@read_only=0 among --target and --also (what ProxySQL's monitor does for you)
  --also HOST:PORT          another endpoint for writer discovery (repeatable)
Output
  --json FILE|-             also write the results as JSON (to stdout with -)
  -h, --help                this text`;

const NUM_RE = /^\d+(\.\d+)?$/;
const toArgError = (message: string) => new BenchArgError(message);

/** `HOST:PORT` by the project's endpoint rule (a DNS name or IPv4 address; IPv6 is refused, as by the construct). */
export function parseEndpoint(value: string, flag: string): Endpoint {
  return { ...unwrap(flag, parseEndpointRule(value), toArgError) };
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.host}:${e.port}`;
}

function parseIntIn(value: string, flag: string, min: number, max: number): number {
  return parseRange(value, flag, { min, max });
}

function parseRange(value: string, flag: string, range: Range): number {
  return unwrap(flag, parseWholeNumber(value, range), toArgError);
}

function parseSeconds(value: string, flag: string, min: number, allowZero: boolean): number {
  const n = Number(value);
  if (!NUM_RE.test(value.trim()) || (allowZero ? n < min : n <= min)) {
    throw new BenchArgError(
      `${flag} '${value}' must be a number of seconds ${allowZero ? `>= ${min}` : `> ${min}`} (e.g. ${flag} 30).`,
    );
  }
  return n;
}

/** Parses `reads=80,writes=15,tx=5`; kinds left out get 0; the percentages must sum to 100. */
export function parseMix(value: string): Mix {
  const names: Record<string, OpKind> = { reads: 'read', read: 'read', writes: 'write', write: 'write', tx: 'tx' };
  const mix: Mix = { read: 0, write: 0, tx: 0 };
  const seen = new Set<OpKind>();
  for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/.exec(part);
    const kind = m ? names[m[1]] : undefined;
    if (!m || !kind) {
      throw new BenchArgError(
        `--mix part '${part}' is not one of reads=N, writes=N, tx=N (N a whole percentage). Example: --mix reads=80,writes=15,tx=5.`,
      );
    }
    if (seen.has(kind)) throw new BenchArgError(`--mix names '${m[1]}' twice. Give each of reads, writes, tx at most once.`);
    seen.add(kind);
    mix[kind] = Number(m[2]);
  }
  const sum = mix.read + mix.write + mix.tx;
  if (sum !== 100) {
    throw new BenchArgError(`--mix '${value}' sums to ${sum}%, not 100%. Adjust the percentages, e.g. reads=80,writes=15,tx=5.`);
  }
  return mix;
}

function passwordFromEnv(varName: string | undefined, flag: string, env: NodeJS.ProcessEnv): string {
  if (varName === undefined) return '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(varName)) {
    throw new BenchArgError(`${flag} takes the NAME of an environment variable (e.g. ${flag} DB_PASSWORD), not '${varName}'.`);
  }
  const value = env[varName];
  if (value === undefined) {
    throw new BenchArgError(`${flag} ${varName}: the environment variable ${varName} is not set. Export it before running the benchmark.`);
  }
  return value;
}

/** Parses and validates the command line. Returns 'help' for -h/--help. Throws BenchArgError. */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        local: { type: 'boolean' },
        user: { type: 'string' },
        'password-env': { type: 'string' },
        database: { type: 'string' },
        'no-setup': { type: 'boolean' },
        sessions: { type: 'string' },
        mode: { type: 'string' },
        mix: { type: 'string' },
        duration: { type: 'string' },
        'think-ms': { type: 'string' },
        ramp: { type: 'string' },
        'query-timeout-ms': { type: 'string' },
        admin: { type: 'string' },
        backend: { type: 'string', multiple: true },
        'admin-user': { type: 'string' },
        'admin-password-env': { type: 'string' },
        failover: { type: 'boolean' },
        'failover-at': { type: 'string' },
        'writer-discovery': { type: 'string' },
        also: { type: 'string', multiple: true },
        json: { type: 'string' },
        statements: { type: 'string' },
        'stateful-sessions': { type: 'string' },
        proxysql: { type: 'string' },
        'backend-tls': { type: 'string' },
        'proxysql-var': { type: 'string', multiple: true },
        'max-backend-connections': { type: 'string' },
        'read-consistency': { type: 'string' },
        'keep-connection-for-last-insert-id': { type: 'boolean' },
        'idle-threads': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // parseArgs' messages name the option ("Unknown option '--x'", "Option '--sessions <value>' argument missing").
    throw new BenchArgError(`${(err as Error).message.replace(/\.$/, '')}. Run with --help for the list of options.`);
  }
  if (values.help) return 'help';

  const local = values.local === true;
  if (local && values.target !== undefined) {
    throw new BenchArgError('--local and --target exclude each other: --local targets the local topology’s primary. Drop one.');
  }
  if (!local && values.target === undefined) {
    throw new BenchArgError('No endpoint: give --target HOST:PORT (ProxySQL or a MySQL server), or --local to start a local MariaDB.');
  }
  const target = values.target !== undefined ? parseEndpoint(values.target, '--target') : undefined;
  if (local) {
    for (const flag of ['user', 'password-env', 'admin', 'backend', 'admin-user', 'admin-password-env'] as const) {
      if (values[flag] !== undefined) {
        throw new BenchArgError(
          `--${flag} has no effect with --local: the benchmark creates its own application user and samples the ` +
            `local primary and replica as root. Drop --${flag}, or use --target instead of --local.`,
        );
      }
    }
  } else if (values.user === undefined || values.user === '') {
    throw new BenchArgError('--user is required with --target (the application user the sessions log in as).');
  } else {
    check('--user', usernameProblem(values.user), toArgError);
  }

  const sessions = values.sessions === undefined ? 100 : parseIntIn(values.sessions, '--sessions', MIN_SESSIONS, MAX_SESSIONS);
  const mode = (values.mode ?? 'warm') as Mode;
  if (mode !== 'cold' && mode !== 'warm') {
    throw new BenchArgError(`--mode '${values.mode}' is not cold or warm. Use --mode cold (connect per invocation) or --mode warm.`);
  }
  const mix = values.mix === undefined ? { ...DEFAULT_MIX } : parseMix(values.mix);
  const durationS = values.duration === undefined ? 30 : parseSeconds(values.duration, '--duration', 0, false);
  const thinkMs = values['think-ms'] === undefined ? DEFAULT_THINK_MS : parseIntIn(values['think-ms'], '--think-ms', 0, 600_000);
  const rampS = values.ramp === undefined ? 0 : parseSeconds(values.ramp, '--ramp', 0, true);
  if (rampS >= durationS) {
    throw new BenchArgError(`--ramp ${rampS} must be shorter than --duration ${durationS}: the ramp is part of the run. Lower --ramp or raise --duration.`);
  }
  const queryTimeoutMs =
    values['query-timeout-ms'] === undefined ? 10_000 : parseIntIn(values['query-timeout-ms'], '--query-timeout-ms', 1, 600_000);

  let admin: AdminOptions | undefined;
  const backends = [
    ...(values.admin !== undefined ? [parseEndpoint(values.admin, '--admin')] : []),
    ...(values.backend ?? []).map((b) => parseEndpoint(b, '--backend')),
  ];
  if (backends.length > 0) {
    if (values['admin-user'] === undefined || values['admin-user'] === '') {
      throw new BenchArgError('--admin/--backend need --admin-user (a user allowed SHOW GLOBAL STATUS on those servers).');
    }
    check('--admin-user', usernameProblem(values['admin-user']), toArgError);
    admin = { backends, user: values['admin-user'], password: passwordFromEnv(values['admin-password-env'], '--admin-password-env', env) };
  } else if (values['admin-user'] !== undefined || values['admin-password-env'] !== undefined) {
    throw new BenchArgError('--admin-user/--admin-password-env given without a server to sample: add --admin HOST:PORT.');
  }

  const failover = values.failover === true;
  if (failover && !local) {
    throw new BenchArgError(
      '--failover needs --local: the benchmark can only promote a replica it started itself. For a real failover, ' +
        'trigger it in AWS (e.g. aws rds failover-db-cluster) while a run is in progress.',
    );
  }
  let failoverAtS = durationS / 2;
  if (values['failover-at'] !== undefined) {
    if (!failover) throw new BenchArgError('--failover-at without --failover: add --failover (with --local).');
    failoverAtS = parseSeconds(values['failover-at'], '--failover-at', 0, false);
    if (failoverAtS >= durationS) {
      throw new BenchArgError(`--failover-at ${failoverAtS} is not before the end of the run (--duration ${durationS}). Pick a time inside the run.`);
    }
  }

  const writerDiscovery = (values['writer-discovery'] ?? 'none') as WriterDiscovery;
  if (writerDiscovery !== 'none' && writerDiscovery !== 'read_only') {
    throw new BenchArgError(`--writer-discovery '${values['writer-discovery']}' is not none or read_only.`);
  }
  const also = (values.also ?? []).map((a) => parseEndpoint(a, '--also'));
  if (writerDiscovery === 'read_only' && !local && also.length === 0) {
    throw new BenchArgError(
      '--writer-discovery read_only needs at least one --also HOST:PORT besides --target: with a single endpoint there is no other writer to find.',
    );
  }
  if (values.json === '') throw new BenchArgError('--json needs a file path, or - for stdout.');
  const statements = (values.statements ?? 'text') as StatementMode;
  if (statements !== 'text' && statements !== 'prepared') {
    throw new BenchArgError(`--statements '${values.statements}' is not text or prepared.`);
  }
  const statefulPercent =
    values['stateful-sessions'] === undefined ? 0 : parseIntIn(values['stateful-sessions'], '--stateful-sessions', 0, 100);
  if (statefulPercent > 0 && mode !== 'warm') {
    throw new BenchArgError('--stateful-sessions needs --mode warm: session state lives as long as a session connection.');
  }
  const proxysql = parseProxySqlOptions(values.proxysql, values['backend-tls'], values['proxysql-var'] ?? [], local);
  if (values['max-backend-connections'] !== undefined) {
    if (!proxysql) throw new BenchArgError('--max-backend-connections needs --proxysql FILE (a proxysql binary).');
    proxysql.maxBackendConnectionsPerServer = parseRange(values['max-backend-connections'], '--max-backend-connections', RANGES.maxBackendConnectionsPerServer);
  }
  if (values['read-consistency'] !== undefined) {
    if (!proxysql) throw new BenchArgError('--read-consistency needs --proxysql FILE (a proxysql binary).');
    check('--read-consistency', readConsistencyProblem(values['read-consistency']), toArgError);
    proxysql.readConsistency = values['read-consistency'] as `${ReadConsistency}`;
  }
  if (values['keep-connection-for-last-insert-id']) {
    if (!proxysql) throw new BenchArgError('--keep-connection-for-last-insert-id needs --proxysql FILE (a proxysql binary).');
    proxysql.keepConnectionForLastInsertId = true;
  }
  if (values['idle-threads'] !== undefined) {
    if (!proxysql) throw new BenchArgError('--idle-threads needs --proxysql FILE (a proxysql binary).');
    if (values['idle-threads'] !== 'on' && values['idle-threads'] !== 'off') {
      throw new BenchArgError(`--idle-threads '${values['idle-threads']}' is not on or off.`);
    }
    proxysql.idleThreads = values['idle-threads'] === 'on';
  }
  if (proxysql && writerDiscovery !== 'none') {
    throw new BenchArgError('--writer-discovery has no use with --proxysql: finding the writer is ProxySQL’s job. Drop it.');
  }

  return {
    target,
    local,
    user: values.user ?? 'bench',
    password: local ? '' : passwordFromEnv(values['password-env'], '--password-env', env),
    database: validateDatabase(values.database ?? 'bench'),
    sessions,
    mode,
    mix,
    durationS,
    thinkMs,
    rampS,
    admin,
    also,
    failover,
    failoverAtS,
    writerDiscovery,
    json: values.json,
    setup: values['no-setup'] !== true,
    queryTimeoutMs,
    statements,
    statefulPercent,
    proxysql,
  };
}

function parseProxySqlOptions(
  bin: string | undefined,
  backendTls: string | undefined,
  vars: string[],
  local: boolean,
): ProxySqlRunOptions | undefined {
  if (bin === undefined) {
    if (backendTls !== undefined || vars.length > 0) {
      throw new BenchArgError(`--${backendTls !== undefined ? 'backend-tls' : 'proxysql-var'} needs --proxysql FILE (a proxysql binary).`);
    }
    return undefined;
  }
  if (!local) {
    throw new BenchArgError('--proxysql needs --local: it puts a real ProxySQL in front of the local topology. For a deployed proxy, use --target.');
  }
  if (bin === '') throw new BenchArgError('--proxysql needs the path of a proxysql binary.');
  if (backendTls !== undefined && backendTls !== 'on' && backendTls !== 'off') {
    throw new BenchArgError(`--backend-tls '${backendTls}' is not on or off.`);
  }
  const variables: Record<string, string | number> = {};
  for (const item of vars) {
    const m = /^([a-z][a-z0-9_]*)=(.*)$/.exec(item);
    if (!m || m[2] === '') {
      throw new BenchArgError(`--proxysql-var '${item}' is not NAME=VALUE with a mysql_variables name without 'mysql-', e.g. --proxysql-var threads=4.`);
    }
    const value = /^-?\d+$/.test(m[2]) ? Number(m[2]) : m[2];
    check(`--proxysql-var ${m[1]}`, mysqlVariableProblem(m[1], value)?.problem, toArgError);
    variables[m[1]] = value;
  }
  const options: ProxySqlRunOptions = { bin, backendTls: backendTls !== 'off', variables };
  return options;
}

function validateDatabase(name: string): string {
  // Used as an identifier in CREATE DATABASE / GRANT: the project's schema rule.
  check('--database', schemaProblem(name), toArgError);
  return name;
}
