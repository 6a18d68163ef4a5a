import * as fs from 'fs';
import * as path from 'path';
import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  ADMIN_PASSWORD_ENV,
  BACKEND_CA_FILE,
  CLIENT_PORT,
  CONFIG_TEMPLATE_ENV,
  DEFAULT_BACKEND_TLS,
  DEFAULT_MAX_REPLICA_LAG_SECONDS,
  DEFAULT_APP_USER,
  DEFAULT_MONITOR_USER,
  MONITOR_PASSWORD_ENV,
  NLB_DEREGISTRATION_DELAY_SECONDS,
  NLB_TCP_IDLE_TIMEOUT_SECONDS,
  PROXYSQL_ADMIN_PORT,
  PROXYSQL_ADMIN_USER,
  PROXYSQL_IMAGE,
  PROXYSQL_MYSQL_PORT,
  PROXYSQL_RESTAPI_PORT,
  SCHEMA_PATTERN,
  USERNAME_PATTERN,
} from './constants';
import { buildProxySqlConfig, userNameEnv, userPasswordEnv } from './config/build';
import { QueryRuleSpec } from './config/query-rules';
import { renderProxySqlConfig } from './config/render';
import { GENERATED_SECRET_EXCLUDED_CHARACTERS } from './config/secrets';
import { DatabaseBootstrap } from './database-bootstrap';
import { rdsCaBundle, rdsRegionOf } from './config/rds-ca';
import { acknowledge } from './nag';
import { ProxySqlBackend, ProxySqlBackendConfig } from './proxysql-backend';
import { ProxySqlMonitoring, ProxySqlServiceMonitoringOptions } from './proxysql-monitoring';

