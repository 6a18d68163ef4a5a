"""
SQLAlchemy 1.4 ORM, written the way its docs show: create_engine("mysql://user:password@host:port/db") (the MySQL
dialect's default DBAPI, mysqlclient), declarative models mapped onto the existing tables, one Session per thread (a Session is
used by one thread at a time) used "commit as you go": the Session begins a transaction by itself on
first use (autobegin), session.add() + flush() / commit(), session.get() for find-by-primary-key, session.rollback()
to throw a transaction away, text() for the raw LAST_INSERT_ID() statements and an ORM-enabled update() for the
UPDATEs. Workloads: rw, readonly (the readonly session never commits; it rolls back only after an exception, as a
Session must). See ../CONTRACT.md.

LAST_INSERT_ID() belongs to a connection, and a Session holds one connection only for the length of a transaction
(commit() gives it back to the engine's pool), so steps 1 to 3 flush and run their raw statements inside one
transaction and commit once: committing between them would let the pool hand the Session a different connection.
"""
from urllib.parse import quote_plus

from sqlalchemy import BigInteger, Column, Integer, String, create_engine, select, text, update
from sqlalchemy.orm import Session, declarative_base

from matrix import Matrix

m = Matrix("sqlalchemy", ("rw", "readonly"))

Base = declarative_base()


class Item(Base):
    __tablename__ = "drv_item"
    id = Column(BigInteger, primary_key=True)
    owner = Column(String(64), nullable=False)
    n = Column(Integer, nullable=False)
    v = Column(Integer, nullable=False, default=0)


class Child(Base):
    __tablename__ = "drv_child"
    id = Column(BigInteger, primary_key=True)
    parent_id = Column(BigInteger, nullable=False)


class Seed(Base):
    __tablename__ = "drv_seed"
    id = Column(Integer, primary_key=True)
    label = Column(String(32), nullable=False)


# One engine for the process. Its pool holds one connection per session thread: with the default (5, overflow 10)
# every thread past the 15th would wait, since a Session keeps its connection while its transaction is open.
engine = create_engine(
    "mysql://%s:%s@%s:%d/%s" % (quote_plus(m.user), quote_plus(m.password), m.host, m.port, m.database),
    pool_size=m.sessions,
)


def connect(i):
    session = Session(engine)
    session.connection()  # connect now (the Session would on first use), so a session that cannot is counted
    return session


def rw(session, i, n):
    owner = m.owner(i)
    # 1. the insert: flush() sends it and sets item.id from the driver's insert id
    item = Item(owner=owner, n=n, v=0)
    session.add(item)
    session.flush()
    item_id = item.id
    m.check("insert_id", item_id is not None and item_id > 0, "insert id %r" % (item_id,))
    # 2. in the same transaction, so on the same connection
    m.expect("last_insert_id", item_id, session.execute(text("SELECT LAST_INSERT_ID() AS id")).scalar())
    # 3.
    child_id = session.execute(text("INSERT INTO drv_child (parent_id) VALUES (LAST_INSERT_ID())")).lastrowid
    session.commit()
    child = session.get(Child, child_id)
    m.expect("last_insert_id_in_statement", item_id, child.parent_id if child else None)
    # 4. commit() expired the identity map's copy, so get() reads the row again
    item = session.get(Item, item_id)
    m.expect("read_your_writes", (owner, n), (item.owner, item.n) if item else None)

    # 5. a transaction rolled back
    session.execute(update(Item).where(Item.id == item_id).values(v=Item.v + 1))
    session.rollback()
    m.expect("rollback", 0, read_v(session, item_id))

    # 6. a transaction committed
    session.execute(update(Item).where(Item.id == item_id).values(v=Item.v + 10))
    session.commit()
    m.expect("commit", 10, read_v(session, item_id))


def read_v(session, item_id):
    item = session.get(Item, item_id)  # expired by the rollback() / commit() before: read again
    return item.v if item else None


def readonly(session, i, n):
    seed = m.random_seed_id()
    label = session.execute(select(Seed.label).where(Seed.id == seed)).scalar()
    m.expect("read", "seed-%d" % seed, label)


def recover(session, exc):
    """After an exception the Session must be rolled back before it is used again; if the connection broke, the
    pool has already discarded it and the Session's next transaction checks out a new one."""
    session.rollback()
    return session


def close(session):
    session.close()


if __name__ == "__main__":
    m.run(connect, rw if m.workload == "rw" else readonly, recover, close)
