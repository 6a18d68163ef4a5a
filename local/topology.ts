/**
 * A throw-away MariaDB topology (a primary, optionally a GTID replica) for tests, the CLI's `local` mode and
 * the benchmark. Each instance runs on 127.0.0.1 with its own random port, socket, pid file and data dir under
 * a private temp dir, so several topologies (and a system MariaDB on 3306) can run side by side.
 *
 * `mariadb-install-db` costs 4-5 s, so one pristine data dir is installed per machine and mariadbd version
 * into a cache dir and copied (`cp -a`) for each instance, which then starts in about a second.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { findExecutable, tail } from './files';
import { output } from './run';

const tailOfLog = (file: string): string => tail(file, 15, '(no error log)');

export interface MariaDbInstance {
  host: '127.0.0.1';
  port: number;
  dataDir: string;
  socket: string;
  pid: number;
  rootUser: 'root';
  rootPassword: string;
  /** Shuts the server down (SIGTERM, bounded wait, then SIGKILL) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface Topology {
  primary: MariaDbInstance;
  replica?: MariaDbInstance;
  /** With `tls`: the PEM file of the private CA that signed every instance's certificate. */
  caFile?: string;
  /** Stops every instance and removes the topology's private directory. Idempotent. */
  stop(): Promise<void>;
  /** waits until the replica has applied everything the primary has written (GTID), bounded by timeoutMs */
  waitForReplication(timeoutMs?: number): Promise<void>;
}

export interface StartTopologyOptions {
  /** Also start a read-only GTID replica of the primary. @default false */
  replica?: boolean;
  /** Directory under which the topology's private temp dir is created. @default os.tmpdir() */
  baseDir?: string;
  log?: (msg: string) => void;
  /**
   * Offer TLS the way RDS and Aurora do: a certificate signed by a private CA (generated per topology with
   * the openssl CLI), TLS optional per connection unless an account says `REQUIRE SSL`. @default false
   */
  tls?: boolean;
}

