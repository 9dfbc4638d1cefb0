"""How soon the other side sees a message in a live handoff, through the real gateway's SSE streams.

    .venv/bin/python bench/console_live.py            # starts action server + Rasa + gateway itself

For each of ``--conversations`` citizens: the citizen presses 转人工, and the time until the agent
console's ``/api/v1/agent/events`` says the queues changed is one "new handoff" sample. The agent
claims it; then, ``--rounds`` times, the citizen's message (POST until it arrives on the console's
``/handoffs/{id}/stream``) and the agent's reply (POST until it arrives on the citizen's
``/conversations/{id}/stream``) are one sample each. Streams read the database every
``BANSHI_LIVE_POLL_SECONDS`` (0.5 s) and the queue stream once a second, so about half of that is the
expected average; each side waits a random 0.2-1.2 s before it writes, as a person typing would,
so that the sends are not in step with the polls. Prints p50 / p95 / max per direction.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from banshi.stack import DEFAULT_MODEL  # noqa: E402
from bench.chat_load import describe, own_stack  # noqa: E402

AGENT = "bench-agent"


class Stream:
    """One SSE connection read in the background: ``(event, data)`` pairs land in a queue."""

    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self.events: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        self._task = asyncio.create_task(self._read(client, path))

    async def _read(self, client: httpx.AsyncClient, path: str) -> None:
        async with client.stream("GET", path, timeout=None) as response:
            response.raise_for_status()
            event, data = "message", ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data += line.removeprefix("data:").strip()
                elif not line and data:
                    await self.events.put((event, json.loads(data)))
                    event, data = "message", ""

    async def wait_for(self, event: str, text: str | None = None, timeout: float = 30.0) -> None:
        async def matching() -> None:
            while True:
                name, data = await self.events.get()
                if name == event and (text is None or data.get("text") == text):
                    return

        await asyncio.wait_for(matching(), timeout)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


@contextlib.asynccontextmanager
async def streaming(client: httpx.AsyncClient, path: str) -> AsyncIterator[Stream]:
    stream = Stream(client, path)
    try:
        yield stream
    finally:
        await stream.close()


async def timed(request: Awaitable[httpx.Response], stream: Stream, event: str, text: str | None = None) -> float:
    """From sending ``request`` (a coroutine not started yet) until ``event`` arrives on ``stream``."""
    started = time.perf_counter()
    response = await request
    response.raise_for_status()
    await stream.wait_for(event, text)
    return time.perf_counter() - started


async def one_handoff(url: str, agent: httpx.AsyncClient, queues: Stream, rounds: int, samples: dict) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as citizen:
        cid = (await citizen.post("/api/v1/conversations", json={"channel": "app"})).json()["id"]
        await asyncio.sleep(random.uniform(1.5, 2.5))  # the queue stream settles; not in step with its polls
        while not queues.events.empty():
            queues.events.get_nowait()
        samples["new handoff → console queue"].append(
            await timed(citizen.post(f"/api/v1/conversations/{cid}/handoff"), queues, "queues")
        )
        waiting = (await agent.get("/api/v1/agent/handoffs")).json()["waiting"]
        handoff = next(h["id"] for h in waiting if h["conversation_id"] == cid)
        (await agent.post(f"/api/v1/agent/handoffs/{handoff}/claim")).raise_for_status()
        after = max(m["id"] for m in (await citizen.get(f"/api/v1/conversations/{cid}/transcript")).json()["messages"])
        async with (
            streaming(agent, f"/api/v1/agent/handoffs/{handoff}/stream?after={after}") as console,
            streaming(citizen, f"/api/v1/conversations/{cid}/stream?after={after}") as page,
        ):
            for turn in range(rounds):
                said, reply = f"第{turn + 1}个问题：停车位的事怎么样了", f"您好，第{turn + 1}次答复：正在核实"
                await asyncio.sleep(random.uniform(0.2, 1.2))  # typing: not in step with the stream's polls
                ask = citizen.post(f"/api/v1/conversations/{cid}/messages", json={"text": said})
                samples["citizen → agent console"].append(await timed(ask, console, "message", said))
                await asyncio.sleep(random.uniform(0.2, 1.2))
                answer = agent.post(f"/api/v1/agent/handoffs/{handoff}/reply", json={"text": reply})
                samples["agent → citizen page"].append(await timed(answer, page, "message", reply))
        (await agent.post(f"/api/v1/agent/handoffs/{handoff}/close")).raise_for_status()


async def run(url: str, password: str, conversations: int, rounds: int) -> None:
    samples: dict[str, list[float]] = {"new handoff → console queue": [], "citizen → agent console": [],
                                       "agent → citizen page": []}  # fmt: skip
    async with httpx.AsyncClient(base_url=url, timeout=60) as agent:
        (await agent.post("/api/v1/auth/login", json={"username": AGENT, "password": password})).raise_for_status()
        async with streaming(agent, "/api/v1/agent/events") as queues:
            await queues.wait_for("queues")
            for _ in range(conversations):
                await one_handoff(url, agent, queues, rounds, samples)
    for name, values in samples.items():
        print(describe(name, values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path(os.environ.get("BANSHI_TEST_MODEL") or DEFAULT_MODEL))
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=8, help="messages each way per conversation")
    args = parser.parse_args()
    if not args.model.is_file():
        raise SystemExit(f"no trained model at {args.model}: run `make train`")
    password = secrets.token_urlsafe(12)
    setup = [["user", "add", AGENT, "--role", "agent", "--password", password]]
    with own_stack(args.model, setup) as url:
        asyncio.run(run(url, password, args.conversations, args.rounds))


if __name__ == "__main__":
    main()
