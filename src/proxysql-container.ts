import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  ADMIN_PASSWORD_ENV,
  BACKEND_CA_FILE,
  CONFIG_TEMPLATE_ENV,
  DEPLOY_VALUE_ENV_PREFIX,
  ENTRYPOINT_ARGV,
  ENTRYPOINT_SCRIPT_ENV,
  IDLE_THREADS_COMMAND,
  LOG_STREAM_PREFIX,
  MONITOR_PASSWORD_ENV,
  PROXYSQL_IMAGE,
  PROXYSQL_MYSQL_PORT,
  STATS_PASSWORD_ENV,
} from './constants';
import { userNameEnv, userPasswordEnv } from './config/build';
import { DeployValue } from './config/model';
import { ValueRule, valueRuleText } from './config/rules';
import { deployValueRuleEnv, sourceEnv } from './config/secrets';
import { containerScript } from './runtime-assets';

/**
 * CloudFormation tokens (e.g. CfnParameters, or attributes such as a new cluster's endpoint) in values that land in
 * proxysql.cnf: a user name, a `mysqlVariables` value, a backend's host, port or Aurora domain. Each becomes a
 * {@link DeployValue} placeholder in the template and three environment variables: the token itself (CloudFormation
 * resolves it there, never inside the template), the rule it must pass and the prop it came from; the entrypoint
 * checks the value by the rule, naming the prop, and escapes it into the file.
 */
export class DeployValues {
  readonly environment: Record<string, string> = {};
  private count = 0;

  /** The placeholder for `token`, which must pass `rule`; `source` is the prop path an error names. */
  of(token: string, rule: ValueRule, source: string): DeployValue {
    const env = `${DEPLOY_VALUE_ENV_PREFIX}${this.count++}`;
    this.environment[env] = token;
    this.environment[deployValueRuleEnv(env)] = valueRuleText(rule);
    this.environment[sourceEnv(env)] = source;
    // A port is a libconfig int; its rule lets nothing but digits through, so it may stand without quotes.
    return rule.kind === 'port' ? { param: env, unquoted: true } : { param: env };
  }

  /**
   * The placeholder for a value ECS injects from a secret into `env` at task start (a user name kept in the user's
   * secret), checked by `rule` as a token is; `source` names the secret (its ARN), never the value.
   */
  fromSecret(env: string, rule: ValueRule, source: string): DeployValue {
    this.environment[deployValueRuleEnv(env)] = valueRuleText(rule);
    this.environment[sourceEnv(env)] = source;
    return { param: env };
  }
}

/** What the ProxySQL container is given: the rendered template, the secrets by reference, the scripts. */
export interface ProxySqlContainerInputs {
  readonly configTemplate: string;
  readonly adminSecret: secretsmanager.ISecret;
  readonly statsSecret: secretsmanager.ISecret;
  readonly monitorSecret: secretsmanager.ISecret;
  /** In the order of the config's users; `username` undefined where it is read from the secret. */
  readonly users: ReadonlyArray<{ readonly username?: string; readonly secret: secretsmanager.ISecret }>;
  readonly backendCa?: string;
  /** The deploy-time values the template refers to (`{{param:ENV}}`), with their rules and sources: see {@link DeployValues}. */
  readonly deployValues: DeployValues;
  readonly idleThreads: boolean;
  readonly bootstrapRevision?: string;
  readonly image?: ecs.ContainerImage;
  readonly logGroup: logs.ILogGroup;
  readonly linuxParameters: ecs.LinuxParameters;
}

/**
 * The container definition: the official image unchanged, our POSIX-sh entrypoint (runtime/proxysql/entrypoint.sh)
 * rendering the secrets in, and a health check that needs nothing of the image but /bin/sh and /proc
 * (runtime/proxysql/listening.sh). What needs a MySQL client (the configuration health check, the drain, the
 * figures) runs in the task's agent container (src/proxysql-agent-container.ts). Secrets arrive through ECS
 * `secrets`; the environment carries only what is not secret, including each secret's ARN so the entrypoint can
 * name a bad one without printing it.
 */
