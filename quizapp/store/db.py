"""Engine and session lifecycle. One scoped session per request/thread; the caller commits."""

from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

# Connection execution option (and session info key) marking a transaction that only reads.
READ_ONLY_OPTION = "quizapp_read_only"


class ReadOnlyTransaction(RuntimeError):
    pass


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers go on while one writer writes; a busy timeout queues writers
            # instead of failing them.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN so two
        # writers queue on busy_timeout instead of failing with "database is locked" on upgrade.
        # A transaction marked read-only begins deferred instead: a WAL snapshot that neither waits
        # for nor holds the write lock, so pages that only read do not queue behind writers.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
            conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


def make_session_factory(engine: Engine) -> scoped_session[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    @event.listens_for(factory, "before_flush")
    def _refuse_writes_when_read_only(session: Session, _context, _instances) -> None:
        if session.info.get(READ_ONLY_OPTION) and (
                session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)):
            raise ReadOnlyTransaction("this request declared that it only reads (store.read_only()), "
                                      "but it tried to write")

    return scoped_session(factory)


def begin_read_only(session: Session) -> None:
    """Mark the session's next transaction as one that only reads (see make_engine). Call it before
    the first query; the session then refuses to flush changes."""
    session.info[READ_ONLY_OPTION] = True
    session.connection(execution_options={READ_ONLY_OPTION: True})


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
