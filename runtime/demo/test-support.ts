/** Helpers shared by the demo handler's tests: API Gateway v2 events, a Lambda context, log capture. */
import { lambdaContextFor } from '../shared/lambda-context';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface EventOptions {
  body?: string;
  query?: Record<string, string>;
  isBase64Encoded?: boolean;
}

let counter = 0;

/** An HTTP API (payload format 2.0) event for the $default stage, as API Gateway sends it. */
export function apiEvent(method: string, path: string, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  counter += 1;
  const rawQueryString = new URLSearchParams(opts.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString,
    headers: { 'content-type': 'application/json' },
    queryStringParameters: opts.query,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: 'api1234567.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'api1234567',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      requestId: `req-${counter}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body: opts.body,
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function lambdaContext(timeoutMs = 10_000): Context {
  return lambdaContextFor({ functionName: 'demo', requestId: `lambda-${counter}`, timeoutMs, region: 'eu-west-1' });
}

/**
 * Captures what is written to stdout and stderr (where the Powertools Logger prints, through its own Console)
 * until `restore()`; nothing captured reaches the terminal.
 */
export function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const capture = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}
