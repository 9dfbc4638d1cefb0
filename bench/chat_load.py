"""Latency of one chat turn through the gateway with concurrent citizens (loopback only, bounded).

    .venv/bin/python bench/chat_load.py                     # starts action server + Rasa + gateway itself
    .venv/bin/python bench/chat_load.py --url http://127.0.0.1:8000   # a stack that is already running

Each simulated citizen opens a conversation and says a fixed script of turns (a guide question, the
walk-through skipped, follow-ups); a turn is the POST of one message until the bot's replies are back,
so it includes the gateway's two database writes, Rasa, and the action server. Every loop is bounded
by the turn count and by ``--deadline`` seconds; it prints p50 / p95 / max and turns per second.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from banshi.stack import DEFAULT_MODEL, Ports, running, services, stack_env  # noqa: E402

SCRIPT = ["办身份证要带什么", "直接告诉我全部", "那要多久", "在哪办", "公积金怎么提取", "谢谢"]
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


NO_RATE_LIMITS = {"BANSHI_RATE_PER_ADDRESS": "0", "BANSHI_RATE_PER_CONVERSATION": "0"}
"""A load generator is many citizens from one address: the citizen API's limits would refuse it."""


@contextmanager
def own_stack(model: Path, setup: list[list[str]] | None = None) -> Iterator[str]:
    """The three processes over a fresh data dir holding the sample catalogue; yields the gateway URL.
    ``setup``: further ``banshi`` commands run on that data dir first (e.g. ``user add`` for a bench)."""
    with tempfile.TemporaryDirectory(prefix="banshi-chat-load-") as tmp:
        data_dir = Path(tmp) / "var"
        ports = Ports(gateway=_free_port(), rasa=_free_port(), actions=_free_port())
        env = stack_env(data_dir, ports, database_url=f"sqlite:///{(data_dir / 'banshi.db').resolve()}")
        env["RASA_TELEMETRY_ENABLED"] = "false"
        env.update(NO_RATE_LIMITS)
        banshi = Path(sys.executable).with_name("banshi")
        print("importing the sample catalogue and starting the stack …", flush=True)
        for command in [["import", str(SAMPLE_CATALOGUE)], *(setup or [])]:
            subprocess.run([str(banshi), *command], check=True, cwd=ROOT,
                           env={**os.environ, **env}, capture_output=True, timeout=600)  # fmt: skip
        with running(services(model.resolve(), ports), env, data_dir / "logs"):
            yield f"http://127.0.0.1:{ports.gateway}"


async def citizen(
    client: httpx.AsyncClient, turns: int, deadline: float, latencies: list[float], errors: list[str]
) -> None:
    created = await client.post("/api/v1/conversations", json={"channel": "app"})
    created.raise_for_status()
    cid = created.json()["id"]
    for turn in range(turns):
        if time.monotonic() >= deadline:
            return
        text = SCRIPT[turn % len(SCRIPT)]
        started = time.perf_counter()
        try:
            response = await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": text})
            elapsed = time.perf_counter() - started
            messages = response.json() if response.status_code == 200 else []
            if response.status_code != 200 or any(m["sender"] == "system" for m in messages):
                errors.append(f"{response.status_code} {messages[-1]['text'] if messages else response.text[:80]}")
            else:
                latencies.append(elapsed)
        except httpx.HTTPError as exc:
            errors.append(repr(exc))


async def run(url: str, citizens: int, turns: int, seconds: float) -> None:
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("chat_load only sends traffic to loopback addresses")
    limits = httpx.Limits(max_connections=citizens + 5)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        warm: list[float] = []
        await citizen(client, 2, time.monotonic() + 120, warm, [])  # first turns load lazy parts of Rasa
        latencies: list[float] = []
        errors: list[str] = []
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(citizen(client, turns, deadline, latencies, errors) for _ in range(citizens)))
        wall = time.monotonic() - started
    if not latencies:
        raise SystemExit(f"no turn succeeded; errors: {errors[:5]}")
    ordered = sorted(latencies)
    p95 = percentile(ordered, 0.95)
    print(f"citizens {citizens}, turns {len(latencies)} ok / {len(errors)} failed, wall {wall:.1f} s")
    print(
        f"turn latency  p50 {statistics.median(ordered) * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   "
        f"max {ordered[-1] * 1000:.0f} ms   mean {statistics.fmean(ordered) * 1000:.0f} ms"
    )
    print(f"throughput    {len(latencies) / wall:.1f} turns/s")
    if errors:
        print("errors (first 5):", *errors[:5], sep="\n  ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running gateway on loopback; without it the stack is started here")
    parser.add_argument("--model", type=Path, default=Path(os.environ.get("BANSHI_TEST_MODEL") or DEFAULT_MODEL))
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--turns", type=int, default=6, help="turns per citizen")
    parser.add_argument("--deadline", type=float, default=300.0, help="stop starting turns after this many seconds")
    args = parser.parse_args()
    if args.url:
        asyncio.run(run(args.url.rstrip("/"), args.citizens, args.turns, args.deadline))
        return
    if not args.model.is_file():
        raise SystemExit(f"no trained model at {args.model}: run `make train`")
    with own_stack(args.model) as url:
        asyncio.run(run(url, args.citizens, args.turns, args.deadline))


if __name__ == "__main__":
    main()
