/**
 * Builds the ProxySQL configuration for a backend, its users and rules: every default we choose lives here,
 * each with a one-line reason that is rendered into proxysql.cnf as a comment. Sources are in
 * docs/research/proxysql-config.md (defaults read in lib/MySQL_Thread.cpp, behaviour in lib/MySQL_Session.cpp)
 * and ../shared-notes facts recorded in docs/architecture.md.
 */
import {
  ADMIN_PASSWORD_ENV,
  ANNOUNCED_SERVER_VERSION,
  DEFAULT_BORROW_TIMEOUT_SECONDS,
  DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER,
  DEFAULT_MAX_CLIENT_CONNECTIONS,
  MAX_IDLE_CLIENT_TIMEOUT_SECONDS,
  MONITOR_PASSWORD_ENV,
  NLB_TCP_IDLE_TIMEOUT_SECONDS,
  PROXYSQL_ADMIN_PORT,
  PROXYSQL_ADMIN_USER,
  PROXYSQL_DATADIR,
  PROXYSQL_MYSQL_PORT,
  PROXYSQL_STATS_USER,
  STATS_PASSWORD_ENV,
  USER_NAME_ENV_PREFIX,
  USER_PASSWORD_ENV_PREFIX,
  userHostgroups,
} from '../constants';
import {
  ConfigString,
  DeployValue,
  ProxySqlConfig,
  SecretPlaceholder,
  ReplicationCheckType,
  Variable,
  VariableValue,
} from './model';
import { BACKEND_POOL, buildBackend, FAILOVER_CHECK } from './backend-rows';
import { buildQueryRules, QueryRuleInput } from './query-rules';
import { ReadConsistency, resolveSessionRouting } from './session-state';

export { BACKEND_POOL, FAILOVER_CHECK, lastResortReaderCap, REPLICA_READ_WEIGHT, WRITER_READ_WEIGHT } from './backend-rows';

/** A MySQL endpoint. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * A backend's endpoint. `V` is what may stand for a host or port known only at deploy time: the construct's
 * {@link DeployValue} (a CloudFormation token, filled in and checked by the entrypoint); none elsewhere.
 */
export interface BackendEndpoint<V = never> {
  readonly host: string | V;
  readonly port: number | V;
}

/** Aurora MySQL: ProxySQL discovers the instances and follows the writer (`mysql_aws_aurora_hostgroups`). */
export interface AuroraBackendSpec<V = never> {
  readonly kind: 'aurora';
  /** `.<hash>.<region>.rds.amazonaws.com`, see ./aurora.ts. */
  readonly domainName: string | V;
  readonly port: number | V;
  /** Instance endpoints known at deploy time; the first is taken as the writer until the monitor knows better. */
  readonly instanceEndpoints: ReadonlyArray<string | V>;
  /** Readers lagging more than this are shunned and reads go elsewhere (the writer at worst). */
  readonly maxReplicaLagMs: number;
  readonly useTls: boolean;
}

/** Explicit endpoints (RDS for MySQL with read replicas, any MySQL): roles by `read_only` (`mysql_replication_hostgroups`). */
export interface EndpointsBackendSpec<V = never> {
  readonly kind: 'endpoints';
  readonly writer: BackendEndpoint<V>;
  readonly readers: ReadonlyArray<BackendEndpoint<V>>;
  readonly checkType: `${ReplicationCheckType}`;
  /** Readers lagging more than this many seconds are shunned; 0 turns the lag check off. */
  readonly maxReplicaLagSeconds: number;
  readonly useTls: boolean;
}

/** The backend; with `V` = DeployValue, as buildProxySqlConfig takes it (hosts and ports given as tokens). */
export type BackendSpec<V = never> = AuroraBackendSpec<V> | EndpointsBackendSpec<V>;

/** An application user ProxySQL accepts and logs in to the backend with. */
export interface UserSpec {
  /** The login name, or the environment variable the entrypoint reads it from (a name kept in a secret). */
  readonly username: ConfigString;
  /** The password, or (usually) the environment variable the entrypoint reads it from. */
  readonly password?: string | SecretPlaceholder;
  /** Client connections this user may hold on each ProxySQL task. @default defaultUserMaxConnections(task cap, users) */
  readonly maxConnections?: number;
  /** @default - none */
  readonly defaultSchema?: string;
}

