// TypeORM, DataSource of type 'mysql' (it drives mysql2), as its documentation shows (https://typeorm.io): entities
// declared with EntitySchema (no decorators, so plain JavaScript), dataSource.initialize(), repository.save and
// findOneBy, repository.insert, dataSource.query() for raw SQL, a QueryRunner's startTransaction /
// rollbackTransaction for the rollback and dataSource.transaction() (commits when the callback resolves).
//
// One DataSource per session, poolSize 1: a session stands for one Lambda execution environment, which initializes
// its DataSource once per process and serves one request at a time, so one connection is all it uses and each
// session is one connection, as the contract asks (the default pool is mysql2's, 10 connections).
import { DataSource, EntitySchema } from 'typeorm';
import { runMatrix } from './matrix.mjs';

const Item = new EntitySchema({
  name: 'Item',
  tableName: 'drv_item',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    owner: { type: 'varchar', length: 64 },
    n: { type: 'int' },
    v: { type: 'int', default: 0 },
  },
});

const Child = new EntitySchema({
  name: 'Child',
  tableName: 'drv_child',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    parent_id: { type: 'bigint' },
  },
});

async function connect(env) {
  const dataSource = new DataSource({
    type: 'mysql',
    host: env.host,
    port: env.port,
    username: env.user,
    password: env.password,
    database: env.database,
    entities: [Item, Child],
    synchronize: false,
    logging: false,
    poolSize: 1,
  });
  await dataSource.initialize();
  const items = dataSource.getRepository(Item);
  const children = dataSource.getRepository(Child);
  return {
    async insertItem(owner, n) {
      const item = await items.save({ owner, n, v: 0 });
      return item.id;
    },
    async lastInsertId() {
      const rows = await dataSource.query('SELECT LAST_INSERT_ID() AS id');
      return rows[0]?.id;
    },
    async insertChildWithLastInsertId() {
      const result = await children.insert({ parent_id: () => 'LAST_INSERT_ID()' });
      return result.identifiers[0]?.id;
    },
    async childParent(childId) {
      const child = await children.findOneBy({ id: childId });
      return child?.parent_id;
    },
    async findItem(id) {
      return await items.findOneBy({ id });
    },
    async incrementThenRollback(id) {
      const queryRunner = dataSource.createQueryRunner();
      await queryRunner.connect();
      try {
        await queryRunner.startTransaction();
        try {
          await queryRunner.manager.increment(Item, { id }, 'v', 1);
        } finally {
          await queryRunner.rollbackTransaction();
        }
      } finally {
        await queryRunner.release();
      }
    },
    async incrementThenCommit(id) {
      await dataSource.transaction(async (manager) => {
        await manager.increment(Item, { id }, 'v', 10);
      });
    },
    async readV(id) {
      const item = await items.findOneBy({ id });
      return item?.v;
    },
    async close() {
      await dataSource.destroy();
    },
  };
}

await runMatrix({ client: 'typeorm', workloads: ['rw'], eager: true, connect });
