/**
 * Replica promotion under a real ProxySQL (read_only flip, mysql_replication_hostgroups, the rendered monitor
 * intervals): a write probe every 20 ms through the proxy reaches the new primary within 500 ms of the flip with
 * at most 25 failed writes, and the demo Lambda handler, retrying what is safe to retry, loses no write.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoHandler } from '../../runtime/demo/app';
import { apiEvent, lambdaContext } from '../../runtime/demo/test-support';
import { preparePromotion } from '../../bench/local';
import { probeFigures, startWriteProbe } from '../../bench/proxysql-stats';
import { ensureSchema } from '../../bench/workload';
import { connect, Lab, scalar, startLab } from './harness';

describe('failover through a real ProxySQL', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => lab?.stop());

  it('the first write lands on the promoted replica within 500 ms of the flip, with at most 25 failed probe writes', async () => {
    const { proxy, topology } = lab;
    const target = { host: proxy.host, port: proxy.port };
    const creds = { user: proxy.user, password: proxy.password, database: proxy.database };
    await ensureSchema(target, creds);
    await topology.waitForReplication();
    const promoter = await preparePromotion(topology, proxy.user);
    const probe = startWriteProbe(target, creds);
    await new Promise((r) => setTimeout(r, 1000));
    const times = await promoter.promote();
    await new Promise((r) => setTimeout(r, 2000));
    const writes = await probe.stop();
    await promoter.close();
    const figures = probeFigures(writes, times.demotedAt, times.promotedAt);

    expect(times.caughtUp).toBe(true);
    expect(figures.flipToFirstWriteMs).not.toBeNull();
    expect(figures.flipToFirstWriteMs as number).toBeLessThanOrEqual(500);
    expect(figures.failedWrites).toBeLessThanOrEqual(25);
    // Writes go to the new primary from then on (inside a transaction: the writer hostgroup).
    const conn = await connect(proxy);
    try {
      await conn.query('BEGIN');
      expect(await scalar(conn, 'SELECT @@server_id')).toBe(2);
      await conn.query('COMMIT');
    } finally {
      await conn.end();
    }
  });

  it('the demo handler retries the writes the failover refuses and loses none it acknowledged', async () => {
    const { proxy, topology } = lab;
    // After the first test the replica (server 2) is the writer; fail back to the old primary this time.
    const root = await mysql.createConnection({ host: topology.replica!.host, port: topology.replica!.port, user: 'root', password: topology.replica!.rootPassword });
    const oldPrimary = await mysql.createConnection({ host: topology.primary.host, port: topology.primary.port, user: 'root', password: topology.primary.rootPassword });
    const logger = new Logger({ serviceName: 'failover-test', logLevel: 'CRITICAL' });
    const environments = Array.from({ length: 8 }, () =>
      createDemoHandler({ host: proxy.host, port: proxy.port, database: proxy.database, logger, getCredentials: async () => ({ username: proxy.user, password: proxy.password }) }),
    );
    const acknowledged: string[] = [];
    const statuses: Record<number, number> = {};
    let running = true;
    const loops = environments.map(async (handler, e) => {
      for (let i = 0; running; i++) {
        const key = `env${e}-${i}`;
        const res = await handler(apiEvent('POST', '/items', { body: JSON.stringify({ name: key, idempotencyKey: key }) }), lambdaContext());
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.statusCode === 201) acknowledged.push(key);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await new Promise((r) => setTimeout(r, 1000));
    // Fail back: the current writer (the old replica) turns read-only, the old primary catches up and takes over.
    await root.query('SET GLOBAL read_only = ON');
    await root.query(`KILL USER ${root.escape(proxy.user)}`);
    const [pos] = await root.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_pos AS p');
    await oldPrimary.query("SET GLOBAL gtid_slave_pos = ''").catch(() => undefined);
    await oldPrimary.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${topology.replica!.port}, MASTER_USER='root', MASTER_PASSWORD=${oldPrimary.escape(topology.replica!.rootPassword)}, MASTER_USE_GTID=slave_pos`,
    );
    await oldPrimary.query('START SLAVE');
    await oldPrimary.query('SELECT MASTER_GTID_WAIT(?, 5)', [String(pos[0].p)]);
    await oldPrimary.query('STOP SLAVE');
    await oldPrimary.query('SET GLOBAL read_only = OFF');
    await new Promise((r) => setTimeout(r, 2000));
    running = false;
    await Promise.all(loops);
    await Promise.all(environments.map((h) => h.close()));

    const [rows] = await oldPrimary.query<mysql.RowDataPacket[]>('SELECT name FROM app.items WHERE name LIKE ?', ['env%']);
    const stored = new Set(rows.map((r) => String(r.name)));
    await Promise.all([root.end(), oldPrimary.end()]);
    expect(acknowledged.length).toBeGreaterThan(100);
    expect(acknowledged.filter((key) => !stored.has(key))).toEqual([]);
    // Every refused write was retried until it succeeded: no 5xx reached the API caller.
    expect(statuses).toEqual({ 201: acknowledged.length });
  });
});