/** An application user: a login ProxySQL accepts from clients and uses on the backend. */
export interface ProxySqlUser {
  /**
   * The login name. Required when the construct creates the user; with a `secret` and no username, the name
   * is read from the secret's `username` field when the task starts.
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
  /** Privileges on `schema`.* granted by the bootstrap step. @default ['ALL PRIVILEGES'] */
  readonly privileges?: string[];
  /** Client connections this user may hold on one task. @default 10000 */
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
   * @default - one least-privilege user `app` with a generated secret and ALL PRIVILEGES on schema `app` only,
   * created by the bootstrap step (which needs the backend's admin secret)
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
  /** Drop the users the bootstrap step created when the stack is deleted. @default false */
  readonly dropUsersOnDelete?: boolean;
  /**
   * Change this string to run the bootstrap step again although nothing in the template changed, e.g. after
   * putting a new password into a user's secret by hand (the template never holds secret values). The tasks
   * are replaced after the bootstrap has run, so ProxySQL gets the same new passwords.
   * @default - the bootstrap runs when its inputs (users, grants, secret ARNs) change
   */
  readonly bootstrapRevision?: string;
  /** Custom query rules, evaluated before the default read/write split. @default [] */
  readonly queryRules?: QueryRuleSpec[];
  /** Keep the default read/write-split rules. @default true */
  readonly defaultQueryRules?: boolean;
  /** The ProxySQL image. @default - `proxysql/proxysql:3.0.13` from Docker Hub */
  readonly image?: ecs.ContainerImage;
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
  /** Subnets for the tasks and the load balancer. @default - private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** A private DNS name for the endpoint. @default - none: use the load balancer's DNS name */
  readonly dnsName?: ProxySqlDnsName;
  /** ProxySQL to the database over TLS. @default true */
  readonly backendTls?: boolean;
  /** Offer TLS to clients and require it of the application users. @default false */
  readonly clientTls?: boolean;
  /** Replicas lagging more than this are shunned; reads then go to other replicas or the writer. @default Duration.seconds(30) */
  readonly maxReplicaLag?: Duration;
  /**
   * The CA bundle (PEM) that signs the database servers' certificates: ProxySQL verifies the chain of every
   * backend TLS connection against it (`mysql-ssl_p2s_ca`). For Aurora and RDS it is known: leave it out.
   * @default - for Aurora, and for endpoints under .rds.amazonaws.com, the Amazon RDS CAs of the stack's region
   * (taken at synth, delivered in the task definition: no fetch at start); otherwise, or when the stack's region is
   * not known at synth, none: TLS is encrypted but the server is not authenticated (synth warns
   * `serverless-proxysql:backendTlsUnverified`)
   */
  readonly backendCa?: string;
  /** Client connections one task accepts. @default 10000 */
  readonly maxClientConnections?: number;
  /**
   * Backend connections one task opens to each database server at most (per hostgroup): the pool cap. Past it a
   * query waits for a pooled connection (up to 10 s, then error 9001) instead of opening another TLS connection.
   * Size it as (sessions with state per task: each holds a writer connection for its life, see `explain --session`)
   * + (peak queries/s per task to one server) x (p99 query seconds) x 2; each task holds up to this many
   * connections per server, so tasks x this must stay under the database's max_connections.
   * @default 20 - measured: 2,000 warm Lambda sessions at ~1,900 queries/s per task with 0 errors; 10 sessions
   * with state per task fit, 100 need about 120 (BENCHMARKS.md)
   */
  readonly maxBackendConnectionsPerServer?: number;
  /** Extra or overriding `mysql_variables`, names without the `mysql-` prefix. @default {} */
  readonly mysqlVariables?: Record<string, string | number | boolean>;
  /**
   * The most a stopping task waits for statements and transactions in flight after SIGTERM (the entrypoint's
   * drain bound; idle sessions are closed at once and the task stops as soon as none remain). The container stop
   * timeout is this plus 10 s, at most 120 s on Fargate. ECS signals the task after the NLB's 5 s
   * deregistration delay.
   * @default Duration.seconds(30)
   */
  readonly drainTimeout?: Duration;
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
  /** Retention of the ProxySQL log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Replace the tasks (a rolling deployment) when Secrets Manager finishes rotating one of the secrets
   * ProxySQL reads, so the new password reaches ProxySQL without a manual step.
   * @default true
   */
  readonly restartOnSecretRotation?: boolean;
  /**
   * ProxySQL's metrics in CloudWatch (a collector Lambda reading each task's /metrics every minute), alarms, a
   * dashboard and scaling on client connections per task: see ProxySqlMonitoring. `{ enabled: false }` turns it off.
   * @default - on, with the documented thresholds, no alarm topic, a dashboard
   */
  readonly monitoring?: ProxySqlServiceMonitoringOptions;
}

/** Valid Fargate CPU units → memory (MiB) choices (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html). */
const FARGATE_MEMORY: Record<number, (memory: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

const ENTRYPOINT_SCRIPT = path.join(__dirname, '..', 'runtime', 'proxysql', 'entrypoint.sh');
const HEALTH_CHECK_SCRIPT = path.join(__dirname, '..', 'runtime', 'proxysql', 'healthcheck.sh');

/**
 * ProxySQL on Fargate behind an internal Network Load Balancer: pooled, read/write-split, failover-aware
 * connections for Lambda functions and any client in the VPC.
 *
 * Data path: client → NLB :3306 → task :6033 (ProxySQL) → database. The admin interface listens on
 * 127.0.0.1 inside the task only (reach it with ECS Exec); no security group ever opens it.
 */
export class ProxySqlService extends Construct {
  /** Clients' side: the load balancer's security group, default port 3306. `allowDefaultPortFrom(client)` lets a client in. */
  public readonly connections: ec2.Connections;
  /** The tasks' security group (e.g. to allow it into a database you manage). */
  public readonly taskConnections: ec2.Connections;
  /** The DNS name clients connect to (the private record when `dnsName` is set, else the NLB's). */
  public readonly endpointHostname: string;
  /** The port clients connect to. */
  public readonly endpointPort: number = CLIENT_PORT;
  public readonly cluster: ecs.ICluster;
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** Generated admin credentials for the ProxySQL admin interface (inside the task). */
  public readonly adminSecret: secretsmanager.ISecret;
  /** Generated credentials of the monitor user. */
  public readonly monitorSecret: secretsmanager.ISecret;
  /** The application users' secrets, in the order of `users`. */
  public readonly userSecrets: secretsmanager.ISecret[];
  /** The users' names as given (undefined where the name is read from the secret at task start), as `userSecrets`. */
  private readonly userNames: Array<string | undefined>;
  /** The rendered proxysql.cnf with `{{secret:…}}` placeholders (CloudFormation tokens inside). */
  public readonly configTemplate: string;
  /** The bootstrap step, when enabled. */
  public readonly bootstrap?: DatabaseBootstrap;
  /** The EventBridge rule that restarts the tasks after a secret rotation, when enabled. */
  public readonly rotationRestartRule?: events.Rule;
  /** The NLB's target group (the tasks on 6033). */
  public readonly targetGroup: elbv2.NetworkTargetGroup;
  /** The task count scaling (CPU, and client connections when monitoring is on): add policies of your own to it. */
  public readonly scalableTaskCount: ecs.ScalableTaskCount;
  /** The metrics collector, alarms and dashboard, unless `monitoring.enabled` is false. */
  public readonly monitoring?: ProxySqlMonitoring;

  constructor(scope: Construct, id: string, props: ProxySqlServiceProps) {
    super(scope, id);
    const settings = validateProps(props);
    const backend = props.backend.bind({ useTls: props.backendTls ?? DEFAULT_BACKEND_TLS, maxReplicaLagSeconds: settings.maxReplicaLagSeconds });
    const bootstrapEnabled = props.bootstrap ?? backend.adminSecret !== undefined;
    const users = this.resolveUsers(props.users, backend, bootstrapEnabled);
    const monitorUsername = props.monitorUsername ?? DEFAULT_MONITOR_USER;
    validateUsername(monitorUsername, 'ProxySqlServiceProps.monitorUsername');

    this.adminSecret = generatedSecret(this, 'AdminSecret', PROXYSQL_ADMIN_USER, 'ProxySQL admin interface (inside the task only)');
    this.monitorSecret = generatedSecret(this, 'MonitorSecret', monitorUsername, 'ProxySQL monitor user on the database');
    this.userSecrets = users.map((u) => u.secret);
    this.userNames = users.map((u) => u.username);

    const backendCa = this.resolveBackendCa(props, backend);

    // --- configuration: one model, rendered once ---
    this.configTemplate = renderProxySqlConfig(
      buildProxySqlConfig({
        backend: backend.spec,
        users: users.map((u, index) => ({
          username: u.username ?? { kind: 'mysql_user', env: userNameEnv(index) },
          maxConnections: u.maxConnections,
        })),
        monitorUsername,
        queryRules: props.queryRules,
        defaultQueryRules: props.defaultQueryRules,
        threads: Math.max(2, Math.round(settings.cpu / 512)),
        maxClientConnections: props.maxClientConnections,
        maxBackendConnectionsPerServer: props.maxBackendConnectionsPerServer,
        clientTls: props.clientTls,
        mysqlVariableOverrides: props.mysqlVariables,
        backendCaFile: backendCa === undefined ? undefined : BACKEND_CA_FILE,
      }),
    );

    // --- network ---
    const subnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'ProxySQL NLB: clients in on 3306 (added per client), out to the tasks on 6033 only',
      allowAllOutbound: false,
    });
    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'ProxySQL tasks: in from the NLB on 6033 only, out to the database and HTTPS',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [lbSecurityGroup], defaultPort: ec2.Port.tcp(CLIENT_PORT) });
    this.taskConnections = new ec2.Connections({ securityGroups: [taskSecurityGroup], defaultPort: ec2.Port.tcp(PROXYSQL_MYSQL_PORT) });
    lbSecurityGroup.addEgressRule(taskSecurityGroup, ec2.Port.tcp(PROXYSQL_MYSQL_PORT), 'to ProxySQL tasks (traffic and health checks)');
    taskSecurityGroup.addIngressRule(lbSecurityGroup, ec2.Port.tcp(PROXYSQL_MYSQL_PORT), 'from the NLB (traffic and health checks)');
    // Image pull from Docker Hub, Secrets Manager, CloudWatch Logs and ECS Exec all speak HTTPS; no other egress.
    taskSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: image pull, Secrets Manager, logs, ECS Exec');
    for (const port of backend.ports) {
      if (backend.databaseConnections) {
        backend.databaseConnections.connections.allowFrom(taskSecurityGroup, ec2.Port.tcp(port), 'from ProxySQL tasks');
      } else {
        taskSecurityGroup.addEgressRule(
          ec2.Peer.ipv4(props.vpc.vpcCidrBlock),
          ec2.Port.tcp(port),
          'to the database endpoints (no database security group given)',
        );
      }
    }

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: subnets,
      internetFacing: false,
      crossZoneEnabled: true,
      securityGroups: [lbSecurityGroup],
    });

    // --- task ---
    const exec = props.enableExecuteCommand ?? true;
    if (props.executeCommandLogGroup && (props.cluster || !exec)) {
      throw new Error(
        'ProxySqlServiceProps.executeCommandLogGroup: applies to the cluster this construct creates with ECS Exec on; ' +
          (props.cluster ? "configure your cluster's executeCommandConfiguration instead" : 'enableExecuteCommand is false'),
      );
    }
    this.cluster =
      props.cluster ??
      new ecs.Cluster(this, 'Cluster', {
        vpc: props.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENABLED,
        // Exec sessions print what the operator sees, passwords included: not logged unless a log group is given.
        executeCommandConfiguration: props.executeCommandLogGroup
          ? {
              logging: ecs.ExecuteCommandLogging.OVERRIDE,
              logConfiguration: { cloudWatchLogGroup: props.executeCommandLogGroup, cloudWatchEncryptionEnabled: true },
            }
          : { logging: ecs.ExecuteCommandLogging.NONE },
      });
    if (props.cluster && exec) {
      Annotations.of(this).addWarningV2(
        'serverless-proxysql:execLogging',
        "ECS Exec is on in a cluster you gave: its executeCommandConfiguration decides whether session output (which can show ProxySQL's clear-text passwords) is logged. Set logging NONE, or enableExecuteCommand: false.",
      );
    }
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryLimitMiB,
      runtimePlatform: { cpuArchitecture: settings.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const drainSeconds = settings.drainSeconds;
    const secrets: Record<string, ecs.Secret> = {
      [ADMIN_PASSWORD_ENV]: ecs.Secret.fromSecretsManager(this.adminSecret, 'password'),
      [MONITOR_PASSWORD_ENV]: ecs.Secret.fromSecretsManager(this.monitorSecret, 'password'),
    };
    // Non-secret pointers that let the entrypoint name a bad secret without printing it.
    const environment: Record<string, string> = {
      [CONFIG_TEMPLATE_ENV]: this.configTemplate,
      PROXYSQL_DRAIN_SECONDS: String(drainSeconds),
      PROXYSQL_ADMIN_PORT: String(PROXYSQL_ADMIN_PORT),
      PROXYSQL_ADMIN_USER: PROXYSQL_ADMIN_USER,
      [`${ADMIN_PASSWORD_ENV}_SOURCE`]: this.adminSecret.secretArn,
      [`${MONITOR_PASSWORD_ENV}_SOURCE`]: this.monitorSecret.secretArn,
      // A new revision also changes the task definition, so the tasks are replaced (after the bootstrap,
      // which the service depends on) and pick up the new passwords.
      ...(props.bootstrapRevision !== undefined ? { PROXYSQL_BOOTSTRAP_REVISION: props.bootstrapRevision } : {}),
    };
    // The health check (runtime/proxysql/healthcheck.sh) logs in as every user: it needs their count and names.
    if (backendCa !== undefined) {
      environment.PROXYSQL_BACKEND_CA = backendCa;
      environment.PROXYSQL_BACKEND_CA_FILE = BACKEND_CA_FILE;
    }
    environment.PROXYSQL_HEALTH_CHECK = fs.readFileSync(HEALTH_CHECK_SCRIPT, 'utf8');
    environment.PROXYSQL_EXPECTED_USERS = String(users.length);
    environment.PROXYSQL_MYSQL_PORT = String(PROXYSQL_MYSQL_PORT);
    environment.PROXYSQL_RESTAPI_PORT = String(PROXYSQL_RESTAPI_PORT);
    users.forEach((user, index) => {
      if (user.username !== undefined) environment[`PROXYSQL_USER_LOGIN_${index}`] = user.username;
      secrets[userPasswordEnv(index)] = ecs.Secret.fromSecretsManager(user.secret, 'password');
      environment[`${userPasswordEnv(index)}_SOURCE`] = user.secret.secretArn;
      if (user.username === undefined) {
        secrets[userNameEnv(index)] = ecs.Secret.fromSecretsManager(user.secret, 'username');
        environment[`${userNameEnv(index)}_SOURCE`] = user.secret.secretArn;
      }
    });
    const container = this.taskDefinition.addContainer('proxysql', {
      image: props.image ?? ecs.ContainerImage.fromRegistry(PROXYSQL_IMAGE),
      // The official image unchanged; our POSIX-sh entrypoint renders the secrets in and starts ProxySQL.
      entryPoint: ['/bin/sh', '-c', fs.readFileSync(ENTRYPOINT_SCRIPT, 'utf8'), 'proxysql-entrypoint'],
      environment,
      secrets,
      essential: true,
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'proxysql', mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
      portMappings: [{ containerPort: PROXYSQL_MYSQL_PORT, protocol: ecs.Protocol.TCP, name: 'mysql' }],
      stopTimeout: Duration.seconds(Math.min(120, drainSeconds + 10)),
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      healthCheck: {
        // The configuration that was deployed is the one running: every user loaded and able to log in through
        // ProxySQL to the database, a writer configured, the monitor let in; a database that is down does not
        // count (runtime/proxysql/healthcheck.sh, run with the container's environment). A task that fails it
        // is replaced, and during a deployment the circuit breaker rolls back.
        command: ['CMD-SHELL', 'eval "$PROXYSQL_HEALTH_CHECK"'],
        interval: Duration.seconds(15),
        // each user's login is bounded at 3 s
        timeout: Duration.seconds(Math.min(60, 5 + 3 * users.length)),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65536, hardLimit: 65536 }],
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: settings.desiredCount,
      vpcSubnets: subnets,
      securityGroups: [taskSecurityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: exec,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });

    const listener = this.loadBalancer.addListener('Mysql', {
      port: CLIENT_PORT,
      protocol: elbv2.Protocol.TCP,
      // Stated, not left implicit: ProxySQL's client wait_timeout is derived from it (src/config/build.ts).
      tcpIdleTimeout: Duration.seconds(NLB_TCP_IDLE_TIMEOUT_SECONDS),
    });
    const targetGroup = listener.addTargets('ProxySql', {
      port: PROXYSQL_MYSQL_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: container.containerName, containerPort: PROXYSQL_MYSQL_PORT })],
      deregistrationDelay: Duration.seconds(NLB_DEREGISTRATION_DELAY_SECONDS),
      // TCP on the port clients use: proves the listener accepts. The connect-and-close would be logged as an
      // unhealthy client by ProxySQL (#2293, #3060); mysql-log_unhealthy_connections=false silences exactly that.
      healthCheck: {
        protocol: elbv2.Protocol.TCP,
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
    });
    targetGroup.setAttribute('deregistration_delay.connection_termination.enabled', 'false');
    this.targetGroup = targetGroup;

    const scaling = this.service.autoScaleTaskCount({ minCapacity: settings.minCapacity, maxCapacity: settings.maxCapacity });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: settings.targetCpu,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    this.scalableTaskCount = scaling;

    // --- monitoring (src/proxysql-monitoring.ts): collector, alarms, dashboard, scaling on client connections ---
    if (props.monitoring?.enabled ?? true) {
      this.monitoring = new ProxySqlMonitoring(this, 'Monitoring', {
        ...props.monitoring,
        databaseCluster: props.monitoring?.databaseCluster ?? backend.cluster,
        vpc: props.vpc,
        vpcSubnets: subnets,
        cluster: this.cluster,
        service: this.service,
        taskConnections: this.taskConnections,
        loadBalancer: this.loadBalancer,
        targetGroup,
        scalableTaskCount: scaling,
        maxClientConnectionsPerTask: props.maxClientConnections,
      });
    }
    // --- end monitoring ---

    // --- secret rotation: a rolling restart picks up the new values (ECS reads secrets at task start) ---
    if (props.restartOnSecretRotation ?? true) {
      const secretArns = [this.adminSecret, this.monitorSecret, ...users.map((u) => u.secret)].map((s) => s.secretArn);
      this.rotationRestartRule = new events.Rule(this, 'RestartOnSecretRotation', {
        description: 'Rolling restart of ProxySQL when a secret it reads has been rotated',
        eventPattern: {
          source: ['aws.secretsmanager'],
          detailType: ['AWS Service Event via CloudTrail'],
          detail: {
            eventSource: ['secretsmanager.amazonaws.com'],
            eventName: ['RotationSucceeded'],
            additionalEventData: { SecretId: secretArns },
          },
        },
      });
      this.rotationRestartRule.addTarget(
        new eventsTargets.AwsApi({
          service: 'ECS',
          action: 'updateService',
          parameters: { cluster: this.cluster.clusterArn, service: this.service.serviceArn, forceNewDeployment: true },
          policyStatement: new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: [this.service.serviceArn] }),
        }),
      );
    }

    this.acknowledgeNagFindings(exec);

    // --- DNS ---
    if (props.dnsName) {
      const record = new route53.ARecord(this, 'DnsRecord', {
        zone: props.dnsName.zone,
        recordName: props.dnsName.recordName,
        target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)),
      });
      this.endpointHostname = record.domainName;
    } else {
      this.endpointHostname = this.loadBalancer.loadBalancerDnsName;
    }

    // --- bootstrap: users on the backend before any task starts ---
    if (bootstrapEnabled) {
      if (!backend.adminSecret) {
        throw new Error(
          'ProxySqlServiceProps.bootstrap: the backend has no admin credentials; pass adminSecret to ProxySqlBackend or set bootstrap: false',
        );
      }
      if (!backend.databaseConnections) {
        throw new Error(
          'ProxySqlServiceProps.bootstrap: the backend has no databaseConnections, so the bootstrap function cannot be let in; pass them or set bootstrap: false',
        );
      }
      this.bootstrap = new DatabaseBootstrap(this, 'Bootstrap', {
        vpc: props.vpc,
        vpcSubnets: subnets,
        endpoint: { hostname: backend.writerEndpoint.host, port: backend.writerEndpoint.port },
        database: backend.databaseConnections,
        adminSecret: backend.adminSecret,
        monitorUsername,
        monitorSecret: this.monitorSecret,
        users: users
          .filter((u) => u.createOnBackend)
          .map((u) => ({ username: u.username as string, secret: u.secret, schema: u.schema, privileges: u.privileges })),
        dropUsersOnDelete: props.dropUsersOnDelete ?? false,
        revision: props.bootstrapRevision,
      });
      this.service.node.addDependency(this.bootstrap);
      // On first deploy the bootstrap's wait must not start before the writer instance exists.
      for (const dependable of backend.dependables ?? []) this.bootstrap.resource.node.addDependency(dependable);
    } else {
      Annotations.of(this).addWarningV2(
        'serverless-proxysql:noBootstrap',
        `No bootstrap step: create the monitor user '${monitorUsername}' (password in the MonitorSecret) and the application users on the database yourself.`,
      );
    }
    if (!(props.backendTls ?? DEFAULT_BACKEND_TLS)) {
      Annotations.of(this).addWarningV2('serverless-proxysql:backendTlsOff', 'backendTls is false: ProxySQL talks to the database in clear text.');
    }
    if (settings.desiredCount < 2) {
      Annotations.of(this).addWarningV2(
        'serverless-proxysql:singleTask',
        'desiredCount is 1: a task replacement or AZ outage leaves clients without a proxy.',
      );
    }
  }

  /**
   * Lets a client (a Lambda function, an ECS service…) connect through the proxy: ingress from its security
   * group on port 3306, and read access to the secret of the user it logs in as.
   * @param username the user (by name, as given in `users`) the client logs in as. @default - the first user
   * @returns the grant of read access to that user's secret
   */
  public grantConnect(client: ec2.IConnectable & iam.IGrantable, username?: string): iam.Grant {
    const index = username === undefined ? 0 : this.userNames.indexOf(username);
    if (index < 0) {
      const known = this.userNames.filter((n): n is string => n !== undefined);
      throw new Error(
        `ProxySqlService.grantConnect: no user named '${username}'; the users with a name are: ${known.length ? known.join(', ') : 'none'}`,
      );
    }
    this.connections.allowDefaultPortFrom(client, 'client of ProxySQL');
    return this.userSecrets[index].grantRead(client);
  }

  /** The CA bundle ProxySQL verifies the database with, or undefined (with a warning) when none is known. */
  private resolveBackendCa(props: ProxySqlServiceProps, backend: ProxySqlBackendConfig): string | undefined {
    const tls = props.backendTls ?? DEFAULT_BACKEND_TLS;
    if (props.backendCa !== undefined) {
      if (!tls) throw new Error('ProxySqlServiceProps.backendCa: set with backendTls false; turn TLS on or drop the CA');
      if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(props.backendCa) || props.backendCa.includes('{{')) {
        throw new Error('ProxySqlServiceProps.backendCa: must be PEM text (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)');
      }
      if (Buffer.byteLength(props.backendCa) > 16 * 1024) {
        throw new Error('ProxySqlServiceProps.backendCa: keep it under 16 KiB (it travels in the task definition, 64 KiB in all): the CAs that sign your servers only');
      }
      return props.backendCa.trim();
    }
    if (!tls) return undefined;
    // The region in the servers' names when CloudFormation does not resolve them at deploy time, else the stack's.
    const stackRegion = Stack.of(this).region;
    const region = rdsRegionOf(backend.spec) ?? (backend.rdsManaged && !Token.isUnresolved(stackRegion) ? stackRegion : undefined);
    const ca = region === undefined ? undefined : rdsCaBundle(region);
    if (ca === undefined) {
      Annotations.of(this).addWarningV2(
        'serverless-proxysql:backendTlsUnverified',
        backend.rdsManaged
          ? "TLS to the database is encrypted but not authenticated: the stack's region is not known at synth, so the RDS CAs cannot be chosen; give the stack an env region or set backendCa."
          : 'TLS to the database is encrypted but not authenticated: set backendCa to the CA that signs its certificates.',
      );
    }
    return ca;
  }

  /** cdk-nag AwsSolutions findings that are deliberate here, each with its reason. */
  private acknowledgeNagFindings(exec: boolean): void {
    const noRotationFunction =
      'No rotation function exists for this secret; rotate it by replacing the secret (a new deployment restarts the tasks), see docs/operations.md. A rotation you add elsewhere triggers a rolling restart through the RestartOnSecretRotation rule.';
    for (const secret of [this.adminSecret, this.monitorSecret, ...this.userSecrets]) {
      if (secret instanceof secretsmanager.Secret && secret.node.scope === this) acknowledge(secret, { 'AwsSolutions-SMG4': noRotationFunction });
    }
    acknowledge(this.taskDefinition, {
      'AwsSolutions-ECS2':
        'The environment holds no secret: the config template with {{secret:…}} placeholders, the drain bound, the admin port and user, and secret ARNs. Passwords arrive through ECS secrets.',
      ...(exec
        ? {
            'AwsSolutions-IAM5[Resource::*]':
              'ECS Exec: ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel do not support resource-level permissions; no logs permission is granted while Exec session logging is off (@aws-cdk/aws-ecs:reduceEc2FargateCloudWatchPermissions).',
          }
        : {}),
    });
    acknowledge(this.loadBalancer, {
      'AwsSolutions-ELB2': 'NLB access logs are only written for TLS listeners; this NLB has a plain TCP listener (MySQL protocol).',
    });
    // The AwsApi rule target is a stack-wide singleton function that aws-cdk-lib creates.
    const apiCaller = Stack.of(this).node.tryFindChild('AWSb4cf1abd4e4f4bc699441af7ccd9ec37');
    if (apiCaller) {
      acknowledge(apiCaller, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
          "aws-cdk-lib's AwsApi event target function: the managed policy only lets it write its own CloudWatch Logs.",
      });
    }
  }

  private resolveUsers(users: ProxySqlUser[] | undefined, backend: ProxySqlBackendConfig, bootstrapEnabled: boolean): ResolvedUser[] {
    if (users === undefined) {
      if (!backend.adminSecret) {
        throw new Error(
          'ProxySqlServiceProps.users: required when the backend has no admin secret: the default user is created on the database by the bootstrap step, which needs it',
        );
      }
      if (!bootstrapEnabled) {
        throw new Error(
          `ProxySqlServiceProps.users: required with bootstrap: false: nothing would create the default '${DEFAULT_APP_USER}' user; list the users that exist on the database`,
        );
      }
      users = [{ username: DEFAULT_APP_USER, schema: DEFAULT_APP_USER }];
    }
    if (users.length === 0) {
      throw new Error(`ProxySqlServiceProps.users: must hold at least one user (or leave it out for a generated '${DEFAULT_APP_USER}' user)`);
    }
    if (backend.adminSecret && users.some((u) => u.secret === backend.adminSecret)) {
      Annotations.of(this).addWarningV2(
        'serverless-proxysql:adminUser',
        "ProxySqlServiceProps.users: the database's admin secret is served through the proxy; clients given it with grantConnect can read it. Prefer a least-privilege user.",
      );
    }
    const seen = new Set<string>();
    return users.map((user, i) => {
      const at = `ProxySqlServiceProps.users[${i}]`;
      if (user.username !== undefined) {
        validateUsername(user.username, `${at}.username`);
        if (seen.has(user.username)) throw new Error(`${at}.username: '${user.username}' is listed twice; give each user once`);
        seen.add(user.username);
      } else if (!user.secret) {
        throw new Error(`${at}: give a username, a secret, or both`);
      }
      const createOnBackend = user.createOnBackend ?? user.secret === undefined;
      if (createOnBackend && user.username === undefined) {
        throw new Error(`${at}.username: required when createOnBackend is true`);
      }
      const schema = user.schema ?? 'app';
      if (!SCHEMA_PATTERN.test(schema)) {
        throw new Error(`${at}.schema: '${schema}' must be 1-64 letters, digits or underscores`);
      }
      if (user.maxConnections !== undefined && (!Number.isInteger(user.maxConnections) || user.maxConnections < 1)) {
        throw new Error(`${at}.maxConnections: must be a whole number of at least 1, got ${user.maxConnections}`);
      }
      const secret = user.secret ?? generatedSecret(this, `UserSecret${i}`, user.username as string, `ProxySQL application user ${user.username}`);
      return { username: user.username, secret, createOnBackend, schema, privileges: user.privileges ?? ['ALL PRIVILEGES'], maxConnections: user.maxConnections };
    });
  }
}

