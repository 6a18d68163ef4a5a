/**
 * The ProxySQL container's health check (listening.sh): /bin/sh and /proc only, no client. A port something listens on
 * is healthy, a closed one is not.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../local/run';

const SCRIPT = fs.readFileSync(path.join(__dirname, 'listening.sh'), 'utf8');

async function check(port: number) {
  // an empty PATH: nothing but the shell's builtins
  const r = await run('/bin/sh', ['-c', SCRIPT], { env: { PATH: '', PROXYSQL_MYSQL_PORT: String(port) }, timeoutMs: 5000 });
  return { code: r.status, stderr: r.stderr };
}

describe('listening.sh', () => {
  it('is healthy while a socket listens on the port (IPv4 or IPv6), unhealthy once it is closed', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      const port = (server.address() as net.AddressInfo).port;
      expect(await check(port), host).toEqual({ code: 0, stderr: '' });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      expect(await check(port)).toEqual({ code: 1, stderr: `proxysql-listening: nothing listens on port ${port}: ProxySQL is not up\n` });
    }
  });
});
