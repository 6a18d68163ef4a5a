/** The demo handler's dependencies in AWS: settings from the Lambda environment, credentials from Secrets Manager. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DbCredentials, DemoDeps } from './app';
import { DEMO_ENV } from '../../src/config/demo-env';

export { DEMO_ENV };

/**
 * Parses a Secrets Manager secret string of the `{ "username": …, "password": … }` shape (the shape RDS and
 * `secretsmanager.Secret` with `generateSecretString` produce). Error messages name the secret and the field,
 * never the content.
 */
export function parseCredentials(secretString: string | undefined, secretId: string): DbCredentials {
  if (secretString === undefined) {
    throw new Error(`secret ${secretId} has no SecretString: store the credentials as JSON {"username": …, "password": …}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`secret ${secretId} is not JSON: store the credentials as JSON {"username": …, "password": …}`);
  }
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  for (const field of ['username', 'password'] as const) {
    if (typeof fields[field] !== 'string' || fields[field] === '') {
      throw new Error(`secret ${secretId} has no non-empty string field '${field}'`);
    }
  }
  return { username: fields.username as string, password: fields.password as string };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`environment variable ${name} is not set: the DemoApi construct sets it; set it when running the handler elsewhere`);
  return value;
}

/**
 * Reads DB_HOST, DB_PORT (default 3306), DB_NAME and DB_SECRET_ARN, failing fast with the variable's name.
 * The secret is fetched on the first `getCredentials()` call, not here, so a cold start that never reaches the
 * database never calls Secrets Manager.
 */
export function fromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): DemoDeps {
  const host = required(env, DEMO_ENV.host);
  const portText = env[DEMO_ENV.port]?.trim() || '3306';
  const port = Number(portText);
  if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`environment variable ${DEMO_ENV.port} must be a TCP port (1-65535), got '${portText}'`);
  }
  const database = required(env, DEMO_ENV.database);
  const secretArn = required(env, DEMO_ENV.secretArn);
  return {
    host,
    port,
    database,
    getCredentials: async () => {
      const out = await client().send(new GetSecretValueCommand({ SecretId: secretArn }));
      return parseCredentials(out.SecretString, secretArn);
    },
  };
}
