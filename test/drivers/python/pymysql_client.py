"""
PyMySQL, written the way its README / user guide shows: pymysql.connect(host, user, password, database) with the
defaults (autocommit off, tuple cursor), `with connection.cursor() as cursor: cursor.execute(sql, args)`,
cursor.lastrowid for the insert id, and connection.commit() after a write ("connection is not autocommit by
default. So you must commit to save your changes."). The transaction checks use Connection.begin() / rollback() /
commit(). Workloads: rw, readonly (the readonly session never commits or rolls back). See ../CONTRACT.md.
"""
import pymysql

from matrix import Matrix

m = Matrix("pymysql", ("rw", "readonly"))


def connect(i):
    return pymysql.connect(host=m.host, port=m.port, user=m.user, password=m.password, database=m.database)


def rw(connection, i, n):
    owner = m.owner(i)
    # 1. the insert, then commit as the docs show
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO drv_item (owner, n, v) VALUES (%s, %s, 0)", (owner, n))
        item_id = cursor.lastrowid
    connection.commit()
    m.check("insert_id", item_id > 0, "insert id %r" % (item_id,))

    with connection.cursor() as cursor:
        # 2.
        cursor.execute("SELECT LAST_INSERT_ID() AS id")
        m.expect("last_insert_id", item_id, cursor.fetchone()[0])
        # 3.
        cursor.execute("INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())")
        child_id = cursor.lastrowid
    connection.commit()
    with connection.cursor() as cursor:
        cursor.execute("SELECT parent_id FROM drv_child WHERE id = %s", (child_id,))
        row = cursor.fetchone()
        m.expect("last_insert_id_in_statement", item_id, row[0] if row else None)
        # 4.
        cursor.execute("SELECT owner, n FROM drv_item WHERE id = %s", (item_id,))
        m.expect("read_your_writes", (owner, n), cursor.fetchone())

    # 5. a transaction rolled back
    connection.begin()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE drv_item SET v = v + 1 WHERE id = %s", (item_id,))
    connection.rollback()
    m.expect("rollback", 0, read_v(connection, item_id))

    # 6. a transaction committed
    connection.begin()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE drv_item SET v = v + 10 WHERE id = %s", (item_id,))
    connection.commit()
    m.expect("commit", 10, read_v(connection, item_id))


def read_v(connection, item_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT v FROM drv_item WHERE id = %s", (item_id,))
        row = cursor.fetchone()
    return row[0] if row else None


def readonly(connection, i, n):
    seed = m.random_seed_id()
    with connection.cursor() as cursor:
        cursor.execute("SELECT label FROM drv_seed WHERE id = %s", (seed,))
        row = cursor.fetchone()
    m.expect("read", "seed-%d" % seed, row[0] if row else None)


def recover(connection, exc):
    """After an exception: rw rolls the transaction back (the readonly session never does); a connection that
    fails that, or no longer answers a ping, is closed and the session connects again."""
    try:
        if m.workload == "rw":
            connection.rollback()
        else:
            connection.ping(reconnect=False)
        return connection
    except pymysql.Error:
        close(connection)
        return None


def close(connection):
    if connection.open:
        connection.close()


if __name__ == "__main__":
    m.run(connect, rw if m.workload == "rw" else readonly, recover, close)
