/**
 * serverless-proxysql command line: `render`, `explain`, `local`, `doctor`. Launched by bin/serverless-proxysql.js.
 * User mistakes print one line that says what to fix and exit 2; failures exit 1; neither prints a stack.
 */
import * as fs from 'node:fs';
import { PROXYSQL_IMAGE } from '../src/constants';
import { CLI_NAME, CommandResult, EXIT_FAILURE, EXIT_USAGE, UsageError } from './common';
import { doctorCommand } from './doctor';
import { explainCommand } from './explain';
import { localCommand } from './local';
import { renderCommand } from './render';

export const MAIN_HELP = `Usage: ${CLI_NAME} <command> [options]

Commands:
  render    print the proxysql.cnf a deploy would use for a backend and users
  explain   show which query rule and hostgroup a SQL statement gets, and why
  local     run a local MariaDB primary + replica, ProxySQL (or its docker line) and the demo API
  doctor    read a ProxySQL admin interface: pool, multiplexing, pinned sessions and why, with fixes

Run '${CLI_NAME} <command> --help' for a command's options. ProxySQL image: ${PROXYSQL_IMAGE}.
`;

/** Output streams, replaceable in tests. */
export interface MainIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readStdin(): string;
}

const processIo: MainIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: () => fs.readFileSync(0, 'utf8'),
};

function emit(io: MainIo, result: CommandResult): number {
  if (result.stdout) io.stdout(result.stdout);
  if (result.stderr) io.stderr(result.stderr);
  return result.exitCode;
}

/** Runs one command line (without `node` and the script) and resolves to the exit status. */
export async function main(argv: readonly string[], io: MainIo = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'render':
      return emit(io, renderCommand(rest, env));
    case 'explain':
      return emit(io, explainCommand(rest, io));
    case 'local':
      return localCommand(rest, { stdout: io.stdout, stderr: io.stderr, env });
    case 'doctor':
      return doctorCommand(rest, { stdout: io.stdout, stderr: io.stderr, env });
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      if (command === undefined) {
        io.stderr(MAIN_HELP);
        return EXIT_USAGE;
      }
      io.stdout(MAIN_HELP);
      return 0;
    default:
      io.stderr(`${CLI_NAME}: unknown command '${command}'; the commands are render, explain and local (see --help)\n`);
      return EXIT_USAGE;
  }
}

/** Runs the process's command line and sets its exit status: the entry of bin/serverless-proxysql.js. */
export function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  return main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // A UsageError that escaped a command is still the user's to fix: no stack. Anything else is our bug.
      if (error instanceof UsageError) {
        process.stderr.write(`${CLI_NAME}: ${error.message}\n`);
        process.exitCode = error.exitCode;
      } else {
        process.stderr.write(`${CLI_NAME}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    },
  );
}

if (require.main === module) void run();
