/**
 * `local`: the whole stack on this machine. A MariaDB primary + GTID replica on loopback (local/topology.ts),
 * the monitor and application users created by the deploy's own bootstrap code (bootstrapDatabase), the
 * proxysql.cnf rendered by the deploy's own model, ProxySQL started from a local binary (or the exact
 * `docker run` line for the pinned image), and the demo API handler served over HTTP as API Gateway would call
 * it. Ctrl-C (SIGINT) or SIGTERM stops everything it started and removes its data.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import * as mysql from 'mysql2/promise';
import { startTopology, Topology } from '../local/topology';
import { bootstrapDatabase, BootstrapLogger } from '../runtime/bootstrap/bootstrap';
import { createDemoHandler, DemoHandler } from '../runtime/demo/app';
import {
  ADMIN_PASSWORD_ENV,
  DEFAULT_MONITOR_USER,
  MONITOR_PASSWORD_ENV,
  PROXYSQL_ADMIN_PORT,
  PROXYSQL_ADMIN_USER,
  PROXYSQL_CONFIG_PATH,
  PROXYSQL_DATADIR,
  PROXYSQL_IMAGE,
  PROXYSQL_MYSQL_PORT,
} from '../src/constants';
import { SecretKind } from '../src/config/model';
import { secretValueProblem } from '../src/config/secrets';
import { defineCommand, helpText, parseCommand } from './command-table';
import { CLI_NAME, EXIT_FAILURE, parsePort, UsageError } from './common';
import { createHttpApiServer } from './http-bridge';
import { configSpecFromRenderArgs, fillSecrets, renderTemplate, userPasswordEnvName } from './render';

/** The application user and schema `local` creates (what the demo API logs in as and writes to). */
export const LOCAL_APP_USER = 'app';
export const LOCAL_APP_SCHEMA = 'app';

/**
 * The flags our container entrypoint passes to ProxySQL (runtime/proxysql/entrypoint.sh): foreground,
 * (re)load the config file on every start, idle client sessions on idle threads, no version phone-home.
 */
export function proxysqlArgs(configFile: string, dataDir: string): string[] {
  return ['-f', '--initial', '--idle-threads', '--no-version-check', '-c', configFile, '-D', dataDir];
}

/**
 * `docker run` for the pinned official image with the rendered file mounted. `--entrypoint proxysql` because
 * whether the image's own ENTRYPOINT or CMD starts ProxySQL is not confirmed for 3.0.12
 * (docs/research/proxysql-runtime.md §2). `-D` overrides the file's datadir (src/main.cpp reads `datadir`
 * from the file only when -D is absent), so the container keeps its own /var/lib/proxysql.
 */
