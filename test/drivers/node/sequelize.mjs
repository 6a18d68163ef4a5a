// Sequelize v6, dialect 'mysql' (it drives mysql2), as its manual shows (https://sequelize.org/docs/v6/): models
// defined with sequelize.define (tableName, timestamps: false), Model.create, Model.findByPk, Model.increment,
// sequelize.transaction() (unmanaged: t.rollback(); managed: the callback form commits), sequelize.query() for
// raw SQL, sequelize.authenticate() to connect.
//
// One Sequelize instance per session, pool { max: 1, min: 0 }: a session stands for one Lambda execution
// environment, which serves one request at a time (the manual's "Using sequelize in AWS Lambda" page keeps the pool
// small too: max 2, min 0). max 1 makes each session exactly one connection, as the contract asks; a session runs
// one statement at a time, so the default pool (max 5) would only allow connections it never needs.
import { DataTypes, QueryTypes, Sequelize } from 'sequelize';
import { runMatrix } from './matrix.mjs';

async function connect(env) {
  const sequelize = new Sequelize(env.database, env.user, env.password, {
    host: env.host,
    port: env.port,
    dialect: 'mysql',
    logging: false,
    pool: { max: 1, min: 0 },
  });
  const Item = sequelize.define(
    'Item',
    {
      id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
      owner: { type: DataTypes.STRING(64), allowNull: false },
      n: { type: DataTypes.INTEGER, allowNull: false },
      v: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    },
    { tableName: 'drv_item', timestamps: false },
  );
  const Child = sequelize.define(
    'Child',
    {
      id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true },
      parent_id: { type: DataTypes.BIGINT, allowNull: false },
    },
    { tableName: 'drv_child', timestamps: false },
  );
  try {
    await sequelize.authenticate();
  } catch (error) {
    await sequelize.close().catch(() => undefined);
    throw error;
  }
  return {
    async insertItem(owner, n) {
      const item = await Item.create({ owner, n, v: 0 });
      return item.id;
    },
    async lastInsertId() {
      const [row] = await sequelize.query('SELECT LAST_INSERT_ID() AS id', { type: QueryTypes.SELECT });
      return row?.id;
    },
    async insertChildWithLastInsertId() {
      const child = await Child.create({ parent_id: sequelize.literal('LAST_INSERT_ID()') });
      return child.id;
    },
    async childParent(childId) {
      const child = await Child.findByPk(childId);
      return child?.parent_id;
    },
    async findItem(id) {
      const item = await Item.findByPk(id);
      return item === null ? null : { owner: item.owner, n: item.n };
    },
    async incrementThenRollback(id) {
      const t = await sequelize.transaction();
      try {
        await Item.increment('v', { by: 1, where: { id }, transaction: t });
      } finally {
        await t.rollback();
      }
    },
    async incrementThenCommit(id) {
      await sequelize.transaction(async (t) => {
        await Item.increment('v', { by: 10, where: { id }, transaction: t });
      });
    },
    async readV(id) {
      const item = await Item.findByPk(id, { attributes: ['v'] });
      return item?.v;
    },
    async close() {
      await sequelize.close();
    },
  };
}

await runMatrix({ client: 'sequelize', workloads: ['rw'], eager: true, connect });