export interface ProxySqlConfigSpec {
  /** Hosts, ports and the Aurora domain: literals, or DeployValues the entrypoint fills in. */
  readonly backend: BackendSpec<DeployValue>;
  readonly users: readonly UserSpec[];
  readonly monitorUsername: string;
  /** @default - the monitor password placeholder (env PROXYSQL_MONITOR_PASSWORD) */
  readonly monitorPassword?: string | SecretPlaceholder;
  /** @default - the admin password placeholder (env PROXYSQL_ADMIN_PASSWORD) */
  readonly adminPassword?: string | SecretPlaceholder;
  /** The read-only stats login's password. @default - the stats password placeholder (env PROXYSQL_STATS_PASSWORD) */
  readonly statsPassword?: string | SecretPlaceholder;
  /** Custom rules, evaluated before the default read/write split. @default [] */
  readonly queryRules?: readonly QueryRuleInput[];
  /** @default true */
  readonly defaultQueryRules?: boolean;
  /** Where reads that follow a write go (./session-state.ts). @default read-your-writes */
  readonly readConsistency?: `${ReadConsistency}`;
  /** With read-your-writes: the statements after a write that stay on the writer. @default DEFAULT_READ_YOUR_WRITES_STATEMENTS (5) */
  readonly readYourWritesStatements?: number;
  /** Let clients run account statements through the proxy. @default false */
  readonly allowAccountStatements?: boolean;
  /** Keep the writer connection after an INSERT so LAST_INSERT_ID() in any spelling is right (LAST_INSERT_ID_HOLD). @default false */
  readonly keepConnectionForLastInsertId?: boolean;
  /** ProxySQL worker threads. @default 2 */
  readonly threads?: number;
  /** Client connections one ProxySQL task accepts (`mysql-max_connections`). @default 10000 */
  readonly maxClientConnections?: number;
  /** Backend connections one ProxySQL task opens to each server at most. @default DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER (20) */
  readonly maxBackendConnectionsPerServer?: number;
  /** @default 0.0.0.0:6033 */
  readonly listen?: HostPort;
  /** @default 127.0.0.1:6032 */
  readonly admin?: HostPort;
  /** @default /var/lib/proxysql */
  readonly datadir?: string;
  /** Offer TLS to clients and require it of the application users. @default false */
  readonly clientTls?: boolean;
  /** Override or add `mysql_variables` (names without the `mysql-` prefix); a deploy-time value as a {@link DeployValue}. @default {} */
  readonly mysqlVariableOverrides?: Readonly<Record<string, string | number | boolean | DeployValue>>;
  /**
   * A PEM file of the CA(s) that sign the database's certificates: ProxySQL then verifies the chain on every
   * backend TLS connection, the monitor's included (`mysql-ssl_p2s_ca`). @default - TLS is encrypted, not verified
   */
  readonly backendCaFile?: string;
  /** How long a query waits for a backend connection before error 9001 (`mysql-connect_timeout_server_max`). @default DEFAULT_BORROW_TIMEOUT_SECONDS (10) */
  readonly borrowTimeoutSeconds?: number;
  /** ProxySQL closes a client session idle this long (`mysql-wait_timeout`). @default MAX_IDLE_CLIENT_TIMEOUT_SECONDS (340) */
  readonly idleClientTimeoutSeconds?: number;
  /** SQL run on every new backend connection (`mysql-init_connect`). @default - none */
  readonly initQuery?: string;
}

/**
 * The props (and `--config` keys) that set a `mysql_variables` entry, with the variable each sets in
 * {@link mysqlVariables} below: the same variable in `mysqlVariables` as well is refused, so one place decides.
 */
export const PROP_VARIABLES = {
  borrowTimeout: 'connect_timeout_server_max',
  idleClientTimeout: 'wait_timeout',
  initQuery: 'init_connect',
} as const;

