"""The assistant's processes: action server, Rasa server and gateway, started and stopped together.

`banshi up` and the end-to-end tests both start the stack through here, so that what the tests
drive is what a citizen talks to. Rasa lives in its own virtualenv (Python 3.10); everything else
runs in this one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from banshi.config import get_settings

ROOT = Path(__file__).resolve().parent.parent
RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PYTHON = RASA_BIN.with_name("python")
GATEWAY_KEEP_ALIVE_S = 75
"""How long the gateway keeps a citizen's idle connection open. uvicorn's own 5 s is shorter than a
citizen's pause between turns (2–5 s in the open-loop bench, longer when reading a checklist), so a
message sent just as the gateway closed the connection failed with no answer (a client ``ReadError``
at 24 turns/s, once in 900; a browser does not resend a POST). 75 s is longer than any pause between
two turns and than HAProxy's own keep-alive to a replica."""
SAFE_LOGGING = [sys.executable, "-m", "banshi.safe_logging"]
DEFAULT_MODEL = ROOT / "models" / "banshi.tar.gz"


class StackError(RuntimeError):
    """A process of the stack exited or never became ready."""


@dataclass
class Service:
    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = float(os.environ.get("BANSHI_STARTUP_TIMEOUT", "300"))


@dataclass(frozen=True)
class Ports:
    gateway: int = 8000
    rasa: int = 5005
    actions: int = 5055


def stack_env(data_dir: Path, ports: Ports, database_url: str | None = None) -> dict[str, str]:
    """What every process of one stack shares: one data dir, one database, the action server's URL."""
    env = {
        "BANSHI_DATA_DIR": str(data_dir.resolve()),
        "BANSHI_ACTION_URL": f"http://127.0.0.1:{ports.actions}/webhook",
        "BANSHI_RASA_URL": f"http://127.0.0.1:{ports.rasa}",
        "BANSHI_TRACKER_DB": str((data_dir / "tracker.db").resolve()),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def services(
    model: Path = DEFAULT_MODEL,
    ports: Ports | None = None,
    *,
    gateway: bool = True,
    host: str = "127.0.0.1",
    backend_host: str = "127.0.0.1",
    endpoints: str = "endpoints.yml",
) -> list[Service]:
    """``endpoints.scale.yml`` puts Rasa's trackers in PostgreSQL and its locks in Redis (see its env vars).

    ``host`` is where the gateway listens, ``backend_host`` where Rasa and the action server do: loopback
    unless told otherwise. Each runs under ``banshi.safe_logging``: its log lines are masked, one per record.
    """
    ports = ports or Ports()
    found = [
        Service(
            "actions",
            [*SAFE_LOGGING, "dialogue.action_server", "--actions", "dialogue.actions", "--port", str(ports.actions)],
            f"http://127.0.0.1:{ports.actions}/health",
            # rasa-sdk has no --interface: it reads SANIC_HOST, else 0.0.0.0. Tickets: an fsync per commit.
            env={"SANIC_HOST": backend_host, "BANSHI_SQLITE_SYNCHRONOUS": "FULL"},
        ),
        Service(
            "rasa",
            [
                str(RASA_PYTHON),
                "-m",
                "banshi.safe_logging",
                "dialogue.rasa_server",  # rasa's own CLI, with its action-response check built once
                "run",
                "--enable-api",
                "--model",
                str(model),
                "--endpoints",
                endpoints,
                "--credentials",
                "credentials.yml",
                "--interface",
                backend_host,
                "--port",
                str(ports.rasa),
            ],
            f"http://127.0.0.1:{ports.rasa}/status",
            env={"SANIC_WORKERS": str(get_settings().rasa_workers)},
        ),
    ]
    if gateway:
        found.append(
            Service(
                "gateway",
                [
                    *SAFE_LOGGING,
                    "uvicorn",
                    "channels.app:create_app",
                    "--factory",
                    "--host",
                    host,
                    "--port",
                    str(ports.gateway),
                    "--forwarded-allow-ips",
                    get_settings().forwarded_allow_ips,
                    "--timeout-keep-alive",
                    str(GATEWAY_KEEP_ALIVE_S),
                ],
                f"http://127.0.0.1:{ports.gateway}/healthz",
            )
        )
    return found


def wait_ready(service: Service, process: subprocess.Popen, log: Path) -> None:
    """Until ``service`` answers its health check; raises ``StackError`` (with the log's tail) when it exits or
    never answers within its start-up timeout."""
    deadline = time.monotonic() + service.startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{service.name} exited with {process.returncode}; see {log}:\n{_tail(log)}")
        try:
            if httpx.get(service.health_url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise StackError(f"{service.name} was not ready after {service.startup_timeout:.0f} s; see {log}:\n{_tail(log)}")


WARM_UP = {
    "next_action": "action_warm_up",
    "sender_id": "banshi-warm-up",
    "tracker": {"sender_id": "banshi-warm-up", "latest_message": {}, "slots": {}, "events": []},
    "domain": {},
}
"""``dialogue.actions.warm_up``: the search index, its embedder and the hotline classifier, loaded."""


def warm_up_actions(url: str, seconds: float) -> None:
    """One warm-up call to an action server that already answers its health check, so that neither the
    first citizen's question nor the first complaint after a start pays for loading what it needs."""
    with suppress(httpx.HTTPError):  # the health check, not the warm-up, says whether it is up
        httpx.post(f"{url}/webhook", json=WARM_UP, timeout=max(seconds, 10))


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def launch(service: Service, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    """One process of the stack in a process group of its own (so a stop takes its workers too), logging
    to ``log_dir/<name>.log``; ``banshi up``, the tests and ``banshi cluster`` all start processes here."""
    return subprocess.Popen(
        service.argv,
        cwd=ROOT,
        env={**os.environ, **env, **service.env},
        stdout=(log_dir / f"{service.name}.log").open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


@contextmanager
def running(wanted: list[Service], env: dict[str, str], log_dir: Path) -> Iterator[dict[str, subprocess.Popen]]:
    """Starts each service in order, waits until it answers its health check, and stops them all on exit."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started: dict[str, subprocess.Popen] = {}
    try:
        for service in wanted:
            process = launch(service, env, log_dir)
            started[service.name] = process
            wait_ready(service, process, log_dir / f"{service.name}.log")
            if service.name == "actions":
                warm_up_actions(service.health_url.removesuffix("/health"), service.startup_timeout)
        yield started
    finally:
        _stop(list(started.values()))
