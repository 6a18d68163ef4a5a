/**
 * `local`: the whole stack on this machine (./local-stack.ts) until Ctrl-C. This file is the command: its option
 * table, the checks of its arguments, and the signal handling that turns Ctrl-C (SIGINT) or SIGTERM into a stop
 * of everything it started.
 */
import { findExecutable, isExecutable } from '../local/files';
import { PROXYSQL_ADMIN_PORT, PROXYSQL_IMAGE, PROXYSQL_MYSQL_PORT } from '../src/constants';
import { defineCommand, helpText, parseCommand } from './command-table';
import { CLI_NAME, parsePort, UsageError } from './common';
import { LOCAL_APP_SCHEMA, LOCAL_APP_USER, LocalIo, LocalOptions, LocalStack } from './local-stack';

export const LOCAL_COMMAND = defineCommand({
  name: 'local',
  summary: 'run a local MariaDB primary + replica, ProxySQL (or its docker line) and the demo API',
  usage: [`${CLI_NAME} local [options]`],
  description: `Runs the stack on this machine until Ctrl-C:
  - a MariaDB primary and a read-only GTID replica on 127.0.0.1 (random ports, private temp dir)
  - the monitor user and the application user '${LOCAL_APP_USER}' (schema '${LOCAL_APP_SCHEMA}'), created by the deploy's bootstrap code
  - proxysql.cnf rendered by the deploy's model, written (mode 0600) into the temp dir
  - ProxySQL, when a 'proxysql' binary is on PATH or given with --proxysql-bin; otherwise the
    'docker run' line for ${PROXYSQL_IMAGE} is printed and the demo API talks to the MariaDB primary directly
  - the demo API handler behind a local HTTP server that speaks API Gateway (HTTP API) events:
    POST /items {"name": "..."}, GET /items, GET /whoami
Ctrl-C, SIGTERM or SIGHUP stops everything it started and removes the temp dir. In the background, signal the pid
it prints first (under npx or npm run, $! is npm: local stops when npm does, a moment later).`,
  options: [
    { name: 'proxysql-port', value: 'PORT', default: String(PROXYSQL_MYSQL_PORT), help: "ProxySQL's MySQL port on 127.0.0.1" },
    { name: 'admin-port', value: 'PORT', default: String(PROXYSQL_ADMIN_PORT), help: "ProxySQL's admin port on 127.0.0.1" },
    { name: 'proxysql-bin', value: 'FILE', defaultText: "'proxysql' on PATH, if any", help: 'the proxysql binary to run' },
    { name: 'http-port', value: 'PORT', default: '0', defaultText: '0: any free port', help: "the demo API's HTTP port on 127.0.0.1" },
    { name: 'print-credentials', help: 'print the generated passwords (local convenience; they are never printed otherwise)' },
  ],
  epilogue: `Example:
  ${CLI_NAME} local --http-port 8080
  curl -s -XPOST localhost:8080/items -d '{"name":"first"}'; curl -s localhost:8080/items`,
});

/** Parses `local`'s arguments, or undefined for --help. Throws {@link UsageError}. */
export function parseLocalArgs(args: readonly string[], env: NodeJS.ProcessEnv): LocalOptions | undefined {
  const parsed = parseCommand(LOCAL_COMMAND, args);
  if (parsed.help) return undefined;
  const proxysqlPort = parsePort(parsed.withDefault('proxysql-port'), '--proxysql-port');
  const adminPort = parsePort(parsed.withDefault('admin-port'), '--admin-port');
  const httpPort = parsePort(parsed.withDefault('http-port'), '--http-port', true);
  if (proxysqlPort === adminPort) {
    throw new UsageError(`--proxysql-port and --admin-port are both ${proxysqlPort}; give them different ports`);
  }
  if (httpPort !== 0 && (httpPort === proxysqlPort || httpPort === adminPort)) {
    throw new UsageError(`--http-port ${httpPort} is also a ProxySQL port; give it another port (or 0 for any free one)`);
  }
  const binText = parsed.string('proxysql-bin');
  if (binText !== undefined && !isExecutable(binText)) {
    throw new UsageError(`--proxysql-bin '${binText}' is not an executable file; give the path of the proxysql binary`);
  }
  return {
    proxysqlPort,
    adminPort,
    proxysqlBin: binText ?? findExecutable('proxysql', env.PATH),
    httpPort,
    printCredentials: parsed.flag('print-credentials'),
  };
}

/** `local`: resolves to the exit status once everything it started has been stopped. */
export async function localCommand(args: readonly string[], io: LocalIo): Promise<number> {
  let options: LocalOptions | undefined;
  try {
    options = parseLocalArgs(args, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${CLI_NAME} local: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
  if (options === undefined) {
    io.stdout(helpText(LOCAL_COMMAND));
    return 0;
  }
  const stack = new LocalStack(options, io);
  const onSignal = (signal: NodeJS.Signals) => stack.requestStop(`${signal} received`);
  // Installed before anything starts, so an early Ctrl-C still cleans up and exits 0. SIGHUP too: a background
  // `local &` gets it when its terminal closes, and without a handler of ours the MariaDB harness's own would kill
  // the servers and re-raise it, leaving the data dir behind.
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  io.stdout(`local: pid ${process.pid}; Ctrl-C, or kill -TERM ${process.pid}, stops everything it starts\n`);
  const parentWatch = watchNpmParent(io.env, () => stack.requestStop(NPM_PARENT_GONE));
  try {
    return await stack.run();
  } finally {
    clearInterval(parentWatch);
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  }
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const NPM_PARENT_GONE = 'the npm process that started it is gone (npx or npm run stops its shell, not this process)';

/**
 * Under `npx serverless-proxysql local &` (or `npm run cli -- local &`) `$!` is npm, not this process: npm passes
 * SIGINT/SIGTERM to the shell it started us from, and that shell dies without passing it on, so this process would
 * run on with nobody to stop it. When npm started us (npm sets npm_lifecycle_event) and our parent goes away, stop as
 * for a signal. Anywhere else a new parent means nohup or a daemonizing shell: keep running.
 */
export function watchNpmParent(env: NodeJS.ProcessEnv, stop: () => void, intervalMs = 500): NodeJS.Timeout | undefined {
  if (env.npm_lifecycle_event === undefined) return undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      stop();
    }
  }, intervalMs);
  timer.unref();
  return timer;
}
