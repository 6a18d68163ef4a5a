# ActiveRecord 6.1 outside Rails, the way its guides and API docs show it: ActiveRecord::Base.establish_connection
# with adapter mysql2 (pool sized to the sessions, otherwise defaults), models with self.table_name, Model.create!
# (model.id is the insert id), Model.find for reads by primary key, Model.transaction { ... } (raise
# ActiveRecord::Rollback to roll back), and connection.select_value / connection.insert for raw SQL. Each session is
# a Thread that holds one pooled connection through ActiveRecord::Base.connection_pool.with_connection. Workload `rw`
# (test/drivers/CONTRACT.md).
require 'active_record'
require_relative 'matrix'

m = Matrix.new(%w[rw])

ActiveRecord::Base.establish_connection(
  adapter: 'mysql2', host: m.host, port: m.port, username: m.user, password: m.password, database: m.database,
  pool: [m.sessions, 5].max
)

class Item < ActiveRecord::Base
  self.table_name = 'drv_item'
end

class Child < ActiveRecord::Base
  self.table_name = 'drv_child'
end

# Model.find, or nil when the row is not there (a failed check, not an error).
def find(model, id)
  model.find(id)
rescue ActiveRecord::RecordNotFound
  nil
end

def check_v(m, check, id, want)
  item = find(Item, id)
  m.check(check, item && item.v == want, item ? "expected v #{want}, got #{item.v}" : "row #{id} not found")
end

def iterate(m, owner, n)
  # 1. insert, id from the model
  id = Item.create!(owner: owner, n: n, v: 0).id
  m.check('insert_id', id.to_i.positive?, "expected > 0, got #{id.inspect}")

  # 2. LAST_INSERT_ID() through raw SQL
  got = ActiveRecord::Base.connection.select_value('SELECT LAST_INSERT_ID() AS id')
  m.check('last_insert_id', got == id, "expected #{id}, got #{got}")

  # 3. LAST_INSERT_ID() inside a statement (connection.insert returns the new id)
  child_id = ActiveRecord::Base.connection.insert('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())')
  child = find(Child, child_id)
  m.check('last_insert_id_in_statement', child && child.parent_id == id,
          child ? "expected parent_id #{id}, got #{child.parent_id}" : "child #{child_id} not found")

  # 4. read your writes
  item = find(Item, id)
  m.check('read_your_writes', item && item.owner == owner && item.n == n,
          item ? "expected (#{owner}, #{n}), got (#{item.owner}, #{item.n})" : "row #{id} not found")

  # 5. a transaction rolled back
  Item.transaction do
    Item.update_counters(id, v: 1)
    raise ActiveRecord::Rollback
  end
  check_v(m, 'rollback', id, 0)

  # 6. a transaction committed
  Item.transaction do
    Item.update_counters(id, v: 10)
  end
  check_v(m, 'commit', id, 10)
end

m.run('activerecord') do |owner|
  ActiveRecord::Base.connection_pool.with_connection do |connection|
    m.session(connect: -> { connection.tap(&:verify!) }, broken: ->(c) { !c.active? }) do |_connection, n|
      iterate(m, owner, n)
    end
  end
rescue ActiveRecord::ActiveRecordError => e # the pool could not check a connection out: count it, try again
  m.error(e)
  if m.running?
    m.back_off
    retry
  end
end
