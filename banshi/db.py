"""One engine per process, built from settings; schema changes only through Alembic."""

from __future__ import annotations

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


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the action server read while an import writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
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


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    factory = sessionmaker(engine or get_engine(), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
