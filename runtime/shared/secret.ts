/**
 * Reading `{"username": …, "password": …}` secrets (the shape RDS and `secretsmanager.Secret` with
 * `generateSecretString` write), for the bootstrap and demo handlers alike. Messages name the secret and the
 * field, never the content (JSON.parse's own messages can quote it, so they are not passed on).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface SecretCredentials {
  readonly username?: string;
  readonly password: string;
}

const SHAPE = 'store it as JSON {"username": …, "password": …}, as RDS does';

/** Parses a secret string; `requireUsername` also demands a non-empty "username". */
export function parseSecretJson(secretId: string, secretString: string | undefined, requireUsername = false): SecretCredentials {
  if (secretString === undefined) throw new Error(`secret ${secretId} has no SecretString: ${SHAPE}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`secret ${secretId} is not JSON: ${SHAPE}`);
  }
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  for (const field of requireUsername ? ['username', 'password'] : ['password']) {
    if (typeof fields[field] !== 'string' || fields[field] === '') {
      throw new Error(`secret ${secretId} has no non-empty "${field}" string: ${SHAPE}`);
    }
  }
  return { password: fields.password as string, username: typeof fields.username === 'string' ? fields.username : undefined };
}

/**
 * Fetches and parses one secret with the AWS SDK. A failure of the call names the ARN and what to check, never
 * the SDK's message (which may hold request details); `who` is the function that reads it.
 */
export async function readSecret(client: SecretsManagerClient, secretArn: string, who: string, requireUsername = false): Promise<SecretCredentials> {
  let secretString: string | undefined;
  try {
    secretString = (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (err) {
    const name = (err as Error).name ?? 'Error';
    throw new Error(
      `could not read secret ${secretArn} (${name}): check that the ${who}'s role may call secretsmanager:GetSecretValue on it ` +
        '(and kms:Decrypt on its key) and that it can reach Secrets Manager (HTTPS egress or a VPC endpoint)',
    );
  }
  return parseSecretJson(secretArn, secretString, requireUsername);
}
