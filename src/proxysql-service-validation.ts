// The checks of ProxySqlServiceProps, beside the construct as aws-rds keeps its validate-*-props. Each message
// starts with the prop path; the construct adds its own path (./validation-error.ts). The rules themselves are
// written once in ./config/rules.ts; what is here is what only the construct knows (Fargate sizes, tokens).
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  DEFAULT_APP_PRIVILEGES,
  DEFAULT_APP_USER,
  DEFAULT_BACKEND_TLS,
  DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER,
  DEFAULT_MAX_CLIENT_CONNECTIONS,
  DEFAULT_MAX_REPLICA_LAG_SECONDS,
} from './constants';
import { ASSUMED_DATABASE_MAX_CONNECTIONS, describeBudget, writerConnectionBudget } from './config/connection-budget';
import { check, idleClientTimeoutProblem, initQueryProblem, managedUsernameProblem, mysqlVariableProblem, proxyNameProblem, RANGES, rangeProblem, readConsistencyProblem, riskyMysqlVariableWarning, schemaProblem, UniqueNames, unknownMysqlVariableProblem } from './config/rules';
import { PROP_VARIABLES } from './config/build';
import { buildQueryRules } from './config/query-rules';
import { ReadConsistency } from './config/session-state';
import { ProxySqlBackendConfig } from './proxysql-backend';
import { ProxySqlServiceProps, ProxySqlUser } from './proxysql-service-props';
import { checkProp } from './prop-rules';

const PROPS = 'ProxySqlServiceProps';

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

/** What the construct computes from the props (numbers known at synth, or tokens passed through). */
export interface Settings {
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  readonly desiredCount: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly targetCpu: number;
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly drainSeconds: number;
  readonly maxReplicaLagSeconds: number;
  /** borrowTimeout in whole seconds, when given. */
  readonly borrowTimeoutSeconds?: number;
  /** idleClientTimeout in whole seconds, when given. */
  readonly idleClientTimeoutSeconds?: number;
}

/**
 * A prop the construct computes with at synth (a sum, a table lookup) cannot be a CloudFormation token such as a
 * CfnParameter: say so, naming the prop, instead of checking the token's placeholder number.
 */
function synthKnown(value: unknown, at: string, why: string): void {
  if (Token.isUnresolved(value)) {
    throw new Error(`${at}: must be known at synth, not a CloudFormation token (e.g. a CfnParameter): ${why}`);
  }
}

