/**
 * Through a real ProxySQL running the project's rendered configuration (backend TLS on): one user's sessions that
 * pin a writer connection (user variables, named locks, temporary tables) do not take the writer pool of another
 * user, whose writes and reads keep working (issue 18, "per-user budgets").
 */
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePromotion } from '../../bench/local';
import { DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER, userHostgroups } from '../../src/constants';
import { connect, Lab, scalar, startLab } from './harness';

const OTHER_USER = 'app_b';
const PRIMARY_SERVER_ID = 1;
const REPLICA_SERVER_ID = 2;
const PINNED_SESSIONS = 50;
const OTHER_WORKERS = 4;
const OTHER_RUN_MS = 6000;
/** Short, so that a starved write fails within the run instead of after it (the default is 10 s). */
const BORROW_TIMEOUT_SECONDS = 3;

/** What a session does to pin its writer connection, by kind; the last statement reads the state back. */
const PINNING: readonly (readonly string[])[] = [
  ['SET @x = 41', 'SELECT @x + 1'],
  ["SELECT GET_LOCK(CONCAT('job-', CONNECTION_ID()), 5)", 'SELECT 42'],
  ['CREATE TEMPORARY TABLE scratch (id INT)', 'INSERT INTO scratch VALUES (42)', 'SELECT id FROM scratch'],
];

interface PoolRow {
  hostgroup: number;
  used: number;
  free: number;
}

