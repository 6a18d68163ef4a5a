/**
 * A real ProxySQL in front of the local MariaDB topology, configured exactly as a task is: the deploy's own model
 * (src/config: buildProxySqlConfig + renderProxySqlConfig, endpoints backend, writer + replica), the users created
 * by the deploy's bootstrap code, and started through the container entrypoint (runtime/proxysql/entrypoint.sh
 * run as the task's entryPoint runs it, with the script, the template and the passwords in the environment as ECS
 * injects them, and a PATH without a MySQL client, as in the ProxySQL image). SIGTERM stops it at once, as in a task;
 * the task's drain is its agent container's (local/agent.ts, started beside it by the caller). Used by the opt-in
 * real-ProxySQL tests (`npm run test:proxysql`) and `npm run bench -- --local --proxysql PATH`.
 *
 * No ProxySQL ships with the project or CI: the caller names a binary (PROXYSQL_BIN / --proxysql). Everything
 * listens on 127.0.0.1 only, on ports picked free per run.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mysql from 'mysql2/promise';
import { findExecutable } from './files';
import { createLocalUsers } from './users';
import { buildProxySqlConfig, ProxySqlConfigSpec, userPasswordEnv } from '../src/config/build';
import type { DeployValue, ProxySqlConfig } from '../src/config/model';
import { renderProxySqlConfig } from '../src/config/render';
import { valueRuleText } from '../src/config/rules';
import { deployValueRuleEnv, sourceEnv } from '../src/config/secrets';
import { CONTAINER_SCRIPTS } from '../src/runtime-assets';
import {
  ADMIN_PASSWORD_ENV,
  CONFIG_TEMPLATE_ENV,
  DEPLOY_VALUE_ENV_PREFIX,
  DEFAULT_MONITOR_USER,
  ENTRYPOINT_ARGV,
  ENTRYPOINT_SCRIPT_ENV,
  IDLE_THREADS_COMMAND,
  MONITOR_PASSWORD_ENV,
  PROXYSQL_ADMIN_USER,
  STATS_PASSWORD_ENV,
} from '../src/constants';
import { freePort, Topology } from './topology';

const START_TIMEOUT_MS = 30_000;

/** The application user the harness creates (no SUPER: read_only applies to it, as to an RDS/Aurora app user). */
export const HARNESS_APP_USER = 'app';
export const HARNESS_APP_SCHEMA = 'app';

export interface LocalProxySqlOptions {
  /** The proxysql binary. */
  bin: string;
  topology: Topology;
  /** Backend TLS as deployed (`use_ssl=1`); needs a topology started with `tls`. The app user then has REQUIRE SSL. */
  backendTls: boolean;
  /** Extra or overriding `mysql_variables` (names without `mysql-`), e.g. for a probe. @default {} */
  mysqlVariables?: Readonly<Record<string, string | number | boolean | DeployValue>>;
  /** More environment for the entrypoint, e.g. the deploy-time values a DeployValue names. @default {} */
  environment?: Readonly<Record<string, string>>;
  /**
   * Give the writer's host and port to the entrypoint as deploy values (`{{param:…}}` with the `host` and `port`
   * rules), as the construct does with tokens; `host` is the name to give, which must reach the primary.
   * @default - both literals in the template
   */
  writerAsDeployValues?: { readonly host: string };
  /** Spec fields to override (threads, maxBackendConnectionsPerServer, queryRules, …). @default {} */
  spec?: Partial<Omit<ProxySqlConfigSpec, 'backend' | 'users' | 'monitorUsername'>>;
  /** The construct's idleThreads: the task's command is IDLE_THREADS_COMMAND, or none. @default true */
  idleThreads?: boolean;
  /** Where the config, data dir and log go (a private dir is made below it, removed by stop()). */
  baseDir: string;
  /**
   * The CA bundle ProxySQL verifies the backends with (ssl_p2s_ca), as the task gets the RDS CAs.
   * @default - with backendTls, the topology's own CA
   */
  backendCa?: string;
  /** Give up waiting for a working login after this long. @default 30000 */
  startTimeoutMs?: number;
  /** More application users (login names) on the same schema, after the harness's own `app`. @default [] */
  moreUsers?: readonly string[];
  /** Copy ProxySQL's log here when stopping (it holds no secret: the entrypoint never prints one). @default - not kept */
  keepLogAs?: string;
}