export function validateProps(props: ProxySqlServiceProps): Settings {
  const cpu = props.cpu ?? 512;
  synthKnown(cpu, `${PROPS}.cpu`, 'it sets the ProxySQL thread count and is checked against the Fargate sizes');
  const memoryLimitMiB = props.memoryLimitMiB ?? (cpu <= 512 ? 1024 : cpu * 2);
  synthKnown(memoryLimitMiB, `${PROPS}.memoryLimitMiB`, 'it is checked against the Fargate sizes');
  if (!(cpu in FARGATE_MEMORY)) {
    throw new Error(`${PROPS}.cpu: ${cpu} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY).join(', ')}`);
  }
  if (!FARGATE_MEMORY[cpu](memoryLimitMiB)) {
    throw new Error(
      `${PROPS}.memoryLimitMiB: ${memoryLimitMiB} MiB is not valid with cpu ${cpu} on Fargate; see the valid CPU/memory pairs in the Fargate documentation`,
    );
  }
  const { desiredCount, minCapacity, maxCapacity } = taskCounts(props);
  // Never the admin login or a system account (root, rdsadmin…), whatever is listed.
  (props.adoptExistingUsers ?? []).forEach((name, i) => checkProp(`${PROPS}.adoptExistingUsers[${i}]`, name, managedUsernameProblem));
  const targetCpu = props.autoScaling?.targetCpuUtilizationPercent ?? 60;
  if (!Token.isUnresolved(targetCpu) && !(targetCpu >= 10 && targetCpu <= 90)) {
    throw new Error(`${PROPS}.autoScaling.targetCpuUtilizationPercent: ${targetCpu} must be from 10 to 90`);
  }
  const drainSeconds = wholeSeconds(props.drainTimeout ?? Duration.seconds(30), `${PROPS}.drainTimeout`, 'it sets the container stop timeout');
  if (!(drainSeconds >= 0 && drainSeconds <= 110)) {
    throw new Error(`${PROPS}.drainTimeout: ${drainSeconds} s must be from 0 to 110 s (Fargate stops a container at most 120 s after SIGTERM)`);
  }
  if (props.maxClientConnections !== undefined) {
    synthKnown(props.maxClientConnections, `${PROPS}.maxClientConnections`, 'it is written into proxysql.cnf as a number and sets the connection-scaling target');
    check(`${PROPS}.maxClientConnections`, rangeProblem(props.maxClientConnections, RANGES.maxClientConnections));
  }
  const taskClients = props.maxClientConnections ?? DEFAULT_MAX_CLIENT_CONNECTIONS;
  (props.users ?? []).forEach((user, i) => {
    // A user's cap above the task's would never be reached: the task refuses first, every user's clients alike.
    if (user.maxConnections !== undefined && !Token.isUnresolved(user.maxConnections) && user.maxConnections > taskClients) {
      throw new Error(
        `${PROPS}.users[${i}].maxConnections: ${user.maxConnections} is more than maxClientConnections (${taskClients}), the task's cap that every user's clients share; ` +
          'lower it (leave it out for half the task with several users), or raise maxClientConnections',
      );
    }
  });
  if (props.maxBackendConnectionsPerServer !== undefined) {
    synthKnown(props.maxBackendConnectionsPerServer, `${PROPS}.maxBackendConnectionsPerServer`, "the writer's last-resort reader cap is computed from it");
    check(`${PROPS}.maxBackendConnectionsPerServer`, rangeProblem(props.maxBackendConnectionsPerServer, RANGES.maxBackendConnectionsPerServer));
  }
  if (props.databaseMaxConnections !== undefined) checkCount(props.databaseMaxConnections, `${PROPS}.databaseMaxConnections`);
  if (props.readConsistency !== undefined) check(`${PROPS}.readConsistency`, readConsistencyProblem(props.readConsistency));
  if (props.readYourWritesStatements !== undefined) {
    synthKnown(props.readYourWritesStatements, `${PROPS}.readYourWritesStatements`, 'it sets how many rule chains are rendered');
    check(`${PROPS}.readYourWritesStatements`, rangeProblem(props.readYourWritesStatements, RANGES.readYourWritesStatements));
    if ((props.readConsistency ?? ReadConsistency.READ_YOUR_WRITES) !== ReadConsistency.READ_YOUR_WRITES) {
      throw new Error(`${PROPS}.readYourWritesStatements: only applies with readConsistency READ_YOUR_WRITES; remove it or change readConsistency`);
    }
  }
  const lag = wholeSeconds(
    props.maxReplicaLag ?? Duration.seconds(DEFAULT_MAX_REPLICA_LAG_SECONDS),
    `${PROPS}.maxReplicaLag`,
    'ProxySQL takes it in seconds for replicas and milliseconds for Aurora',
  );
  check(`${PROPS}.maxReplicaLag`, rangeProblem(lag, RANGES.maxReplicaLagSeconds));
  const rdsProxyKnobs = checkRdsProxyKnobs(props);
  // A string value may be a token (ProxySQL's loader takes variables as strings): its name is checked here, its value
  // by the same rule at task start (src/proxysql-container.ts DeployValues). With an
  // image of your own (perhaps another ProxySQL) an unknown name is a warning (warnAboutChoices), not an error.
  for (const [name, value] of Object.entries(props.mysqlVariables ?? {})) {
    if (typeof value === 'number') {
      synthKnown(value, `${PROPS}.mysqlVariables.${name}`, 'a number is written into proxysql.cnf as it is; give a deploy-time value as a string (Token.asString)');
    }
    check(`${PROPS}.mysqlVariables`, mysqlVariableProblem(name, value, { valueAtDeploy: Token.isUnresolved(value), anyName: props.image !== undefined }));
  }
  // The model checks each custom rule (RE2, destination, …) when it renders; run that check here, before anything is
  // created, so that its message carries the prop's path (and withConstructPath adds the construct's).
  if (props.queryRules !== undefined) buildQueryRules(props.queryRules, { includeDefaults: false, propPath: `${PROPS}.queryRules` });
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
    ...rdsProxyKnobs,
  };
}

/**
 * The props named after rds.DatabaseProxy's (docs/architecture.md, "From RDS Proxy"). The variables they set are
 * mapped in src/config/build.ts (PROP_VARIABLES); the same variable in mysqlVariables as well is refused.
 */
