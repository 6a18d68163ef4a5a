/**
 * Ports, names and versions defined once. The construct, the config renderer, the container entrypoint's
 * environment, the CLI and the tests all read them from here.
 *
 * This module must not import aws-cdk-lib: the config model (src/config) and the CLI use it too.
 */

/** The official ProxySQL image on Docker Hub. */
export const PROXYSQL_IMAGE_REPOSITORY = 'proxysql/proxysql';

/**
 * The ProxySQL release we pin: 3.0.13, the current stable release (2026-11-28). Its notes and those of 3.0.12 add
 * variables (admin-restapi_use_ssl, admin-restapi_ssl_verify_client, admin-restapi_interface; 3.0.12 fixed eight
 * security advisories) and, as far as they say, rename, remove or re-default none we render
 * (https://github.com/sysown/proxysql/releases/tag/v3.0.13, …/v3.0.12). The rendered configuration was measured
 * with ProxySQL 2.7.1 built from source (docs/real-proxysql.md): the newest source available here.
 * Override with `ProxySqlServiceProps.image`.
 */
export const PROXYSQL_VERSION = '3.0.13';

/** `proxysql/proxysql:<PROXYSQL_VERSION>`. */
export const PROXYSQL_IMAGE = `${PROXYSQL_IMAGE_REPOSITORY}:${PROXYSQL_VERSION}`;

/** The port clients use on the load balancer: the MySQL port, so client code does not change. */
export const CLIENT_PORT = 3306;

/** ProxySQL's MySQL listener inside the task (ProxySQL's own default, `mysql-interfaces`). */
export const PROXYSQL_MYSQL_PORT = 6033;

/** ProxySQL's admin interface: bound to 127.0.0.1 inside the task, never opened in a security group. */
export const PROXYSQL_ADMIN_PORT = 6032;


/** Client connections one task accepts by default (`mysql-max_connections`, ProxySqlServiceProps.maxClientConnections). */
export const DEFAULT_MAX_CLIENT_CONNECTIONS = 10000;

/** Default MySQL port of the backends. */
export const MYSQL_DEFAULT_PORT = 3306;

/** Hostgroup that receives writes (and every statement no rule sends elsewhere). */
export const WRITER_HOSTGROUP = 10;

/** Hostgroup that receives plain reads. */
export const READER_HOSTGROUP = 20;

/**
 * Each application user has a writer pool of its own, so that one user's sessions that pin a writer connection
 * cannot take another user's (docs/architecture.md, "Per-user writer pools"): the first user's is WRITER_HOSTGROUP;
 * user i (i >= 1) writes through hostgroup USER_HOSTGROUP_BASE + 2i, paired with USER_HOSTGROUP_BASE + 2i + 1, a
 * reader hostgroup that no rule routes to and that exists so the pair follows a failover as the writer's does
 * (mysql_replication_hostgroups and mysql_aws_aurora_hostgroups move servers within a pair only).
 */
export const USER_HOSTGROUP_BASE = 100;

/** The writer hostgroup of application user `index`, and the reader hostgroup paired with it. */
export function userHostgroups(index: number): { readonly writer: number; readonly reader: number } {
  return index === 0
    ? { writer: WRITER_HOSTGROUP, reader: READER_HOSTGROUP }
    : { writer: USER_HOSTGROUP_BASE + 2 * index, reader: USER_HOSTGROUP_BASE + 2 * index + 1 };
}

/** Whether `hostgroup` is one of the users' writer hostgroups (the same writer server, each user's own pool). */
export function isWriterHostgroup(hostgroup: number): boolean {
  return hostgroup === WRITER_HOSTGROUP || (hostgroup >= USER_HOSTGROUP_BASE && (hostgroup - USER_HOSTGROUP_BASE) % 2 === 0);
}

/** Whether `hostgroup` is the reader hostgroup or one paired with a user's writer hostgroup (never routed to). */
export function isReaderHostgroup(hostgroup: number): boolean {
  return hostgroup === READER_HOSTGROUP || (hostgroup > USER_HOSTGROUP_BASE && (hostgroup - USER_HOSTGROUP_BASE) % 2 === 1);
}

/** Where ProxySQL keeps `proxysql.db` inside the container (the image's default). */
export const PROXYSQL_DATADIR = '/var/lib/proxysql';

/** Where the entrypoint writes the rendered configuration inside the container. */
export const PROXYSQL_CONFIG_PATH = '/etc/proxysql.cnf';

/** The ProxySQL admin user name (its password is a generated secret). */
export const PROXYSQL_ADMIN_USER = 'admin';
/**
 * The admin interface's read-only login (`admin-stats_credentials`: the stats schema only, from any address the
 * interface listens on); its password is a generated secret of its own. Nothing in the project logs in with it.
 */
