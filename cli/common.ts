/**
 * Shared pieces of the CLI: the result type of a command, usage errors, and the checks of option values
 * (endpoints, ports, user names) with messages that name the option and say what to fix. The option tables are
 * in ./command-table.ts, the `--config` file in ./config-file.ts.
 */
import { MYSQL_DEFAULT_PORT, USERNAME_PATTERN } from '../src/constants';
import { HostPort } from '../src/config/build';

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
