/**
 * `onEvent` handler of the database bootstrap custom resource (aws-cdk-lib/custom-resources Provider).
 * Create and Update create or update the monitor and application users on the writer (bootstrap.ts);
 * Delete keeps them unless DropUsersOnDelete is 'true'. Secrets are read from Secrets Manager in the shape
 * RDS writes them (`{"username": …, "password": …}`); the reader is injectable so tests run the handler
 * in-process against a real MariaDB with no AWS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { parsePort, unwrap } from '../../src/config/rules';
import { readSecret, SecretCredentials } from '../shared/secret';
import { BootstrapLogger, BootstrapSpec, BootstrapTls, BootstrapUser, bootstrapDatabase, dropBootstrapUsers, lockRemovedUsers } from './bootstrap';

export type SecretValue = SecretCredentials;

/** Reads one secret by ARN. Errors must name the ARN and never the value. */
export type GetSecret = (secretArn: string) => Promise<SecretValue>;

/** What the handler returns to the provider framework. */
export interface OnEventResponse {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

export interface OnEventHandlerDeps {
  getSecret: GetSecret;
  logger?: BootstrapLogger;
}

/** One entry of the `Users` property (JSON). */
export interface UserProperty {
  username: string;
  secretArn: string;
  schema: string;
  privileges: string[];
}

/** Resource properties, all strings as CloudFormation delivers them. */
export interface BootstrapResourceProperties {
  DatabaseHost: string;
  DatabasePort: string;
  AdminSecretArn: string;
  MonitorUsername: string;
  MonitorSecretArn: string;
  Users: string;
  DropUsersOnDelete?: string;
  /** Total ms to wait for the database to accept connections. */
  WaitForDatabaseMs?: string;
  /**
   * TLS to the database, as the backend uses it: 'false' (clear text), 'true' (verified against the Amazon RDS CAs;
   * also what a missing property means, as templates before SslCa said), 'custom-ca' (verified against SslCa) or
   * 'unverified' (encrypted only). See BootstrapTls.
   */
  Ssl?: string;
  /** With Ssl 'custom-ca': the PEM bundle of the CAs that sign the database's certificate. */
  SslCa?: string;
  /**
   * 'true': the application users may log in only over TLS (REQUIRE SSL); 'false' or missing (templates before it):
   * REQUIRE NONE. The construct sets it from backendTls.
   */
  RequireSsl?: string;
  /** JSON array of existing account names the bootstrap may take over (ProxySqlServiceProps.adoptExistingUsers). */
  AdoptExistingUsers?: string;
  /** Changes whenever a secret or the user list changes, so CloudFormation sends an Update. Not read. */
  Revision?: string;
}

/** The production secret reader: AWS SDK v3 Secrets Manager. */
export function fromSecretsManager(client: SecretsManagerClient = new SecretsManagerClient({})): GetSecret {
  return (secretArn) => readSecret(client, secretArn, 'bootstrap function');
}

function required(props: Partial<BootstrapResourceProperties>, name: keyof BootstrapResourceProperties): string {
  const value = props[name];
  if (typeof value !== 'string' || value === '') throw new Error(`resource property ${name} is missing: the DatabaseBootstrap construct sets it`);
  return value;
}

function parseUsers(json: string): UserProperty[] {
  let users: unknown;
  try {
    users = JSON.parse(json);
  } catch {
    throw new Error('resource property Users is not JSON: expected [{"username","secretArn","schema","privileges"}]');
  }
  if (!Array.isArray(users)) throw new Error('resource property Users is not a JSON array');
  return users.map((u: Partial<UserProperty>, i) => {
    if (typeof u?.username !== 'string' || typeof u.secretArn !== 'string' || typeof u.schema !== 'string' || !Array.isArray(u.privileges)) {
      throw new Error(`resource property Users[${i}] needs string username, secretArn, schema and a privileges array`);
    }
    return { username: u.username, secretArn: u.secretArn, schema: u.schema, privileges: u.privileges.map(String) };
  });
}

function parseNames(json: string | undefined): string[] {
  if (json === undefined) return [];
  const names: unknown = JSON.parse(json);
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    throw new Error('resource property AdoptExistingUsers is not a JSON array of user names: the DatabaseBootstrap construct sets it');
  }
  return names as string[];
}

/** The TLS mode of the resource properties Ssl and SslCa. */
export function tlsFromProperties(props: Partial<BootstrapResourceProperties>): BootstrapTls {
  switch (props.Ssl ?? 'true') {
    case 'false':
      return false;
    case 'true':
      return 'rds';
    case 'unverified':
      return 'unverified';
    case 'custom-ca':
      return { ca: required(props, 'SslCa') };
    default:
      throw new Error(`resource property Ssl: '${props.Ssl}' is not one of false, true, custom-ca, unverified: the DatabaseBootstrap construct sets it`);
  }
}