interface ResolvedUser {
  readonly username?: string;
  readonly secret: secretsmanager.ISecret;
  readonly createOnBackend: boolean;
  readonly schema: string;
  readonly privileges: string[];
  readonly maxConnections?: number;
}

function validateUsername(username: string, at: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new Error(`${at}: '${username}' must be 1-32 letters, digits or underscores`);
  }
}

/** A Secrets Manager secret `{username, password}` whose password ProxySQL's config loader can take. */
function generatedSecret(scope: Construct, id: string, username: string, description: string): secretsmanager.Secret {
  return new secretsmanager.Secret(scope, id, {
    description,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username }),
      generateStringKey: 'password',
      passwordLength: 32,
      excludeCharacters: GENERATED_SECRET_EXCLUDED_CHARACTERS,
    },
  });
}

interface Settings {
  cpu: number;
  memoryLimitMiB: number;
  desiredCount: number;
  minCapacity: number;
  maxCapacity: number;
  targetCpu: number;
  cpuArchitecture: ecs.CpuArchitecture;
  drainSeconds: number;
  maxReplicaLagSeconds: number;
}

function validateProps(props: ProxySqlServiceProps): Settings {
  const cpu = props.cpu ?? 512;
  const memoryLimitMiB = props.memoryLimitMiB ?? (cpu <= 512 ? 1024 : cpu * 2);
  if (!(cpu in FARGATE_MEMORY)) {
    throw new Error(`ProxySqlServiceProps.cpu: ${cpu} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY).join(', ')}`);
  }
  if (!FARGATE_MEMORY[cpu](memoryLimitMiB)) {
    throw new Error(
      `ProxySqlServiceProps.memoryLimitMiB: ${memoryLimitMiB} MiB is not valid with cpu ${cpu} on Fargate; see the valid CPU/memory pairs in the Fargate documentation`,
    );
  }
  const desiredCount = props.desiredCount ?? 2;
  checkCount(desiredCount, 'ProxySqlServiceProps.desiredCount', 1);
  const minCapacity = props.autoScaling?.minCapacity ?? desiredCount;
  checkCount(minCapacity, 'ProxySqlServiceProps.autoScaling.minCapacity', 1);
  const maxCapacity = props.autoScaling?.maxCapacity ?? minCapacity * 3;
  checkCount(maxCapacity, 'ProxySqlServiceProps.autoScaling.maxCapacity', 1);
  if (maxCapacity < minCapacity) {
    throw new Error(`ProxySqlServiceProps.autoScaling.maxCapacity: ${maxCapacity} is below minCapacity ${minCapacity}`);
  }
  if (desiredCount < minCapacity || desiredCount > maxCapacity) {
    throw new Error(`ProxySqlServiceProps.desiredCount: ${desiredCount} is outside autoScaling ${minCapacity}..${maxCapacity}`);
  }
  const targetCpu = props.autoScaling?.targetCpuUtilizationPercent ?? 60;
  if (!(targetCpu >= 10 && targetCpu <= 90)) {
    throw new Error(`ProxySqlServiceProps.autoScaling.targetCpuUtilizationPercent: ${targetCpu} must be from 10 to 90`);
  }
  const drainSeconds = wholeSeconds(props.drainTimeout ?? Duration.seconds(30), 'ProxySqlServiceProps.drainTimeout');
  if (!(drainSeconds >= 0 && drainSeconds <= 110)) {
    throw new Error(
      `ProxySqlServiceProps.drainTimeout: ${drainSeconds} s must be from 0 to 110 s (Fargate stops a container at most 120 s after SIGTERM)`,
    );
  }
  const numeric: Array<[number | undefined, string, number, number]> = [
    [props.maxClientConnections, 'maxClientConnections', 1, 1_000_000],
    [props.maxBackendConnectionsPerServer, 'maxBackendConnectionsPerServer', 1, 100_000],
  ];
  for (const [value, name, min, max] of numeric) {
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      throw new Error(`ProxySqlServiceProps.${name}: must be a whole number from ${min} to ${max}, got ${value}`);
    }
  }
  const lag = wholeSeconds(props.maxReplicaLag ?? Duration.seconds(DEFAULT_MAX_REPLICA_LAG_SECONDS), 'ProxySqlServiceProps.maxReplicaLag');
  if (!(lag >= 1 && lag <= 600)) {
    throw new Error(`ProxySqlServiceProps.maxReplicaLag: ${lag} s must be from 1 to 600 s`);
  }
  validateMysqlVariables(props.mysqlVariables ?? {});
  return {
    cpu,
    memoryLimitMiB,
    desiredCount,
    minCapacity,
    maxCapacity,
    targetCpu,
    cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.ARM64,
    drainSeconds,
    maxReplicaLagSeconds: lag,
  };
}

