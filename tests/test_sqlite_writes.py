"""SQLite under concurrent writers: a transaction that reads before it writes must hold the lock first.

Found by the publish-under-load test: an import's confirm (each row in a savepoint) failed with
"database is locked" when a chat turn committed between its reads and its first write.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError


@pytest.fixture
def engine(data_dir):
    from banshi.db import get_engine, migrate

    migrate()
    engine = get_engine()
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    return engine


def _other_process_writes(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE counter SET n = n + 100"))


def test_a_savepoint_that_read_first_cannot_write_after_another_commit(engine):
    """Why ``hold_write_lock`` exists: waiting cannot help a stale snapshot, SQLite refuses at once."""
    from banshi.db import session_scope

    with pytest.raises(OperationalError, match="locked"), session_scope(engine) as session, session.begin_nested():
        session.execute(text("SELECT n FROM counter")).scalar()
        _other_process_writes(engine)
        session.execute(text("UPDATE counter SET n = n + 1"))


def test_holding_the_write_lock_makes_the_other_writer_wait_instead(engine):
    from banshi.db import hold_write_lock, session_scope

    other = threading.Thread(target=_other_process_writes, args=(engine,))
    with session_scope(engine) as session:
        hold_write_lock(session)
        with session.begin_nested():
            seen = session.execute(text("SELECT n FROM counter")).scalar()
            other.start()
            other.join(0.5)
            assert other.is_alive(), "the other writer waits for this transaction"
            session.execute(text("UPDATE counter SET n = :n"), {"n": seen + 1})
    other.join(10)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar() == 101, "no write was lost"


def test_the_gateway_commits_without_an_fsync_and_the_action_server_with_one(data_dir, monkeypatch):
    """WAL with ``synchronous=NORMAL`` (1) for chat turns; FULL (2) in the action server, which files tickets."""
    from banshi.config import get_settings
    from banshi.db import make_engine
    from banshi.stack import services

    def synchronous() -> int:
        engine = make_engine(f"sqlite:///{data_dir / 'sync.db'}")
        with engine.connect() as connection:
            level = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        engine.dispose()
        return level

    assert synchronous() == 1
    [actions] = [s for s in services(gateway=False) if s.name == "actions"]
    for name, value in actions.env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert synchronous() == 2
