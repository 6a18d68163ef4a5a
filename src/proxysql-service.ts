import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
  AGENT_CONTAINER_NAME,
  BACKEND_CA_FILE,
  CLIENT_PORT,
  DEFAULT_BACKEND_TLS,
  DEFAULT_MONITOR_USER,
  NLB_DEREGISTRATION_DELAY_SECONDS,
  NLB_TCP_IDLE_TIMEOUT_SECONDS,
  PROXYSQL_ADMIN_USER,
  PROXYSQL_MYSQL_PORT,
  PROXYSQL_STATS_USER,
} from './constants';
import { buildProxySqlConfig, userNameEnv } from './config/build';
import { renderProxySqlConfig } from './config/render';
import { ConfigString } from './config/model';
import { managedUsernameProblem, mysqlVariableRule } from './config/rules';
import { DatabaseBootstrap } from './database-bootstrap';
import { generatedSecret } from './generated-secret';
import { checkProp } from './prop-rules';
import { ProxySqlBackendConfig, templateBackendSpec } from './proxysql-backend';
import { proxySqlAgentContainerOptions } from './proxysql-agent-container';
import { DeployValues, proxySqlContainerOptions } from './proxysql-container';
import { createProxySqlLogGroup } from './proxysql-log-group';
import { rollBackOnAccessDenied } from './proxysql-deployment-alarm';
import { ProxySqlMonitoring } from './proxysql-monitoring';
import { acknowledgeServiceFindings } from './proxysql-service-nag';
import { ProxySqlServiceProps } from './proxysql-service-props';
import { checkBootstrapPrerequisites, checkConfigTemplateSize, checkContainerDefinitionsSize, isConnectable, UserSpec, validateProps, validateUsers, warnAboutChoices } from './proxysql-service-validation';
import { createSecurityGroups } from './proxysql-network';
import { resolveBackendCa } from './backend-ca';
import { withConstructPath } from './validation-error';

export type { ProxySqlAutoScaling, ProxySqlDnsName, ProxySqlServiceProps, ProxySqlUser } from './proxysql-service-props';

