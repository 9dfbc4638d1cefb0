"""Real servers from Debian's packages, started on loopback for a test session and stopped after."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields its SQLAlchemy URL."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run `make system-packages`")
    root = tempfile.mkdtemp(prefix="banshi-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    os.chmod(root, 0o755)
    data, port = os.path.join(root, "data"), free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, text=True, timeout=120)

    try:
        run(f"{bindir}/initdb", "-D", data, "-U", "banshi", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "start")
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "banshi", "banshi")
        yield f"postgresql+psycopg://banshi@127.0.0.1:{port}/banshi"
    finally:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis() -> Iterator[str]:
    """A throwaway Redis on loopback, with no persistence; yields its port as a string."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("Redis is not installed: run `make system-packages`")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield str(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def restart_postgres(url: str) -> None:
    """A crash and a recovery of the server behind ``url`` (one ``postgres()`` started): ``pg_ctl restart``
    in immediate mode, with the options it was started with."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            data = connection.execute(text("SHOW data_directory")).scalar_one()
    finally:
        engine.dispose()
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    bindir = postgres_bindir()
    log = os.path.join(os.path.dirname(data), "log")
    command = [*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "-l", log, "restart"]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
