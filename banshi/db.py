"""One engine per process, built from settings; schema changes only through Alembic."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from banshi.config import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Base(DeclarativeBase):
    pass


SQLITE_BUSY_MS = 3000
"""How long a writer waits for SQLite's write lock before "database is locked". Every write transaction is
short (no request holds the lock while it waits for Rasa or a thread: ``channels.commit_first``; long jobs
commit in batches), so a longer wait only means a queue: the gateway refuses politely instead (503)."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the action server read while an import writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute(f"PRAGMA synchronous={get_settings().sqlite_synchronous}")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)  # a file database: no pool (NullPool), so no wait for one
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url)


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema; cheap when it is already there."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().resolved_database_url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def hold_write_lock(session: Session) -> None:
    """On SQLite, takes the database's write lock now, for a transaction that reads before it writes.

    pysqlite starts a transaction at the first write, or at a SAVEPOINT. A transaction that a SAVEPOINT
    started reads from a snapshot, and when another process commits before its first write, SQLite
    refuses the write at once ("database is locked"; waiting cannot help). ``BEGIN IMMEDIATE`` takes the
    lock up front instead, waiting (``busy_timeout``) for any other writer to finish. PostgreSQL needs
    nothing. A transaction already open (it wrote, so it holds the lock) is left as it is.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


SQLITE_HANDOVER = 0.12
"""Seconds a batch job leaves the SQLite write lock free between batches: a waiting writer's busy
handler retries every 100 ms once it has waited a while, and would miss a lock taken again at once."""


def commit_batch(session: Session) -> None:
    """Commits a long job's batch and takes the write lock for the next one, letting waiting writers
    (citizens' turns) in first: on SQLite the job pauses ``SQLITE_HANDOVER``; PostgreSQL needs no pause."""
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        time.sleep(SQLITE_HANDOVER)
    hold_write_lock(session)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    factory = sessionmaker(engine or get_engine(), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


@contextmanager
def job_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for a long job that commits as it goes (``Session.commit`` per small batch), so it never
    holds the write lock for long; what is left is committed at the end, an error rolls back the open batch."""
    factory = sessionmaker(engine or get_engine(), expire_on_commit=False)
    with factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()
