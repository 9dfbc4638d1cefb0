"""Open-loop load on the citizen chat API: citizens arrive at a fixed rate, whatever the answers' speed.

A closed loop (``bench/chat_load.py`` without ``--open-loop``) slows its own citizens down when the
server slows down, so it never shows a queue building up. Here citizens arrive on a clock; each one
follows a realistic script (a guide question then 有/没有 answers to the walk-through, or a complaint
answered to whatever the form asks, then 确认提交), pausing 2–5 s between turns as a person reading
and typing does. A rate is *held* when the turns started in its measuring window (after a ramp-up)
have p95 ≤ the target and no errors. Outcomes of a turn:

- ``ok``: HTTP 200 with the bot's replies (no system message);
- ``refused``: the polite refusal, HTTP 503 or 429 with ``Retry-After`` (the citizen retries once after it);
- ``error``: anything else, counted by kind (``Step.error_kinds``): ``server_error`` (HTTP 5xx other than
  the polite refusal), ``unanswered`` (HTTP 200 with the system message 「智能助手暂时无法回复」: Rasa did
  not answer within the gateway's ``rasa_timeout``), ``timeout`` (no reply within this client's 45 s,
  longer than the gateway's 30 s wait for Rasa),
  ``other`` (any other status or transport error).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import httpx

from bench.loopback import percentile

GUIDE_QUESTIONS = ["办身份证要带什么", "换身份证要带什么材料", "公积金怎么提取", "营业执照怎么办", "护照怎么办"]
COMPLAINT = "我要投诉港口区渔洲坪路口的路灯坏了一个月没人修"
FORM_ANSWERS = [
    ("什么地点", "港口区渔洲坪路口"),
    ("什么时候", "上个月开始"),
    ("怎么称呼", "匿名"),
    ("手机号码", "13800138000"),
]
"""What a complaining citizen answers, by a cue of the question (the form's own order is the dialogue's)."""
GUIDE_TURNS = 4
COMPLAINT_TURNS = 6
COMPLAINT_SHARE = 1 / 3


@dataclass
class Turn:
    started: float
    """Seconds since the step began."""
    seconds: float
    outcome: str
    """ok, refused or error."""
    detail: str = ""


@dataclass
class Citizen:
    """One citizen's conversation: what it says next depends on what the bot last showed."""

    complaint: bool
    rng: random.Random
    replies: list[dict] = field(default_factory=list)
    said: int = 0

    def next_turn(self) -> dict | None:
        """The body of the next message, or None when the script is done."""
        limit = COMPLAINT_TURNS if self.complaint else GUIDE_TURNS
        if self.said >= limit:
            return None
        self.said += 1
        if self.said == 1:
            return {"text": COMPLAINT if self.complaint else self.rng.choice(GUIDE_QUESTIONS)}
        buttons = [b for m in self.replies for b in (m.get("buttons") or [])]
        if self.complaint:
            confirm = next((b for b in buttons if b["title"] == "确认提交"), None)
            if confirm is not None:
                self.said = limit  # filing the ticket ends the script
                return {"text": confirm["title"], "payload": confirm["payload"]}
            question = "\n".join(m.get("text") or "" for m in self.replies)
            answer = next((a for cue, a in FORM_ANSWERS if cue in question), FORM_ANSWERS[self.said % 4][1])
            return {"text": answer}
        return {"text": self.rng.choice(["有", "没有"])}


def classify(response: httpx.Response) -> tuple[str, str]:
    if response.status_code == 200:
        messages = response.json()
        if any(m["sender"] == "system" for m in messages):
            return "error", f"200 system: {messages[-1]['text'][:40]}"
        return "ok", ""
    if response.status_code in (429, 503) and "retry-after" in response.headers:
        return "refused", str(response.status_code)
    return "error", f"{response.status_code} {response.text[:80]}"


