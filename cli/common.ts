/**
 * Shared pieces of the CLI: the result type of a command, usage errors, and argument parsing on top of
 * `node:util` parseArgs (no dependency), with messages that say what to fix.
 */
import * as fs from 'node:fs';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { MYSQL_DEFAULT_PORT, USERNAME_PATTERN } from '../src/constants';
import { HostPort } from '../src/config/build';
import { ReplicationCheckType } from '../src/config/model';
import { QueryRuleInput } from '../src/config/query-rules';

/** What a command produced: printed by cli/main.ts, checked directly by the tests. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Exit status for a mistake in the command line or an input file: fix the input and run again. */
export const EXIT_USAGE = 2;
/** Exit status for a failure while doing the work (a bad secret value, a server that did not start). */
export const EXIT_FAILURE = 1;

/** A mistake in what the user gave us. The message says what to fix; no stack trace is printed. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const CLI_NAME = 'serverless-proxysql';

/** Environment variable names (POSIX portable, upper case as our placeholders require). */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

// DNS name or IPv4 address, the same rule the construct applies (src/proxysql-backend.ts).
const HOST_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** parseArgs in strict mode, its errors turned into usage errors that point at `--help`. */
export function parseCommandArgs(command: string, args: readonly string[], options: Options, allowPositionals = false): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    const raw = (error as Error).message;
    const message = raw
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/\s+/g, ' ')
      .replace(/\.$/, '');
    // A SQL statement that starts with '-' (a -- comment) looks like an option to parseArgs.
    const hint = allowPositionals && /Unknown option '-[^']*\s/.test(raw) ? "; put the statement after -- (e.g. explain -- '-- note …')" : '';
    throw new UsageError(`${message}${hint}. Run '${CLI_NAME} ${command} --help' for the options.`);
  }
}

