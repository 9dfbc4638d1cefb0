"""What one SQLite commit costs on this machine's disk, by journal mode and sync level.

    .venv/bin/python bench/sqlite_commit.py [--commits 200] [--json]

A one-row INSERT per transaction, as a chat turn's writes and Rasa's tracker saves are: rollback journal
with a full sync (SQLite's default, Rasa's tracker store as shipped), WAL with FULL (the gateway before),
WAL with NORMAL (the gateway and Rasa's trackers now, ``banshi.db``, ``dialogue.rasa_server``).

And ``wal_normal_reopened``: the same, with a connection opened (and the pragmas set) before each
transaction and closed after it, as SQLAlchemy 1.4's ``NullPool`` does for a SQLite file, the pool of
Rasa's tracker store as shipped. Closing the last connection to a WAL database checkpoints it and
removes the WAL file, so every transaction pays for that; ``dialogue.rasa_server`` pools them instead.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

MODES = {"delete_full": ("DELETE", "FULL"), "wal_full": ("WAL", "FULL"), "wal_normal": ("WAL", "NORMAL")}


def per_commit_ms(folder: Path, journal: str, sync: str, commits: int) -> float:
    connection = sqlite3.connect(folder / f"{journal}_{sync}.db", isolation_level=None)
    connection.execute(f"PRAGMA journal_mode={journal}")
    connection.execute(f"PRAGMA synchronous={sync}")
    connection.execute("CREATE TABLE events (data TEXT)")
    started = time.perf_counter()
    for _ in range(commits):
        connection.execute("BEGIN")
        connection.execute("INSERT INTO events VALUES (?)", ("x" * 400,))
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return round(elapsed / commits * 1000, 2)


def reopened_ms(folder: Path, commits: int) -> float:
    path = folder / "reopened.db"
    sqlite3.connect(path).execute("CREATE TABLE events (data TEXT)").connection.close()
    started = time.perf_counter()
    for _ in range(commits):
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN")
        connection.execute("INSERT INTO events VALUES (?)", ("x" * 400,))
        connection.execute("COMMIT")
        connection.close()
    return round((time.perf_counter() - started) / commits * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="banshi-sqlite-commit-", dir=Path(__file__).parent) as tmp:
        figures = {name: per_commit_ms(Path(tmp), *mode, args.commits) for name, mode in MODES.items()}
        figures["wal_normal_reopened"] = reopened_ms(Path(tmp), args.commits)
    if args.json:
        print(json.dumps(figures))
        return
    for name, ms in figures.items():
        print(f"{name:<20} {ms} ms per commit")


if __name__ == "__main__":
    main()
