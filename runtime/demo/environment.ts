/** The demo handler's dependencies in AWS: settings from the Lambda environment, credentials from Secrets Manager. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DemoDeps } from './app';
import { DEMO_ENV } from '../../src/config/demo-env';
import { check, hostProblem, parsePort, schemaProblem, unwrap } from '../../src/config/rules';
import { readSecret } from '../shared/secret';

export { DEMO_ENV };

/** The prefix of every message about an environment variable. */
export const envField = (name: string): string => `environment variable ${name}`;

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${envField(name)}: is not set: the DemoApi construct sets it; set it when running the handler elsewhere`);
  return value;
}

/**
 * Reads DB_HOST, DB_PORT (default 3306), DB_NAME and DB_SECRET_ARN, failing fast with the variable's name and the
 * rule the construct applies to the same value. The secret is fetched on the first `getCredentials()` call, not
 * here, so a cold start that never reaches the database never calls Secrets Manager.
 */
export function fromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  client: () => SecretsManagerClient = () => new SecretsManagerClient({}),
): DemoDeps {
  const host = required(env, DEMO_ENV.host);
  check(envField(DEMO_ENV.host), hostProblem(host));
  const port = unwrap(envField(DEMO_ENV.port), parsePort(env[DEMO_ENV.port]?.trim() || '3306'));
  const database = required(env, DEMO_ENV.database);
  check(envField(DEMO_ENV.database), schemaProblem(database));
  const secretArn = required(env, DEMO_ENV.secretArn);
  return {
    host,
    port,
    database,
    getCredentials: async () => {
      const { username, password } = await readSecret(client(), secretArn, 'demo function', true);
      return { username: username as string, password };
    },
  };
}