/** Turns the resource properties into a BootstrapSpec, reading every secret. */
export async function specFromProperties(
  props: Partial<BootstrapResourceProperties>,
  getSecret: GetSecret,
  logger: BootstrapLogger | undefined,
): Promise<BootstrapSpec> {
  const host = required(props, 'DatabaseHost');
  const port = unwrap('resource property DatabasePort', parsePort(required(props, 'DatabasePort')));
  const admin = await getSecret(required(props, 'AdminSecretArn'));
  if (!admin.username) throw new Error(`the admin secret ${props.AdminSecretArn} has no "username": store it as RDS does, {"username": …, "password": …}`);
  const monitorSecret = await getSecret(required(props, 'MonitorSecretArn'));
  const users: BootstrapUser[] = [];
  for (const u of parseUsers(required(props, 'Users'))) {
    const secret = await getSecret(u.secretArn);
    users.push({ username: u.username, password: secret.password, schema: u.schema, privileges: u.privileges });
  }
  const waitForDatabaseMs = props.WaitForDatabaseMs === undefined ? 10 * 60_000 : Number(props.WaitForDatabaseMs);
  return {
    host,
    port,
    admin: { username: admin.username, password: admin.password },
    monitor: { username: required(props, 'MonitorUsername'), password: monitorSecret.password },
    users,
    ssl: tlsFromProperties(props),
    requireSsl: props.RequireSsl === 'true',
    waitForDatabaseMs: Number.isFinite(waitForDatabaseMs) ? waitForDatabaseMs : 10 * 60_000,
    logger,
  };
}

/** Stable across updates (same writer): an Update never turns into replace + delete of the users. */
export function physicalResourceId(host: string): string {
  return `db-bootstrap-${host}`;
}

export function createOnEventHandler(deps: OnEventHandlerDeps): (event: CloudFormationCustomResourceEvent) => Promise<OnEventResponse> {
  const onEvent = async (event: CloudFormationCustomResourceEvent): Promise<OnEventResponse> => {
    const log = deps.logger;
    const props = event.ResourceProperties as unknown as Partial<BootstrapResourceProperties>;
    const id = event.RequestType === 'Create' ? physicalResourceId(required(props, 'DatabaseHost')) : event.PhysicalResourceId;
    log?.info(`${event.RequestType} ${id}`, { requestId: event.RequestId, host: props.DatabaseHost, port: props.DatabasePort });

    if (event.RequestType === 'Delete') {
      if (props.DropUsersOnDelete !== 'true') {
        log?.info('Delete: the database users are kept (DropUsersOnDelete is not true)');
        return { PhysicalResourceId: id };
      }
      const spec = await specFromProperties(props, deps.getSecret, log);
      await dropBootstrapUsers(spec);
      return { PhysicalResourceId: id };
    }

    const spec = await specFromProperties(props, deps.getSecret, log);
    // On an Update, the previous run's accounts are this stack's; any other existing account is not taken over
    // unless listed in AdoptExistingUsers (bootstrap.ts, refuseForeignAccount).
    const old = event.RequestType === 'Update' ? (event.OldResourceProperties as unknown as Partial<BootstrapResourceProperties>) : undefined;
    const before = old?.Users === undefined ? [] : parseUsers(old.Users).map((u) => u.username);
    spec.managed = old ? [...before, ...(old.MonitorUsername ? [old.MonitorUsername] : [])] : [];
    spec.adopt = parseNames(props.AdoptExistingUsers);
    const result = await bootstrapDatabase(spec);
    if (old) {
      // Users the previous deploy had and this one does not: locked (see lockRemovedUsers for why not dropped).
      const now = new Set(spec.users.map((u) => u.username));
      await lockRemovedUsers(spec, before.filter((u) => !now.has(u)));
    }
    // A new host (writer endpoint changed) gets a new id: CloudFormation then deletes the old resource.
    return {
      PhysicalResourceId: physicalResourceId(spec.host),
      Data: { Flavour: result.flavour, ServerVersion: result.serverVersion, MonitorPrivilege: result.monitor.privileges.join(', ') },
    };
  };
  return async (event) => {
    try {
      return await onEvent(event);
    } catch (err) {
      // Every message we throw is password-free (bootstrap.ts scrubs database errors; secret errors name ARNs).
      deps.logger?.error(`${event.RequestType} failed: ${(err as Error).message}`);
      throw err;
    }
  };
}

/** Powertools Logger (JSON lines to stdout, CloudWatch) behind the BootstrapLogger interface. */
export function powertoolsLogger(): BootstrapLogger {
  const logger = new Logger({ serviceName: 'serverless-proxysql-db-bootstrap' });
  return {
    info: (msg, extra) => (extra ? logger.info(msg, { extra }) : logger.info(msg)),
    warn: (msg, extra) => (extra ? logger.warn(msg, { extra }) : logger.warn(msg)),
    error: (msg, extra) => (extra ? logger.error(msg, { extra }) : logger.error(msg)),
  };
}

export const handler = createOnEventHandler({ getSecret: fromSecretsManager(), logger: powertoolsLogger() });
