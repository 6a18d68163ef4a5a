/**
 * Shared pieces of the CLI: the result type of a command, usage errors, and the checks of option values
 * (endpoints, ports, user names) by the project's rules (src/config/rules.ts), their messages prefixed with the
 * option. The option tables are in ./command-table.ts, the `--config` file in ./config-file.ts.
 */
import { MYSQL_DEFAULT_PORT } from '../src/constants';
import { HostPort } from '../src/config/build';
import {
  check,
  Finding,
  managedUsernameProblem,
  ManagedUserContext,
  parseEndpoint,
  parsePort as parsePortRule,
  Problem,
  unwrap,
  usernameProblem,
} from '../src/config/rules';

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

/** A UsageError from a rule's message (src/config/rules.ts): the CLI names the option, the rule says the rest. */
const usage = (message: string): Error => new UsageError(message);

/** Throws the rule's problem, prefixed with the option, as a {@link UsageError}. */
export function checkOption(option: string, problem: Problem | Finding): void {
  check(option, problem, usage);
}

/** `HOST:PORT` or `HOST` (port `defaultPort`), by the project's endpoint rule: a DNS name or IPv4 address, a port 1-65535. */
export function parseHostPort(text: string, option: string, defaultPort: number = MYSQL_DEFAULT_PORT): HostPort {
  return unwrap(option, parseEndpoint(text, defaultPort), usage);
}

/** A port option by the project's port rule (`allowZero` for "any free port"). */
export function parsePort(text: string, option: string, allowZero = false): number {
  return unwrap(option, parsePortRule(text, { allowZero }), usage);
}

/** A user name by the project's syntax rule (a user the CLI does not create, e.g. explain --user). */
export function checkUserName(name: string, option: string): string {
  checkOption(option, usernameProblem(name));
  return name;
}

/** A user the deploy creates or serves (render's --user and --monitor-user): also not reserved, not the monitor's name. */
export function checkManagedUserName(name: string, option: string, context: ManagedUserContext = {}): string {
  checkOption(option, managedUsernameProblem(name, context));
  return name;
}

/** The first value that appears twice, or undefined. */
export function firstDuplicate(values: readonly string[]): string | undefined {
  return values.find((value, index) => values.indexOf(value) !== index);
}
