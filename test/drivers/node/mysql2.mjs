/* global process, console */
// mysql2 with the promise API, one createConnection per session, as its README shows
// (https://sidorares.github.io/node-mysql2/docs). Transactions through beginTransaction / commit / rollback.
// `node mysql2.mjs query`: the text protocol (`connection.query()`, COM_QUERY); `node mysql2.mjs execute`: prepared
// statements (`connection.execute()`, the binary protocol).
import mysql from 'mysql2/promise';
import { runMatrix } from './matrix.mjs';

const method = process.argv[2];
if (method !== 'query' && method !== 'execute') {
  console.error(`usage: node mysql2.mjs query|execute (got ${method})`);
  process.exit(2);
}

async function connect(env) {
  const connection = await mysql.createConnection({
    host: env.host,
    port: env.port,
    user: env.user,
    password: env.password,
    database: env.database,
  });
  // A connection that dies between statements emits 'error'; without a listener Node would throw it.
  connection.on('error', () => undefined);
  return {
    async insertItem(owner, n) {
      const [result] = await connection[method]('INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)', [owner, n]);
      return result.insertId;
    },
    async lastInsertId() {
      const [rows] = await connection[method]('SELECT LAST_INSERT_ID() AS id');
      return rows[0]?.id;
    },
    async insertChildWithLastInsertId() {
      const [result] = await connection[method]('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())');
      return result.insertId;
    },
    async childParent(childId) {
      const [rows] = await connection[method]('SELECT parent_id FROM drv_child WHERE id = ?', [childId]);
      return rows[0]?.parent_id;
    },
    async findItem(id) {
      const [rows] = await connection[method]('SELECT owner, n FROM drv_item WHERE id = ?', [id]);
      return rows[0] ?? null;
    },
    async incrementThenRollback(id) {
      await connection.beginTransaction();
      try {
        await connection[method]('UPDATE drv_item SET v = v + 1 WHERE id = ?', [id]);
      } finally {
        await connection.rollback();
      }
    },
    async incrementThenCommit(id) {
      await connection.beginTransaction();
      try {
        await connection[method]('UPDATE drv_item SET v = v + 10 WHERE id = ?', [id]);
        await connection.commit();
      } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
      }
    },
    async readV(id) {
      const [rows] = await connection[method]('SELECT v FROM drv_item WHERE id = ?', [id]);
      return rows[0]?.v;
    },
    async readSeed(id) {
      const [rows] = await connection[method]('SELECT label FROM drv_seed WHERE id = ?', [id]);
      return rows[0]?.label;
    },
    async close() {
      await connection.end();
    },
  };
}

await runMatrix({ client: `mysql2-${method}`, workloads: method === 'query' ? ['rw', 'readonly'] : ['rw'], eager: true, connect });
