"""
mysqlclient (MySQLdb), written the way its user guide shows: MySQLdb.connect(host, port, user, password, database)
with the defaults (autocommit off, "as required by the DB-API standard"), a cursor's execute(sql, args) and
fetchone(), cursor.lastrowid for the insert id, connection.commit() after a write and connection.rollback() to
throw changes away. No begin(): with autocommit off a transaction begins by itself (Connection.begin's docstring:
"This method is not used when autocommit=False"). Workloads: rw, readonly (the readonly session never commits or
rolls back). See ../CONTRACT.md.
"""
import MySQLdb

from matrix import Matrix

m = Matrix("mysqldb", ("rw", "readonly"))


def connect(i):
    return MySQLdb.connect(host=m.host, port=m.port, user=m.user, password=m.password, database=m.database)


def rw(db, i, n):
    owner = m.owner(i)
    # 1. the insert, then commit
    with db.cursor() as c:
        c.execute("INSERT INTO drv_item (owner, n, v) VALUES (%s, %s, 0)", (owner, n))
        item_id = c.lastrowid
    db.commit()
    m.check("insert_id", item_id > 0, "insert id %r" % (item_id,))

    with db.cursor() as c:
        # 2.
        c.execute("SELECT LAST_INSERT_ID() AS id")
        m.expect("last_insert_id", item_id, c.fetchone()[0])
        # 3.
        c.execute("INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())")
        child_id = c.lastrowid
    db.commit()
    with db.cursor() as c:
        c.execute("SELECT parent_id FROM drv_child WHERE id = %s", (child_id,))
        row = c.fetchone()
        m.expect("last_insert_id_in_statement", item_id, row[0] if row else None)
        # 4.
        c.execute("SELECT owner, n FROM drv_item WHERE id = %s", (item_id,))
        m.expect("read_your_writes", (owner, n), c.fetchone())

    # 5. a transaction rolled back (it began by itself)
    with db.cursor() as c:
        c.execute("UPDATE drv_item SET v = v + 1 WHERE id = %s", (item_id,))
    db.rollback()
    m.expect("rollback", 0, read_v(db, item_id))

    # 6. a transaction committed
    with db.cursor() as c:
        c.execute("UPDATE drv_item SET v = v + 10 WHERE id = %s", (item_id,))
    db.commit()
    m.expect("commit", 10, read_v(db, item_id))


def read_v(db, item_id):
    with db.cursor() as c:
        c.execute("SELECT v FROM drv_item WHERE id = %s", (item_id,))
        row = c.fetchone()
    return row[0] if row else None


def readonly(db, i, n):
    seed = m.random_seed_id()
    with db.cursor() as c:
        c.execute("SELECT label FROM drv_seed WHERE id = %s", (seed,))
        row = c.fetchone()
    m.expect("read", "seed-%d" % seed, row[0] if row else None)


def recover(db, exc):
    """After an exception: rw rolls the transaction back (the readonly session never does); a connection that
    fails that, or no longer answers a ping, is closed and the session connects again."""
    try:
        if m.workload == "rw":
            db.rollback()
        else:
            db.ping()
        return db
    except MySQLdb.Error:
        close(db)
        return None


def close(db):
    try:
        db.close()
    except MySQLdb.Error:
        pass  # already closed


if __name__ == "__main__":
    m.run(connect, rw if m.workload == "rw" else readonly, recover, close)
