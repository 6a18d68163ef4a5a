/**
 * A local ProxySQL as `local` runs it: the container entrypoint's flags, started as its own process group, ready
 * once a real login through it reaches the backend, stopped with SIGTERM and then SIGKILL of the whole group.
 * Also the `docker run` line for the pinned image.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as mysql from 'mysql2/promise';
import { tail } from '../local/files';
import { PROXYSQL_CONFIG_PATH, PROXYSQL_DATADIR, PROXYSQL_IMAGE } from '../src/constants';

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The flags a task passes to ProxySQL (runtime/proxysql/entrypoint.sh plus the task's default command): foreground,
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

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export interface ProxySqlStartOptions {
  readonly bin: string;
  readonly configFile: string;
  readonly dataDir: string;
  /** ProxySQL's stdout and stderr (opened 0600). */
  readonly logFile: string;
  /** The login that proves ProxySQL is ready: through its MySQL port to the backend. */
  readonly login: { readonly port: number; readonly user: string; readonly password: string; readonly database: string };
  /** Throws to give up the start (a stop was requested); called between attempts. */
  checkCancelled(): void;
  /** Told when ProxySQL exits after it was ready, unless stop() was called. */
  onUnexpectedExit(how: string): void;
}

/** A running ProxySQL in its own process group. */
export class ProxySqlProcess {
  private stopping = false;

  private constructor(private readonly child: ChildProcess) {}

  get pid(): number | undefined {
    return this.child.pid;
  }

  private get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Spawns ProxySQL and resolves once a login through it runs `SELECT 1`; stops it again on failure. */
  static async start(options: ProxySqlStartOptions): Promise<ProxySqlProcess> {
    const log = fs.openSync(options.logFile, 'a', 0o600);
    // Own process group, so stop() reaches ProxySQL's angel process and its worker together.
    const child = spawn(options.bin, proxysqlArgs(options.configFile, options.dataDir), { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    const proxysql = new ProxySqlProcess(child);
    try {
      await proxysql.waitReady(options);
    } catch (error) {
      await proxysql.stop();
      throw error;
    }
    child.once('exit', (code, signal) => {
      if (!proxysql.stopping) options.onUnexpectedExit(String(code ?? signal));
    });
    return proxysql;
  }

  private async waitReady(options: ProxySqlStartOptions): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError = '';
    while (Date.now() < deadline) {
      options.checkCancelled();
      if (this.exited) {
        throw new Error(
          `ProxySQL exited (${this.child.exitCode ?? this.child.signalCode}) while starting; last lines of ${options.logFile}:\n${tail(options.logFile)}`,
        );
      }
      try {
        // A real login through ProxySQL to the backend: listener up, user loaded, backend reachable.
        const { port, user, password, database } = options.login;
        const conn = await mysql.createConnection({ host: '127.0.0.1', port, user, password, database, connectTimeout: 2000 });
        try {
          await conn.query('SELECT 1');
        } finally {
          await conn.end();
        }
        return;
      } catch (error) {
        lastError = (error as Error).message;
        await sleep(250);
      }
    }
    throw new Error(`ProxySQL did not accept a login within ${START_TIMEOUT_MS} ms (${lastError}); last lines of ${options.logFile}:\n${tail(options.logFile)}`);
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exited) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-(this.child.pid as number), signal);
    } catch {
      // the group is gone
    }
  }

  /** SIGTERM to the group, SIGKILL after STOP_TIMEOUT_MS; `progress` hears about the escalation. */
  async stop(progress: (message: string) => void = () => undefined): Promise<void> {
    this.stopping = true;
    if (this.child.pid === undefined) return;
    if (!this.exited) {
      this.signalGroup('SIGTERM');
      if (!(await this.waitExit(STOP_TIMEOUT_MS))) {
        progress(`ProxySQL did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM: SIGKILL`);
        this.signalGroup('SIGKILL');
        await this.waitExit(STOP_TIMEOUT_MS);
      }
    }
    // The angel's worker may outlive the angel by a moment.
    this.signalGroup('SIGKILL');
  }
}
