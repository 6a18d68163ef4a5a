import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { QueryRuleSpec } from './config/query-rules';
import { ReadConsistency } from './config/session-state';
import { ProxySqlBackend } from './proxysql-backend';
import { ProxySqlServiceMonitoringOptions } from './proxysql-monitoring';

// The props of ProxySqlService (./proxysql-service.ts), beside it as aws-rds keeps DatabaseProxyProps; their
// checks are in ./proxysql-service-validation.ts.

/** An application user: a login ProxySQL accepts from clients and uses on the backend. */
export interface ProxySqlUser {
  /**
   * The login name. Required when the construct creates the user; with a `secret` and no username, the name
   * is read from the secret's `username` field when the task starts. A CloudFormation token (e.g. a CfnParameter) is
   * checked when the task starts, by the same rule as a name given at synth (1-32 of A-Z, a-z, 0-9, _): a bad one
   * stops the task with an error naming this prop. So is a name read from the secret: a bad one stops the task with
   * an error naming the secret's ARN, never the name.
   * @default - the secret's `username` field
   */
  readonly username?: string;
  /**
   * `{ "username": …, "password": … }` as RDS writes it.
   * @default - a generated secret, and the bootstrap step creates the user on the backend
   */
  readonly secret?: secretsmanager.ISecret;
  /**
   * Create or update this user on the backend in the bootstrap step.
   * @default - true when the construct generates the secret, false for a secret you bring
   */
  readonly createOnBackend?: boolean;
  /** Schema the bootstrap step creates and grants on. @default 'app' */
  readonly schema?: string;
  /**
   * Privileges on `schema`.* granted by the bootstrap step; it revokes any other it finds on the schema, so this is
   * the whole list. For a user that runs migrations add the DDL it needs, e.g. `['SELECT', 'INSERT', 'UPDATE',
   * 'DELETE', 'CREATE', 'ALTER', 'DROP', 'INDEX', 'REFERENCES']`, or `['ALL PRIVILEGES']`. With `backendTls` the user
   * is created `REQUIRE SSL`: it can log in only over TLS, as ProxySQL connects.
   * @default ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE TEMPORARY TABLES', 'EXECUTE'] - the least an application
   * needs: data statements, its own temporary tables, stored routines; no DDL (a migration's, not a request's) and no
   * LOCK TABLES (rare, and through ProxySQL it holds a writer connection while held). Before issue 18 the default was
   * ALL PRIVILEGES: a deployment that relied on it loses DDL at its next bootstrap unless it lists it here
   */
  readonly privileges?: string[];
  /**
   * Client connections this user may hold on one task (ProxySQL's `mysql_users.max_connections`); past it the user's
   * new logins are refused while other users still log in. Each user also has a writer pool of its own
   * (`maxBackendConnectionsPerServer` connections per task), so its sessions that pin a writer connection (user
   * variables, named locks, temporary tables) exhaust that pool only, never another user's.
   * @default - half of `maxClientConnections` (5000) when there are several users, so one user's fleet leaves at
   * least half of every task to the others; all of it (10000) when there is one user, who has nobody to leave room for
   */
  readonly maxConnections?: number;
}

/** A private DNS name for the proxy endpoint. */
export interface ProxySqlDnsName {
  /** A private hosted zone associated with the VPC. */
  readonly zone: route53.IHostedZone;
  /** The record name inside the zone, e.g. `proxysql`. */
  readonly recordName: string;
}

/** Task-count scaling. */
export interface ProxySqlAutoScaling {
  /** @default - desiredCount */
  readonly minCapacity?: number;
  /** @default - 3 × minCapacity */
  readonly maxCapacity?: number;
  /** Target average CPU utilisation of the tasks. @default 60 */
  readonly targetCpuUtilizationPercent?: number;
}

