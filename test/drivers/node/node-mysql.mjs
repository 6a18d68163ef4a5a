// mysql (the `mysql` npm package): createConnection + connect(), then connection.query() with `?` placeholders
// (text protocol, escaped in the client) and beginTransaction / commit / rollback, as its README shows
// (https://github.com/mysqljs/mysql#readme). The README's callback API is turned into promises with util.promisify.
import mysql from 'mysql';
import { promisify } from 'node:util';
import { runMatrix } from './matrix.mjs';

async function connect(env) {
  const connection = mysql.createConnection({
    host: env.host,
    port: env.port,
    user: env.user,
    password: env.password,
    database: env.database,
  });
  // A fatal error while no query is running is emitted as 'error' (README, "Error handling").
  connection.on('error', () => undefined);
  const query = promisify(connection.query).bind(connection);
  const beginTransaction = promisify(connection.beginTransaction).bind(connection);
  const commit = promisify(connection.commit).bind(connection);
  const rollback = promisify(connection.rollback).bind(connection);
  const end = promisify(connection.end).bind(connection);
  try {
    await promisify(connection.connect).bind(connection)();
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return {
    async insertItem(owner, n) {
      const result = await query('INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)', [owner, n]);
      return result.insertId;
    },
    async lastInsertId() {
      const rows = await query('SELECT LAST_INSERT_ID() AS id');
      return rows[0]?.id;
    },
    async insertChildWithLastInsertId() {
      const result = await query('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())');
      return result.insertId;
    },
    async childParent(childId) {
      const rows = await query('SELECT parent_id FROM drv_child WHERE id = ?', [childId]);
      return rows[0]?.parent_id;
    },
    async findItem(id) {
      const rows = await query('SELECT owner, n FROM drv_item WHERE id = ?', [id]);
      return rows[0] ?? null;
    },
    async incrementThenRollback(id) {
      await beginTransaction();
      try {
        await query('UPDATE drv_item SET v = v + 1 WHERE id = ?', [id]);
      } finally {
        await rollback();
      }
    },
    async incrementThenCommit(id) {
      await beginTransaction();
      try {
        await query('UPDATE drv_item SET v = v + 10 WHERE id = ?', [id]);
        await commit();
      } catch (error) {
        await rollback().catch(() => undefined);
        throw error;
      }
    },
    async readV(id) {
      const rows = await query('SELECT v FROM drv_item WHERE id = ?', [id]);
      return rows[0]?.v;
    },
    async readSeed(id) {
      const rows = await query('SELECT label FROM drv_seed WHERE id = ?', [id]);
      return rows[0]?.label;
    },
    async close() {
      try {
        await end();
      } catch {
        connection.destroy();
      }
    },
  };
}

await runMatrix({ client: 'node-mysql', workloads: ['rw', 'readonly'], eager: true, connect });
