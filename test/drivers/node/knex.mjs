// Knex with client 'mysql2', as its guide shows (https://knexjs.org/guide/): knex('drv_item').insert(...) resolves to
// [id], knex.raw() for raw SQL, knex.transaction(async (trx) => ...) that commits when the handler resolves and rolls
// back on trx.rollback().
//
// One knex instance per session, pool { min: 0, max: 1 }: a session stands for one Lambda execution environment,
// which creates its knex once per process and serves one request at a time, so one connection is all it ever uses
// (Knex's guide recommends min: 0; its default { min: 2, max: 10 } would open two connections per Lambda for
// nothing). It also keeps each session on one connection as the contract asks; one knex shared by all sessions
// with a pool >= DRV_SESSIONS would hand any query to any pooled connection instead.
import knex from 'knex';
import { runMatrix } from './matrix.mjs';

async function connect(env) {
  const db = knex({
    client: 'mysql2',
    connection: {
      host: env.host,
      port: env.port,
      user: env.user,
      password: env.password,
      database: env.database,
    },
    pool: { min: 0, max: 1 },
  });
  return {
    async insertItem(owner, n) {
      const [id] = await db('drv_item').insert({ owner, n, v: 0 });
      return id;
    },
    async lastInsertId() {
      const [rows] = await db.raw('SELECT LAST_INSERT_ID() AS id');
      return rows[0]?.id;
    },
    async insertChildWithLastInsertId() {
      const [id] = await db('drv_child').insert({ parent_id: db.raw('LAST_INSERT_ID()') });
      return id;
    },
    async childParent(childId) {
      const row = await db('drv_child').where({ id: childId }).first('parent_id');
      return row?.parent_id;
    },
    async findItem(id) {
      return (await db('drv_item').where({ id }).first('owner', 'n')) ?? null;
    },
    async incrementThenRollback(id) {
      const rolledBack = new Error('rolled back on purpose');
      try {
        await db.transaction(async (trx) => {
          await trx('drv_item').where({ id }).increment('v', 1);
          await trx.rollback(rolledBack);
        });
      } catch (error) {
        if (error !== rolledBack) throw error;
      }
    },
    async incrementThenCommit(id) {
      await db.transaction(async (trx) => {
        await trx('drv_item').where({ id }).increment('v', 10);
      });
    },
    async readV(id) {
      const row = await db('drv_item').where({ id }).first('v');
      return row?.v;
    },
    async close() {
      await db.destroy();
    },
  };
}

await runMatrix({ client: 'knex', workloads: ['rw'], eager: false, connect });
