"""
Django 3.2 ORM used standalone, written the way its docs show: settings.configure() with DATABASES ENGINE
'django.db.backends.mysql' (mysqlclient) and nothing else set (so Django's defaults: AUTOCOMMIT on, each query
committed unless inside atomic()), django.setup(), unmanaged models (Meta managed=False, db_table) on the existing
tables, Model.objects.create() / .get(pk=) / .filter().update(F()), transaction.atomic() for the transactions
(transaction.set_rollback(True) rolls one back), connection.cursor() for raw SQL. Django opens one connection per
thread by itself; the thread closes it at the end, and after an error calls close_if_unusable_or_obsolete() as
Django does between requests. Workload: rw. See ../CONTRACT.md.
"""
import django
from django.conf import settings

from matrix import Matrix

m = Matrix("django", ("rw",))

settings.configure(
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "HOST": m.host,
            "PORT": m.port,
            "USER": m.user,
            "PASSWORD": m.password,
            "NAME": m.database,
        }
    },
)
django.setup()

from django.db import connection, models, transaction  # noqa: E402  (after setup, as a standalone script must)
from django.db.models import F  # noqa: E402


class Item(models.Model):
    id = models.BigAutoField(primary_key=True)
    owner = models.CharField(max_length=64)
    n = models.IntegerField()
    v = models.IntegerField(default=0)

    class Meta:
        app_label = "matrix"
        managed = False
        db_table = "drv_item"


class Child(models.Model):
    id = models.BigAutoField(primary_key=True)
    parent_id = models.BigIntegerField()

    class Meta:
        app_label = "matrix"
        managed = False
        db_table = "drv_child"


def connect(i):
    connection.ensure_connection()  # Django connects on first use; connect now so a session that cannot is counted
    return connection  # this thread's connection


def rw(conn, i, n):
    owner = m.owner(i)
    # 1.
    item = Item.objects.create(owner=owner, n=n, v=0)
    m.check("insert_id", item.id is not None and item.id > 0, "insert id %r" % (item.id,))
    with connection.cursor() as cursor:
        # 2.
        cursor.execute("SELECT LAST_INSERT_ID() AS id")
        m.expect("last_insert_id", item.id, cursor.fetchone()[0])
        # 3.
        cursor.execute("INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())")
        child_id = cursor.lastrowid
    child = get(Child, child_id)
    m.expect("last_insert_id_in_statement", item.id, child.parent_id if child else None)
    # 4.
    found = get(Item, item.id)
    m.expect("read_your_writes", (owner, n), (found.owner, found.n) if found else None)

    # 5. a transaction rolled back
    with transaction.atomic():
        Item.objects.filter(pk=item.id).update(v=F("v") + 1)
        transaction.set_rollback(True)
    m.expect("rollback", 0, read_v(item.id))

    # 6. a transaction committed
    with transaction.atomic():
        Item.objects.filter(pk=item.id).update(v=F("v") + 10)
    m.expect("commit", 10, read_v(item.id))


def get(model, pk):
    """model.objects.get(pk=pk), None when the row is not found (a failed check, not an error)."""
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        return None


def read_v(item_id):
    item = get(Item, item_id)
    return item.v if item else None


def recover(conn, exc):
    # What Django does at the end of a request: with the default CONN_MAX_AGE (0) it closes the connection, and
    # connects again on next use.
    conn.close_if_unusable_or_obsolete()
    return conn


def close(conn):
    conn.close()


if __name__ == "__main__":
    m.run(connect, rw, recover, close)
