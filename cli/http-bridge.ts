/**
 * A local stand-in for API Gateway's HTTP API: turns a Node HTTP request into a payload-format-2.0 event,
 * calls a Lambda handler, and writes its structured result back. The event shape follows
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * (headers lower-cased and repeated values comma-joined, cookies apart, binary bodies base64-encoded).
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContextFor } from '../runtime/shared/lambda-context';

export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** HTTP API's payload limit (10 MB): larger requests get 413, as API Gateway answers. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** The timeout the local "function" runs with (the Lambda default of the demo function). */
export const LOCAL_FUNCTION_TIMEOUT_MS = 30_000;

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i;

/** The API Gateway v2 event for a request whose body has been read. */
export function toApiGatewayEvent(req: http.IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const cookies = req.headers.cookie?.split(/;\s*/).filter((c) => c !== '');
  const query: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
  const method = (req.method ?? 'GET').toUpperCase();
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || contentType === '' || TEXT_TYPES.test(contentType);
  const now = new Date();
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/** A Lambda context for one local invocation. */
export function localContext(timeoutMs = LOCAL_FUNCTION_TIMEOUT_MS): Context {
  return lambdaContextFor({ functionName: 'serverless-proxysql-local-demo', requestId: randomUUID(), timeoutMs });
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

/** An HTTP server that hands every request to `handler` as API Gateway would. Not started: call listen(). */
export function createHttpApiServer(handler: HttpApiHandler, onError: (message: string) => void): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        send(res, 413, JSON.stringify({ message: 'Request Entity Too Large' }));
        return;
      }
      handler(toApiGatewayEvent(req, Buffer.concat(chunks)), localContext()).then(
        (result) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
          if (result.cookies && result.cookies.length > 0) res.setHeader('set-cookie', result.cookies);
          const body = result.body ?? '';
          res.writeHead(result.statusCode ?? 200, headers);
          res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
        },
        (error: unknown) => {
          // What API Gateway answers when the integration fails; the cause goes to our stderr, not the client.
          onError(`the demo handler threw: ${error instanceof Error ? error.message : String(error)}`);
          send(res, 500, JSON.stringify({ message: 'Internal Server Error' }));
        },
      );
    });
  });
}