export function dockerRunLine(configFile: string): string {
  return [
    'docker run --rm --name serverless-proxysql-local --network host',
    `-v ${shellQuote(configFile)}:${PROXYSQL_CONFIG_PATH}:ro`,
    `--entrypoint proxysql ${PROXYSQL_IMAGE}`,
    ...proxysqlArgs(PROXYSQL_CONFIG_PATH, PROXYSQL_DATADIR),
  ].join(' ');
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

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
Ctrl-C or SIGTERM stops everything it started and removes the temp dir.`,
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

export interface LocalOptions {
  readonly proxysqlPort: number;
  readonly adminPort: number;
  /** The binary to start, or undefined: print the docker line instead. */
  readonly proxysqlBin?: string;
  readonly httpPort: number;
  readonly printCredentials: boolean;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

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
    proxysqlBin: binText ?? findOnPath('proxysql', env),
    httpPort,
    printCredentials: parsed.flag('print-credentials'),
  };
}

/**
 * A password every secret kind accepts: base64url is letters, digits, - and _, none of which ProxySQL's
 * loader or admin_credentials treat specially (src/config/secrets.ts FORBIDDEN_CHARACTERS); checked anyway.
 */
export function generatePassword(kind: SecretKind): string {
  for (;;) {
    const candidate = randomBytes(24).toString('base64url');
    if (secretValueProblem(kind, candidate) === undefined) return candidate;
  }
}

export interface LocalIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

class Cancelled extends Error {}

const PROXYSQL_START_TIMEOUT_MS = 30_000;
const PROXYSQL_STOP_TIMEOUT_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One run of `local`: what it started, so that stop() can undo exactly that. */
class LocalStack {
  private dir?: string;
  private topology?: Topology;
  private proxysql?: ChildProcess;
  private handler?: DemoHandler;
  private server?: http.Server;
  private stopRequested?: string;
  private wake: () => void = () => undefined;

  constructor(
    private readonly options: LocalOptions,
    private readonly io: LocalIo,
  ) {}

  private progress(message: string): void {
    this.io.stdout(`local: ${message}\n`);
  }

  /** Called by the signal handlers: ends the wait, or cancels the start at the next step. */
  requestStop(signal: string): void {
    if (this.stopRequested === undefined) this.progress(`${signal} received: stopping`);
    this.stopRequested ??= signal;
    this.wake();
  }

  private checkCancelled(): void {
    if (this.stopRequested !== undefined) throw new Cancelled();
  }

  async run(): Promise<number> {
    try {
      await this.start();
    } catch (error) {
      // After a stop request a failing step is the stop's doing (the harness kills MariaDB on SIGINT): not an error.
      if (!(error instanceof Cancelled) && this.stopRequested === undefined) {
        this.io.stderr(`${CLI_NAME} local: ${error instanceof Error ? error.message : String(error)}\n`);
        await this.stop();
        return EXIT_FAILURE;
      }
      await this.stop();
      return 0;
    }
    if (this.stopRequested === undefined) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    await this.stop();
    return 0;
  }

  private async start(): Promise<void> {
    const { options } = this;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serverless-proxysql-local-'));
    fs.chmodSync(this.dir, 0o700);
    this.progress(`data dir ${this.dir}`);

    this.progress('starting MariaDB primary and replica on 127.0.0.1');
    this.topology = await startTopology({ replica: true, baseDir: this.dir, log: (message) => this.progress(message) });
    this.checkCancelled();
    const { primary } = this.topology;
    const replica = this.topology.replica;
    if (!replica) throw new Error('the local topology started without its replica');

    const passwords = {
      admin: generatePassword('admin'),
      monitor: generatePassword('monitor'),
      app: generatePassword('mysql_user'),
    };
    this.progress(`creating users '${DEFAULT_MONITOR_USER}' and '${LOCAL_APP_USER}' with the deploy's bootstrap code`);
    await bootstrapDatabase({
      host: primary.host,
      port: primary.port,
      admin: { username: primary.rootUser, password: primary.rootPassword },
      monitor: { username: DEFAULT_MONITOR_USER, password: passwords.monitor },
      users: [{ username: LOCAL_APP_USER, password: passwords.app, schema: LOCAL_APP_SCHEMA, privileges: ['ALL PRIVILEGES'] }],
      logger: this.bootstrapLogger(),
    });
    // The users exist on the replica too before anything reads there.
    await this.topology.waitForReplication();
    this.checkCancelled();

    // The deploy's model with local addresses; no TLS: the local MariaDB has no certificate.
    const proxysqlDataDir = path.join(this.dir, 'proxysql');
    fs.mkdirSync(proxysqlDataDir, { mode: 0o700 });
    const spec = configSpecFromRenderArgs([
      '--writer',
      `${primary.host}:${primary.port}`,
      '--reader',
      `${replica.host}:${replica.port}`,
      '--user',
      LOCAL_APP_USER,
      '--listen',
      `127.0.0.1:${options.proxysqlPort}`,
      '--admin',
      `127.0.0.1:${options.adminPort}`,
      '--datadir',
      proxysqlDataDir,
    ]);
    const localSpec = { ...spec, backend: { ...spec.backend, useTls: false } };
    const { text: config } = fillSecrets(renderTemplate(localSpec), {
      [ADMIN_PASSWORD_ENV]: passwords.admin,
      [MONITOR_PASSWORD_ENV]: passwords.monitor,
      [userPasswordEnvName(LOCAL_APP_USER)]: passwords.app,
    });
    const configFile = path.join(this.dir, 'proxysql.cnf');
    fs.writeFileSync(configFile, config, { mode: 0o600 });
    fs.chmodSync(configFile, 0o600);
    this.progress(`wrote ${configFile} (mode 0600; it holds the generated passwords)`);

    let mysqlTarget: { host: string; port: number; via: string };
    if (options.proxysqlBin !== undefined) {
      await this.startProxySql(options.proxysqlBin, configFile, proxysqlDataDir, passwords.app);
      mysqlTarget = { host: '127.0.0.1', port: options.proxysqlPort, via: 'through ProxySQL' };
    } else {
      this.progress('no proxysql binary on PATH (or --proxysql-bin): not starting ProxySQL. To run it in Docker:');
      this.io.stdout(`  ${dockerRunLine(configFile)}\n`);
      this.progress('until then the demo API talks to the MariaDB primary directly, without ProxySQL');
      mysqlTarget = { host: primary.host, port: primary.port, via: 'direct to the MariaDB primary, no ProxySQL' };
    }
    this.checkCancelled();

    this.handler = createDemoHandler({
      host: mysqlTarget.host,
      port: mysqlTarget.port,
      database: LOCAL_APP_SCHEMA,
      getCredentials: async () => ({ username: LOCAL_APP_USER, password: passwords.app }),
      logger: new Logger({ serviceName: 'serverless-proxysql-local-demo', logLevel: 'WARN' }),
    });
    const handler = this.handler;
    this.server = createHttpApiServer(handler, (message) => this.io.stderr(`local: ${message}\n`));
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on 127.0.0.1:${options.httpPort} (${error.code ?? error.message}); choose another --http-port`)),
      );
      server.listen(options.httpPort, '127.0.0.1', () => resolve());
    });
    const httpPort = (server.address() as net.AddressInfo).port;

    const lines = [
      `MySQL (${mysqlTarget.via}): ${mysqlTarget.host}:${mysqlTarget.port} user '${LOCAL_APP_USER}' database '${LOCAL_APP_SCHEMA}'`,
      `MariaDB primary: ${primary.host}:${primary.port} (pid ${primary.pid})`,
      `MariaDB replica: ${replica.host}:${replica.port} (pid ${replica.pid}, read-only)`,
      `HTTP API: http://127.0.0.1:${httpPort} (POST /items {"name": "..."}, GET /items, GET /whoami)`,
      options.proxysqlBin !== undefined
        ? `ProxySQL admin: 127.0.0.1:${options.adminPort} user '${PROXYSQL_ADMIN_USER}' (pid ${this.proxysql?.pid})`
        : `ProxySQL admin: 127.0.0.1:${options.adminPort} user '${PROXYSQL_ADMIN_USER}' once you start the docker line above`,
      `config: ${configFile}`,
    ];
    if (options.printCredentials) {
      lines.push(
        `password of '${LOCAL_APP_USER}': ${passwords.app}`,
        `password of '${DEFAULT_MONITOR_USER}': ${passwords.monitor}`,
        `password of ProxySQL '${PROXYSQL_ADMIN_USER}': ${passwords.admin}`,
        `password of MariaDB 'root': ${primary.rootPassword} (primary), ${replica.rootPassword} (replica)`,
      );
    } else {
      lines.push('passwords: generated; shown only with --print-credentials (also in the config file above)');
    }
    this.io.stdout(lines.map((line) => `  ${line}\n`).join(''));
    this.progress('ready; press Ctrl-C to stop and remove everything');
  }

  private bootstrapLogger(): BootstrapLogger {
    // bootstrapDatabase scrubs secrets from what it logs; its info lines are progress here.
    return {
      info: (message) => this.progress(`bootstrap: ${message}`),
      warn: (message) => this.io.stderr(`local: bootstrap warning: ${message}\n`),
      error: (message) => this.io.stderr(`local: bootstrap error: ${message}\n`),
    };
  }

  private async startProxySql(bin: string, configFile: string, dataDir: string, appPassword: string): Promise<void> {
    const { options } = this;
    for (const port of [options.proxysqlPort, options.adminPort]) {
      if (!(await portIsFree(port))) {
        throw new Error(`port ${port} on 127.0.0.1 is in use; stop what uses it or choose --proxysql-port / --admin-port`);
      }
    }
    const logFile = path.join(this.dir as string, 'proxysql.log');
    const log = fs.openSync(logFile, 'a', 0o600);
    this.progress(`starting ProxySQL: ${bin} ${proxysqlArgs(configFile, dataDir).join(' ')}`);
    // Own process group, so stop() reaches ProxySQL's angel process and its worker together.
    const child = spawn(bin, proxysqlArgs(configFile, dataDir), { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    this.proxysql = child;
    const deadline = Date.now() + PROXYSQL_START_TIMEOUT_MS;
    let lastError = '';
    while (Date.now() < deadline) {
      this.checkCancelled();
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`ProxySQL exited (${child.exitCode ?? child.signalCode}) while starting; last lines of ${logFile}:\n${tail(logFile)}`);
      }
      try {
        // A real login through ProxySQL to the backend: listener up, user loaded, backend reachable.
        const conn = await mysql.createConnection({
          host: '127.0.0.1',
          port: options.proxysqlPort,
          user: LOCAL_APP_USER,
          password: appPassword,
          database: LOCAL_APP_SCHEMA,
          connectTimeout: 2000,
        });
        try {
          await conn.query('SELECT 1');
        } finally {
          await conn.end();
        }
        this.progress(`ProxySQL up on 127.0.0.1:${options.proxysqlPort} (pid ${child.pid}), log ${logFile}`);
        child.once('exit', (code, signal) => {
          if (this.stopRequested === undefined) this.io.stderr(`local: ProxySQL exited unexpectedly (${code ?? signal}); see ${logFile}\n`);
        });
        return;
      } catch (error) {
        lastError = (error as Error).message;
        await sleep(250);
      }
    }
    throw new Error(
      `ProxySQL did not accept a login within ${PROXYSQL_START_TIMEOUT_MS} ms (${lastError}); last lines of ${logFile}:\n${tail(logFile)}`,
    );
  }

  private async stopProxySql(): Promise<void> {
    const child = this.proxysql;
    if (!child || child.pid === undefined) return;
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    const waitExit = (ms: number) =>
      exited()
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), ms);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve(true);
            });
          });
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // the group is gone
      }
    };
    if (!exited()) {
      signalGroup('SIGTERM');
      if (!(await waitExit(PROXYSQL_STOP_TIMEOUT_MS))) {
        this.progress(`ProxySQL did not stop within ${PROXYSQL_STOP_TIMEOUT_MS} ms of SIGTERM: SIGKILL`);
        signalGroup('SIGKILL');
        await waitExit(PROXYSQL_STOP_TIMEOUT_MS);
      }
    }
    // The angel's worker may outlive the angel by a moment.
    signalGroup('SIGKILL');
    this.proxysql = undefined;
  }

  /** Stops whatever was started, in reverse order; every step runs even if an earlier one fails. */
  private async stop(): Promise<void> {
    const steps: Array<[string, () => Promise<void>]> = [
      [
        'HTTP server',
        async () => {
          const server = this.server;
          if (!server) return;
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      ],
      ['demo handler', async () => this.handler?.close()],
      ['ProxySQL', () => this.stopProxySql()],
      ['MariaDB', async () => this.topology?.stop()],
      [
        'data dir',
        async () => {
          if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
        },
      ],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.io.stderr(`local: could not stop the ${name}: ${(error as Error).message}\n`);
      }
    }
    this.progress(`stopped${this.dir ? `; removed ${this.dir}` : ''}`);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
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
  const onSignal = (signal: NodeJS.Signals) => stack.requestStop(signal);
  // Installed before anything starts, so an early Ctrl-C still cleans up and exits 0.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await stack.run();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