/**
 * With keepConnectionForLastInsertId: how long ProxySQL keeps the writer connection of a session that just INSERTed
 * a generated id: for its next `statements` statements while the session sends them less than `idleMs` apart.
 * ProxySQL routes any statement whose digest names LAST_INSERT_ID or @@IDENTITY to the connection of the session's
 * last write while that connection is still attached (lib/MySQL_Session.cpp, "handle case #1421"), so within this
 * window every spelling is right; after it only the exact `SELECT LAST_INSERT_ID()` forms ProxySQL answers itself
 * are. ProxySQL gives an expired connection back only in its once-a-second maintenance pass (lib/MySQL_Thread.cpp,
 * ProcessAllSessions_MaintenanceLoop → update_expired_conns), so an idle session holds it up to about a second: why
 * it is off by default (BENCHMARKS.md, "Read-your-writes and LAST_INSERT_ID").
 */
export const LAST_INSERT_ID_HOLD = { statements: 5, idleMs: 500 } as const;

/**
 * `@@` variables a SELECT may read without pinning its session (ProxySQL compares each name's prefix after
 * stripping `@@session.`/`@@local.`/`@@`: lib/mysql_connection.cpp IsKeepMultiplexEnabledVariables). Reading one
 * creates no state, and ProxySQL replays the session's tracked variables (sql_mode, time_zone, character sets, …) on
 * whichever connection runs the read. Not here: identity and last_insert_id, which need the session's own
 * connection. The list covers what the matrix's drivers read at connect: MariaDB Connector/J (max_allowed_packet,
 * system_time_zone, time_zone, auto_increment_increment), MySQL Connector/J's session-variable SELECT, Django
 * (sql_auto_is_null, sql_mode), SQLAlchemy and the demo's /whoami.
 */
export const KEEP_MULTIPLEXING_VARIABLES: readonly string[] = [
  'tx_isolation', 'transaction_isolation', 'tx_read_only', 'transaction_read_only', 'version', 'server_id', 'hostname',
  'read_only', 'innodb_read_only', 'aurora_', 'max_allowed_packet', 'system_time_zone', 'time_zone', 'auto_increment_increment',
  'auto_increment_offset', 'character_set_', 'collation_', 'sql_mode', 'sql_auto_is_null', 'sql_select_limit', 'autocommit',
  'wait_timeout', 'interactive_timeout', 'net_write_timeout', 'net_read_timeout', 'net_buffer_length', 'lower_case_table_names',
  'license', 'init_connect', 'performance_schema', 'query_cache_size', 'query_cache_type', 'session_track_', 'lc_messages',
  'max_execution_time', 'default_storage_engine', 'default_week_format', 'div_precision_increment', 'group_concat_max_len',
];

/**
 * ProxySQL 3.0.13 starts its PostgreSQL side too unless told not to: worker threads listening on 6133, a second admin
 * interface (PostgreSQL protocol) on 6132 and a PostgreSQL monitor. The task serves MySQL only, so all three stay off.
 * Sources: the 3.0.13 release notes, "Start only the database services you use": "disable the other protocol's
 * components in the top-level configuration … MySQL only. Set pgsql-workers=false, pgsql-admin…"
 * (https://github.com/sysown/proxysql/releases/tag/v3.0.13; the stored copy is cut off there); the feature's pull
 * request, sysown/proxysql#4960 ("Configuration File Support: corresponding boolean settings … mysql-workers,
 * mysql-admin, mysql-monitor, pgsql-workers, pgsql-admin, pgsql-monitor"); and its startup test,
 * test/tap/tests/reg_test_4960_modules_startup-t.cpp (`--pgsql-workers false`, `--pgsql-admin false`). ProxySQL 2.7.1
 * ignores top-level names it does not know (lib/ProxySQL_GloVars.cpp reads only its own: datadir, errorlog, uuid, …),
 * so the file still loads there (the real-ProxySQL tier).
 */
export const POSTGRESQL_OFF: Readonly<Record<string, Variable>> = {
  'pgsql-workers': { value: false, reason: 'no PostgreSQL listener (6133): the task serves MySQL only (ProxySQL 3.0.13 release notes)' },
  'pgsql-admin': { value: false, reason: 'no PostgreSQL-protocol admin interface (6132)' },
  'pgsql-monitor': { value: false, reason: 'no PostgreSQL monitor: there is no PostgreSQL server to check' },
};

