/**
 * The typed ProxySQL configuration model. It mirrors the sections of `proxysql.cnf` that we render
 * (https://proxysql.com/documentation/configuring-proxysql/ and the annotated etc/proxysql.cnf in
 * sysown/proxysql) and is rendered to text in exactly one place: ./render.ts.
 *
 * Plain TypeScript, no aws-cdk-lib import: the construct, the CLI, the container entrypoint's tests and the
 * unit tests share it. CDK tokens (e.g. a cluster endpoint that CloudFormation resolves) pass through as
 * strings.
 */

/** Which secret a placeholder stands for: each kind has its own set of characters ProxySQL cannot take. */
export type SecretKind = 'admin' | 'stats' | 'monitor' | 'mysql_user';

/**
 * A secret that is not known at render time. It is rendered as a placeholder (see ./secrets.ts) that the
 * container entrypoint replaces with the value of environment variable `env`, which ECS injects from
 * Secrets Manager when the task starts. The password therefore never appears in the template.
 */
export interface SecretPlaceholder {
  readonly kind: SecretKind;
  /** Environment variable that holds the value at run time. */
  readonly env: string;
  /** Literal text before the secret in the same value, e.g. `admin:` in `admin_credentials`. @default '' */
  readonly prefix?: string;
}

/**
 * A value known only at deploy time: a CloudFormation token (e.g. a CfnParameter given as a user name or a
 * `mysqlVariables` value). It is never pasted into the template: it is rendered as `{{param:<ENV>}}` (./secrets.ts),
 * the construct puts the token in environment variable ENV and the rule it must pass in `<ENV>_RULE`
 * (./rules.ts ValueRule), and the entrypoint checks the value by that rule and escapes it at task start.
 */
export interface DeployValue {
  /** Environment variable that holds the value at run time. */
  readonly param: string;
  /**
   * Written without quotes: a libconfig int (a port), which ProxySQL's loader would not read from a string. Only
   * for a rule that lets digits through and nothing else (`port`). @default false
   */
  readonly unquoted?: boolean;
}

/** A value in the config: a literal, a secret filled in at run time, or a value known only at deploy time. */
export type ConfigString = string | SecretPlaceholder | DeployValue;

/** Scalar values of `admin_variables` / `mysql_variables`. */
export type VariableValue = string | number | boolean | SecretPlaceholder | DeployValue;

/** A documented variable: the value and the one-line reason we chose it (rendered as a comment). */
export interface Variable {
  readonly value: VariableValue;
  readonly reason?: string;
}

/** Row of `mysql_servers`. */
export interface MySqlServer {
  readonly hostgroup: number;
  readonly address: string | DeployValue;
  readonly port: number | DeployValue;
  /** @default 1 (ProxySQL's default) */
  readonly weight?: number;
  /** Per-server connection cap for ProxySQL's pool. @default 1000 (ProxySQL's default) */
  readonly maxConnections?: number;
  /** ProxySQL shuns the server when its replication lag exceeds this (seconds); 0 disables. @default 0 */
  readonly maxReplicationLag?: number;
  /** Connect to this backend over TLS. @default false */
  readonly useSsl?: boolean;
  readonly comment?: string;
}

/** Row of `mysql_users`. */
export interface MySqlUser {
  readonly username: ConfigString;
  readonly password: ConfigString;
  readonly defaultHostgroup: number;
  /** Keep every statement of a transaction on the hostgroup where it began. */
  readonly transactionPersistent: boolean;
  /** Client connections this user may hold on ProxySQL. */
  readonly maxConnections?: number;
  readonly defaultSchema?: string;
  readonly useSsl?: boolean;
  readonly comment?: string;
}

/** Row of `mysql_query_rules`. */
export interface MySqlQueryRule {
  readonly ruleId: number;
  readonly active: boolean;
  /**
   * The rule chain it belongs to: a query is matched only against rules whose flagIN equals the session's current
   * flag (0 unless a rule's next_query_flagIN changed it; lib/Query_Processor.cpp). @default 0
   */
  readonly flagIn?: number;
  /**
   * The flag every later query of this session starts with. ProxySQL keeps it on the session until another rule
   * sets it (MySQL_Session.cpp: `if (qpo->next_query_flagIN >= 0) next_query_flagIN = …`): a session state machine.
   * @default - unchanged
   */
  readonly nextQueryFlagIn?: number;
  /** RE2 pattern matched against the query digest (literals replaced by `?`, comments removed). No pattern matches every query. */
  readonly matchDigest?: string;
  /** RE2 pattern matched against the raw query text. */
  readonly matchPattern?: string;
  readonly destinationHostgroup?: number;
  /** Cache result sets of matching queries for this many milliseconds. */
  readonly cacheTtl?: number;
  /** 0 = disable multiplexing for the session, 1 = keep it, 2 = do not disable it for this query. */
  readonly multiplex?: 0 | 1 | 2;
  /** Refuse the statement with this message (ProxySQL answers error 1148 itself; nothing reaches the database). */
  readonly errorMsg?: string;
  /** Stop evaluating further rules when this one matches. */
  readonly apply: boolean;
  /** Restrict the rule to one user. */
  readonly username?: string;
  readonly comment?: string;
}

