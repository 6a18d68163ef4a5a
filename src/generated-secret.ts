import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { GENERATED_SECRET_EXCLUDED_CHARACTERS } from './config/secrets';

/** A Secrets Manager secret `{username, password}` whose password ProxySQL's config loader can take. */
export function generatedSecret(scope: Construct, id: string, username: string, description: string): secretsmanager.Secret {
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