export interface LocalProxySql {
  host: '127.0.0.1';
  port: number;
  adminPort: number;
  user: string;
  password: string;
  database: string;
  /** The passwords of `moreUsers`, by login name. */
  morePasswords: ReadonlyMap<string, string>;
  adminPassword: string;
  /** The read-only `stats` login's password on the admin interface (its own, as a task's StatsSecret). */
  statsPassword: string;
  /** The rendered template (placeholders, no secrets), as the task definition carries it. */
  template: string;
  logFile: string;
  /** The entrypoint's pid (the task's PID 1 equivalent): ProxySQL's own once the entrypoint has exec'd it. */
  pid: number;
  entrypoint: ChildProcess;
  /** An admin-interface connection (127.0.0.1:adminPort). */
  admin(): Promise<mysql.Connection>;
  /** CPU seconds (user + system) used so far by the entrypoint, ProxySQL's angel and its worker. */
  cpuSeconds(): number;
  /** Peak resident memory of the largest process of the tree (ProxySQL's worker), in MB. */
  peakRssMb(): number;
  /** The version ProxySQL reports on its admin interface. */
  version(): Promise<string>;
  /**
   * Whether the harness loaded the rendered mysql_hostgroup_attributes rows through the admin interface because
   * this ProxySQL did not read them from the file (2.7.1 and older: sysown/proxysql#4552; read since PR #4704).
   */
  hostgroupAttributesViaAdmin: boolean;
  /** Sends SIGTERM to the entrypoint (what ECS does on a stop, after the agent's drain) and resolves with its exit code. */
  terminate(): Promise<number | null>;
  /** Stops everything (SIGTERM, then SIGKILL of the whole group) and removes the private dir. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Throws unless `bin` is an executable file: a real-ProxySQL run fails, never skips, without one. */
export function requireProxySqlBinary(bin: string | undefined, where: string): string {
  if (!bin) {
    throw new Error(
      `${where}: no ProxySQL binary given. This tier needs a real ProxySQL: set PROXYSQL_BIN=/path/to/proxysql ` +
        '(none ships with the project; build one from sysown/proxysql, see docs/real-proxysql.md).',
    );
  }
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`${where}: '${bin}' is not an executable file; give the path of a proxysql binary`);
  }
  return bin;
}

/** pid → [ppid, utime+stime ticks] for every process, from /proc. */
function processTable(): Map<number, [number, number]> {
  const table = new Map<number, [number, number]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the ")" that closes the command name: state ppid … utime(14) stime(15), 1-based overall.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), [Number(fields[1]), Number(fields[11]) + Number(fields[12])]);
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** `root` and every process below it, from /proc. */
export function descendants(root: number): number[] {
  const table = processTable();
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, [ppid]] of table) if (ppid === out[i]) out.push(pid);
  }
  return out.filter((pid) => table.has(pid));
}

/**
 * ProxySQL before PR #4704 (2.7.1 among them) ignores the mysql_hostgroup_attributes section of proxysql.cnf;
 * 3.0.x reads it. So that a run with such a binary measures what the pinned release does with the same file, the
 * rows are then inserted through the admin interface, exactly as rendered, and loaded to runtime.
 */
async function loadHostgroupAttributesIfIgnored(
  admin: () => Promise<mysql.Connection>,
  rows: ProxySqlConfig['mysqlHostgroupAttributes'],
): Promise<boolean> {
  if (rows.length === 0) return false;
  const conn = await admin();
  try {
    const [loaded] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM runtime_mysql_hostgroup_attributes');
    if (Number(loaded[0].n) > 0) return false;
    for (const row of rows) {
      // The admin interface is SQLite: '' doubles a quote, a backslash is an ordinary character.
      const q = (v: string | undefined) => `'${(v ?? '').replace(/'/g, "''")}'`;
      await conn.query(
        'INSERT INTO mysql_hostgroup_attributes (hostgroup_id, free_connections_pct, connection_warming, throttle_connections_per_sec, ' +
          `hostgroup_settings, servers_defaults, comment) VALUES (${row.hostgroupId}, ${row.freeConnectionsPct ?? 10}, ` +
          `${row.connectionWarming ? 1 : 0}, ${row.throttleConnectionsPerSec ?? 1000000}, ${q(row.hostgroupSettings)}, ${q(row.serversDefaults)}, ${q(row.comment)})`,
      );
    }
    await conn.query('LOAD MYSQL SERVERS TO RUNTIME');
    return true;
  } finally {
    await conn.end();
  }
}

/** The tools the entrypoint uses besides sh's builtins (runtime/proxysql/entrypoint.sh, its header): no client. */
export const ENTRYPOINT_TOOLS: readonly string[] = ['sh', 'mkdir', 'chmod', 'mv', 'rm'];

/** A directory of symlinks to only ENTRYPOINT_TOOLS, as PATH: a ProxySQL image without a MySQL client. */
function clientlessPath(dir: string): string {
  const bin = path.join(dir, 'clientless-bin');
  fs.mkdirSync(bin);
  for (const tool of ENTRYPOINT_TOOLS) {
    const found = findExecutable(tool);
    if (!found) throw new Error(`the entrypoint's '${tool}' is not on PATH`);
    fs.symlinkSync(found, path.join(bin, tool));
  }
  return bin;
}

