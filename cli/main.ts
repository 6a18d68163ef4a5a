/**
 * serverless-proxysql command line: `render`, `explain`, `local`, `doctor`, `cost`. Launched by bin/serverless-proxysql.js.
 * User mistakes print one line that says what to fix and exit 2; failures exit 1; neither prints a stack.
 */
import * as fs from 'node:fs';
import { PROXYSQL_IMAGE } from '../src/constants';
import { CommandSpec, listInWords, mainHelpText } from './command-table';
import { CLI_NAME, CommandResult, EXIT_FAILURE, EXIT_USAGE, UsageError } from './common';
import { COST_COMMAND, costCommand } from './cost';
import { DOCTOR_COMMAND, doctorCommand } from './doctor';
import { EXPLAIN_COMMAND, explainCommand } from './explain';
import { LOCAL_COMMAND, localCommand } from './local';
import { RENDER_COMMAND, renderCommand } from './render';

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

type Run = (args: readonly string[], io: MainIo, env: NodeJS.ProcessEnv) => number | Promise<number>;

/** The commands, in the order help and docs list them: each one's table and how it runs. */
export const COMMANDS: ReadonlyArray<{ readonly spec: CommandSpec; readonly run: Run }> = [
  { spec: RENDER_COMMAND, run: (args, io, env) => emit(io, renderCommand(args, env)) },
  { spec: EXPLAIN_COMMAND, run: (args, io) => emit(io, explainCommand(args, io)) },
  { spec: LOCAL_COMMAND, run: (args, io, env) => localCommand(args, { stdout: io.stdout, stderr: io.stderr, env }) },
  { spec: DOCTOR_COMMAND, run: (args, io, env) => doctorCommand(args, { stdout: io.stdout, stderr: io.stderr, env }) },
  { spec: COST_COMMAND, run: (args, io) => emit(io, costCommand(args)) },
];

export const MAIN_HELP = mainHelpText(
  COMMANDS.map((c) => c.spec),
  `Run '${CLI_NAME} <command> --help' for a command's options. ProxySQL image: ${PROXYSQL_IMAGE}.`,
);

/** Runs one command line (without `node` and the script) and resolves to the exit status. */
export async function main(argv: readonly string[], io: MainIo = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (command) return command.run(rest, io, env);
  if (name === undefined) {
    io.stderr(MAIN_HELP);
    return EXIT_USAGE;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout(MAIN_HELP);
    return 0;
  }
  const names = listInWords(COMMANDS.map((c) => c.spec.name));
  io.stderr(`${CLI_NAME}: unknown command '${name}'; the commands are ${names} (see --help)\n`);
  return EXIT_USAGE;
}

/**
 * A reader that went away (`render | head -1`, a harness that stopped reading a background `local &`) must not crash
 * the command: Node emits EPIPE as an 'error' on process.stdout, which unhandled ends the process at once, and `local`
 * then leaves its data dir behind. The output is dropped instead; `local` runs until it is signalled.
 */
export function dropOutputToClosedReaders(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    });
  }
}

/** Runs the process's command line and sets its exit status: the entry of bin/serverless-proxysql.js. */
export function run(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  dropOutputToClosedReaders();
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