export const PROXYSQL_STATS_USER = 'stats';

/** The application user (and its schema) the construct creates when no `users` are given: never the master login. */
export const DEFAULT_APP_USER = 'app';

/**
 * What an application user may do on its schema when `privileges` is not given: the least an application needs.
 * - SELECT, INSERT, UPDATE, DELETE: the data statements (REPLACE is INSERT + DELETE; INSERT … ON DUPLICATE KEY UPDATE
 *   is INSERT + UPDATE; a locking read, SELECT … FOR UPDATE / FOR SHARE, needs SELECT and one of UPDATE, DELETE or
 *   LOCK TABLES on MySQL 8: "Privileges Provided by MySQL", MySQL 8.0 Reference Manual);
 * - CREATE TEMPORARY TABLES: a session's own scratch tables (reports, ORMs' bulk paths);
 * - EXECUTE: calling the schema's stored procedures and functions.
 * Not granted: DDL (CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE VIEW, TRIGGER, routines, EVENT), which is a
 * migration's, not a request's: give the user that runs migrations its own entry with them; and LOCK TABLES, which
 * applications rarely need (InnoDB's row locks need no privilege of their own) and which, through ProxySQL, holds a
 * writer connection for as long as the lock is held. One `privileges` entry adds either.
 */
export const DEFAULT_APP_PRIVILEGES: readonly string[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE TEMPORARY TABLES', 'EXECUTE'];

/** The default name of the ProxySQL monitor user created on the backend by the bootstrap step. */
export const DEFAULT_MONITOR_USER = 'proxysql_monitor';

/** Environment variable that carries the rendered config template (no secrets) into the container. */
export const CONFIG_TEMPLATE_ENV = 'PROXYSQL_CONFIG_TEMPLATE';

/** Environment variable that carries the entrypoint script (runtime/proxysql/entrypoint.sh, no secrets) into the container. */
export const ENTRYPOINT_SCRIPT_ENV = 'PROXYSQL_ENTRYPOINT';
/**
 * The container's entryPoint: the script runs from its variable in the unmodified image, and exec's ProxySQL with
 * the secrets unset (/proc/<pid>/environ keeps what a process was started with).
 */
export const ENTRYPOINT_ARGV: readonly string[] = ['/bin/sh', '-c', `eval "$${ENTRYPOINT_SCRIPT_ENV}"`, 'proxysql-entrypoint'];
/**
 * The task's agent container: the official MariaDB image from Amazon ECR Public (Docker's official images, mirrored;
 * no Docker Hub pull limits from AWS), pinned to an 11.8 LTS patch release. Used for what it ships, not for a
 * database: the `mariadb` client, a POSIX /bin/sh (dash on its Ubuntu base), coreutils (sleep, date, head, timeout).
 * ASSUMPTION (no registry reachable here): the tag exists on public.ecr.aws with linux/arm64 and linux/amd64, as
 * Docker Hub's `mariadb` official image has; the scripts were run with MariaDB's 10.11 client and dash.
 */
export const AGENT_IMAGE = 'public.ecr.aws/docker/library/mariadb:11.8.3';
/** The agent container's name: also the middle of its log streams' names (`<prefix>/<name>/<task id>`). */
export const AGENT_CONTAINER_NAME = 'agent';
/** The awslogs stream prefix of both containers: streams are `proxysql/proxysql/<task id>` and `proxysql/agent/<task id>`. */
export const LOG_STREAM_PREFIX = 'proxysql';
/** Environment variable that carries the agent's script (runtime/proxysql/agent.sh, no secrets). */
export const AGENT_SCRIPT_ENV = 'PROXYSQL_AGENT';
/** The agent container's entryPoint: its script from its variable, under the image's /bin/sh. */
export const AGENT_ARGV: readonly string[] = ['/bin/sh', '-c', `eval "$${AGENT_SCRIPT_ENV}"`, 'proxysql-agent'];
/** How often the agent writes the task's figures line for the metrics collector (which runs every minute). */
export const FIGURES_INTERVAL_SECONDS = 60;

/** The container's command with idle threads (the entrypoint passes it on to ProxySQL): idle sessions on epoll threads. */
export const IDLE_THREADS_COMMAND: readonly string[] = ['--idle-threads'];

/** Environment variables that carry secrets into the container, injected by ECS from Secrets Manager. */
export const ADMIN_PASSWORD_ENV = 'PROXYSQL_ADMIN_PASSWORD';
/** The read-only stats login's password (`admin-stats_credentials`): its own secret, never the admin's. */
export const STATS_PASSWORD_ENV = 'PROXYSQL_STATS_PASSWORD';
export const MONITOR_PASSWORD_ENV = 'PROXYSQL_MONITOR_PASSWORD';
/** Application user N's password: `PROXYSQL_USER_PASSWORD_<N>` (N = position in the users list). */
export const USER_PASSWORD_ENV_PREFIX = 'PROXYSQL_USER_PASSWORD_';
/** Application user N's login name, when it is read from its secret: `PROXYSQL_USER_NAME_<N>`. */
export const USER_NAME_ENV_PREFIX = 'PROXYSQL_USER_NAME_';
/**
 * Value N known only at deploy time (a CloudFormation token in a user name or a `mysqlVariables` value):
 * `PROXYSQL_PARAM_<N>`, with its rule in `…_RULE` and its prop path in `…_SOURCE` (src/config/model.ts DeployValue).
 */
export const DEPLOY_VALUE_ENV_PREFIX = 'PROXYSQL_PARAM_';

/**
 * The NLB's idle timeout for TCP flows (AWS default, seconds). ProxySQL's client `wait_timeout` is set just
 * below it so ProxySQL, not the NLB, ends idle sessions: with a clean close instead of a silent flow drop.
 */
export const NLB_TCP_IDLE_TIMEOUT_SECONDS = 350;

/**
 * The longest idleClientTimeout (ProxySQL's client `wait_timeout`), and its default: 10 s under the NLB's idle
 * timeout, so that ProxySQL's idle-session pass closes a session before the NLB drops its flow silently (a client
 * would then learn of it only at its next query, as a broken connection instead of a clean close).
 */
export const MAX_IDLE_CLIENT_TIMEOUT_SECONDS = NLB_TCP_IDLE_TIMEOUT_SECONDS - 10;

/**
 * How long a query waits for a usable backend connection before error 9001 (`mysql-connect_timeout_server_max`),
 * the default of borrowTimeout: long enough to ride out an Aurora failover's DNS and read_only flip, short enough
 * that a Lambda invocation learns of an exhausted pool well inside its own timeout.
 */
export const DEFAULT_BORROW_TIMEOUT_SECONDS = 10;

/** The MySQL version ProxySQL announces to clients: Aurora MySQL 3.10 (LTS) is compatible with MySQL 8.0.42. */
export const ANNOUNCED_SERVER_VERSION = '8.0.42';

/** MySQL user names we accept: MySQL 8 caps them at 32 characters; the character set needs no quoting anywhere. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_]{1,32}$/;

/** Schema names we accept: 64 characters at most (MySQL identifier limit), nothing that needs quoting. */
export const SCHEMA_PATTERN = /^[A-Za-z0-9_]{1,64}$/;

/** ProxySQL talks to the database over TLS unless told otherwise (construct and CLI alike). */
export const DEFAULT_BACKEND_TLS = true;

/** Replicas lagging more than this many seconds are shunned (construct and CLI alike). */
export const DEFAULT_MAX_REPLICA_LAG_SECONDS = 30;

/**
 * Backend connections one task opens to each server (per hostgroup) at most: the pool cap, like RDS Proxy's
 * MaxConnectionsPercent. Measured through a real ProxySQL with backend TLS (BENCHMARKS.md): 2,000 warm Lambda-like
 * sessions (~1,900 queries/s) ran with 0 errors on 22-25 backend connections (45 at the peak of a cold start)
 * and a lower p99 than with 200 (37-58 connections kept); past the cap a query waits for a pooled connection
 * instead of a new TLS handshake. A session with state (a user variable, a temporary table…) holds a writer
 * connection for its life: size it as (such sessions per task) + (peak queries/s per task to one server) x (p99
 * query seconds) x 2.
 */
export const DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER = 20;

/**
 * The NLB's deregistration delay. ECS sends SIGTERM only once the target has left `draining` (AWS, "Optimize load
 * balancer connection draining parameters for Amazon ECS"), and Lambda's idle keep-alive connections keep it
 * draining for the whole delay, so every second of it is a second added to each deploy and scale-in. 5 s lets the
 * NLB nodes stop routing new flows to the task (AWS's value for sub-second requests); the agent container's drain then
 * closes idle sessions at once and lets statements and transactions finish (connection_termination is off, so
 * the NLB does not cut them when the delay ends).
 */
export const NLB_DEREGISTRATION_DELAY_SECONDS = 5;

/** Where the entrypoint writes the database's CA bundle inside the container, for ProxySQL's ssl_p2s_ca. */
export const BACKEND_CA_FILE = `${PROXYSQL_DATADIR}/backend-ca.pem`;