/** Starts ProxySQL through the entrypoint against `topology`; resolves once the app user can log in and query. */
export async function startLocalProxySql(options: LocalProxySqlOptions): Promise<LocalProxySql> {
  const { topology } = options;
  const replica = topology.replica;
  if (!replica) throw new Error('the real-ProxySQL harness needs the topology with its replica');
  if (options.backendTls && !topology.caFile) throw new Error('backendTls needs a topology started with { tls: true }');

  const dir = fs.mkdtempSync(path.join(options.baseDir, 'proxysql-'));
  fs.chmodSync(dir, 0o700);
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const passwords = {
    admin: randomBytes(18).toString('base64url'),
    stats: randomBytes(18).toString('base64url'),
    monitor: randomBytes(18).toString('base64url'),
    app: randomBytes(18).toString('base64url'),
  };
  const morePasswords = new Map((options.moreUsers ?? []).map((name) => [name, randomBytes(18).toString('base64url')]));

  const { primary } = topology;
  // With backendTls the bootstrap makes the app user REQUIRE SSL, as a deploy does: proof that the backend hop is
  // encrypted, since this account cannot log in without TLS.
  await createLocalUsers(primary, {
    monitorPassword: passwords.monitor,
    app: { username: HARNESS_APP_USER, password: passwords.app, schema: HARNESS_APP_SCHEMA },
    moreApps: [...morePasswords].map(([username, password]) => ({ username, password })),
    requireSsl: options.backendTls,
  });
  await topology.waitForReplication();

  const [port, adminPort] = [await freePort(), await freePort()];
  const deployed = options.writerAsDeployValues && writerDeployValues(options.writerAsDeployValues.host, primary.port);
  const spec: ProxySqlConfigSpec = {
    ...options.spec,
    backend: {
      kind: 'endpoints',
      writer: deployed?.writer ?? { host: primary.host, port: primary.port },
      readers: [{ host: replica.host, port: replica.port }],
      checkType: 'read_only',
      maxReplicaLagSeconds: 30,
      useTls: options.backendTls,
    },
    users: [HARNESS_APP_USER, ...morePasswords.keys()].map((username) => ({ username, defaultSchema: HARNESS_APP_SCHEMA })),
    monitorUsername: DEFAULT_MONITOR_USER,
    listen: { host: '127.0.0.1', port },
    admin: { host: '127.0.0.1', port: adminPort },
    datadir: dataDir,
    backendCaFile: options.backendTls ? path.join(dataDir, 'backend-ca.pem') : undefined,
    mysqlVariableOverrides: { ...options.spec?.mysqlVariableOverrides, ...options.mysqlVariables },
  };
  const config = buildProxySqlConfig(spec);
  const template = renderProxySqlConfig(config);

  const logFile = path.join(dir, 'proxysql.log');
  const log = fs.openSync(logFile, 'a', 0o600);
  const [shell, ...shellArgs] = ENTRYPOINT_ARGV;
  const command = options.idleThreads === false ? [] : IDLE_THREADS_COMMAND;
  const entrypoint = spawn(shell, [...shellArgs, ...command], {
    stdio: ['ignore', log, log],
    detached: true,
    env: {
      PATH: clientlessPath(dir),
      [ENTRYPOINT_SCRIPT_ENV]: fs.readFileSync(CONTAINER_SCRIPTS.entrypoint, 'utf8'),
      [CONFIG_TEMPLATE_ENV]: template,
      [ADMIN_PASSWORD_ENV]: passwords.admin,
      [STATS_PASSWORD_ENV]: passwords.stats,
      [MONITOR_PASSWORD_ENV]: passwords.monitor,
      [userPasswordEnv(0)]: passwords.app,
      ...Object.fromEntries([...morePasswords.values()].map((password, i) => [userPasswordEnv(i + 1), password])),
      PROXYSQL_CONFIG_PATH: path.join(dir, 'proxysql.cnf'),
      PROXYSQL_DATADIR: dataDir,
      PROXYSQL_BIN: options.bin,
      PROXYSQL_ADMIN_PORT: String(adminPort),
      PROXYSQL_ADMIN_USER: PROXYSQL_ADMIN_USER,
      ...options.environment,
      ...deployed?.environment,
      ...(options.backendTls
        ? {
            PROXYSQL_BACKEND_CA: options.backendCa ?? fs.readFileSync(topology.caFile as string, 'utf8').trim(),
            PROXYSQL_BACKEND_CA_FILE: path.join(dataDir, 'backend-ca.pem'),
          }
        : {}),
    },
  });
  fs.closeSync(log);
  if (entrypoint.pid === undefined) throw new Error(`could not spawn /bin/sh for the entrypoint`);
  const pid = entrypoint.pid;
  const exitCode: Promise<number | null> = new Promise((resolve) => entrypoint.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const exited = () => entrypoint.exitCode !== null || entrypoint.signalCode !== null;
  let peakRss = 0;
  const readRss = () => {
    for (const p of descendants(pid)) {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
        if (match) peakRss = Math.max(peakRss, Number(match[1]) / 1024);
      } catch {
        // gone meanwhile
      }
    }
    return peakRss;
  };
  let cpuTicks = 0;
  const readCpu = () => {
    const table = processTable();
    const ticks = descendants(pid).reduce((sum, p) => sum + (table.get(p)?.[1] ?? 0), 0);
    cpuTicks = Math.max(cpuTicks, ticks);
    return cpuTicks / 100; // USER_HZ is 100 on Linux
  };

  const admin = (): Promise<mysql.Connection> =>
    mysql.createConnection({ host: '127.0.0.1', port: adminPort, user: PROXYSQL_ADMIN_USER, password: passwords.admin, connectTimeout: 2000 });
  let stopping: Promise<void> | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited()) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
        await Promise.race([exitCode, sleep(5000)]);
      }
      signalGroup('SIGKILL');
      await sleep(100);
      if (options.keepLogAs) fs.copyFileSync(logFile, options.keepLogAs);
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  let lastError = '';
  for (;;) {
    if (exited()) {
      const text = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
      await stop();
      throw new Error(`ProxySQL (through the entrypoint) exited while starting; last lines of its log:\n${text}`);
    }
    try {
      const conn = await mysql.createConnection({
        host: '127.0.0.1',
        port,
        user: HARNESS_APP_USER,
        password: passwords.app,
        database: HARNESS_APP_SCHEMA,
        connectTimeout: 2000,
      });
      try {
        // A read proves the reader hostgroup is populated; a write, the writer hostgroup. In this order: after a
        // write the session's next statements follow it to the writer (read-your-writes).
        await conn.query('SELECT 1');
        await conn.query('DO 1');
      } finally {
        await conn.end();
      }
      // The admin interface comes up after the MySQL listener.
      await (await admin()).end();
      break;
    } catch (error) {
      lastError = (error as Error).message;
      if (Date.now() > deadline) {
        const text = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
        await stop();
        throw new Error(`ProxySQL did not accept a login within ${startTimeoutMs} ms (${lastError}); last lines of its log:\n${text}`);
      }
      await sleep(200);
    }
  }

  let hostgroupAttributesViaAdmin: boolean;
  try {
    hostgroupAttributesViaAdmin = await loadHostgroupAttributesIfIgnored(admin, config.mysqlHostgroupAttributes);
  } catch (error) {
    await stop();
    throw new Error(`could not load the rendered mysql_hostgroup_attributes through the admin interface: ${(error as Error).message}`);
  }

  return {
    host: '127.0.0.1',
    port,
    adminPort,
    hostgroupAttributesViaAdmin,
    user: HARNESS_APP_USER,
    password: passwords.app,
    database: HARNESS_APP_SCHEMA,
    morePasswords,
    adminPassword: passwords.admin,
    statsPassword: passwords.stats,
    template,
    logFile,
    pid,
    entrypoint,
    admin,
    cpuSeconds: readCpu,
    peakRssMb: readRss,
    async version() {
      const conn = await admin();
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT variable_value AS v FROM global_variables WHERE variable_name = 'admin-version'");
        return String(rows[0]?.v ?? 'unknown');
      } finally {
        await conn.end();
      }
    },
    terminate() {
      readRss();
      readCpu();
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      return exitCode;
    },
    stop,
  };
}

/** The writer as the construct renders a host and port given as tokens (src/proxysql-container.ts DeployValues). */
function writerDeployValues(host: string, port: number): { writer: { host: DeployValue; port: DeployValue }; environment: Record<string, string> } {
  const [hostEnv, portEnv] = [`${DEPLOY_VALUE_ENV_PREFIX}90`, `${DEPLOY_VALUE_ENV_PREFIX}91`];
  return {
    writer: { host: { param: hostEnv }, port: { param: portEnv, unquoted: true } },
    environment: {
      [hostEnv]: host,
      [deployValueRuleEnv(hostEnv)]: valueRuleText({ kind: 'host' }),
      [sourceEnv(hostEnv)]: 'ProxySqlServiceProps.backend.writer.hostname',
      [portEnv]: String(port),
      [deployValueRuleEnv(portEnv)]: valueRuleText({ kind: 'port' }),
      [sourceEnv(portEnv)]: 'ProxySqlServiceProps.backend.writer.port',
    },
  };
}
