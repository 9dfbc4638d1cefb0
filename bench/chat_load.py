"""Latency of one chat turn through the gateway with concurrent citizens (loopback only, bounded).

    .venv/bin/python bench/chat_load.py                     # starts action server + Rasa + gateway itself
    .venv/bin/python bench/chat_load.py --url http://127.0.0.1:8000   # a stack that is already running
    .venv/bin/python bench/chat_load.py --open-loop     # capacity: 1 box and 2×2×2 replicas (bench/capacity.py)

Each simulated citizen opens a conversation and says a fixed script of turns (a guide question, the
walk-through skipped, follow-ups); a turn is the POST of one message until the bot's replies are back,
so it includes the gateway's two database writes, Rasa, and the action server. Every loop is bounded
by the turn count and by ``--deadline`` seconds; it prints p50 / p95 / max and turns per second, and, on
a stack it started itself, each service's CPU time per turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from banshi.stack import DEFAULT_MODEL  # noqa: E402
from bench.loopback import (  # noqa: E402, F401
    NO_RATE_LIMITS,
    SAMPLE_CATALOGUE,
    cpu_seconds_by_service,
    describe,
    own_stack,
    percentile,
)

BASELINE = {"BANSHI_RASA_INCREMENTAL": "0"}
"""Rasa reading the whole conversation back and replaying it for every policy (``dialogue.rasa_server``)."""

SCRIPT = ["办身份证要带什么", "直接告诉我全部", "那要多久", "在哪办", "公积金怎么提取", "谢谢"]


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


async def run(url: str, citizens: int, turns: int, seconds: float) -> int:
    """The turns answered, after printing their latency."""
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
    return len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running gateway on loopback; without it the stack is started here")
    parser.add_argument("--model", type=Path, default=Path(os.environ.get("BANSHI_TEST_MODEL") or DEFAULT_MODEL))
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--turns", type=int, default=6, help="turns per citizen")
    parser.add_argument("--deadline", type=float, default=300.0, help="stop starting turns after this many seconds")
    parser.add_argument(
        "--baseline",
        nargs="*",
        metavar="NAME=VALUE",
        help="first the same run with these settings (none given: Rasa's own tracker reads, replays and TED runs)",
    )
    loop = parser.add_argument_group("--open-loop", "citizens arrive at fixed rates (bench/open_loop.py)")
    loop.add_argument("--open-loop", action="store_true", help="step through arrival rates on 1 box and 2×2×2")
    loop.add_argument(
        "--topologies",
        default="one-before,one,one-2rasa,cluster",
        help="one-before (the baseline), one (SQLite), one-2rasa (2 Rasa workers), cluster (2×2×2 + HAProxy)",
    )
    loop.add_argument("--rates", default="4,8,16,32,64", help="offered turns per second, tried in increasing order")
    loop.add_argument("--step-seconds", type=float, default=40.0, help="citizens arrive for this long per rate")
    loop.add_argument("--ramp-seconds", type=float, default=15.0, help="turns started before this are not measured")
    loop.add_argument("--p95-ms", type=float, default=300.0, help="a rate is held with p95 at most this")
    loop.add_argument("--json", action="store_true", help="print the figures as JSON instead of tables")
    args = parser.parse_args()
    if args.open_loop:
        if not args.model.is_file():
            raise SystemExit(f"no trained model at {args.model}: run `make train`")
        from bench import capacity

        capacity.main(
            args.model, args.topologies, args.rates, args.step_seconds, args.ramp_seconds, args.p95_ms, args.json
        )
        return
    if args.url:
        asyncio.run(run(args.url.rstrip("/"), args.citizens, args.turns, args.deadline))
        return
    if not args.model.is_file():
        raise SystemExit(f"no trained model at {args.model}: run `make train`")
    runs: list[tuple[str, dict[str, str]]] = [("as shipped", {})]
    if args.baseline is not None:
        baseline = dict(setting.split("=", 1) for setting in args.baseline) or BASELINE
        runs.insert(0, ("baseline: " + " ".join(f"{name}={value}" for name, value in baseline.items()), baseline))
    for title, settings in runs:
        print(f"--- {title}")
        with own_stack(args.model, settings=settings) as url:
            before = cpu_seconds_by_service()
            answered = asyncio.run(run(url, args.citizens, args.turns, args.deadline))
            after = cpu_seconds_by_service()
        # Where a turn's CPU goes (the warm-up's two turns included, which a run of a few hundred hides).
        shares = {name: (after[name] - before.get(name, 0.0)) * 1000 / answered for name in after}
        print("CPU per turn  " + "   ".join(f"{name} {ms:.1f} ms" for name, ms in sorted(shares.items())))


if __name__ == "__main__":
    main()