export interface MariaDbBinaries {
  mariadbd: string;
  installDb: string;
  client: string;
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/usr/local/mysql/bin'];
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

const which = (name: string): string | undefined => findExecutable(name, process.env.PATH, SEARCH_DIRS);

/** Locates the MariaDB server, installer and client, or throws an error that says how to install them. */
export function findMariaDbBinaries(): MariaDbBinaries {
  const mariadbd = which('mariadbd');
  const installDb = which('mariadb-install-db');
  const client = which('mariadb');
  const missing = [
    mariadbd ? undefined : 'mariadbd',
    installDb ? undefined : 'mariadb-install-db',
    client ? undefined : 'mariadb (client)',
  ].filter((m): m is string => m !== undefined);
  if (!mariadbd || !installDb || !client) {
    throw new Error(
      `MariaDB is needed by the local topology but ${missing.join(', ')} ${missing.length > 1 ? 'were' : 'was'} not found ` +
        `on PATH or in ${SEARCH_DIRS.join(', ')}. Install it with 'bash scripts/ensure-mariadb.sh' ` +
        `(Debian/Ubuntu: apt-get install -y --no-install-recommends mariadb-server mariadb-client).`,
    );
  }
  return { mariadbd, installDb, client };
}

async function mariadbdVersion(mariadbd: string): Promise<string> {
  const out = await output(mariadbd, ['--version']);
  const match = /Ver\s+(\S+)/.exec(out);
  return (match ? match[1] : out.trim()).replace(/[^A-Za-z0-9._-]/g, '_');
}

const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Settings shared by the template install and every instance: small, fast, private. */
function baseConfig(): string[] {
  return [
    'innodb_buffer_pool_size=32M',
    // Small redo log: the template is copied per instance, and the default 96M would dominate the copy.
    'innodb_log_file_size=8M',
    'performance_schema=OFF',
    'skip-name-resolve',
    'max_connections=2000',
    'character-set-server=utf8mb4',
    'collation-server=utf8mb4_general_ci',
  ];
}

/**
 * Why the cached template at `dir` may not be reused, or undefined when it may: the shared temp dir is anyone's, so
 * another user could have put a data dir there first (a root account with a password they know, say) that every
 * instance would be copied from. It must be a real directory (not a symlink), owned by `uid`, and writable by
 * nobody else; its entries were then made by `uid` alone.
 */
export function templateDirProblem(dir: string, uid: number): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (stat.isSymbolicLink()) return 'is a symbolic link';
  if (!stat.isDirectory()) return 'is not a directory';
  if (stat.uid !== uid) return `belongs to uid ${stat.uid}, not to this user (uid ${uid})`;
  if ((stat.mode & 0o022) !== 0) return `is writable by its group or by others (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return undefined;
}

/** The template at `dir`, or an error saying why another user's (or a writable) one is not used, and what to do. */
function checkedTemplate(dir: string): string {
  const problem = templateDirProblem(dir, typeof process.getuid === 'function' ? process.getuid() : -1);
  if (problem === undefined) return dir;
  throw new Error(
    `refusing to use the cached MariaDB data dir ${dir}: it ${problem}, so someone else may have made or changed it. ` +
      'Remove it (it is reinstalled on the next run), or set TMPDIR to a directory only you can write',
  );
}

/** The pristine data dir for this mariadbd version, installed once per machine (atomically: temp dir + rename). */
async function ensureTemplate(bins: MariaDbBinaries, log: (msg: string) => void): Promise<string> {
  const template = path.join(os.tmpdir(), `serverless-proxysql-mariadb-template-${await mariadbdVersion(bins.mariadbd)}`);
  // lstat first: a symlink planted at the name is refused, not followed
  const planted = fs.lstatSync(template, { throwIfNoEntry: false });
  if (planted !== undefined && (planted.isSymbolicLink() || fs.existsSync(path.join(template, 'mysql')))) return checkedTemplate(template);
  log(`installing a pristine MariaDB data dir into ${template} (once per machine)`);
  const work = fs.mkdtempSync(`${template}.installing-`);
  try {
    const dataDir = path.join(work, 'data');
    const cnf = path.join(work, 'install.cnf');
    fs.writeFileSync(cnf, ['[mariadbd]', ...baseConfig(), ''].join('\n'));
    await output(
      bins.installDb,
      [
        `--defaults-file=${cnf}`,
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...(runningAsRoot ? ['--user=root'] : []),
      ],
      { timeoutMs: 120_000 },
    );
    // Ours alone: mariadb-install-db may leave the data dir 0755; nothing in it needs more.
    fs.chmodSync(dataDir, 0o700);
    try {
      fs.renameSync(dataDir, template);
    } catch (err) {
      // Another process won the race: its template is complete (rename is atomic), use it if it is ours.
      if (!fs.existsSync(path.join(template, 'mysql'))) throw err;
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return checkedTemplate(template);
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free TCP port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- cleanup of instances left running when the process dies --------------------------------------------

interface LiveInstance {
  pid: number;
  dir: string;
}
const live = new Set<LiveInstance>();
let exitHooksInstalled = false;

function killLiveSync(): void {
  for (const inst of live) {
    try {
      process.kill(inst.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    fs.rmSync(inst.dir, { recursive: true, force: true });
  }
  live.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killLiveSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killLiveSync();
      // Restore the default action and re-raise, so the process still dies of the signal, unless the
      // program (e.g. the CLI) has its own handler for it: then exiting is its call.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * A detached shell that kills mariadbd and removes its dir if this Node process dies without running its exit
 * hooks (SIGKILL, OOM): the exit hooks alone cannot prevent orphans then.
 */
function startWatchdog(mariadbPid: number, dir: string): ChildProcess {
  const script =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; ' +
    'if kill -0 "$2" 2>/dev/null; then kill -9 "$2"; rm -rf "$3"; rmdir "$(dirname "$3")" 2>/dev/null; fi; true';
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), String(mariadbPid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}

// ---- one instance -----------------------------------------------------------------------------------------

interface InstanceOptions {
  bins: MariaDbBinaries;
  template: string;
  dir: string;
  name: string;
  serverId: number;
  readOnly: boolean;
  log: (msg: string) => void;
  tls?: TlsFiles;
}

/** The certificate files a TLS-capable instance is started with. */
interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A private CA and one server certificate for 127.0.0.1 (RSA 2048, 2 days), made with the openssl CLI: what
 * an RDS instance presents, minus the public chain. The key files are 0600 in the topology's private dir.
 */
async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  const file = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => output('openssl', args, { timeoutMs: 60_000 });
  try {
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=serverless-proxysql test CA',
      '-keyout', file('ca-key.pem'), '-out', file('ca.pem')]);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server-key.pem'), '-out', file('server.csr')]);
    fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    await openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial',
      '-days', '2', '-extfile', file('server.ext'), '-out', file('server-cert.pem')]);
  } catch (err) {
    throw new Error(`could not make the test TLS certificates with the openssl CLI (apt-get install openssl): ${(err as Error).message}`);
  }
  for (const name of ['ca-key.pem', 'server-key.pem']) fs.chmodSync(file(name), 0o600);
  return { ca: file('ca.pem'), cert: file('server-cert.pem'), key: file('server-key.pem') };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function startInstance(opts: InstanceOptions): Promise<MariaDbInstance> {
  const { bins, dir, name, log } = opts;
  fs.mkdirSync(dir, { recursive: true });
  const dataDir = path.join(dir, 'data');
  await output('cp', ['-a', opts.template, dataDir]);
  const socket = path.join(dir, 'mariadb.sock');
  const pidFile = path.join(dir, 'mariadb.pid');
  const errorLog = path.join(dir, 'error.log');
  const cnf = path.join(dir, 'my.cnf');

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    fs.writeFileSync(
      cnf,
      [
        '[mariadbd]',
        `datadir=${dataDir}`,
        `port=${port}`,
        'bind-address=127.0.0.1',
        `socket=${socket}`,
        `pid-file=${pidFile}`,
        `log-error=${errorLog}`,
        `server_id=${opts.serverId}`,
        ...baseConfig(),
        // Binary log on every instance (a replica can be promoted), row based, replica writes logged too.
        `log_bin=${path.join(dir, 'binlog')}`,
        'binlog_format=ROW',
        'log_slave_updates=ON',
        ...(opts.readOnly ? ['read_only=ON'] : []),
        ...(opts.tls ? [`ssl_ca=${opts.tls.ca}`, `ssl_cert=${opts.tls.cert}`, `ssl_key=${opts.tls.key}`] : []),
        '',
      ].join('\n'),
    );
    // --defaults-file must be the first argument (mariadbd rejects it elsewhere).
    const args = [`--defaults-file=${cnf}`, ...(runningAsRoot ? ['--user=root'] : [])];
    const child = spawn(bins.mariadbd, args, { stdio: 'ignore' });
    if (child.pid === undefined) throw new Error(`could not spawn ${bins.mariadbd}`);
    const pid = child.pid;
    const entry: LiveInstance = { pid, dir };
    live.add(entry);
    installExitHooks();
    const watchdog = startWatchdog(pid, dir);

    const deadline = Date.now() + START_TIMEOUT_MS;
    let ready = false;
    while (!exited(child) && Date.now() < deadline) {
      try {
        const conn = await mysql.createConnection({ socketPath: socket, user: 'root', password: '' });
        await conn.end();
        ready = true;
        break;
      } catch {
        await sleep(100);
      }
    }
    if (!ready) {
      const errorTail = tailOfLog(errorLog);
      if (!exited(child)) child.kill('SIGKILL');
      await waitForExit(child, STOP_TIMEOUT_MS);
      live.delete(entry);
      killWatchdog(watchdog);
      // The port can be taken between picking and binding: pick another.
      if (attempt < 3 && /Address already in use|Can't start server: Bind/i.test(errorTail)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `MariaDB instance '${name}' did not start within ${START_TIMEOUT_MS} ms (or exited). Last lines of ${errorLog}:\n${errorTail}`,
      );
    }

    // Root password over the socket; root@127.0.0.1 for TCP (skip-name-resolve: 'localhost' never matches TCP).
    // Not binlogged: a replica creates its own root and must not replay these.
    const rootPassword = randomBytes(18).toString('base64url');
    const conn = await mysql.createConnection({ socketPath: socket, user: 'root', password: '' });
    try {
      await conn.query('SET SESSION sql_log_bin = 0');
      await conn.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'");
      await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
      // mariadb-install-db also creates passwordless root@<hostname> and root@::1. They are removed from the
      // grant table directly: with skip-name-resolve, DROP/ALTER USER refuse the hostname account.
      await conn.query("DELETE FROM mysql.global_priv WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1')");
      await conn.query('FLUSH PRIVILEGES');
      for (const host of ['127.0.0.1', 'localhost']) {
        await conn.query("ALTER USER 'root'@? IDENTIFIED BY ?", [host, rootPassword]);
      }
      await conn.query('RESET MASTER');
    } finally {
      await conn.end();
    }
    log(`MariaDB '${name}' up on 127.0.0.1:${port} (pid ${pid})`);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        if (!exited(child)) {
          child.kill('SIGTERM');
          if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
            log(`MariaDB '${name}' did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM: SIGKILL`);
            child.kill('SIGKILL');
            await waitForExit(child, STOP_TIMEOUT_MS);
          }
        }
        killWatchdog(watchdog);
        live.delete(entry);
        fs.rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    };
    return { host: '127.0.0.1', port, dataDir, socket, pid, rootUser: 'root', rootPassword, stop };
  }
}

function killWatchdog(watchdog: ChildProcess): void {
  if (watchdog.pid !== undefined && !exited(watchdog)) {
    try {
      watchdog.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A root connection over TCP to one instance of a topology. */
export function rootConnection(inst: MariaDbInstance): Promise<mysql.Connection> {
  return mysql.createConnection({ host: inst.host, port: inst.port, user: inst.rootUser, password: inst.rootPassword });
}

async function startReplication(primary: MariaDbInstance, replica: MariaDbInstance, log: (msg: string) => void): Promise<void> {
  const replPassword = randomBytes(18).toString('base64url');
  const p = await rootConnection(primary);
  try {
    // Not binlogged: the replica needs no copy of its own replication account.
    await p.query('SET SESSION sql_log_bin = 0');
    await p.query("CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY ?", [replPassword]);
    await p.query("GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'");
  } finally {
    await p.end();
  }
  const r = await rootConnection(replica);
  try {
    await r.query("SET GLOBAL gtid_slave_pos = ''");
    await r.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='repl', ` +
        `MASTER_PASSWORD=${r.escape(replPassword)}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
    );
    await r.query('START SLAVE');
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const [rows] = await r.query('SHOW SLAVE STATUS');
      const status = (rows as mysql.RowDataPacket[])[0];
      if (status?.Slave_IO_Running === 'Yes' && status?.Slave_SQL_Running === 'Yes') break;
      if (Date.now() > deadline) {
        throw new Error(
          `replica did not connect to the primary within ${START_TIMEOUT_MS} ms: IO=${status?.Slave_IO_Running} ` +
            `SQL=${status?.Slave_SQL_Running} ${status?.Last_IO_Error ?? ''} ${status?.Last_SQL_Error ?? ''}`,
        );
      }
      await sleep(100);
    }
  } finally {
    await r.end();
  }
  log(`replica 127.0.0.1:${replica.port} replicates from primary 127.0.0.1:${primary.port} (GTID)`);
}

/** Starts a primary (and optionally a read-only GTID replica). Call `stop()` when done. */
export async function startTopology(opts: StartTopologyOptions = {}): Promise<Topology> {
  const log = opts.log ?? (() => undefined);
  const bins = findMariaDbBinaries();
  const template = await ensureTemplate(bins, log);
  const base = opts.baseDir ?? os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  const root = fs.mkdtempSync(path.join(base, 'serverless-proxysql-mariadb-'));
  fs.chmodSync(root, 0o700);

  const instances: MariaDbInstance[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Replica first, so it does not spend the primary's shutdown reconnecting.
      for (const inst of [...instances].reverse()) await inst.stop();
      fs.rmSync(root, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const tls = opts.tls ? await makeTlsFiles(root) : undefined;
    // Started in parallel; each is recorded as soon as it is up so a failure of the other still stops it.
    const launch = async (name: string, serverId: number, readOnly: boolean) => {
      const inst = await startInstance({ bins, template, dir: path.join(root, name), name, serverId, readOnly, log, tls });
      instances.push(inst);
      return inst;
    };
    const results = await Promise.allSettled([launch('primary', 1, false), ...(opts.replica ? [launch('replica', 2, true)] : [])]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [primary, replica] = results.map((r) => (r as PromiseFulfilledResult<MariaDbInstance>).value);
    if (replica) await startReplication(primary, replica, log);

    const waitForReplication = async (timeoutMs = 10_000): Promise<void> => {
      if (!replica) return;
      const p = await rootConnection(primary);
      let position: string;
      try {
        const [rows] = await p.query('SELECT @@GLOBAL.gtid_binlog_pos AS pos');
        position = String((rows as mysql.RowDataPacket[])[0].pos ?? '');
      } finally {
        await p.end();
      }
      if (position === '') return;
      const r = await rootConnection(replica);
      try {
        const [rows] = await r.query('SELECT MASTER_GTID_WAIT(?, ?) AS result', [position, timeoutMs / 1000]);
        const result = Number((rows as mysql.RowDataPacket[])[0].result);
        if (result !== 0) {
          const [st] = await r.query('SHOW SLAVE STATUS');
          const status = (st as mysql.RowDataPacket[])[0];
          throw new Error(
            `replica did not reach primary GTID position ${position} within ${timeoutMs} ms ` +
              `(replica at ${status?.Gtid_IO_Pos ?? '?'}, IO=${status?.Slave_IO_Running}, SQL=${status?.Slave_SQL_Running}, ` +
              `${status?.Last_SQL_Error || status?.Last_IO_Error || 'no replication error'})`,
          );
        }
      } finally {
        await r.end();
      }
    };

    return { primary, replica, caFile: tls?.ca, stop, waitForReplication };
  } catch (err) {
    await stop();
    throw err;
  }
}