def error_kind(detail: str) -> str:
    if detail.startswith("200 system"):
        return "unanswered"
    if "Timeout" in detail:
        return "timeout"
    if detail.split(":")[-1].strip()[:1] == "5" or detail[:1] == "5":
        return "server_error"
    return "other"


async def talk(
    client: httpx.AsyncClient, citizen: Citizen, t0: float, stop: float, turns: list[Turn], pause: Callable[[], float]
) -> None:
    """One citizen from arrival to the end of its script (or ``stop``); every turn is recorded."""
    started = time.monotonic()
    try:
        created = await client.post("/api/v1/conversations", json={"channel": "app"})
    except httpx.HTTPError as exc:
        turns.append(Turn(started - t0, time.monotonic() - started, "error", f"start: {exc!r}"))
        return
    if created.status_code != 201:
        outcome = "refused" if created.status_code in (429, 503) and "retry-after" in created.headers else "error"
        turns.append(Turn(started - t0, time.monotonic() - started, outcome, f"start: {created.status_code}"))
        return
    cid = created.json()["id"]
    while (body := citizen.next_turn()) is not None and time.monotonic() < stop:
        for attempt in range(2):
            began = time.monotonic()
            try:
                response = await client.post(f"/api/v1/conversations/{cid}/messages", json=body)
                outcome, detail = classify(response)
            except httpx.HTTPError as exc:
                response, outcome, detail = None, "error", repr(exc)
            turns.append(Turn(began - t0, time.monotonic() - began, outcome, detail))
            if outcome == "ok" and response is not None:
                citizen.replies = response.json()
            if outcome != "refused" or attempt == 1:
                break
            await asyncio.sleep(min(float(response.headers["retry-after"]), 10.0))
        if outcome != "ok":
            return  # a citizen whose turn failed or was refused twice gives up
        await asyncio.sleep(pause())


@dataclass
class Step:
    """One arrival rate held for a while, and what the turns in its measuring window saw."""

    rate: float
    """Offered turns per second (citizens arrive at rate / mean turns per citizen)."""
    seconds: float
    ok: int
    refused: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    achieved: float
    """Answered turns per second in the window."""
    load: tuple[float, float, float]
    """The machine's load average at the end of the step (1, 5, 15 min)."""
    error_samples: list[str]
    error_kinds: dict[str, int] = field(default_factory=dict)
    """server_error / unanswered / timeout / other: how the errors failed."""

    def held(self, p95_ms: float) -> bool:
        return self.errors == 0 and self.refused == 0 and self.p95_ms is not None and self.p95_ms <= p95_ms

    def as_dict(self) -> dict:
        return asdict(self)


def mean_turns() -> float:
    return COMPLAINT_SHARE * COMPLAINT_TURNS + (1 - COMPLAINT_SHARE) * GUIDE_TURNS


async def step(url: str, rate: float, seconds: float, ramp: float, seed: int = 0) -> Step:
    """Citizens arrive for ``seconds`` at ``rate`` turns/s; the turns started after ``ramp`` are measured.
    No new turn starts after ``seconds``; the turns in flight finish (bounded by the client's timeout)."""
    rng = random.Random(seed)
    interval = mean_turns() / rate
    turns: list[Turn] = []
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=45, limits=limits) as client:  # > rasa_timeout (30 s)
        t0 = time.monotonic()
        stop = t0 + seconds
        tasks: list[asyncio.Task] = []
        arrival = t0
        while arrival < stop:
            await asyncio.sleep(max(0.0, arrival - time.monotonic()))
            citizen = Citizen(rng.random() < COMPLAINT_SHARE, random.Random(rng.random()))
            pause = random.Random(rng.random())
            tasks.append(asyncio.create_task(talk(client, citizen, t0, stop, turns, lambda p=pause: p.uniform(2, 5))))
            arrival += interval
        await asyncio.gather(*tasks)
    window = [t for t in turns if t.started >= ramp]
    ok = sorted(t.seconds for t in window if t.outcome == "ok")
    return Step(
        rate=rate,
        seconds=seconds,
        ok=len(ok),
        refused=sum(t.outcome == "refused" for t in window),
        errors=sum(t.outcome == "error" for t in window),
        p50_ms=round(statistics.median(ok) * 1000, 1) if ok else None,
        p95_ms=round(percentile(ok, 0.95) * 1000, 1) if ok else None,
        achieved=round(len(ok) / max(seconds - ramp, 1e-9), 2),
        load=tuple(round(x, 2) for x in os.getloadavg()),
        error_samples=[t.detail for t in window if t.outcome == "error"][:5],
        error_kinds=dict(Counter(error_kind(t.detail) for t in window if t.outcome == "error")),
    )


