"""``bench/chat_load.py --open-loop``: one box and 2×2×2 replicas, side by side, in one bounded run.

- **one box**: one gateway, one Rasa server, one action server, on SQLite (what ``banshi up`` starts);
- **cluster**: two of each behind HAProxy (``banshi.cluster``), on a throwaway PostgreSQL and Redis;
- **one-2rasa**: the one box with two Rasa workers (``BANSHI_RASA_WORKERS=2``);
- **one-before**: the one box as it was before the action server ran its calls on threads, Rasa loaded
  its models for prediction only, and Rasa kept its tracker reads, replays and TED's answers
  (``BANSHI_ACTION_THREADS=0``, ``BANSHI_RASA_FAST_LOAD=0``, ``BANSHI_RASA_INCREMENTAL=0``): the baseline,
  in the same run.

They run one after the other on the same machine (never together: they would share the CPU), each on a
fresh database holding the sample catalogue. The machine's load average is printed with every step,
because on a shared machine other people's work is part of the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.loopback import NO_RATE_LIMITS, SAMPLE_CATALOGUE, own_stack
from bench.open_loop import Result, measure

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ("one-before", "one", "one-2rasa", "cluster")
LABELS = {
    "one-before": "1 box, before (actions on the loop, Rasa re-reading)",
    "one": "1 box (SQLite)",
    "one-2rasa": "1 box, 2 Rasa workers",
    "cluster": "2×2×2 + HAProxy (PostgreSQL + Redis)",
}
SETTINGS = {
    "one-before": {"BANSHI_ACTION_THREADS": "0", "BANSHI_RASA_FAST_LOAD": "0", "BANSHI_RASA_INCREMENTAL": "0"},
    "one-2rasa": {"BANSHI_RASA_WORKERS": "2"},
}


@contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """Settings every started process inherits, and this one reads, for one topology only."""
    from banshi.config import get_settings

    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@contextmanager
def cluster_stack(model: Path, replicas: int = 2) -> Iterator[str]:
    """``replicas`` of each process behind HAProxy on free ports; yields HAProxy's gateway URL."""
    from banshi.cluster import Cluster, Layout
    from banshi.stack import Ports
    from tests.services import free_port, postgres, redis

    def ports() -> Ports:
        return Ports(gateway=free_port(), rasa=free_port(), actions=free_port())

    with tempfile.TemporaryDirectory(prefix="banshi-capacity-") as tmp, postgres() as db, redis() as redis_port:
        layout = Layout(tuple(ports() for _ in range(replicas)), ports(), stats=free_port())
        cluster = Cluster(layout, model.resolve(), Path(tmp) / "var", db, f"redis://127.0.0.1:{redis_port}/0",
                          Path(tmp) / "logs")  # fmt: skip
        banshi = Path(sys.executable).with_name("banshi")
        subprocess.run([str(banshi), "import", str(SAMPLE_CATALOGUE)], env={**os.environ, **cluster.env},
                       cwd=ROOT, check=True, capture_output=True, timeout=600)  # fmt: skip
        with cluster:
            yield f"http://127.0.0.1:{layout.front.gateway}"


def run(model: Path, topologies: list[str], rates: list[float], seconds: float, ramp: float, p95_ms: float) -> dict:
    os.environ.update(NO_RATE_LIMITS)  # one address sends every citizen's turns; every process inherits this
    results: list[Result] = []
    report = {"load_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    for topology in topologies:
        started = time.monotonic()
        print(f"starting {LABELS[topology]} …", file=sys.stderr, flush=True)
        stack = cluster_stack(model) if topology == "cluster" else own_stack(model)
        with environment(SETTINGS.get(topology, {})), stack as url:
            ready = time.monotonic() - started
            print(f"  ready after {ready:.0f} s", file=sys.stderr, flush=True)
            result = asyncio.run(measure(url, topology, rates, seconds, ramp, p95_ms))
            result.ready_s = round(ready, 1)
            results.append(result)
    report.update(
        target_p95_ms=p95_ms,
        rates=rates,
        step_seconds=seconds,
        ramp_seconds=ramp,
        load_after=[round(x, 2) for x in os.getloadavg()],
        results=[r.as_dict() for r in results],
    )
    return report


def show(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=150)
    summary = Table(title=f"Open-loop chat load (p95 ≤ {report['target_p95_ms']:g} ms, 0 errors, 0 refusals)")
    for column in ("topology", "start → ready", "first turn", "1 citizen p50", "held turns/s", "p95 at held",
                   "2× held: ok / refused / errors"):  # fmt: skip
        summary.add_column(column)
    steps = Table(title="Every step (turns in the measuring window)")
    for column in ("topology", "offered/s", "answered/s", "p50 ms", "p95 ms", "ok", "refused", "errors", "load avg"):
        steps.add_column(column)
    for result in report["results"]:
        label = LABELS[result["topology"]]
        held = next((s for s in result["steps"] if s["rate"] == result["held_rate"]), None)
        over = result["overload"]
        summary.add_row(
            label,
            f"{result['ready_s']:.0f} s",
            f"{result['first_turn_ms']:.0f} ms",
            f"{result['single_turn_p50_ms']:.0f} ms",
            f"{result['held_rate']:g}" if result["held_rate"] else "none",
            f"{held['p95_ms']:.0f} ms" if held else "—",
            f"{over['ok']} / {over['refused']} / {over['errors']} at {over['rate']:g}/s" if over else "—",
        )
        for s in [*result["steps"], *([over] if over else [])]:
            steps.add_row(label, f"{s['rate']:g}", f"{s['achieved']:g}", str(s["p50_ms"]), str(s["p95_ms"]),
                          str(s["ok"]), str(s["refused"]), str(s["errors"]), " ".join(map(str, s["load"])))  # fmt: skip
    console.print(summary)
    console.print(steps)
    console.print(
        f"machine: {report['cpus']} CPUs, load average {report['load_before']} before, {report['load_after']} after "
        "(shared with other engineers' work: the figures include it)"
    )
    for result in report["results"]:
        for s in [*result["steps"], *([result["overload"]] if result["overload"] else [])]:
            if s["error_samples"]:
                kinds = s.get("error_kinds") or {}
                console.print(f"{result['topology']} at {s['rate']:g}/s, errors {kinds}: {s['error_samples']}")


def main(model: Path, topologies: str, rates: str, seconds: float, ramp: float, p95_ms: float, as_json: bool) -> None:
    wanted = [t.strip() for t in topologies.split(",") if t.strip()]
    unknown = set(wanted) - set(TOPOLOGIES)
    if unknown:
        raise SystemExit(f"unknown topologies {sorted(unknown)}: choose from {TOPOLOGIES}")
    report = run(model, wanted, [float(r) for r in rates.split(",")], seconds, ramp, p95_ms)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        show(report)
