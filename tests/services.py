"""Real servers from Debian's packages, started on loopback for a test session and stopped after."""

from __future__ import annotations

import glob
import os
import pwd
import shlex
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


def _data_directory(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW data_directory")).scalar_one()
    finally:
        engine.dispose()


def _pg_ctl(data: str, *args: str) -> None:
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    log = os.path.join(os.path.dirname(data), "log")
    command = [*as_user, f"{postgres_bindir()}/pg_ctl", "-D", data, "-w", "-l", log, *args]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


def restart_postgres(url: str) -> None:
    """A crash and a recovery of the server behind ``url`` (one ``postgres()`` started): ``pg_ctl restart``
    in immediate mode, with the options it was started with."""
    _pg_ctl(_data_directory(url), "-m", "immediate", "restart")


@contextmanager
def postgres_down(url: str) -> Iterator[None]:
    """The server behind ``url`` crashed (immediate stop) while inside; started again, as before, on exit."""
    data = _data_directory(url)
    with open(os.path.join(data, "postmaster.opts"), encoding="utf-8") as opts:
        options = shlex.split(opts.read())[1:]  # the server's own command line, without the binary
    _pg_ctl(data, "-m", "immediate", "stop")
    try:
        yield
    finally:
        _pg_ctl(data, "-o", shlex.join(a for a in options if a != "-D" and a != data), "start")
