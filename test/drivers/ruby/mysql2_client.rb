# The mysql2 gem, the way its README shows it: Mysql2::Client.new(host:, port:, username:, password:, database:)
# with no other option, client.prepare(...) once and statement.execute(...) for statements with parameters,
# client.query(...) for plain SQL, client.last_id for the insert id, and transactions as query('BEGIN') ...
# query('ROLLBACK') / query('COMMIT'). One Thread and one client per session. Workloads `rw` and `readonly`
# (test/drivers/CONTRACT.md).
require 'mysql2'
require_relative 'matrix'

m = Matrix.new(%w[rw readonly])

# One session's client and its prepared statements.
class Session
  attr_reader :client

  def initialize(m, owner)
    @m = m
    @owner = owner
    @client = Mysql2::Client.new(host: m.host, port: m.port, username: m.user, password: m.password, database: m.database)
    @statements = {}
  end

  def prepare(sql)
    @statements[sql] ||= @client.prepare(sql)
  end

  def first_row(sql, *args)
    prepare(sql).execute(*args).first
  end

  def read
    id = rand(1..100)
    label = first_row('SELECT label FROM drv_seed WHERE id = ?', id)&.fetch('label')
    @m.check('read', label == "seed-#{id}", "expected seed-#{id}, got #{label.inspect}")
  end

  def read_write(n)
    # 1. insert, id from client.last_id
    prepare('INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)').execute(@owner, n)
    id = @client.last_id
    @m.check('insert_id', id.positive?, "expected > 0, got #{id}")

    # 2. LAST_INSERT_ID() through a plain query
    got = @client.query('SELECT LAST_INSERT_ID() AS id').first['id']
    @m.check('last_insert_id', got == id, "expected #{id}, got #{got}")

    # 3. LAST_INSERT_ID() inside a statement
    @client.query('INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())')
    child_id = @client.last_id
    row = first_row('SELECT parent_id FROM drv_child WHERE id = ?', child_id)
    @m.check('last_insert_id_in_statement', row && row['parent_id'] == id,
             row ? "expected parent_id #{id}, got #{row['parent_id']}" : "child #{child_id} not found")

    # 4. read your writes
    row = first_row('SELECT owner, n FROM drv_item WHERE id = ?', id)
    @m.check('read_your_writes', row && row['owner'] == @owner && row['n'] == n,
             row ? "expected (#{@owner}, #{n}), got (#{row['owner']}, #{row['n']})" : "row #{id} not found")

    # 5. a transaction rolled back
    transaction('UPDATE drv_item SET v = v + 1 WHERE id = ?', id, 'ROLLBACK')
    check_v('rollback', id, 0)

    # 6. a transaction committed
    transaction('UPDATE drv_item SET v = v + 10 WHERE id = ?', id, 'COMMIT')
    check_v('commit', id, 10)
  end

  def transaction(sql, id, ending)
    @client.query('BEGIN')
    begin
      prepare(sql).execute(id)
      @client.query(ending)
    rescue StandardError
      @client.query('ROLLBACK') rescue nil
      raise
    end
  end

  def check_v(check, id, want)
    row = first_row('SELECT v FROM drv_item WHERE id = ?', id)
    @m.check(check, row && row['v'] == want, row ? "expected v #{want}, got #{row['v']}" : "row #{id} not found")
  end

  def alive?
    @client.ping
  rescue StandardError
    false
  end
end

m.run('ruby-mysql2') do |owner|
  broken = lambda do |s|
    next false if s.alive?

    s.client.close
    true
  end
  m.session(connect: -> { Session.new(m, owner) }, broken: broken) do |s, n|
    m.workload == 'rw' ? s.read_write(n) : s.read
  end
end
