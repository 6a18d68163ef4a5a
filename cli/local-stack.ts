/**
 * One run of `local`: a MariaDB primary + GTID replica on loopback (local/topology.ts), the monitor and application
 * users created by the deploy's bootstrap code, the proxysql.cnf rendered by the deploy's model, ProxySQL
 * (./proxysql-process.ts) or the `docker run` line for the pinned image, and the demo API handler behind the
 * API Gateway stand-in (./http-bridge.ts). stop() undoes exactly what start got to, in reverse order.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { startTopology, Topology } from '../local/topology';
import { BootstrapLogger } from '../runtime/bootstrap/bootstrap';
import { createDemoHandler, DemoHandler } from '../runtime/demo/app';
import { ADMIN_PASSWORD_ENV, DEFAULT_MONITOR_USER, MONITOR_PASSWORD_ENV, PROXYSQL_ADMIN_USER, PROXYSQL_STATS_USER, STATS_PASSWORD_ENV } from '../src/constants';
import { SecretKind } from '../src/config/model';
import { secretValueProblem } from '../src/config/secrets';
import { CLI_NAME, EXIT_FAILURE } from './common';
import { createHttpApiServer } from './http-bridge';
import { createLocalUsers } from '../local/users';
import { dockerRunLine, portIsFree, proxysqlArgs, ProxySqlProcess } from './proxysql-process';
import { configSpecFromRenderArgs, fillSecrets, renderTemplate } from './render';
import { userPasswordEnv } from '../src/config/build';

/** The application user and schema `local` creates (what the demo API logs in as and writes to). */
export const LOCAL_APP_USER = 'app';
export const LOCAL_APP_SCHEMA = 'app';

export interface LocalOptions {
  readonly proxysqlPort: number;
  readonly adminPort: number;
  /** The binary to start, or undefined: print the docker line instead. */
  readonly proxysqlBin?: string;
  readonly httpPort: number;
  readonly printCredentials: boolean;
}

export interface LocalIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
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

class Cancelled extends Error {}

export class LocalStack {
  private dir?: string;
  private topology?: Topology;
  private proxysql?: ProxySqlProcess;
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

  /** Called by the signal handlers (`SIGINT received`) or the parent watch: ends the wait, or cancels the start at the next step. */
  requestStop(reason: string): void {
    if (this.stopRequested === undefined) this.progress(`${reason}: stopping`);
    this.stopRequested ??= reason;
    this.wake();
  }

  private checkCancelled(): void {
    if (this.stopRequested !== undefined) throw new Cancelled();
  }

  /** Starts everything, waits for a stop request, stops everything; resolves to the exit status. */
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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serverless-proxysql-local-'));
    this.dir = dir;
    fs.chmodSync(dir, 0o700);
    this.progress(`data dir ${dir}`);

    this.progress('starting MariaDB primary and replica on 127.0.0.1');
    this.topology = await startTopology({ replica: true, baseDir: dir, log: (message) => this.progress(message) });
    this.checkCancelled();
    const { primary } = this.topology;
    const replica = this.topology.replica;
    if (!replica) throw new Error('the local topology started without its replica');

    const passwords = {
      admin: generatePassword('admin'),
      // its own password: the read-only stats login never shares the admin's
      stats: generatePassword('stats'),
      monitor: generatePassword('monitor'),
      app: generatePassword('mysql_user'),
    };
    this.progress(`creating users '${DEFAULT_MONITOR_USER}' and '${LOCAL_APP_USER}' with the deploy's bootstrap code`);
    await createLocalUsers(primary, {
      monitorPassword: passwords.monitor,
      app: { username: LOCAL_APP_USER, password: passwords.app, schema: LOCAL_APP_SCHEMA },
      logger: this.bootstrapLogger(),
    });
    // The users exist on the replica too before anything reads there.
    await this.topology.waitForReplication();
    this.checkCancelled();

    // The deploy's model with local addresses; no TLS: the local MariaDB has no certificate.
    const proxysqlDataDir = path.join(dir, 'proxysql');
    fs.mkdirSync(proxysqlDataDir, { mode: 0o700 });
    const spec = configSpecFromRenderArgs([
      ...['--writer', `${primary.host}:${primary.port}`, '--reader', `${replica.host}:${replica.port}`, '--user', LOCAL_APP_USER],
      ...['--listen', `127.0.0.1:${options.proxysqlPort}`, '--admin', `127.0.0.1:${options.adminPort}`, '--datadir', proxysqlDataDir],
    ]);
    const localSpec = { ...spec, backend: { ...spec.backend, useTls: false } };
    const { text: config } = fillSecrets(renderTemplate(localSpec), {
      [ADMIN_PASSWORD_ENV]: passwords.admin,
      [STATS_PASSWORD_ENV]: passwords.stats,
      [MONITOR_PASSWORD_ENV]: passwords.monitor,
      // the only --user: position 0, as in the task
      [userPasswordEnv(0)]: passwords.app,
    });
    const configFile = path.join(dir, 'proxysql.cnf');
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

    const httpPort = await this.serveDemoApi(mysqlTarget, passwords.app);
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
        `password of ProxySQL '${PROXYSQL_STATS_USER}' (read-only): ${passwords.stats}`,
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
    this.progress(`starting ProxySQL: ${bin} ${proxysqlArgs(configFile, dataDir).join(' ')}`);
    this.proxysql = await ProxySqlProcess.start({
      bin,
      configFile,
      dataDir,
      logFile,
      login: { port: options.proxysqlPort, user: LOCAL_APP_USER, password: appPassword, database: LOCAL_APP_SCHEMA },
      checkCancelled: () => this.checkCancelled(),
      onUnexpectedExit: (how) => {
        if (this.stopRequested === undefined) this.io.stderr(`local: ProxySQL exited unexpectedly (${how}); see ${logFile}\n`);
      },
    });
    this.progress(`ProxySQL up on 127.0.0.1:${options.proxysqlPort} (pid ${this.proxysql.pid}), log ${logFile}`);
  }

  /** The demo handler behind the HTTP API stand-in on 127.0.0.1; resolves to the port it listens on. */
  private async serveDemoApi(target: { host: string; port: number }, appPassword: string): Promise<number> {
    const handler = createDemoHandler({
      host: target.host,
      port: target.port,
      database: LOCAL_APP_SCHEMA,
      getCredentials: async () => ({ username: LOCAL_APP_USER, password: appPassword }),
      logger: new Logger({ serviceName: 'serverless-proxysql-local-demo', logLevel: 'WARN' }),
    });
    this.handler = handler;
    const server = createHttpApiServer(handler, (message) => this.io.stderr(`local: ${message}\n`));
    this.server = server;
    const { httpPort } = this.options;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on 127.0.0.1:${httpPort} (${error.code ?? error.message}); choose another --http-port`)),
      );
      server.listen(httpPort, '127.0.0.1', () => resolve());
    });
    return (server.address() as net.AddressInfo).port;
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
      ['ProxySQL', async () => this.proxysql?.stop((message) => this.progress(message))],
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