function checkRdsProxyKnobs(props: ProxySqlServiceProps): { borrowTimeoutSeconds?: number; idleClientTimeoutSeconds?: number } {
  const inMs = 'it is written into proxysql.cnf in milliseconds';
  let borrowTimeoutSeconds: number | undefined;
  if (props.borrowTimeout !== undefined) {
    borrowTimeoutSeconds = wholeSeconds(props.borrowTimeout, `${PROPS}.borrowTimeout`, inMs);
    check(`${PROPS}.borrowTimeout`, rangeProblem(borrowTimeoutSeconds, RANGES.borrowTimeoutSeconds));
  }
  let idleClientTimeoutSeconds: number | undefined;
  if (props.idleClientTimeout !== undefined) {
    idleClientTimeoutSeconds = wholeSeconds(props.idleClientTimeout, `${PROPS}.idleClientTimeout`, inMs);
    check(`${PROPS}.idleClientTimeout`, idleClientTimeoutProblem(idleClientTimeoutSeconds));
  }
  if (props.initQuery !== undefined) {
    synthKnown(props.initQuery, `${PROPS}.initQuery`, "ProxySQL's config loader cannot take every character, so it is checked at synth");
    check(`${PROPS}.initQuery`, initQueryProblem(props.initQuery));
  }
  for (const [prop, variable] of Object.entries(PROP_VARIABLES)) {
    if (props[prop as keyof typeof PROP_VARIABLES] !== undefined && props.mysqlVariables?.[variable] !== undefined) {
      throw new Error(`${PROPS}.mysqlVariables.${variable}: set by ${prop} as well; keep ${prop} and remove it from mysqlVariables`);
    }
  }
  if (props.securityGroups !== undefined && !(props.securityGroups.length >= 1 && props.securityGroups.length <= 5)) {
    throw new Error(`${PROPS}.securityGroups: a load balancer takes 1 to 5 security groups, got ${props.securityGroups.length}; leave it out for a new one`);
  }
  if (props.proxyName !== undefined) checkProp(`${PROPS}.proxyName`, props.proxyName, proxyNameProblem);
  return { borrowTimeoutSeconds, idleClientTimeoutSeconds };
}

/** desiredCount and the scaling bounds; a token is passed through when nothing has to be computed from it. */
function taskCounts(props: ProxySqlServiceProps): { desiredCount: number; minCapacity: number; maxCapacity: number } {
  const desiredCount = props.desiredCount ?? 2;
  const minCapacity = props.autoScaling?.minCapacity ?? desiredCount;
  if (props.autoScaling?.maxCapacity === undefined) {
    synthKnown(minCapacity, `${PROPS}.autoScaling.maxCapacity`, 'its default is 3 × minCapacity (desiredCount); give it, then desiredCount may be a token');
  }
  const maxCapacity = props.autoScaling?.maxCapacity ?? minCapacity * 3;
  checkCount(desiredCount, `${PROPS}.desiredCount`);
  checkCount(minCapacity, `${PROPS}.autoScaling.minCapacity`);
  checkCount(maxCapacity, `${PROPS}.autoScaling.maxCapacity`);
  const known = [desiredCount, minCapacity, maxCapacity].every((n) => !Token.isUnresolved(n));
  if (known && maxCapacity < minCapacity) {
    throw new Error(`${PROPS}.autoScaling.maxCapacity: ${maxCapacity} is below minCapacity ${minCapacity}`);
  }
  if (known && (desiredCount < minCapacity || desiredCount > maxCapacity)) {
    throw new Error(`${PROPS}.desiredCount: ${desiredCount} is outside autoScaling ${minCapacity}..${maxCapacity}`);
  }
  return { desiredCount, minCapacity, maxCapacity };
}

/** An application user after the checks; its secret is made (or taken) by the construct. */
export interface UserSpec {
  readonly username?: string;
  readonly secret?: ProxySqlUser['secret'];
  readonly createOnBackend: boolean;
  readonly schema: string;
  readonly privileges: string[];
  readonly maxConnections?: number;
}