describe("one user's pinned sessions and another user's writes, through a real ProxySQL", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ moreUsers: [OTHER_USER], spec: { borrowTimeoutSeconds: BORROW_TIMEOUT_SECONDS } });
    const conn = await connect(lab.proxy);
    try {
      await conn.query('CREATE TABLE IF NOT EXISTS budget (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(16))');
    } finally {
      await conn.end();
    }
  });
  afterAll(async () => lab?.stop());

  async function pool(): Promise<PoolRow[]> {
    const admin = await lab.proxy.admin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT hostgroup, SUM(ConnUsed) AS used, SUM(ConnFree) AS free FROM stats_mysql_connection_pool GROUP BY hostgroup ORDER BY hostgroup',
      );
      return rows.map((r) => ({ hostgroup: Number(r.hostgroup), used: Number(r.used), free: Number(r.free) }));
    } finally {
      await admin.end();
    }
  }

  it(`${PINNED_SESSIONS} pinned sessions of one user leave another user's writes and reads at 0 errors`, async () => {
    // User A: 50 sessions pin a writer connection each and hold it until the end of the test.
    const pinned: mysql.Connection[] = [];
    const pinnedResults = Promise.all(
      Array.from({ length: PINNED_SESSIONS }, async (_, i) => {
        const conn = await connect(lab.proxy);
        pinned.push(conn);
        try {
          let last: unknown;
          for (const sql of PINNING[i % PINNING.length]) {
            if (!/^SELECT/.test(sql)) await conn.query(sql);
            else last = await scalar(conn, sql);
          }
          return Number(last) === 42 ? 'pinned' : `wrong: ${String(last)}`;
        } catch (error) {
          return `error: ${(error as mysql.QueryError).errno ?? ''} ${(error as Error).message.slice(0, 80)}`;
        }
      }),
    );
    // Let A's sessions take what they can of the pool first.
    await new Promise((r) => setTimeout(r, 1000));
    const poolDuringPinning = await pool();

    // User B: writes, the reads of what it wrote, and plain reads, for a few seconds.
    const other = { writes: 0, reads: 0, errors: [] as string[] };
    const until = Date.now() + OTHER_RUN_MS;
    await Promise.all(
      Array.from({ length: OTHER_WORKERS }, async () => {
        const conn = await connect(lab.proxy, OTHER_USER);
        try {
          while (Date.now() < until) {
            try {
              const [result] = await conn.query<mysql.ResultSetHeader>("INSERT INTO budget (note) VALUES ('b')");
              other.writes++;
              await conn.query('SELECT note FROM budget WHERE id = ?', [result.insertId]);
              await conn.query('SELECT COUNT(*) FROM information_schema.tables');
              other.reads += 2;
            } catch (error) {
              other.errors.push(`${(error as mysql.QueryError).errno ?? ''} ${(error as Error).message.slice(0, 100)}`);
            }
          }
        } finally {
          await conn.end();
        }
      }),
    );
    const poolAfter = await pool();
    const outcomes = await pinnedResults;
    await Promise.all(pinned.map((c) => c.end().catch(() => undefined)));

    const tally = (xs: string[]) => Object.entries(xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {}));
    console.log(
      JSON.stringify(
        {
          perServerCap: DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER,
          pinnedSessions: tally(outcomes),
          otherUser: { writes: other.writes, reads: other.reads, errors: other.errors.length, firstErrors: tally(other.errors).slice(0, 3) },
          poolDuringPinning,
          poolAfter,
        },
        null,
        1,
      ),
    );
    expect(other.errors).toEqual([]);
    expect(other.writes).toBeGreaterThan(50);
    // The pinned sessions that got a connection kept their state (they read back what they set).
    expect(outcomes.filter((o) => o === 'pinned').length).toBeGreaterThanOrEqual(DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER);
    expect(outcomes.filter((o) => o.startsWith('wrong'))).toEqual([]);
  });

  it("the other user's own writer pool follows a promotion as the first user's does", async () => {
    const conn = await connect(lab.proxy, OTHER_USER);
    try {
      await conn.query('BEGIN');
      expect(await scalar(conn, 'SELECT @@server_id')).toBe(PRIMARY_SERVER_ID);
      await conn.query('COMMIT');
    } finally {
      await conn.end();
    }
    await lab.topology.waitForReplication();
    const promoter = await preparePromotion(lab.topology, OTHER_USER);
    try {
      expect((await promoter.promote()).caughtUp).toBe(true);
    } finally {
      await promoter.close();
    }
    // Within 2 s of the flip a write of the other user lands on the promoted replica.
    const deadline = Date.now() + 2000;
    let serverId: unknown;
    for (;;) {
      const c = await connect(lab.proxy, OTHER_USER);
      try {
        await c.query('BEGIN');
        await c.query("INSERT INTO budget (note) VALUES ('after')");
        serverId = await scalar(c, 'SELECT @@server_id');
        await c.query('COMMIT');
        if (serverId === REPLICA_SERVER_ID) break;
      } catch {
        // refused by the demoted primary until ProxySQL moves it out of the pool
      } finally {
        await c.end().catch(() => undefined);
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(serverId).toBe(REPLICA_SERVER_ID);
    const admin = await lab.proxy.admin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT hostgroup_id, port FROM runtime_mysql_servers WHERE hostgroup_id IN (?, ?) ORDER BY hostgroup_id',
        [userHostgroups(1).writer, userHostgroups(1).reader],
      );
      const writers = rows.filter((r) => Number(r.hostgroup_id) === userHostgroups(1).writer).map((r) => Number(r.port));
      expect(writers).toEqual([lab.topology.replica!.port]);
    } finally {
      await admin.end();
    }
  });
});

describe("one user's client sessions and another user's logins, through a real ProxySQL", () => {
  const TASK_CAP = 20;
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ moreUsers: [OTHER_USER], spec: { maxClientConnections: TASK_CAP } });
  });
  afterAll(async () => lab?.stop());

  it('with two users and no maxConnections, one user holds at most half the task and the other still logs in', async () => {
    const held: mysql.Connection[] = [];
    const refused: string[] = [];
    try {
      for (let i = 0; i < TASK_CAP; i++) {
        try {
          held.push(await connect(lab.proxy));
        } catch (error) {
          refused.push(`${(error as mysql.QueryError).errno ?? ''} ${(error as Error).message.slice(0, 80)}`);
        }
      }
      const other = await connect(lab.proxy, OTHER_USER);
      try {
        expect(await scalar(other, 'SELECT 1')).toBe(1);
      } finally {
        await other.end();
      }
      console.log(JSON.stringify({ taskCap: TASK_CAP, firstUserHeld: held.length, refused: refused.slice(0, 2), refusedCount: refused.length }));
      expect(held.length).toBe(TASK_CAP / 2);
      expect(refused).toHaveLength(TASK_CAP / 2);
    } finally {
      await Promise.all(held.map((c) => c.end().catch(() => undefined)));
    }
  });
});
