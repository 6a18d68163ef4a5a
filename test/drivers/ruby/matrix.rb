# What every Ruby client of the driver matrix shares (test/drivers/CONTRACT.md): the DRV_* environment, one Thread per
# session, the session loop (iterate, on an exception count it and reconnect when the connection is broken, think),
# the check and error counters, and the one-line JSON report.
require 'json'

class Matrix
  CHECKS = {
    'rw' => %w[insert_id last_insert_id last_insert_id_in_statement read_your_writes rollback commit],
    'readonly' => %w[read]
  }.freeze

  attr_reader :host, :port, :user, :password, :database, :sessions, :workload

  def initialize(workloads)
    @host = env('DRV_HOST')
    @port = Integer(env('DRV_PORT'))
    @user = env('DRV_USER')
    @password = env('DRV_PASSWORD')
    @database = env('DRV_DATABASE')
    @sessions = Integer(env('DRV_SESSIONS'))
    @duration = Integer(env('DRV_DURATION_MS')) / 1000.0
    @think = Integer(env('DRV_THINK_MS')) / 1000.0
    @workload = env('DRV_WORKLOAD')
    @owner = env('DRV_OWNER')
    abort "DRV_WORKLOAD: this client does not implement workload #{@workload}" unless workloads.include?(@workload)

    @lock = Mutex.new
    @connected = 0
    @iterations = 0
    @checks = CHECKS.fetch(@workload).to_h { |name| [name, [0, 0]] }
    @errors = Hash.new(0)
    @first_failure = {}
  end

  # Counts one check; returns whether it passed.
  def check(name, ok, failure)
    @lock.synchronize do
      @checks.fetch(name)[ok ? 0 : 1] += 1
      @first_failure[name] ||= failure unless ok
    end
    ok
  end

  # Runs DRV_SESSIONS threads, each yielding its owner (DRV_OWNER-i) to the block, then prints the report.
  def run(client)
    @deadline = now + @duration
    threads = Array.new(@sessions) { |i| Thread.new("#{@owner}-#{i}") { |owner| yield owner } }
    threads.each(&:join)
    puts JSON.generate(client: client, sessions: @sessions, connected: @connected, iterations: @iterations,
                       checks: @checks, errors: @errors, firstFailure: @first_failure)
  end

  # One session's loop until the deadline: `connect` opens the connection, the block runs one iteration on it (with
  # the iteration number), `broken` says after an exception whether the session must reconnect.
  def session(connect:, broken:)
    conn = nil
    ever_connected = false
    n = 0
    while running?
      begin
        if conn.nil?
          conn = connect.call
          @lock.synchronize { @connected += 1 } unless ever_connected
          ever_connected = true
        end
        @lock.synchronize { @iterations += 1 }
        yield conn, n
        n += 1
      rescue StandardError => e
        error(e)
        conn = nil if conn && broken.call(conn)
      end
      conn.nil? ? back_off : sleep(@think)
    end
  end

  # Counts an exception by its message.
  def error(exception)
    @lock.synchronize { @errors[exception.message[0, 200]] += 1 }
  end

  # Is there time left before DRV_DURATION_MS?
  def running?
    now < @deadline
  end

  # The pause after a failed connect.
  def back_off
    sleep([@think, 0.1].max)
  end

  private

  def env(name)
    ENV.fetch(name) { abort "#{name} is not set" }
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end