/** A user with its secret: the one given, or one generated here. */
interface ServedUser extends UserSpec {
  readonly secret: secretsmanager.ISecret;
}

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
  /** The load balancer's TCP listener on the client port. */
  public readonly listener: elbv2.NetworkListener;
  /** The tasks' target group (for its metrics, e.g. HealthyHostCount, and alarms). */
  public readonly targetGroup: elbv2.NetworkTargetGroup;
  /** The ProxySQL container. */
  public readonly container: ecs.ContainerDefinition;
  /**
   * The agent container beside it (an image with a MariaDB client, on the task's loopback): the configuration
   * health check, the drain on stop and, with monitoring, the figures for the metrics collector.
   */
  public readonly agentContainer: ecs.ContainerDefinition;
  /**
   * The task's log group: ProxySQL's log and the entrypoint's lines (streams `proxysql/proxysql/<task id>`), the
   * agent's lines and figures (`proxysql/agent/<task id>`).
   */
  public readonly logGroup: logs.ILogGroup;
  /** The task count's scaling, to add policies of your own. */
  public readonly scaling: ecs.ScalableTaskCount;
  /** Generated admin credentials for the ProxySQL admin interface (inside the task). */
  public readonly adminSecret: secretsmanager.ISecret;
  /**
   * Generated credentials of the admin interface's read-only `stats` login (`admin-stats_credentials`), its own
   * secret so that it never shares the admin password. Nothing in the project logs in with it.
   */
  public readonly statsSecret: secretsmanager.ISecret;
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
  /**
   * The deployment alarm: the database refused a login of ProxySQL's own (a backend connection or the monitor user)
   * during a deployment; a client's failed login does not count. ECS rolls the deployment back when it fires, as the
   * circuit breaker does for tasks that fail their health check.
   */
  public readonly deploymentAlarm: cloudwatch.Alarm;
  /** The metrics collector, alarms and dashboard, unless `monitoring.enabled` is false. */
  public readonly monitoring?: ProxySqlMonitoring;

  constructor(scope: Construct, id: string, props: ProxySqlServiceProps) {
    super(scope, id);
    // --- props: every check before anything is created, errors naming this construct and the prop ---
    const { settings, backend, bootstrapEnabled, specs, monitorUsername, backendCa } = withConstructPath(this, () => {
      const checked = validateProps(props);
      const bound = props.backend._bind({ useTls: props.backendTls ?? DEFAULT_BACKEND_TLS, maxReplicaLagSeconds: checked.maxReplicaLagSeconds });
      const bootstrapOn = props.bootstrap ?? bound.adminSecret !== undefined;
      const monitor = props.monitorUsername ?? DEFAULT_MONITOR_USER;
      checkProp('ProxySqlServiceProps.monitorUsername', monitor, managedUsernameProblem);
      checkBootstrapPrerequisites(bootstrapOn, bound);
      const users = validateUsers(props.users, bound, bootstrapOn, monitor);
      return { settings: checked, backend: bound, bootstrapEnabled: bootstrapOn, specs: users, monitorUsername: monitor, backendCa: resolveBackendCa(this, props, bound) };
    });
    warnAboutChoices(this, props, settings, backend, specs, bootstrapEnabled, monitorUsername);

    // --- secrets: generated by Secrets Manager, injected by ECS; never in the template ---
    this.adminSecret = generatedSecret(this, 'AdminSecret', PROXYSQL_ADMIN_USER, 'ProxySQL admin interface (inside the task only)');
    this.statsSecret = generatedSecret(this, 'StatsSecret', PROXYSQL_STATS_USER, 'ProxySQL read-only stats login (inside the task only)');
    this.monitorSecret = generatedSecret(this, 'MonitorSecret', monitorUsername, 'ProxySQL monitor user on the database');
    const users: ServedUser[] = specs.map((u, i) => ({
      ...u,
      secret: u.secret ?? generatedSecret(this, `UserSecret${i}`, u.username as string, `ProxySQL application user ${u.username}`),
    }));
    this.userSecrets = users.map((u) => u.secret);
    this.userNames = users.map((u) => u.username);

    // --- configuration: one model, rendered once (a model error still names this construct) ---
    // Tokens are never pasted into the template: the entrypoint checks and escapes each (DeployValues).
    const deployValues = new DeployValues();
    const username = (u: ServedUser, index: number): ConfigString => {
      // A name kept in the user's secret is checked at task start by the user-name rule, naming the secret's ARN.
      if (u.username === undefined) return deployValues.fromSecret(userNameEnv(index), { kind: 'name' }, u.secret.secretArn);
      return Token.isUnresolved(u.username) ? deployValues.of(u.username, { kind: 'name' }, `ProxySqlServiceProps.users[${index}].username`) : u.username;
    };
    const mysqlVariables = props.mysqlVariables && Object.fromEntries(Object.entries(props.mysqlVariables).map(([name, value]) => [
      name,
      typeof value === 'string' && Token.isUnresolved(value) ? deployValues.of(value, mysqlVariableRule(name), `ProxySqlServiceProps.mysqlVariables.${name}`) : value,
    ]));
    this.configTemplate = withConstructPath(this, () => renderProxySqlConfig(
      buildProxySqlConfig({
        backend: templateBackendSpec(backend.spec, deployValues),
        users: users.map((u, index) => ({ username: username(u, index), maxConnections: u.maxConnections })),
        monitorUsername,
        queryRules: props.queryRules,
        defaultQueryRules: props.defaultQueryRules,
        readConsistency: props.readConsistency,
        readYourWritesStatements: props.readYourWritesStatements,
        keepConnectionForLastInsertId: props.keepConnectionForLastInsertId,
        allowAccountStatements: props.allowAccountStatements,
        threads: Math.max(2, Math.round(settings.cpu / 512)),
        maxClientConnections: props.maxClientConnections,
        maxBackendConnectionsPerServer: props.maxBackendConnectionsPerServer,
        clientTls: props.clientTls,
        mysqlVariableOverrides: mysqlVariables,
        backendCaFile: backendCa === undefined ? undefined : BACKEND_CA_FILE,
        borrowTimeoutSeconds: settings.borrowTimeoutSeconds,
        idleClientTimeoutSeconds: settings.idleClientTimeoutSeconds,
        initQuery: props.initQuery,
      }),
    ));
    withConstructPath(this, () => checkConfigTemplateSize(this.configTemplate));

    // --- network: NLB in, tasks behind it, the database and HTTPS out; nothing else ---
    const subnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    [this.connections, this.taskConnections] = createSecurityGroups(this, props, backend);
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: subnets,
      internetFacing: false,
      crossZoneEnabled: true,
      loadBalancerName: props.proxyName,
      securityGroups: this.connections.securityGroups,
    });

    // --- task and service ---
    const exec = props.enableExecuteCommand ?? true;
    this.cluster = this.createCluster(props, exec);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: settings.cpu,
      memoryLimitMiB: settings.memoryLimitMiB,
      runtimePlatform: { cpuArchitecture: settings.cpuArchitecture, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.logGroup = createProxySqlLogGroup(this, 'LogGroup', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });
    this.container = this.taskDefinition.addContainer(
      'proxysql',
      proxySqlContainerOptions({
        configTemplate: this.configTemplate,
        adminSecret: this.adminSecret,
        statsSecret: this.statsSecret,
        monitorSecret: this.monitorSecret,
        users,
        backendCa,
        deployValues,
        idleThreads: props.idleThreads ?? true,
        bootstrapRevision: props.bootstrapRevision,
        image: props.image,
        logGroup: this.logGroup,
        linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      }),
    );
    const monitoringEnabled = props.monitoring?.enabled ?? true;
    this.agentContainer = this.taskDefinition.addContainer(
      AGENT_CONTAINER_NAME,
      proxySqlAgentContainerOptions({
        adminSecret: this.adminSecret,
        users,
        drainSeconds: settings.drainSeconds,
        figures: monitoringEnabled,
        image: props.agentImage,
        logGroup: this.logGroup,
      }),
    );
    // Started after ProxySQL, so stopped before it (the reverse order): the agent drains ProxySQL while it runs.
    this.agentContainer.addContainerDependencies({ container: this.container, condition: ecs.ContainerDependencyCondition.START });
    const definitions = Stack.of(this).resolve((this.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).containerDefinitions);
    withConstructPath(this, () => checkContainerDefinitionsSize(Buffer.byteLength(JSON.stringify(definitions), 'utf8')));
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      serviceName: props.proxyName,
      desiredCount: settings.desiredCount,
      vpcSubnets: subnets,
      securityGroups: this.taskConnections.securityGroups,
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: exec,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
    this.deploymentAlarm = rollBackOnAccessDenied(this, this.logGroup, this.service);
    [this.listener, this.targetGroup] = this.createListener();
    this.scaling = this.service.autoScaleTaskCount({ minCapacity: settings.minCapacity, maxCapacity: settings.maxCapacity });
    this.scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: settings.targetCpu, scaleInCooldown: Duration.minutes(5), scaleOutCooldown: Duration.minutes(1) });

    // --- secret rotation, DNS, bootstrap ---
    const rotation = (props.restartOnSecretRotation ?? true) ? this.restartOnRotation([this.adminSecret, this.statsSecret, this.monitorSecret, ...this.userSecrets]) : undefined;
    this.rotationRestartRule = rotation?.rule;
    this.endpointHostname = props.dnsName
      ? new route53.ARecord(this, 'DnsRecord', {
          zone: props.dnsName.zone,
          recordName: props.dnsName.recordName,
          target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)),
        }).domainName
      : this.loadBalancer.loadBalancerDnsName;
    if (bootstrapEnabled) this.bootstrap = this.createBootstrap(props, backend, users, monitorUsername, subnets);
    if (monitoringEnabled) {
      this.monitoring = new ProxySqlMonitoring(this, 'Monitoring', {
        ...props.monitoring,
        databaseCluster: props.monitoring?.databaseCluster ?? backend.cluster,
        cluster: this.cluster,
        service: this.service,
        logGroup: this.logGroup,
        logEncryptionKey: props.logEncryptionKey,
        loadBalancer: this.loadBalancer,
        targetGroup: this.targetGroup,
        scalableTaskCount: this.scaling,
        maxClientConnectionsPerTask: props.maxClientConnections,
      });
    }

    acknowledgeServiceFindings({ service: this, secrets: [this.adminSecret, this.statsSecret, this.monitorSecret, ...this.userSecrets], exec, apiCallers: rotation?.added ?? [] });
  }

  /**
   * Lets a client (a Lambda function, an ECS service…) connect through the proxy: read access to the secret of
   * the user it logs in as and, when the grantee has security groups (it is `ec2.IConnectable`, as a Lambda
   * function in a VPC or a Fargate service is), ingress from them on port 3306. For anything else, open the port
   * yourself: `proxy.connections.allowDefaultPortFrom(peer)`.
   * @param grantee who connects
   * @param username the user (by name, as given in `users`) the client logs in as. @default - the first user
   * @returns the grant of read access to that user's secret
   */
  public grantConnect(grantee: iam.IGrantable, username?: string): iam.Grant {
    const index = username === undefined ? 0 : this.userNames.indexOf(username);
    if (index < 0) {
      const known = this.userNames.filter((n): n is string => n !== undefined);
      throw new Error(
        `ProxySqlService.grantConnect: no user named '${username}'; the users with a name are: ${known.length ? known.join(', ') : 'none'}`,
      );
    }
    if (isConnectable(grantee)) this.connections.allowDefaultPortFrom(grantee, 'client of ProxySQL');
    return this.userSecrets[index].grantRead(grantee);
  }

  /** The given cluster, or a new one whose ECS Exec sessions are not logged unless a log group is given. */
  private createCluster(props: ProxySqlServiceProps, exec: boolean): ecs.ICluster {
    if (props.executeCommandLogGroup && (props.cluster || !exec)) {
      throw new Error(
        `${this.node.path}: ProxySqlServiceProps.executeCommandLogGroup: applies to the cluster this construct creates with ECS Exec on; ` +
          (props.cluster ? "configure your cluster's executeCommandConfiguration instead" : 'enableExecuteCommand is false'),
      );
    }
    if (props.cluster) {
      if (exec) {
        Annotations.of(this).addWarningV2(
          'serverless-proxysql:execLogging',
          "ECS Exec is on in a cluster you gave: its executeCommandConfiguration decides whether session output (which can show ProxySQL's clear-text passwords) is logged. Set logging NONE, or enableExecuteCommand: false.",
        );
      }
      return props.cluster;
    }
    return new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      // Exec sessions print what the operator sees, passwords included: not logged unless a log group is given.
      executeCommandConfiguration: props.executeCommandLogGroup
        ? { logging: ecs.ExecuteCommandLogging.OVERRIDE, logConfiguration: { cloudWatchLogGroup: props.executeCommandLogGroup, cloudWatchEncryptionEnabled: true } }
        : { logging: ecs.ExecuteCommandLogging.NONE },
    });
  }

  private createListener(): [elbv2.NetworkListener, elbv2.NetworkTargetGroup] {
    const listener = this.loadBalancer.addListener('Mysql', {
      port: CLIENT_PORT,
      protocol: elbv2.Protocol.TCP,
      // Stated, not left implicit: ProxySQL's client wait_timeout is derived from it (src/config/build.ts).
      tcpIdleTimeout: Duration.seconds(NLB_TCP_IDLE_TIMEOUT_SECONDS),
    });
    const targetGroup = listener.addTargets('ProxySql', {
      port: PROXYSQL_MYSQL_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: this.container.containerName, containerPort: PROXYSQL_MYSQL_PORT })],
      deregistrationDelay: Duration.seconds(NLB_DEREGISTRATION_DELAY_SECONDS),
      // TCP on the port clients use: proves the listener accepts. The connect-and-close would be logged as an
      // unhealthy client by ProxySQL (#2293, #3060); mysql-log_unhealthy_connections=false silences exactly that.
      healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
    });
    targetGroup.setAttribute('deregistration_delay.connection_termination.enabled', 'false');
    return [listener, targetGroup];
  }

  /**
   * A rolling restart when Secrets Manager finishes rotating a secret ProxySQL reads (ECS reads secrets at task
   * start). Returns what aws-cdk-lib added to the stack for the AwsApi target (its singleton function, the
   * first time), found by what appeared, not by a hard-coded construct id.
   */
  private restartOnRotation(secrets: secretsmanager.ISecret[]): { rule: events.Rule; added: Construct[] } {
    const rule = new events.Rule(this, 'RestartOnSecretRotation', {
      description: 'Rolling restart of ProxySQL when a secret it reads has been rotated',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: { eventSource: ['secretsmanager.amazonaws.com'], eventName: ['RotationSucceeded'], additionalEventData: { SecretId: secrets.map((s) => s.secretArn) } },
      },
    });
    const stack = Stack.of(this);
    const before = new Set(stack.node.children);
    rule.addTarget(
      new eventsTargets.AwsApi({
        service: 'ECS',
        action: 'updateService',
        parameters: { cluster: this.cluster.clusterArn, service: this.service.serviceArn, forceNewDeployment: true },
        policyStatement: new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: [this.service.serviceArn] }),
      }),
    );
    return { rule, added: stack.node.children.filter((child): child is Construct => !before.has(child) && child instanceof Construct) };
  }

  /** The users on the database before any task starts, after the writer instance and the security-group rules. */
  private createBootstrap(props: ProxySqlServiceProps, backend: ProxySqlBackendConfig, users: ServedUser[], monitorUsername: string, subnets: ec2.SubnetSelection): DatabaseBootstrap {
    const bootstrap = new DatabaseBootstrap(this, 'Bootstrap', {
      vpc: props.vpc,
      vpcSubnets: subnets,
      endpoint: { hostname: backend.writerEndpoint.host, port: backend.writerEndpoint.port },
      database: backend.databaseConnections as ec2.IConnectable,
      adminSecret: backend.adminSecret as secretsmanager.ISecret,
      monitorUsername,
      monitorSecret: this.monitorSecret,
      users: users.filter((u) => u.createOnBackend).map((u) => ({ username: u.username as string, secret: u.secret, schema: u.schema, privileges: u.privileges })),
      dropUsersOnDelete: props.dropUsersOnDelete ?? false,
      adoptExistingUsers: props.adoptExistingUsers,
      revision: props.bootstrapRevision,
      httpsEgress: props.bootstrapHttpsEgress ?? props.httpsEgress,
      // The bootstrap connects as ProxySQL does: the same TLS setting and CA (see resolveBackendCa).
      backendTls: props.backendTls ?? DEFAULT_BACKEND_TLS,
      backendCa: props.backendCa,
      rdsManaged: backend.rdsManaged,
    });
    this.service.node.addDependency(bootstrap);
    // On first deploy the bootstrap's wait must not start before the writer instance exists.
    for (const dependable of backend.dependables ?? []) bootstrap.resource.node.addDependency(dependable);
    return bootstrap;
  }
}