export interface ProxySqlServiceProps {
  /** The VPC for the tasks and the internal load balancer. */
  readonly vpc: ec2.IVpc;
  /** The database behind the proxy. */
  readonly backend: ProxySqlBackend;
  /**
   * Application users. To serve the database's admin (master) login through the proxy, list it explicitly:
   * `{ secret: cluster.secret! }` (synth warns `serverless-proxysql:adminUser`): an application should not hold it.
   * @default - one least-privilege user `app` with a generated secret and the default `privileges` (data statements,
   * temporary tables, EXECUTE) on schema `app` only, created by the bootstrap step (which needs the backend's admin
   * secret), `REQUIRE SSL` when `backendTls` is on
   */
  readonly users?: ProxySqlUser[];
  /** Name of the monitor user the bootstrap step creates on the backend. @default 'proxysql_monitor' */
  readonly monitorUsername?: string;
  /**
   * Create the monitor and application users on the backend at deploy time (a custom resource that runs
   * before the tasks start).
   * @default true when the backend has admin credentials
   */
  readonly bootstrap?: boolean;
  /**
   * Change this string to run the bootstrap step again although nothing in the template changed, e.g. after
   * putting a new password into a user's secret by hand (the template never holds secret values). The tasks
   * are replaced after the bootstrap has run, so ProxySQL gets the same new passwords.
   * @default - the bootstrap runs when its inputs (users, grants, secret ARNs) change
   */
  readonly bootstrapRevision?: string;
  /**
   * Accounts that already exist on the database and that the bootstrap step may take over: it sets their password
   * to the one in their secret and revokes their grants outside their schema (synth warns
   * `serverless-proxysql:adoptExistingUsers`). An existing account not listed, that this stack did not create, makes
   * the deployment fail with a message naming it.
   * @default [] - no account is taken over silently
   */
  readonly adoptExistingUsers?: string[];
  /** Drop the users the bootstrap step created when the stack is deleted. @default false */
  readonly dropUsersOnDelete?: boolean;
  /** Custom query rules, evaluated before the default read/write split. @default [] */
  readonly queryRules?: QueryRuleSpec[];
  /** Keep the default read/write-split rules. @default true */
  readonly defaultQueryRules?: boolean;
  /**
   * Where reads that follow a write go. With READ_YOUR_WRITES a session reads its own writes however far the
   * replicas lag: after a write, its next `readYourWritesStatements` statements go to the writer. WRITER_ONLY sends
   * every read to the writer (every committed write visible, no offload); EVENTUAL lets the rules send a read to a
   * replica right after the session's own write. docs/architecture.md ("Read consistency") states the guarantees.
   * @default ReadConsistency.READ_YOUR_WRITES - what a client written for one database expects
   */
  readonly readConsistency?: ReadConsistency;
  /**
   * With READ_YOUR_WRITES: how many statements after a write stay on the writer (a read, SHOW or USE counts one; another
   * write starts the count again). From 1 to 15 (each adds rules to the rendered file, which travels in the task definition).
   * @default 5 - a Lambda invocation's reads of what it just wrote; later reads go back to the replicas
   */
  readonly readYourWritesStatements?: number;
  /**
   * Keep a session's writer connection after an INSERT that generated an id, for its next 5 statements while they come
   * less than 500 ms apart (ProxySQL releases it at its next once-a-second check), so that `LAST_INSERT_ID()` in any
   * spelling (an alias, an expression, `INSERT … VALUES (LAST_INSERT_ID())`) runs where the id was made. Without it
   * the driver's own insert id, the exact `SELECT LAST_INSERT_ID()` that ProxySQL answers itself, and LAST_INSERT_ID()
   * inside a transaction (or before commit with autocommit off) are right; other spellings may read another
   * session's id. The cost: a writer connection held up to about a second after each such INSERT (docs/clients.md).
   * @default false - measured: holding cut 2,000 Lambda-like sessions with 20% INSERTs to a third of the throughput, with 13% errors
   */
  readonly keepConnectionForLastInsertId?: boolean;
  /**
   * Let clients run account statements through the proxy: SET PASSWORD, CREATE/ALTER/DROP/RENAME USER or ROLE,
   * GRANT, REVOKE, SET DEFAULT ROLE. They run as the application user, and a changed password locks every task out
   * at its next start (ProxySQL keeps logging in with the password in its secret).
   * @default false - refused by ProxySQL itself with error 1148 and a message naming this prop
   */
  readonly allowAccountStatements?: boolean;
  /** Replicas lagging more than this are shunned; reads then go to other replicas or the writer. @default Duration.seconds(30) */
  readonly maxReplicaLag?: Duration;
  /**
   * Extra or overriding `mysql_variables`, names without the `mysql-` prefix. Checked at synth against ProxySQL 3.0's
   * variables (ProxySQL itself would start and ignore a bad one): an unknown name fails with the nearest known one
   * ("did you mean wait_timeout?"), a value of the wrong type or outside the variable's range fails naming both.
   * With an `image` of your own, an unknown name only warns (`serverless-proxysql:unknownMysqlVariable`). A value
   * given as a CloudFormation token (a string, e.g. a CfnParameter) is checked by the same rule when the task starts,
   * which stops with an error naming the variable if it does not pass.
   * @default {}
   */
  readonly mysqlVariables?: Record<string, string | number | boolean>;
  /** Client connections one task accepts. @default 10000 */
  readonly maxClientConnections?: number;
  /**
   * Backend connections one task opens to each database server at most (per hostgroup): the pool cap. Past it a
   * query waits for a pooled connection (up to 10 s, then error 9001) instead of opening another TLS connection.
   * Every application user has a writer pool of its own at this cap (reads share the readers' pools), so one user's
   * pinned sessions cannot take another user's writer connections; the writer then sees up to (users x this) per task.
   * Size it as (sessions with state per task: each holds a writer connection for its life, see `explain --session`)
   * + (peak queries/s per task to one server) x (p99 query seconds) x 2; each task holds up to this many
   * connections per server, so tasks x this must stay under the database's max_connections.
   * @default 20 - measured: 2,000 warm Lambda sessions at ~1,900 queries/s per task with 0 errors; 10 sessions
   * with state per task fit, 100 need about 120 (BENCHMARKS.md)
   */
  readonly maxBackendConnectionsPerServer?: number;
  /**
   * The database's `max_connections` (per server), to check the proxy's connection budget against at synth: the
   * writer may see up to (autoScaling.maxCapacity) tasks × (users × maxBackendConnectionsPerServer + its last-resort reader
   * cap + 4 monitor connections) + 1 bootstrap connection; synth warns `serverless-proxysql:backendConnectionBudget`
   * past it. Leave room for other clients (rotation, administrators).
   * @default - unknown: synth warns past 1000, Aurora MySQL's default max_connections on a db.r6g.large
   */
  readonly databaseMaxConnections?: number;
  /** ProxySQL to the database over TLS. @default true */
  readonly backendTls?: boolean;
  /**
   * The CA bundle (PEM) that signs the database servers' certificates: ProxySQL verifies the chain of every
   * backend TLS connection against it (`mysql-ssl_p2s_ca`). For Aurora and RDS it is known: leave it out.
   * @default - for Aurora, and for endpoints under .rds.amazonaws.com, the Amazon RDS CAs of the stack's region
   * (taken at synth, delivered in the task definition: no fetch at start); otherwise, or when the stack's region is
   * not known at synth, none: TLS is encrypted but the server is not authenticated (synth warns
   * `serverless-proxysql:backendTlsUnverified`)
   */
  readonly backendCa?: string;
  /**
   * Offer TLS to clients and require it of the application users (ProxySQL's `have_ssl` and each user's `use_ssl`):
   * what `requireTLS` is on rds.DatabaseProxy.
   * @default false - the clients are in the VPC and the NLB is internal; RDS Proxy's default is true
   */
  readonly clientTls?: boolean;
  /**
   * How long a query waits for a usable backend connection (the pool at `maxBackendConnectionsPerServer`, or no
   * writer during a failover) before it fails with error 9001: ProxySQL's `mysql-connect_timeout_server_max`, as
   * `borrowTimeout` is on rds.DatabaseProxy. Whole seconds, from 1 (one connect attempt) to 3600.
   * @default Duration.seconds(10) - a query waits through a writer switch (the monitor checks every 100 ms) and a
   * burst past the pool cap, and a Lambda function still learns of an exhausted pool well inside its own timeout;
   * RDS Proxy's default is 120 s
   */
  readonly borrowTimeout?: Duration;
  /**
   * ProxySQL closes a client session idle (outside a transaction) this long: its `mysql-wait_timeout`, as
   * `idleClientTimeout` is on rds.DatabaseProxy. Whole seconds, at most 340: the NLB drops a TCP flow idle for 350 s
   * without telling either end, so ProxySQL must close first.
   * @default Duration.seconds(340) - the longest under the NLB's idle timeout; frozen or reaped Lambda sandboxes free
   * their slot within it. RDS Proxy's default is 1800 s, which its own endpoint allows
   */
  readonly idleClientTimeout?: Duration;
  /**
   * SQL that ProxySQL runs on every new backend connection, statements separated by semicolons (`mysql-init_connect`),
   * as `initQuery` is on rds.DatabaseProxy, e.g. `SET SESSION innodb_lock_wait_timeout=5`. It must not contain a
   * double quote or a line break (ProxySQL's config loader takes neither): quote strings with single quotes. A session
   * variable ProxySQL tracks (sql_mode, time_zone, character sets…) that a client sets itself wins on that client's
   * statements.
   * @default - none
   */
  readonly initQuery?: string;
  /** Subnets for the tasks and the load balancer. @default - private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the load balancer, the clients' side (as `securityGroups` is on rds.DatabaseProxy): 1 to 5.
   * The construct adds their egress to the tasks on 6033, and `grantConnect` adds ingress on 3306 to them. The tasks
   * keep a security group of their own, which lets in only the load balancer.
   * @default - a new security group with no egress but to the tasks, and ingress only as `grantConnect` or
   * `connections` add it
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * The name of the load balancer and of the ECS service, as `dbProxyName` is on rds.DatabaseProxy: 1-32 letters,
   * digits and hyphens, not starting or ending with a hyphen, not starting with `internal-`. A load balancer's name is
   * unique in its account and region, and a change that replaces a named resource fails: change the name with it.
   * @default - names generated by CloudFormation: the stack can be deployed twice in one account and region
   */
  readonly proxyName?: string;
  /** A private DNS name for the endpoint. @default - none: use the load balancer's DNS name */
  readonly dnsName?: ProxySqlDnsName;
  /**
   * Where the tasks' and the bootstrap function's HTTPS may go (image pull, Secrets Manager, CloudWatch Logs,
   * ECS Exec): e.g. the VPC's CIDR when the image is in ECR and the VPC has interface endpoints for ECR, Secrets
   * Manager, CloudWatch Logs and SSM messages (plus the S3 gateway endpoint for ECR's layers).
   * @default - any IPv4 address: the default image comes from Docker Hub, on the internet
   */
  readonly httpsEgress?: ec2.IPeer;
  /**
   * Where the bootstrap function's HTTPS may go: it calls Secrets Manager only, so a Secrets Manager interface
   * endpoint's security group is enough even when the tasks need the internet for the image.
   * @default - httpsEgress
   */
  readonly bootstrapHttpsEgress?: ec2.IPeer;
  /** The ProxySQL image. @default - `proxysql/proxysql:3.0.13` from Docker Hub */
  readonly image?: ecs.ContainerImage;
  /**
   * The image of the task's agent container, which runs the configuration health check, the drain and the figures
   * for the metrics collector against ProxySQL's admin interface on the task's loopback. It must have a `mariadb` or
   * `mysql` client, `/bin/sh`, `sleep`, `date` and `timeout`; e.g. an ECR copy pinned by digest.
   * @default - `public.ecr.aws/docker/library/mariadb:11.8.3` (Docker's official MariaDB image on ECR Public), for its client
   */
  readonly agentImage?: ecs.ContainerImage;
  /**
   * CPU architecture of the tasks. The official 3.0.x images are published for linux/amd64 and linux/arm64
   * (maintainer statement, sysown/proxysql#5450); Graviton Fargate is about 20% cheaper.
   * @default ecs.CpuArchitecture.ARM64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /** Task CPU units. @default 512 */
  readonly cpu?: number;
  /** Task memory (MiB). @default 1024 */
  readonly memoryLimitMiB?: number;
  /** Number of tasks. @default 2 */
  readonly desiredCount?: number;
  /** Scale on CPU. @default - min desiredCount, max 3 × desiredCount, 60% CPU */
  readonly autoScaling?: ProxySqlAutoScaling;
  /** An ECS cluster to run in. @default - a new cluster in the VPC */
  readonly cluster?: ecs.ICluster;
  /**
   * The most a stopping task waits for statements and transactions in flight after SIGTERM (the agent container's
   * drain bound; idle sessions are closed, see `idleThreads`, and the task stops as soon as none remain). The
   * agent's stop timeout is this plus 10 s, at most 120 s on Fargate; ProxySQL's container is stopped after it.
   * ECS signals the task after the NLB's 5 s deregistration delay.
   * @default Duration.seconds(30)
   */
  readonly drainTimeout?: Duration;
  /**
   * Park idle client sessions on ProxySQL's idle threads (`--idle-threads`), so that the worker threads poll only
   * the active ones. Without them, measured with ProxySQL 2.7.1 (2,000 sessions at ~1,900 queries/s): 3.9× the CPU
   * and a p99 latency of 52 ms instead of 4.3 ms (BENCHMARKS.md). Their price is in the drain: ProxySQL
   * closes a parked session only in its idle thread's 2 s pass, about half of them per pass, so while a statement
   * or transaction is still running after SIGTERM the idle sessions stay open until it ends (then the task stops
   * and closes them). With `false` the drain closes every idle session at once (24 sessions within 0.1 s while a
   * 4 s statement ran).
   * @default true
   */
  readonly idleThreads?: boolean;
  /**
   * ECS Exec into the tasks (the only way to the admin interface, which listens on 127.0.0.1 inside the task).
   * @default true
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * Where ECS Exec session output is logged, for the cluster this construct creates. An operator's
   * `SELECT * FROM mysql_users` shows clear-text passwords, so give a log group only if you mean to keep that
   * (encrypt it with a KMS key and limit who reads it).
   * @default - session output is not logged (the cluster's executeCommandConfiguration logging is NONE)
   */
  readonly executeCommandLogGroup?: logs.ILogGroup;
  /**
   * How long the ProxySQL log group keeps ProxySQL's log (docs/operations.md, "What ProxySQL writes to its log").
   * @default logs.RetentionDays.ONE_MONTH - a month to look back at an incident, and not longer: the log holds the
   * database's error messages, which can quote data values
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A customer managed KMS key for the ProxySQL log group, which holds the database's error messages (they can quote
   * data values), client addresses and user names, never a password (docs/operations.md, "What ProxySQL writes to its
   * log"). A key of this stack gets a policy statement that lets CloudWatch Logs of the stack's account and region use
   * it; for a key you import, add that statement yourself (synth warns `serverless-proxysql:logKeyPolicy`). Whoever
   * reads the log then needs `kms:Decrypt` on the key as well as read access to the group.
   * @default - encrypted at rest by CloudWatch Logs with a key it manages: read access to the group is the only gate
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Replace the tasks (a rolling deployment) when Secrets Manager finishes rotating one of the secrets
   * ProxySQL reads, so the new password reaches ProxySQL without a manual step.
   * @default true
   */
  readonly restartOnSecretRotation?: boolean;
  /**
   * ProxySQL's metrics in CloudWatch (each task's agent writes its figures to its log stream every minute; a
   * collector Lambda reads the latest line of every running task and aggregates them), alarms, a
   * dashboard and scaling on client connections per task: see ProxySqlMonitoring. `{ enabled: false }` turns it off.
   * @default - on, with the documented thresholds, no alarm topic, a dashboard
   */
  readonly monitoring?: ProxySqlServiceMonitoringOptions;
}
