"""What the chat benches share: the stack they start on loopback, and how they state latencies."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from banshi.stack import Ports, running, services, stack_env

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CATALOGUE = ROOT / "knowledge" / "sample" / "catalogue.jsonl"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest sample with at least ``share`` of the samples at or below it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def describe(name: str, values: list[float], unit: float = 1000.0, suffix: str = "ms") -> str:
    """One line of p50 / p95 / max for the latency benches (``bench/publish.py``, ``bench/console_live.py``)."""
    if not values:
        return f"{name:<28} (none)"
    p50, p95 = statistics.median(values) * unit, percentile(values, 0.95) * unit
    return (
        f"{name:<28} p50 {p50:.0f} {suffix}   p95 {p95:.0f} {suffix}   max {max(values) * unit:.0f} {suffix}   "
        f"(n={len(values)})"
    )


SERVICE_OF_COMMAND = {"rasa_server": "Rasa", "action_server": "action server", "uvicorn": "gateway"}


def cpu_seconds_by_service() -> dict[str, float]:
    """CPU seconds so far of the stack this process started, by service (a worker counts as its parent's
    service: the action server's are multiprocessing children). Linux ``/proc``; dead processes drop out,
    so take it before and after a run of live ones."""
    me, tick = str(os.getpid()), os.sysconf("SC_CLK_TCK")
    parent, service, used = {}, {}, {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent[pid], used[pid] = stat[1], (int(stat[11]) + int(stat[12])) / tick
        service[pid] = next((name for key, name in SERVICE_OF_COMMAND.items() if key in command), None)
    totals: dict[str, float] = {}
    for pid in used:
        chain, node = [], pid
        while node in parent and node != me and len(chain) < 20:
            chain.append(node)
            node = parent[node]
        if node == me:  # started by this process, however deep
            name = next((service[n] for n in chain if service.get(n)), None)
            if name:
                totals[name] = totals.get(name, 0.0) + used[pid]
    return totals


NO_RATE_LIMITS = {"BANSHI_RATE_PER_ADDRESS": "0", "BANSHI_RATE_PER_CONVERSATION": "0"}
"""A load generator is many citizens from one address: the citizen API's limits would refuse it."""


@contextmanager
def own_stack(
    model: Path, setup: list[list[str]] | None = None, settings: dict[str, str] | None = None
) -> Iterator[str]:
    """The three processes over a fresh data dir holding the sample catalogue; yields the gateway URL.
    ``setup``: further ``banshi`` commands run on that data dir first (e.g. ``user add`` for a bench);
    ``settings``: environment for the services (e.g. a baseline's)."""
    with tempfile.TemporaryDirectory(prefix="banshi-chat-load-") as tmp:
        data_dir = Path(tmp) / "var"
        ports = Ports(gateway=_free_port(), rasa=_free_port(), actions=_free_port())
        env = stack_env(data_dir, ports, database_url=f"sqlite:///{(data_dir / 'banshi.db').resolve()}")
        env["RASA_TELEMETRY_ENABLED"] = "false"
        env.update(NO_RATE_LIMITS)
        env.update(settings or {})
        banshi = Path(sys.executable).with_name("banshi")
        print("importing the sample catalogue and starting the stack …", file=sys.stderr, flush=True)
        for command in [["import", str(SAMPLE_CATALOGUE)], *(setup or [])]:
            subprocess.run([str(banshi), *command], check=True, cwd=ROOT,
                           env={**os.environ, **env}, capture_output=True, timeout=600)  # fmt: skip
        with running(services(model.resolve(), ports), env, data_dir / "logs"):
            yield f"http://127.0.0.1:{ports.gateway}"