async def single_turn_p50(url: str, turns: int) -> float:
    """One citizen alone, guide questions and 有/没有 answers one after the other: p50 of a turn in ms."""
    seconds: list[float] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        rng = random.Random(1)
        while len(seconds) < turns:
            citizen = Citizen(False, rng)
            cid = (await client.post("/api/v1/conversations", json={"channel": "app"})).json()["id"]
            while (body := citizen.next_turn()) is not None and len(seconds) < turns:
                began = time.perf_counter()
                response = await client.post(f"/api/v1/conversations/{cid}/messages", json=body)
                seconds.append(time.perf_counter() - began)
                citizen.replies = response.json() if response.status_code == 200 else []
                await asyncio.sleep(0.2)
    return round(statistics.median(seconds) * 1000, 1)


async def one_complaint(url: str) -> None:
    """One complaint to its ticket: the warm-up's other half (the form, the filing), not measured."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        now = time.monotonic()
        await talk(client, Citizen(True, random.Random(2)), now, now + 120, [], lambda: 0.2)


@dataclass
class Result:
    """One topology's figures."""

    topology: str
    single_turn_p50_ms: float
    steps: list[Step]
    held_rate: float
    """Highest rate held (0 if none)."""
    overload: Step | None
    """At twice the held rate (or twice the lowest rate tried, if none was held)."""
    first_turn_ms: float
    """The very first turn after the stack said it was ready (what Rasa's warm-up costs a citizen)."""
    ready_s: float = 0.0
    """From starting the processes until every health check answered (set by the caller)."""

    def as_dict(self) -> dict:
        return {
            "topology": self.topology,
            "ready_s": self.ready_s,
            "first_turn_ms": self.first_turn_ms,
            "single_turn_p50_ms": self.single_turn_p50_ms,
            "held_rate": self.held_rate,
            "steps": [s.as_dict() for s in self.steps],
            "overload": self.overload.as_dict() if self.overload else None,
        }


async def measure(url: str, topology: str, rates: list[float], seconds: float, ramp: float, p95_ms: float) -> Result:
    """Warm-up, the single-turn p50, then rates in increasing order until one is not held, then 2× the held."""
    first_turn_ms = await single_turn_p50(url, 1)  # the first turn pays for whatever start-up left lazy
    await single_turn_p50(url, 4)
    await one_complaint(url)
    alone = await single_turn_p50(url, 15)
    steps: list[Step] = []
    held = 0.0
    for rate in sorted(rates):
        done = await step(url, rate, seconds, ramp)
        steps.append(done)
        said = f"p95 {done.p95_ms} ms, {done.errors} errors, {done.refused} refused, load {done.load[0]}"
        print(f"  {topology}: {rate:g} turns/s → {said}", file=sys.stderr, flush=True)
        if not done.held(p95_ms):
            break
        held = rate
        await asyncio.sleep(5)  # let the queues drain before the next rate
    await asyncio.sleep(5)
    overload = await step(url, 2 * (held or min(rates)), seconds, ramp, seed=7)
    return Result(topology, alone, steps, held, overload, first_turn_ms)