export function stringOption(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(parsed: Parsed, name: string): string[] {
  const value = parsed.values[name];
  return Array.isArray(value) ? (value as string[]) : [];
}

export function flagOption(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** `HOST:PORT` or `HOST` (port `defaultPort`), validated: a DNS name or IPv4 address and a port 1-65535. */
export function parseHostPort(text: string, option: string, defaultPort: number = MYSQL_DEFAULT_PORT): HostPort {
  const match = /^([^:]*)(?::([^:]*))?$/.exec(text);
  if (!match) {
    throw new UsageError(`${option} '${text}': expected HOST:PORT (IPv6 addresses are not supported; use a DNS name)`);
  }
  const [, host, portText] = match;
  if (!HOST_PATTERN.test(host)) {
    throw new UsageError(`${option} '${text}': '${host}' is not a DNS name or IPv4 address; expected HOST:PORT`);
  }
  const port = portText === undefined ? defaultPort : parsePort(portText, `${option} '${text}'`);
  return { host, port };
}

export function parsePort(text: string, what: string, allowZero = false): number {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new UsageError(`${what}: the port must be a whole number from ${min} to 65535, got '${text}'`);
  }
  return port;
}

export function checkUserName(name: string, option: string): string {
  if (!USERNAME_PATTERN.test(name)) {
    throw new UsageError(`${option} '${name}': a user name is 1-32 letters, digits or underscores`);
  }
  return name;
}

/** The first value that appears twice, or undefined. */
export function firstDuplicate(values: readonly string[]): string | undefined {
  return values.find((value, index) => values.indexOf(value) !== index);
}

// ---- the --config file ------------------------------------------------------------------------------------

/** What `--config FILE` may hold: the settings that have no command-line flag. */
export interface ConfigFile {
  /** Custom query rules, evaluated before the default read/write split. */
  readonly queryRules?: readonly QueryRuleInput[];
  /** How ProxySQL tells the writer from replicas (endpoints backends). */
  readonly checkType?: `${ReplicationCheckType}`;
  /** Replicas lagging more than this are shunned. */
  readonly maxReplicaLagSeconds?: number;
  /** ProxySQL worker threads. */
  readonly threads?: number;
  /** Client connections one ProxySQL accepts. */
  readonly maxClientConnections?: number;
  /** Backend connections one ProxySQL opens to each database server at most. */
  readonly maxBackendConnectionsPerServer?: number;
  /** Keep the default read/write-split rules (the construct's `defaultQueryRules`). */
  readonly defaultQueryRules?: boolean;
  /** TLS from ProxySQL to the database (the construct's `backendTls`). */
  readonly tls?: boolean;
  /** Offer TLS to clients and require it of the application users. */
  readonly clientTls?: boolean;
  /** `mysql_variables` to add or override (names without the `mysql-` prefix). */
  readonly mysqlVariableOverrides?: Readonly<Record<string, string | number | boolean>>;
}

const CONFIG_KEYS = [
  'queryRules',
  'checkType',
  'maxReplicaLagSeconds',
  'threads',
  'maxClientConnections',
  'maxBackendConnectionsPerServer',
  'defaultQueryRules',
  'tls',
  'clientTls',
  'mysqlVariableOverrides',
] as const;
const CHECK_TYPES: readonly string[] = Object.values(ReplicationCheckType);

/**
 * Reads and checks a `--config` JSON file. Query rules are only checked for shape here; their patterns are
 * checked with RE2 by buildQueryRules, the same code the construct runs.
 */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${file}: not valid JSON (${(error as Error).message})`);
  }
  return checkConfigObject(data, `--config ${file}`);
}

export function checkConfigObject(data: unknown, where: string): ConfigFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`${where}: expected a JSON object with some of ${CONFIG_KEYS.join(', ')}`);
  }
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`${where}: unknown key '${key}'; the keys are ${CONFIG_KEYS.join(', ')}`);
    }
  }
  const wholeNumber = (key: string, min: number, max: number): number | undefined => {
    const value = record[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`${where}: ${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const boolean = (key: string): boolean | undefined => {
    const value = record[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw new UsageError(`${where}: ${key} must be true or false, got ${JSON.stringify(value)}`);
    return value;
  };
  const checkType = record.checkType;
  if (checkType !== undefined && !CHECK_TYPES.includes(checkType as string)) {
    throw new UsageError(`${where}: checkType must be one of ${CHECK_TYPES.join(', ')}, got ${JSON.stringify(checkType)}`);
  }
  const queryRules = record.queryRules;
  if (queryRules !== undefined) {
    if (!Array.isArray(queryRules)) throw new UsageError(`${where}: queryRules must be an array of rules`);
    queryRules.forEach((rule, i) => {
      if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
        throw new UsageError(`${where}: queryRules[${i}] must be an object like {"matchDigest": "^SELECT", "destination": "writer"}`);
      }
    });
  }
  const overrides = record.mysqlVariableOverrides;
  if (overrides !== undefined) {
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new UsageError(`${where}: mysqlVariableOverrides must be an object of variable name to value`);
    }
    for (const [name, value] of Object.entries(overrides)) {
      if (!/^[a-z][a-z0-9_]*$/.test(name)) {
        throw new UsageError(
          `${where}: mysqlVariableOverrides: '${name}' is not a variable name; write it in lower case without the 'mysql-' prefix`,
        );
      }
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw new UsageError(`${where}: mysqlVariableOverrides.${name} must be a string, number or boolean`);
      }
    }
  }
  return {
    queryRules: queryRules as QueryRuleInput[] | undefined,
    checkType: checkType as `${ReplicationCheckType}` | undefined,
    // Ranges as the construct checks them (src/proxysql-service.ts validateProps).
    maxReplicaLagSeconds: wholeNumber('maxReplicaLagSeconds', 1, 600),
    threads: wholeNumber('threads', 1, 256),
    maxClientConnections: wholeNumber('maxClientConnections', 1, 1_000_000),
    maxBackendConnectionsPerServer: wholeNumber('maxBackendConnectionsPerServer', 1, 100_000),
    defaultQueryRules: boolean('defaultQueryRules'),
    tls: boolean('tls'),
    clientTls: boolean('clientTls'),
    mysqlVariableOverrides: overrides as Record<string, string | number | boolean> | undefined,
  };
}