/** The environment variable that carries application user `index`'s password into the container. */
export function userPasswordEnv(index: number): string {
  return `${USER_PASSWORD_ENV_PREFIX}${index}`;
}

/** The environment variable that carries application user `index`'s login name, when it comes from its secret. */
export function userNameEnv(index: number): string {
  return `${USER_NAME_ENV_PREFIX}${index}`;
}

/** Builds the whole configuration. Validation of user input happens in the construct / CLI; this trusts its input. */
export function buildProxySqlConfig(spec: ProxySqlConfigSpec): ProxySqlConfig {
  const listen = spec.listen ?? { host: '0.0.0.0', port: PROXYSQL_MYSQL_PORT };
  const admin = spec.admin ?? { host: '127.0.0.1', port: PROXYSQL_ADMIN_PORT };
  const adminPassword = spec.adminPassword ?? { kind: 'admin', env: ADMIN_PASSWORD_ENV };
  const maxBackend = spec.maxBackendConnectionsPerServer ?? DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER;
  const backend = buildBackend(spec.backend, maxBackend, spec.users.length);
  const maxClients = spec.maxClientConnections ?? DEFAULT_MAX_CLIENT_CONNECTIONS;
  return {
    datadir: spec.datadir ?? PROXYSQL_DATADIR,
    topLevel: POSTGRESQL_OFF,
    adminVariables: {
      admin_credentials: {
        value: concat(`${PROXYSQL_ADMIN_USER}:`, adminPassword),
        reason: 'generated secret; the admin user can only log in from inside the task',
      },
      stats_credentials: {
        value: concat(`${PROXYSQL_STATS_USER}:`, spec.statsPassword ?? { kind: 'stats', env: STATS_PASSWORD_ENV }),
        reason: "replaces ProxySQL's default stats:stats with a generated secret of its own, never the admin's",
      },
      mysql_ifaces: {
        value: `${admin.host}:${admin.port}`,
        reason: 'admin interface on loopback only: reachable with ECS Exec, never through a security group',
      },
      restapi_enabled: {
        value: false,
        reason: "no REST server: 2.7.1's listens unauthenticated on every interface and pastes the request path into SQL; the task's agent reads the figures on this admin interface",
      },
      web_enabled: { value: false, reason: 'no web UI on a production proxy' },
    },
    mysqlVariables: mysqlVariables(spec, listen, maxClients),
    mysqlServers: backend.servers,
    mysqlUsers: spec.users.map((user, index) => ({
      username: user.username,
      password: user.password ?? { kind: 'mysql_user', env: userPasswordEnv(index) },
      // The user's own writer pool: every rule that sends a statement to the writer names no hostgroup, so it goes here.
      defaultHostgroup: userHostgroups(index).writer,
      transactionPersistent: true,
      maxConnections: user.maxConnections ?? defaultUserMaxConnections(maxClients, spec.users.length),
      defaultSchema: user.defaultSchema,
      useSsl: spec.clientTls ? true : undefined,
    })),
    mysqlQueryRules: buildQueryRules(spec.queryRules ?? [], {
      includeDefaults: spec.defaultQueryRules ?? true,
      routing: resolveSessionRouting(spec),
    }),
    mysqlReplicationHostgroups: backend.replicationHostgroups,
    mysqlAwsAuroraHostgroups: backend.auroraHostgroups,
    mysqlHostgroupAttributes: backend.hostgroupAttributes,
  };
}

function concat(prefix: string, value: string | SecretPlaceholder): string | SecretPlaceholder {
  return typeof value === 'string' ? prefix + value : { ...value, prefix: prefix + (value.prefix ?? '') };
}

/**
 * A user's client connections per task when its `maxConnections` is not given: with several users, half the task's
 * cap, so that one user's fleet (a Lambda function scaled out, or leaking connections) leaves at least half of the
 * task to the others; with one user, the task's cap (there is nobody to leave room for, and a lower cap would refuse
 * clients before the ClientConnections alarm, which watches the task's cap, sees them).
 */
export function defaultUserMaxConnections(maxClientConnections: number, users: number): number {
  return users > 1 ? Math.max(1, Math.floor(maxClientConnections / 2)) : maxClientConnections;
}