/** The users to serve: the props' (checked), or the generated least-privilege default. */
export function validateUsers(
  users: ProxySqlUser[] | undefined,
  backend: ProxySqlBackendConfig,
  bootstrapEnabled: boolean,
  monitorUsername: string,
): UserSpec[] {
  if (users === undefined) {
    if (!backend.adminSecret) {
      throw new Error(
        `${PROPS}.users: required when the backend has no admin secret: the default user is created on the database by the bootstrap step, which needs it`,
      );
    }
    if (!bootstrapEnabled) {
      throw new Error(
        `${PROPS}.users: required with bootstrap: false: nothing would create the default '${DEFAULT_APP_USER}' user; list the users that exist on the database`,
      );
    }
    users = [{ username: DEFAULT_APP_USER, schema: DEFAULT_APP_USER }];
  }
  if (users.length === 0) {
    throw new Error(`${PROPS}.users: must hold at least one user (or leave it out for a generated '${DEFAULT_APP_USER}' user)`);
  }
  const names = new UniqueNames();
  return users.map((user, i) => {
    const at = `${PROPS}.users[${i}]`;
    if (user.username !== undefined) {
      // A token name (e.g. a CfnParameter) is checked with the same rule by the bootstrap at deploy time and by the
      // entrypoint before it is written into proxysql.cnf (DeployValues).
      if (!Token.isUnresolved(user.username)) {
        check(`${at}.username`, managedUsernameProblem(user.username, { monitorUsername }) ?? names.problem(user.username, `${at}.username`));
      }
    } else if (!user.secret) {
      throw new Error(`${at}: give a username, a secret, or both`);
    }
    const createOnBackend = user.createOnBackend ?? user.secret === undefined;
    if (createOnBackend && user.username === undefined) {
      throw new Error(`${at}.username: required when createOnBackend is true`);
    }
    const schema = user.schema ?? DEFAULT_APP_USER;
    checkProp(`${at}.schema`, schema, schemaProblem);
    if (user.maxConnections !== undefined) {
      synthKnown(user.maxConnections, `${at}.maxConnections`, 'it is written into proxysql.cnf as a number');
      checkCount(user.maxConnections, `${at}.maxConnections`);
    }
    return {
      username: user.username,
      secret: user.secret,
      createOnBackend,
      schema,
      privileges: user.privileges ?? [...DEFAULT_APP_PRIVILEGES],
      maxConnections: user.maxConnections,
    };
  });
}

/** A duration as whole seconds, or an error naming the prop (Duration.toSeconds throws a message without one). */
function wholeSeconds(duration: Duration, at: string, why: string): number {
  if (duration.isUnresolved()) synthKnown(Token.asNumber(duration.toSeconds()), at, why);
  const ms = duration.toMilliseconds({ integral: false });
  if (!Number.isFinite(ms) || ms % 1000 !== 0) {
    throw new Error(`${at}: ${duration.toHumanString()} must be a whole number of seconds`);
  }
  return ms / 1000;
}

