import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every Java client of the driver matrix shares (test/drivers/CONTRACT.md): the DRV_* environment, one thread
 * per session with its loop (iterate, on an exception count it and reconnect when the connection is broken, think),
 * the check and error counters, and the one-line JSON report. The driver code itself lives in the client.
 */
final class Matrix {
  /** One session's connection, as the client opened it. */
  interface Session extends AutoCloseable {
    /** One iteration of the workload; `n` is the iteration number. */
    void iterate(int n) throws Exception;

    /** After an exception: is the connection unusable, so the session must reconnect? */
    boolean broken();
  }

  /** Opens one session's connection; `owner` is DRV_OWNER-i. */
  interface Connector {
    Session connect(String owner) throws Exception;
  }

  static final List<String> RW_CHECKS = List.of("insert_id", "last_insert_id", "last_insert_id_in_statement", "read_your_writes", "rollback", "commit");
  static final List<String> READONLY_CHECKS = List.of("read");

  final String host = env("DRV_HOST");
  final int port = Integer.parseInt(env("DRV_PORT"));
  final String user = env("DRV_USER");
  final String password = env("DRV_PASSWORD");
  final String database = env("DRV_DATABASE");
  final int sessions = Integer.parseInt(env("DRV_SESSIONS"));
  final long durationMs = Long.parseLong(env("DRV_DURATION_MS"));
  final long thinkMs = Long.parseLong(env("DRV_THINK_MS"));
  final String workload = env("DRV_WORKLOAD");
  final String owner = env("DRV_OWNER");

  private final AtomicInteger connected = new AtomicInteger();
  private final AtomicLong iterations = new AtomicLong();
  private final Map<String, long[]> checks = new LinkedHashMap<>();
  private final Map<String, Integer> errors = new LinkedHashMap<>();
  private final Map<String, String> firstFailure = new LinkedHashMap<>();

  Matrix() {
    if (!workload.equals("rw") && !workload.equals("readonly")) throw new IllegalArgumentException("DRV_WORKLOAD: unknown workload " + workload);
    for (String name : workload.equals("rw") ? RW_CHECKS : READONLY_CHECKS) checks.put(name, new long[2]);
  }

  private static String env(String name) {
    String value = System.getenv(name);
    if (value == null) throw new IllegalArgumentException(name + " is not set");
    return value;
  }

  /** Counts one check; returns whether it passed. */
  synchronized boolean check(String name, boolean ok, String failure) {
    checks.get(name)[ok ? 0 : 1]++;
    if (!ok) firstFailure.putIfAbsent(name, failure);
    return ok;
  }

  private synchronized void error(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getName() : e.getMessage();
    if (message.length() > 200) message = message.substring(0, 200);
    errors.merge(message, 1, Integer::sum);
  }

  /** Runs DRV_SESSIONS sessions, one thread each, then prints the report on the last line of stdout. */
  void run(String client, Connector connector) throws InterruptedException {
    long deadline = System.currentTimeMillis() + durationMs;
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      String sessionOwner = owner + "-" + i;
      Thread thread = new Thread(() -> session(connector, sessionOwner, deadline), "session-" + i);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) thread.join();
    System.out.println(report(client));
    System.out.flush();
  }

  private void session(Connector connector, String sessionOwner, long deadline) {
    Session session = null;
    boolean everConnected = false;
    int n = 0;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (session == null) {
          session = connector.connect(sessionOwner);
          if (!everConnected) connected.incrementAndGet();
          everConnected = true;
        }
        iterations.incrementAndGet();
        session.iterate(n++);
      } catch (Exception e) {
        error(e);
        if (session != null && session.broken()) {
          close(session);
          session = null;
        }
      }
      sleep(session == null ? Math.max(thinkMs, 100) : thinkMs);
    }
    if (session != null) close(session);
  }

  private static void close(Session session) {
    try {
      session.close();
    } catch (Exception ignored) {
      // the connection is gone either way
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized String report(String client) {
    StringBuilder out = new StringBuilder("{\"client\": ").append(json(client));
    out.append(", \"sessions\": ").append(sessions).append(", \"connected\": ").append(connected.get());
    out.append(", \"iterations\": ").append(iterations.get()).append(", \"checks\": {");
    String sep = "";
    for (Map.Entry<String, long[]> c : checks.entrySet()) {
      out.append(sep).append(json(c.getKey())).append(": [").append(c.getValue()[0]).append(", ").append(c.getValue()[1]).append(']');
      sep = ", ";
    }
    out.append("}, \"errors\": {");
    sep = "";
    for (Map.Entry<String, Integer> e : errors.entrySet()) {
      out.append(sep).append(json(e.getKey())).append(": ").append(e.getValue());
      sep = ", ";
    }
    out.append("}, \"firstFailure\": {");
    sep = "";
    for (Map.Entry<String, String> f : firstFailure.entrySet()) {
      out.append(sep).append(json(f.getKey())).append(": ").append(json(f.getValue()));
      sep = ", ";
    }
    return out.append("}}").toString();
  }

  private static String json(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }
}
