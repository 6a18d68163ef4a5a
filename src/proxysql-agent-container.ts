import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FIGURES_LINE_MARKER, FIGURES_QUERY } from './config/figures';
import {
  ADMIN_PASSWORD_ENV,
  AGENT_ARGV,
  AGENT_IMAGE,
  AGENT_SCRIPT_ENV,
  FIGURES_INTERVAL_SECONDS,
  LOG_STREAM_PREFIX,
  PROXYSQL_ADMIN_PORT,
  PROXYSQL_ADMIN_USER,
  PROXYSQL_MYSQL_PORT,
} from './constants';
import { userNameEnv, userPasswordEnv } from './config/build';
import { containerScript } from './runtime-assets';

/** What the agent container is given: the secrets it logs in with, by reference, and what it does. */
export interface ProxySqlAgentInputs {
  readonly adminSecret: secretsmanager.ISecret;
  /** In the order of the config's users; `username` undefined where it is read from the secret. */
  readonly users: ReadonlyArray<{ readonly username?: string; readonly secret: secretsmanager.ISecret }>;
  readonly drainSeconds: number;
  /** Write the figures line the metrics collector reads. */
  readonly figures: boolean;
  readonly image?: ecs.ContainerImage;
  readonly logGroup: logs.ILogGroup;
}

/**
 * The task's agent container (runtime/proxysql/agent.sh): a pinned image that has a MariaDB client, sharing the
 * task's loopback with ProxySQL, so the health check, the drain and the figures work whatever the ProxySQL image
 * ships. It carries the task's configuration health check (runtime/proxysql/healthcheck.sh) and must depend on the
 * ProxySQL container (the caller adds `dependsOn` START): ECS stops containers in the reverse order of their start
 * dependencies ("When a dependency is defined for container startup, for container shutdown it is reversed", AWS
 * CloudFormation, AWS::ECS::TaskDefinition ContainerDependency), so the agent drains while ProxySQL still runs.
 */
export function proxySqlAgentContainerOptions(inputs: ProxySqlAgentInputs): ecs.ContainerDefinitionOptions {
  const secrets: Record<string, ecs.Secret> = {
    [ADMIN_PASSWORD_ENV]: ecs.Secret.fromSecretsManager(inputs.adminSecret, 'password'),
  };
  const environment: Record<string, string> = {
    [AGENT_SCRIPT_ENV]: containerScript('agent'),
    PROXYSQL_HEALTH_CHECK: containerScript('healthCheck'),
    PROXYSQL_ADMIN_PORT: String(PROXYSQL_ADMIN_PORT),
    PROXYSQL_ADMIN_USER: PROXYSQL_ADMIN_USER,
    PROXYSQL_MYSQL_PORT: String(PROXYSQL_MYSQL_PORT),
    PROXYSQL_DRAIN_SECONDS: String(inputs.drainSeconds),
    PROXYSQL_FIGURES_SECONDS: String(inputs.figures ? FIGURES_INTERVAL_SECONDS : 0),
    // The health check logs in as every user: it needs their count and names.
    PROXYSQL_EXPECTED_USERS: String(inputs.users.length),
  };
  if (inputs.figures) {
    environment.PROXYSQL_FIGURES_QUERY = FIGURES_QUERY;
    environment.PROXYSQL_FIGURES_MARKER = FIGURES_LINE_MARKER;
  }
  inputs.users.forEach((user, index) => {
    if (user.username !== undefined) environment[`PROXYSQL_USER_LOGIN_${index}`] = user.username;
    else secrets[userNameEnv(index)] = ecs.Secret.fromSecretsManager(user.secret, 'username');
    secrets[userPasswordEnv(index)] = ecs.Secret.fromSecretsManager(user.secret, 'password');
  });
  return {
    image: inputs.image ?? ecs.ContainerImage.fromRegistry(AGENT_IMAGE),
    entryPoint: [...AGENT_ARGV],
    environment,
    secrets,
    // Without it the task has no configuration health check and no drain: it stops the task when it stops.
    essential: true,
    // A shell loop and a short-lived client every minute: a soft reservation, no hard limit to be killed at.
    memoryReservationMiB: 32,
    logging: ecs.LogDrivers.awsLogs({ logGroup: inputs.logGroup, streamPrefix: LOG_STREAM_PREFIX, mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
    // The drain's bound plus the time to send PAUSE and poll once more (≤ 120 s, Fargate's maximum).
    stopTimeout: Duration.seconds(Math.min(120, inputs.drainSeconds + 10)),
    healthCheck: {
      // The configuration that was deployed is the one running: every user loaded and able to log in through
      // ProxySQL to the database, a writer configured, the monitor let in; a database that is down does not
      // count (runtime/proxysql/healthcheck.sh). An essential container's UNHEALTHY makes the task UNHEALTHY: it is
      // replaced, and during a deployment the circuit breaker rolls back.
      command: ['CMD-SHELL', 'eval "$PROXYSQL_HEALTH_CHECK"'],
      // ECS wants the interval longer than the timeout: with many users (each login bounded at 3 s) checks space out.
      interval: Duration.seconds(Math.max(15, healthCheckTimeoutSeconds(inputs.users.length) + 5)),
      timeout: Duration.seconds(healthCheckTimeoutSeconds(inputs.users.length)),
      retries: 3,
      startPeriod: Duration.seconds(20),
    },
  };
}

/** The health check's bound: the admin queries, then each user's login at 3 s at most (healthcheck.sh); ECS allows 60 s. */
function healthCheckTimeoutSeconds(users: number): number {
  return Math.min(60, 5 + 3 * users);
}
