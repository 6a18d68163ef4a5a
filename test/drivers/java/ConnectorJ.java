import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ThreadLocalRandom;

/**
 * MariaDB Connector/J through plain JDBC, the way the connector's documentation and the JDBC tutorial show it:
 * DriverManager.getConnection("jdbc:mariadb://host:port/db?user=..&password=..") and nothing else in the URL,
 * PreparedStatement with Statement.RETURN_GENERATED_KEYS + getGeneratedKeys() for the insert id, and transactions as
 * setAutoCommit(false) ... commit()/rollback(), setAutoCommit(true) in finally. One thread and connection per session.
 * Workloads `rw` and `readonly` (test/drivers/CONTRACT.md).
 */
public final class ConnectorJ {
  public static void main(String[] args) throws Exception {
    Matrix m = new Matrix();
    String url = "jdbc:mariadb://" + m.host + ":" + m.port + "/" + m.database + "?user=" + m.user + "&password=" + m.password;
    m.run("connector-j", owner -> {
      Connection conn = DriverManager.getConnection(url);
      return m.workload.equals("rw") ? new Rw(m, conn, owner) : new ReadOnly(m, conn);
    });
    System.exit(0);
  }

  private abstract static class JdbcSession implements Matrix.Session {
    final Matrix m;
    final Connection conn;

    JdbcSession(Matrix m, Connection conn) {
      this.m = m;
      this.conn = conn;
    }

    @Override
    public boolean broken() {
      try {
        return !conn.isValid(2);
      } catch (SQLException e) {
        return true;
      }
    }

    @Override
    public void close() throws SQLException {
      conn.close();
    }

    /** Runs `sql` with one long parameter and returns the first column of its one row. */
    Object queryOne(String sql, long param) throws SQLException {
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        ps.setLong(1, param);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getObject(1) : null;
        }
      }
    }
  }

  private static final class Rw extends JdbcSession {
    final String owner;

    Rw(Matrix m, Connection conn, String owner) {
      super(m, conn);
      this.owner = owner;
    }

    @Override
    public void iterate(int n) throws SQLException {
      // 1. insert, id from getGeneratedKeys()
      long id;
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO drv_item (owner, n, v) VALUES (?, ?, 0)", Statement.RETURN_GENERATED_KEYS)) {
        ps.setString(1, owner);
        ps.setInt(2, n);
        ps.executeUpdate();
        try (ResultSet keys = ps.getGeneratedKeys()) {
          keys.next();
          id = keys.getLong(1);
        }
      }
      m.check("insert_id", id > 0, "expected > 0, got " + id);

      // 2. LAST_INSERT_ID() through a plain Statement
      try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT LAST_INSERT_ID() AS id")) {
        rs.next();
        long got = rs.getLong("id");
        m.check("last_insert_id", got == id, "expected " + id + ", got " + got);
      }

      // 3. LAST_INSERT_ID() inside a statement
      long childId;
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())", Statement.RETURN_GENERATED_KEYS)) {
        ps.executeUpdate();
        try (ResultSet keys = ps.getGeneratedKeys()) {
          keys.next();
          childId = keys.getLong(1);
        }
      }
      Object parent = queryOne("SELECT parent_id FROM drv_child WHERE id = ?", childId);
      m.check("last_insert_id_in_statement", parent != null && ((Number) parent).longValue() == id, "expected parent_id " + id + ", got " + parent);

      // 4. read your writes
      try (PreparedStatement ps = conn.prepareStatement("SELECT owner, n FROM drv_item WHERE id = ?")) {
        ps.setLong(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            String gotOwner = rs.getString("owner");
            int gotN = rs.getInt("n");
            m.check("read_your_writes", owner.equals(gotOwner) && gotN == n, "expected (" + owner + ", " + n + "), got (" + gotOwner + ", " + gotN + ")");
          } else {
            m.check("read_your_writes", false, "row " + id + " not found");
          }
        }
      }

      // 5. a transaction rolled back
      update("UPDATE drv_item SET v = v + 1 WHERE id = ?", id, false);
      Object v = queryOne("SELECT v FROM drv_item WHERE id = ?", id);
      m.check("rollback", v != null && ((Number) v).intValue() == 0, "expected v 0, got " + v);

      // 6. a transaction committed
      update("UPDATE drv_item SET v = v + 10 WHERE id = ?", id, true);
      v = queryOne("SELECT v FROM drv_item WHERE id = ?", id);
      m.check("commit", v != null && ((Number) v).intValue() == 10, "expected v 10, got " + v);
    }

    /** The JDBC tutorial's transaction: auto-commit off, the statement, commit (or roll back), auto-commit back on. */
    private void update(String sql, long id, boolean commit) throws SQLException {
      conn.setAutoCommit(false);
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        ps.setLong(1, id);
        ps.executeUpdate();
        if (commit) conn.commit();
        else conn.rollback();
      } catch (SQLException e) {
        conn.rollback();
        throw e;
      } finally {
        conn.setAutoCommit(true);
      }
    }
  }

  private static final class ReadOnly extends JdbcSession {
    ReadOnly(Matrix m, Connection conn) {
      super(m, conn);
    }

    @Override
    public void iterate(int n) throws SQLException {
      int id = ThreadLocalRandom.current().nextInt(1, 101);
      Object label = queryOne("SELECT label FROM drv_seed WHERE id = ?", id);
      m.check("read", ("seed-" + id).equals(label), "expected seed-" + id + ", got " + label);
    }
  }
}