export function proxySqlContainerOptions(inputs: ProxySqlContainerInputs): ecs.ContainerDefinitionOptions {
  const secrets: Record<string, ecs.Secret> = {
    [ADMIN_PASSWORD_ENV]: ecs.Secret.fromSecretsManager(inputs.adminSecret, 'password'),
    [STATS_PASSWORD_ENV]: ecs.Secret.fromSecretsManager(inputs.statsSecret, 'password'),
    [MONITOR_PASSWORD_ENV]: ecs.Secret.fromSecretsManager(inputs.monitorSecret, 'password'),
  };
  const environment: Record<string, string> = {
    [CONFIG_TEMPLATE_ENV]: inputs.configTemplate,
    [`${ADMIN_PASSWORD_ENV}_SOURCE`]: inputs.adminSecret.secretArn,
    [`${STATS_PASSWORD_ENV}_SOURCE`]: inputs.statsSecret.secretArn,
    [`${MONITOR_PASSWORD_ENV}_SOURCE`]: inputs.monitorSecret.secretArn,
    // A new revision also changes the task definition, so the tasks are replaced (after the bootstrap,
    // which the service depends on) and pick up the new passwords.
    ...(inputs.bootstrapRevision !== undefined ? { PROXYSQL_BOOTSTRAP_REVISION: inputs.bootstrapRevision } : {}),
    ...inputs.deployValues.environment,
  };
  if (inputs.backendCa !== undefined) {
    environment.PROXYSQL_BACKEND_CA = inputs.backendCa;
    environment.PROXYSQL_BACKEND_CA_FILE = BACKEND_CA_FILE;
  }
  // Both scripts travel as variables, run by the image's own sh (ENTRYPOINT_ARGV, the health check): no image change.
  environment[ENTRYPOINT_SCRIPT_ENV] = containerScript('entrypoint');
  environment.PROXYSQL_LISTEN_CHECK = containerScript('listening');
  environment.PROXYSQL_MYSQL_PORT = String(PROXYSQL_MYSQL_PORT);
  inputs.users.forEach((user, index) => {
    secrets[userPasswordEnv(index)] = ecs.Secret.fromSecretsManager(user.secret, 'password');
    environment[`${userPasswordEnv(index)}_SOURCE`] = user.secret.secretArn;
    // Its rule and source (the secret's ARN) are among the deploy values: the template holds it as {{param:…}}.
    if (user.username === undefined) secrets[userNameEnv(index)] = ecs.Secret.fromSecretsManager(user.secret, 'username');
  });
  return {
    image: inputs.image ?? ecs.ContainerImage.fromRegistry(PROXYSQL_IMAGE),
    entryPoint: [...ENTRYPOINT_ARGV],
    ...(inputs.idleThreads ? { command: [...IDLE_THREADS_COMMAND] } : {}),
    environment,
    secrets,
    essential: true,
    logging: ecs.LogDrivers.awsLogs({ logGroup: inputs.logGroup, streamPrefix: LOG_STREAM_PREFIX, mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
    portMappings: [{ containerPort: PROXYSQL_MYSQL_PORT, protocol: ecs.Protocol.TCP, name: 'mysql' }],
    // Stopped after the agent has drained it; ProxySQL exits at once on SIGTERM.
    stopTimeout: Duration.seconds(10),
    linuxParameters: inputs.linuxParameters,
    healthCheck: {
      // ProxySQL's MySQL listener is up. Without a check of its own an essential container reports UNKNOWN, which
      // ECS counts into the task's health; the configuration is checked by the agent container.
      command: ['CMD-SHELL', 'eval "$PROXYSQL_LISTEN_CHECK"'],
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      retries: 3,
      startPeriod: Duration.seconds(20),
    },
    ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65536, hardLimit: 65536 }],
  };
}