function mysqlVariables(spec: ProxySqlConfigSpec, listen: HostPort, maxClients: number): Record<string, Variable> {
  const v: Record<string, Variable> = {
    threads: { value: spec.threads ?? 2, reason: 'worker threads for a 0.5-1 vCPU task; idle client sessions sit on idle threads (--idle-threads)' },
    interfaces: { value: `${listen.host}:${listen.port}`, reason: 'client listener; the NLB forwards port 3306 here' },
    max_connections: {
      value: maxClients,
      reason: 'client connections per task: a Lambda fleet keeps thousands open, most of them idle',
    },
    server_version: { value: ANNOUNCED_SERVER_VERSION, reason: 'announce MySQL 8.0 like Aurora MySQL 3 so drivers enable 8.0 features' },
    default_authentication_plugin: {
      value: 'mysql_native_password',
      reason: 'ProxySQL 3.0 does caching_sha2_password for clients only over TLS (RSA exchange arrives in 3.1)',
    },
    query_processor_regex: { value: 2, reason: 'RE2: the engine our synth-time rule check runs (re2js), linear time' },
    query_digests: { value: true, reason: 'digests drive match_digest rules and the detection of session state that needs pinning' },
    multiplexing: { value: true, reason: 'the point of the proxy: backends see queries in flight, not client sessions' },
    ...(spec.keepConnectionForLastInsertId
      ? {
          auto_increment_delay_multiplex: {
            value: LAST_INSERT_ID_HOLD.statements,
            reason:
              "keepConnectionForLastInsertId: after an INSERT that generated an id, keep the session's writer connection for its next statements, so LAST_INSERT_ID() in any spelling runs where the id was made",
          },
          auto_increment_delay_multiplex_timeout_ms: {
            value: LAST_INSERT_ID_HOLD.idleMs,
            reason: 'and give it back once the session idles (ProxySQL checks once a second, so a held connection lasts up to about 1 s)',
          },
        }
      : {
          auto_increment_delay_multiplex: {
            value: 0,
            reason:
              "return the writer connection after an INSERT at once: holding it (ProxySQL's default 5) cut 2,000 Lambda-like sessions with 20% INSERTs to a third of the throughput with 13% errors. The driver's insert id, SELECT LAST_INSERT_ID() as ProxySQL answers it, and LAST_INSERT_ID() inside a transaction stay right",
          },
        }),
    connection_delay_multiplex_ms: { value: 0, reason: 'return the backend connection to the pool as soon as the query ends' },
    keep_multiplexing_variables: {
      value: KEEP_MULTIPLEXING_VARIABLES.join(','),
      reason:
        "a SELECT of only these @@variables (prefixes) does not pin the session (any other @ in a digest does): what Connector/J, Django and other drivers read at connect",
    },
    free_connections_pct: {
      value: BACKEND_POOL.freeConnectionsPct,
      reason: 'keep half the per-server cap idle: at 10% bursts opened TLS connections only to close them again',
    },
    connection_warming: { value: BACKEND_POOL.connectionWarming, reason: 'warming would open half the cap per server before reusing any' },
    throttle_connections_per_sec_to_hostgroup: {
      value: BACKEND_POOL.throttleConnectionsPerSec,
      reason: 'no throttle: it counts waiting requests too and delayed the first write after a failover; the per-server cap bounds the pool',
    },
    max_transaction_idle_time: {
      value: 30000,
      reason: 'a Lambda killed mid-transaction would pin a backend connection and hold its locks; end such sessions after 30 s',
    },
    default_query_timeout: { value: 900000, reason: 'no Lambda waits longer than 15 minutes for a result' },
    [PROP_VARIABLES.idleClientTimeout]: {
      value: (spec.idleClientTimeoutSeconds ?? MAX_IDLE_CLIENT_TIMEOUT_SECONDS) * 1000,
      reason:
        spec.idleClientTimeoutSeconds === undefined
          ? `just under the NLB's ${NLB_TCP_IDLE_TIMEOUT_SECONDS} s idle timeout: ProxySQL closes idle client sessions cleanly before the NLB drops the flow, and frozen or reaped Lambda sandboxes free their slot`
          : `idleClientTimeout: idle client sessions are closed after this (at most ${MAX_IDLE_CLIENT_TIMEOUT_SECONDS} s, under the NLB's ${NLB_TCP_IDLE_TIMEOUT_SECONDS} s idle timeout)`,
    },
    use_tcp_keepalive: { value: true },
    tcp_keepalive_time: {
      value: 120,
      reason: 'keepalive probes on client sockets well inside the NLB idle timeout, for clients that stay connected and awake',
    },
    poll_timeout: {
      value: 200,
      reason: 'idle worker threads wake every 200 ms instead of 2 s: a drain (PAUSE, closing idle sessions) takes effect within it',
    },
    connect_timeout_server: { value: 1000, reason: 'one backend connect attempt' },
    [PROP_VARIABLES.borrowTimeout]: {
      value: (spec.borrowTimeoutSeconds ?? DEFAULT_BORROW_TIMEOUT_SECONDS) * 1000,
      reason: `${spec.borrowTimeoutSeconds === undefined ? '' : 'borrowTimeout: '}how long a query waits for a usable backend (e.g. during an Aurora failover) before error 9001`,
    },
    ...(spec.initQuery !== undefined
      ? { [PROP_VARIABLES.initQuery]: { value: spec.initQuery, reason: 'initQuery: run on every new backend connection' } }
      : {}),
    ping_interval_server_msec: { value: 10000, reason: "keep idle pooled backend connections under the server's wait_timeout" },
    shun_on_failures: { value: 5 },
    shun_recovery_time_sec: { value: 10 },
    monitor_enabled: { value: true },
    monitor_username: { value: spec.monitorUsername, reason: 'created on the backend by the bootstrap step' },
    monitor_password: { value: spec.monitorPassword ?? { kind: 'monitor', env: MONITOR_PASSWORD_ENV } },
    monitor_connect_interval: { value: 60000 },
    monitor_ping_interval: { value: 8000 },
    monitor_read_only_interval: {
      value: FAILOVER_CHECK.intervalMs,
      reason: 'a read_only flip (failover) is seen within 100 ms; costs 10 SELECT @@global.read_only per second per task and server',
    },
    monitor_read_only_timeout: {
      value: FAILOVER_CHECK.readOnlyTimeoutMs,
      reason: "a check answers within the interval or counts as failed (100 ms is ProxySQL's minimum)",
    },
    monitor_read_only_max_timeout_count: {
      value: FAILOVER_CHECK.timeoutsBeforeReadOnly,
      reason: 'ProxySQL assumes read_only=1 after this many timed-out checks: 10 x 100 ms rides out a 1 s network blip (a real flip is read, not timed out)',
    },
    monitor_replication_lag_interval: { value: 2000, reason: 'lagging replicas are shunned within 2 s' },
    monitor_writer_is_also_reader: {
      value: true,
      reason: 'after a failover the new writer stays in the reader hostgroup, so reads survive losing every replica',
    },
    log_unhealthy_connections: {
      value: false,
      reason: 'NLB TCP health checks connect and close without a handshake; ProxySQL would log each one (#2293, #3060)',
    },
    // A SET ProxySQL cannot parse is logged as its digest, not its text: no data values in the log, and no client's
    // line break starting a log line of its own (the deployment alarm reads line starts: src/config/deployment-alarm.ts).
    // No rendered reason: the rendered file travels in the container definition, whose size is budgeted
    // (test/proxysql-service.test.ts; ECS takes 64 KiB per task definition).
    parse_failure_logs_digest: { value: true },
    have_ssl: { value: spec.clientTls ?? false, reason: 'TLS from clients to ProxySQL (certificates generated in the datadir)' },
    ...(spec.backendCaFile !== undefined
      ? {
          ssl_p2s_ca: {
            value: spec.backendCaFile,
            reason: "verify the database's certificate chain (RDS CA); a wrong CA fails with 'self-signed certificate in certificate chain'",
          },
        }
      : {}),
    commands_stats: { value: true },
  };
  for (const [name, value] of Object.entries(spec.mysqlVariableOverrides ?? {})) {
    v[name] = { value: value as VariableValue, reason: 'set by the user' };
  }
  return v;
}