/** A whole number of at least 1; a token passes (CloudFormation or the service checks it at deploy time). */
function checkCount(value: number, at: string): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${at}: must be a whole number of at least 1, got ${value}`);
  }
}

/** A grantee with security groups (jsii offers no intersection types, so grantConnect takes IGrantable and asks). */
export function isConnectable(grantee: iam.IGrantable): grantee is iam.IGrantable & ec2.IConnectable {
  const candidate = grantee as Partial<ec2.IConnectable>;
  return candidate.connections instanceof ec2.Connections;
}

/** The bootstrap needs the backend's admin credentials and a security group to be let into. */
export function checkBootstrapPrerequisites(bootstrapEnabled: boolean, backend: ProxySqlBackendConfig): void {
  if (!bootstrapEnabled) return;
  if (!backend.adminSecret) {
    throw new Error('ProxySqlServiceProps.bootstrap: the backend has no admin credentials; pass adminSecret to ProxySqlBackend or set bootstrap: false');
  }
  if (!backend.databaseConnections) {
    throw new Error(
      'ProxySqlServiceProps.bootstrap: the backend has no databaseConnections, so the bootstrap function cannot be let in; pass them or set bootstrap: false',
    );
  }
}

/** Synth warnings for choices that are allowed but deserve a second look, each with an id to acknowledge. */
export function warnAboutChoices(scope: IConstruct, props: ProxySqlServiceProps, settings: Settings, backend: ProxySqlBackendConfig, users: UserSpec[], bootstrapEnabled: boolean, monitorUsername: string): void {
  const warn = (id: string, message: string) => Annotations.of(scope).addWarningV2(`serverless-proxysql:${id}`, message);
  if (backend.adminSecret && users.some((u) => u.secret === backend.adminSecret)) {
    warn('adminUser', "ProxySqlServiceProps.users: the database's admin secret is served through the proxy; clients given it with grantConnect can read it. Prefer a least-privilege user.");
  }
  if (!bootstrapEnabled) {
    warn('noBootstrap', `No bootstrap step: create the monitor user '${monitorUsername}' (password in the MonitorSecret) and the application users on the database yourself.`);
  }
  if (props.adoptExistingUsers?.length) {
    warn('adoptExistingUsers', `The bootstrap step takes over existing accounts (${props.adoptExistingUsers.join(', ')}): their passwords are replaced and their grants outside their schema revoked.`);
  }
  if (!(props.backendTls ?? DEFAULT_BACKEND_TLS)) warn('backendTlsOff', 'backendTls is false: ProxySQL talks to the database in clear text.');
  if (props.image !== undefined) {
    for (const name of Object.keys(props.mysqlVariables ?? {})) {
      const unknown = unknownMysqlVariableProblem(name);
      if (unknown !== undefined) warn('unknownMysqlVariable', `${PROPS}.mysqlVariables.${name}: ${unknown}, unless the image you gave has it.`);
    }
  }
  for (const [name, value] of Object.entries(props.mysqlVariables ?? {})) {
    const risky = riskyMysqlVariableWarning(name, value);
    if (risky !== undefined) warn('riskyMysqlVariable', `${PROPS}.${risky}`);
  }
  warnAboutConnectionBudget(warn, props, settings, bootstrapEnabled);
  if (!Token.isUnresolved(settings.desiredCount) && settings.desiredCount < 2) {
    warn('singleTask', 'desiredCount is 1: a task replacement or AZ outage leaves clients without a proxy.');
  }
}

/**
 * The writer's connection budget at full scale against the database's max_connections (databaseMaxConnections, or
 * the assumed default): a warning, since only the database knows its limit. Skipped when a figure is a token.
 */
function warnAboutConnectionBudget(warn: (id: string, message: string) => void, props: ProxySqlServiceProps, settings: Settings, bootstrapEnabled: boolean): void {
  const perServer = props.maxBackendConnectionsPerServer ?? DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER;
  const limit = props.databaseMaxConnections ?? ASSUMED_DATABASE_MAX_CONNECTIONS;
  if ([perServer, limit, settings.maxCapacity].some((n) => Token.isUnresolved(n))) return;
  const budget = writerConnectionBudget(perServer, settings.maxCapacity, bootstrapEnabled, props.users?.length ?? 1);
  if (budget.total <= limit) return;
  const against =
    props.databaseMaxConnections !== undefined
      ? `databaseMaxConnections ${limit.toLocaleString('en-US')}`
      : `${limit.toLocaleString('en-US')}, Aurora MySQL's default max_connections on a db.r6g.large (set databaseMaxConnections to your database's)`;
  warn(
    'backendConnectionBudget',
    `${PROPS}.maxBackendConnectionsPerServer: at autoScaling.maxCapacity the writer may see ${describeBudget(budget, perServer)} connections from the proxy, more than ${against}. ` +
      'Lower maxBackendConnectionsPerServer or autoScaling.maxCapacity, or raise the database\'s max_connections.',
  );
}

/**
 * The rendered proxysql.cnf travels in the task definition (an environment variable), which ECS caps at 64 KiB with
 * the backend CAs (about 8 KiB), the entrypoint and the rest. The defaults render about 20 KiB; every custom query
 * rule and every statement of readYourWritesStatements adds to it.
 */
export const MAX_CONFIG_TEMPLATE_BYTES = 32 * 1024;

export function checkConfigTemplateSize(template: string): void {
  const bytes = Buffer.byteLength(template, 'utf8');
  if (bytes > MAX_CONFIG_TEMPLATE_BYTES) {
    throw new Error(
      `${PROPS}: the rendered proxysql.cnf is ${(bytes / 1024).toFixed(1)} KiB, over the ${MAX_CONFIG_TEMPLATE_BYTES / 1024} KiB it may take in the task ` +
        'definition (ECS caps a task definition at 64 KiB): use fewer queryRules or shorter patterns, a smaller readYourWritesStatements, or fewer users (each adds the rows of its own writer pool)',
    );
  }
}

/**
 * ECS refuses a task definition over 64 KiB. The containers' definitions as synthesized (the template, the CAs, both
 * containers' scripts; secrets and names still as CloudFormation references, which resolve to ARNs of about the same
 * length) must leave a margin for that resolution.
 */
export const MAX_CONTAINER_DEFINITIONS_BYTES = 60 * 1024;

export function checkContainerDefinitionsSize(bytes: number): void {
  if (bytes > MAX_CONTAINER_DEFINITIONS_BYTES) {
    throw new Error(
      `${PROPS}: the task's container definitions take ${(bytes / 1024).toFixed(1)} KiB, over the ${MAX_CONTAINER_DEFINITIONS_BYTES / 1024} KiB that leave room ` +
        'under the 64 KiB ECS takes per task definition: use fewer queryRules or shorter patterns, a smaller readYourWritesStatements, or a smaller backendCa',
    );
  }
}