/** Variables the construct sets from its own props or secrets: overriding them would break an invariant. */
const CONSTRUCT_OWNED_VARIABLES: Readonly<Record<string, string>> = {
  monitor_username: 'set monitorUsername instead',
  monitor_password: 'it is the generated MonitorSecret, injected at task start; a value here would sit in the template in clear text',
  interfaces: 'the load balancer forwards to port 6033',
  query_processor_regex: 'query rules are validated with RE2 at synth, so ProxySQL must run RE2',
  have_ssl: 'set clientTls instead',
};

function validateMysqlVariables(variables: Readonly<Record<string, string | number | boolean>>): void {
  for (const [name, value] of Object.entries(variables)) {
    const at = `ProxySqlServiceProps.mysqlVariables.${name}`;
    if (name.startsWith('mysql-') || !/^[a-z][a-z0-9_]*$/.test(name)) {
      throw new Error(`ProxySqlServiceProps.mysqlVariables: '${name}' must be a variable name without the mysql- prefix (e.g. 'wait_timeout')`);
    }
    if (name in CONSTRUCT_OWNED_VARIABLES) {
      throw new Error(`${at}: set by the construct (${CONSTRUCT_OWNED_VARIABLES[name]})`);
    }
    if (typeof value === 'number' && !(Number.isInteger(value) && Math.abs(value) <= 2_147_483_647)) {
      throw new Error(`${at}: ${value} must be a whole number that fits 32 bits (ProxySQL's config loader reads an int)`);
    }
    if (typeof value === 'string' && (/["\n\r]/.test(value) || value.includes('{{secret:'))) {
      // The 3.0-era loader splices variable values into SQL between double quotes, unescaped.
      throw new Error(`${at}: must not contain a double quote, a line break or '{{secret:'`);
    }
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new Error(`${at}: must be a string, a number or a boolean`);
    }
  }
}

/** A duration as whole seconds, or an error naming the prop (Duration.toSeconds throws a message without one). */
function wholeSeconds(duration: Duration, at: string): number {
  const ms = duration.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || ms % 1000 !== 0) {
    throw new Error(`${at}: ${duration.toHumanString()} must be a whole number of seconds`);
  }
  return ms / 1000;
}

function checkCount(value: number, at: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${at}: must be a whole number of at least ${min}, got ${value}`);
  }
}