/** Row of `mysql_replication_hostgroups`: ProxySQL moves servers by their `read_only` state. */
export interface MySqlReplicationHostgroup {
  readonly writerHostgroup: number;
  readonly readerHostgroup: number;
  readonly checkType: `${ReplicationCheckType}`;
  readonly comment?: string;
}

/**
 * Values of `mysql_replication_hostgroups.check_type` that ProxySQL's config-file loader keeps. The admin
 * table also takes `read_only|innodb_read_only` and `read_only&innodb_read_only`, but the 3.0-era loader
 * (lib/ProxySQL_Config.cpp, Read_MySQL_Servers_from_configfile) silently rewrites anything but these three
 * to `read_only` (docs/research/proxysql-config.md §4), so we do not offer them.
 */
export enum ReplicationCheckType {
  /** `read_only`: what RDS for MySQL replicas run with. */
  READ_ONLY = 'read_only',
  /** `innodb_read_only`. */
  INNODB_READ_ONLY = 'innodb_read_only',
  /** `super_read_only`. */
  SUPER_READ_ONLY = 'super_read_only',
}

/** Row of `mysql_aws_aurora_hostgroups`: ProxySQL discovers the cluster's instances and its writer. */
export interface MySqlAwsAuroraHostgroup {
  readonly writerHostgroup: number;
  readonly readerHostgroup: number;
  readonly active: boolean;
  readonly auroraPort: number | DeployValue;
  /** Instance endpoint suffix with its leading dot, e.g. `.abcdefghijkl.us-east-1.rds.amazonaws.com`. */
  readonly domainName: string | DeployValue;
  readonly maxLagMs: number;
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  /** 0: the writer serves no reads; 1: the writer is also in the reader hostgroup. */
  readonly writerIsAlsoReader: boolean;
  readonly newReaderWeight: number;
  readonly addLagMs?: number;
  readonly minLagMs?: number;
  readonly lagNumChecks?: number;
  readonly comment?: string;
}

/** Row of `mysql_hostgroup_attributes`: defaults for servers ProxySQL discovers in a hostgroup. */
export interface MySqlHostgroupAttributes {
  readonly hostgroupId: number;
  /**
   * JSON object applied to servers discovered in this hostgroup (weight, max_connections, use_ssl): Aurora
   * auto-discovered instances do not inherit `use_ssl` from the seed row (sysown/proxysql#2861, PR #4207).
   */
  readonly serversDefaults?: string;
  /** JSON object of per-hostgroup monitor settings, e.g. `monitor_slave_lag_when_null` (sysown/proxysql PR #4528). */
  readonly hostgroupSettings?: string;
  /**
   * Pool settings of the hostgroup. A row in this table takes priority over mysql-free_connections_pct,
   * mysql-connection_warming and mysql-throttle_connections_per_sec_to_hostgroup (lib/MySrvConnList.cpp:
   * `if (mysrvc->myhgc->attributes.configured == true)`), with the column defaults (10, 0, 1000000) for what a row
   * leaves out: so every row states them.
   */
  readonly freeConnectionsPct?: number;
  readonly connectionWarming?: boolean;
  readonly throttleConnectionsPerSec?: number;
  readonly comment?: string;
}

/** The whole configuration: what `proxysql.cnf` holds. */
export interface ProxySqlConfig {
  readonly datadir: string;
  /**
   * Top-level settings (beside `datadir`), by their own names, which may hold a hyphen (`pgsql-workers`): the
   * 3.0.13 switches of whole modules. @default {} (none)
   */
  readonly topLevel?: Readonly<Record<string, Variable>>;
  /** Keys without the `admin-` prefix, as proxysql.cnf writes them. */
  readonly adminVariables: Readonly<Record<string, Variable>>;
  /** Keys without the `mysql-` prefix, as proxysql.cnf writes them. */
  readonly mysqlVariables: Readonly<Record<string, Variable>>;
  readonly mysqlServers: readonly MySqlServer[];
  readonly mysqlUsers: readonly MySqlUser[];
  readonly mysqlQueryRules: readonly MySqlQueryRule[];
  readonly mysqlReplicationHostgroups: readonly MySqlReplicationHostgroup[];
  readonly mysqlAwsAuroraHostgroups: readonly MySqlAwsAuroraHostgroup[];
  readonly mysqlHostgroupAttributes: readonly MySqlHostgroupAttributes[];
}

export function isSecretPlaceholder(value: unknown): value is SecretPlaceholder {
  return typeof value === 'object' && value !== null && 'env' in value && 'kind' in value;
}

export function isDeployValue(value: unknown): value is DeployValue {
  return typeof value === 'object' && value !== null && 'param' in value;
}
