import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHttpApiServer, HttpApiHandler } from './http-bridge';

// A real HTTP server and a recording handler: what the demo handler would receive and how its answer is sent.
let events: APIGatewayProxyEventV2[] = [];
let reply: Awaited<ReturnType<HttpApiHandler>> = { statusCode: 200, body: '{}' };
const errors: string[] = [];
const server = createHttpApiServer(async (event, context) => {
  events.push(event);
  expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  if (reply.statusCode === 599) throw new Error('boom');
  return reply;
}, (message) => errors.push(message));
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('HTTP → API Gateway v2 bridge', () => {
  test('a JSON POST becomes a payload 2.0 event: path, method, query, lower-case headers, cookies, text body', async () => {
    events = [];
    reply = { statusCode: 201, headers: { 'x-demo': 'yes' }, body: '{"id":1}' };
    const response = await fetch(`${base}/items/?limit=5&tag=a&tag=b`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Trace': 't1', Cookie: 'a=1; b=2' },
      body: '{"name":"x"}',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-demo')).toBe('yes');
    expect(await response.text()).toBe('{"id":1}');
    const [event] = events;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/items/',
      rawQueryString: 'limit=5&tag=a&tag=b',
      queryStringParameters: { limit: '5', tag: 'a,b' },
      cookies: ['a=1', 'b=2'],
      body: '{"name":"x"}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/items/', sourceIp: '127.0.0.1' }, stage: '$default' },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace': 't1' });
    expect(event.headers.cookie).toBeUndefined();
  });

  test('a binary body is base64-encoded, a GET has none, and a base64 reply is decoded', async () => {
    events = [];
    reply = { statusCode: 200, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };
    const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const response = await fetch(`${base}/blob`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(events[0]).toMatchObject({ isBase64Encoded: true, body: Buffer.from(bytes).toString('base64') });
    await fetch(`${base}/items`);
    expect(events[1].body).toBeUndefined();
    expect(events[1].queryStringParameters).toBeUndefined();
  });

  test('a handler that throws gives 500 to the client and the message to our error output', async () => {
    reply = { statusCode: 599 };
    const response = await fetch(`${base}/x`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(errors).toEqual(['the demo handler threw: boom']);
  });
});
