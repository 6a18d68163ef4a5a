// Drizzle ORM over mysql2 (drizzle-orm/mysql2), as its documentation shows (https://orm.drizzle.team/docs/get-started-mysql):
// a mysql2/promise connection handed to drizzle({ client }), tables declared with mysqlTable,
// db.insert(...).values(...) resolving to [ResultSetHeader] (insertId), db.select().from(...).where(eq(...)),
// db.update(...).set(...), db.transaction(async (tx) => ...) with tx.rollback(), sql`...` for raw SQL.
//
// One mysql2 connection per session (the docs show createConnection or createPool): a session stands for one
// Lambda execution environment serving one request at a time, and each session is one connection, as the contract
// asks.
import { eq, sql, TransactionRollbackError } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import { bigint, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import mysql from 'mysql2/promise';
import { runMatrix } from './matrix.mjs';

const drvItem = mysqlTable('drv_item', {
  id: bigint('id', { mode: 'number' }).primaryKey().autoincrement(),
  owner: varchar('owner', { length: 64 }).notNull(),
  n: int('n').notNull(),
  v: int('v').notNull().default(0),
});

const drvChild = mysqlTable('drv_child', {
  id: bigint('id', { mode: 'number' }).primaryKey().autoincrement(),
  parentId: bigint('parent_id', { mode: 'number' }).notNull(),
});

async function connect(env) {
  const connection = await mysql.createConnection({
    host: env.host,
    port: env.port,
    user: env.user,
    password: env.password,
    database: env.database,
  });
  connection.on('error', () => undefined);
  const db = drizzle({ client: connection });
  return {
    async insertItem(owner, n) {
      const [result] = await db.insert(drvItem).values({ owner, n, v: 0 });
      return result.insertId;
    },
    async lastInsertId() {
      const [rows] = await db.execute(sql`SELECT LAST_INSERT_ID() AS id`);
      return rows[0]?.id;
    },
    async insertChildWithLastInsertId() {
      const [result] = await db.insert(drvChild).values({ parentId: sql`LAST_INSERT_ID()` });
      return result.insertId;
    },
    async childParent(childId) {
      const rows = await db.select({ parentId: drvChild.parentId }).from(drvChild).where(eq(drvChild.id, childId));
      return rows[0]?.parentId;
    },
    async findItem(id) {
      const rows = await db.select({ owner: drvItem.owner, n: drvItem.n }).from(drvItem).where(eq(drvItem.id, id));
      return rows[0] ?? null;
    },
    async incrementThenRollback(id) {
      try {
        await db.transaction(async (tx) => {
          await tx.update(drvItem).set({ v: sql`${drvItem.v} + 1` }).where(eq(drvItem.id, id));
          tx.rollback();
        });
      } catch (error) {
        // tx.rollback() throws TransactionRollbackError, which db.transaction() rethrows once it has rolled back.
        if (!(error instanceof TransactionRollbackError)) throw error;
      }
    },
    async incrementThenCommit(id) {
      await db.transaction(async (tx) => {
        await tx.update(drvItem).set({ v: sql`${drvItem.v} + 10` }).where(eq(drvItem.id, id));
      });
    },
    async readV(id) {
      const rows = await db.select({ v: drvItem.v }).from(drvItem).where(eq(drvItem.id, id));
      return rows[0]?.v;
    },
    async close() {
      await connection.end();
    },
  };
}

await runMatrix({ client: 'drizzle', workloads: ['rw'], eager: true, connect });
