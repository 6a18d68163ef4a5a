/** The demo's HTTP side: JSON responses and the errors the router answers with. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type DemoResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): DemoResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export class MethodNotAllowed extends Error {
  constructor(
    path: string,
    readonly allowed: string[],
  ) {
    super(`method not allowed on '${path}': use ${allowed.join(' or ')}`);
    this.name = 'MethodNotAllowed';
  }
}

/** getCredentials() failed (Secrets Manager unreachable, malformed secret): not a database fault. */
export class CredentialsFailure extends Error {
  constructor(cause: unknown) {
    super('could not get the database credentials', { cause });
    this.name = 'CredentialsFailure';
  }
}
