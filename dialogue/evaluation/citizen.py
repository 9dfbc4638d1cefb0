"""A simulated citizen driving a running stack through the chat API, one conversation per case.

The citizen decides its next message only from data: the turn's ``outcomes`` (the outcome contract,
on the citizen's message of each turn) and the payloads of the buttons offered. It never reads the
bot's wording, so a reworded reply cannot change a figure.

- A guide question: when the bot offers matters (``clarification_offered``, or an FAQ answer's button),
  click the button whose payload chooses an expected matter, once; if none is expected, stop (that is
  the failure: a citizen would say 都不是). When asked for, skip the walk to get the whole checklist.
- A complaint: answer each ``slot_requested`` as a citizen would (the complaint again, a place, a
  time, 匿名, a valid mobile number), then press the confirmation button, until ``ticket_filed``.
- An out-of-catalogue question: one turn.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from dialogue.evaluation.cases import Case

MAX_TURNS = 14
"""A form longer than this is stuck in a loop; the case fails rather than runs forever."""
CHOOSE_PREFIX = "/choose_matter"
SKIP_WALK_PAYLOAD = "直接告诉我全部"
CONFIRM_PAYLOAD = "/affirm"
ANSWERS = {
    "ticket_location": "防城港市港口区渔洲坪街道金海湾小区门口",
    "ticket_time": "上周三上午九点左右",
    "ticket_name": "匿名",
    "ticket_phone": "13977012345",
}
"""What the simulated citizen tells the form; the content is the complaint itself."""
PRESENTING = frozenset({"guide_presented", "facet_answered", "faq_answered", "walk_started", "checklist_shown"})
"""Outcomes that put a matter in front of the citizen; a wrong matter in any of them is a wrong guide."""


def run_sync(coroutine):
    """``asyncio.run``, also from a thread whose event loop is already running (a notebook, or Playwright's
    sync API in the same test process): then the coroutine runs on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@dataclass(frozen=True)
class Move:
    text: str
    payload: str | None = None


@dataclass
class Turn:
    """One citizen message and what came back, as the API returned it."""

    text: str
    payload: str | None
    latency_ms: float
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    reported_outcomes: bool = False
    """Whether the API's citizen message carried an ``outcomes`` field at all (the contract is in place)."""
    error: str | None = None

    def kinds(self) -> set[str]:
        return {str(o.get("kind")) for o in self.outcomes}

    def buttons(self) -> list[dict[str, str]]:
        return [b for reply in self.replies for b in reply.get("buttons") or []]

    @classmethod
    def from_response(cls, move: Move, latency_ms: float, messages: list[dict[str, Any]]) -> Turn:
        mine = [m for m in messages if m.get("sender") == "citizen"]
        return cls(
            text=move.text,
            payload=move.payload,
            latency_ms=latency_ms,
            outcomes=[o for m in mine for o in m.get("outcomes") or []],
            replies=[m for m in messages if m.get("sender") != "citizen"],
            reported_outcomes=any("outcomes" in m for m in mine),
        )


@dataclass
class Transcript:
    case: Case
    turns: list[Turn] = field(default_factory=list)
    conversation_id: str | None = None
    error: str | None = None


def chosen_matter(payload: str) -> str | None:
    """The matter a ``/choose_matter{"matter_id": …}`` payload chooses (the payload is data, not wording)."""
    if not payload.startswith(CHOOSE_PREFIX):
        return None
    try:
        return str(json.loads(payload[len(CHOOSE_PREFIX) :]).get("matter_id") or "") or None
    except (json.JSONDecodeError, AttributeError):
        return None


def _button(turn: Turn, payload: str) -> dict[str, str] | None:
    return next((b for b in turn.buttons() if b.get("payload") == payload), None)


def _click(button: dict[str, str]) -> Move:
    return Move(text=button.get("title") or button["payload"], payload=button["payload"])


def presented(turns: list[Turn]) -> list[str]:
    """Matters put in front of the citizen, in order, over the given turns."""
    return [
        str(o["matter_id"]) for t in turns for o in t.outcomes if o.get("kind") in PRESENTING and o.get("matter_id")
    ]


def has_checklist(turns: list[Turn]) -> bool:
    return any(r.get("kind") == "checklist" for t in turns for r in t.replies)


def _next_for_guide(case: Case, turns: list[Turn]) -> Move | None:
    last = turns[-1]
    shown = presented(turns)
    if any(matter not in case.gold for matter in shown):
        return None  # a wrong guide: the worst outcome, and the end of this case
    if shown:
        wants_checklist = case.checklist and not has_checklist(turns)
        skip = _button(last, SKIP_WALK_PAYLOAD)
        if wants_checklist and skip and not any(t.payload == SKIP_WALK_PAYLOAD for t in turns):
            return _click(skip)
        return None
    if len(turns) >= 2:
        return None  # the right guide had to come within two turns
    for button in last.buttons():
        if chosen_matter(button.get("payload") or "") in case.gold:
            return _click(button)
    return None


def _next_for_intake(case: Case, turns: list[Turn]) -> Move | None:
    if any("ticket_filed" in t.kinds() for t in turns) or not any("intake_started" in t.kinds() for t in turns):
        return None
    if presented(turns):
        return None
    last = turns[-1]
    asked = [str(o.get("slot")) for o in last.outcomes if o.get("kind") == "slot_requested"]
    if asked:
        slot = asked[-1]
        repeats = sum(1 for t in turns if any(o.get("slot") == slot for o in t.outcomes))
        if repeats >= 3:
            return None  # the form keeps asking the same thing: stuck
        if slot == "ticket_content":
            return Move(text=case.text or "")
        if slot in ANSWERS:
            button = _button(last, ANSWERS[slot])
            return _click(button) if button else Move(text=ANSWERS[slot])
    confirm = _button(last, CONFIRM_PAYLOAD)
    if confirm and sum(1 for t in turns if t.payload == CONFIRM_PAYLOAD) < 2:
        return _click(confirm)
    return None


def next_move(case: Case, turns: list[Turn]) -> Move | None:
    """What the citizen says next, from the turns so far; None ends the conversation."""
    if not turns or turns[-1].error or len(turns) >= MAX_TURNS:
        return None
    if case.kind == "guide":
        return _next_for_guide(case, turns)
    if case.kind == "intake":
        return _next_for_intake(case, turns)
    return None


async def converse(client: httpx.AsyncClient, case: Case) -> Transcript:
    """Starts a conversation and plays the case to its end; an HTTP failure ends it with the error kept."""
    transcript = Transcript(case)
    try:
        started = await client.post("/api/v1/conversations", json={"channel": "app"})
        started.raise_for_status()
        transcript.conversation_id = started.json()["id"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        transcript.error = f"开始会话失败：{exc!r}"
        return transcript
    move: Move | None = Move(text=case.text or "")
    while move is not None:
        body = {"text": move.text} if move.payload is None else {"text": move.text, "payload": move.payload}
        began = time.perf_counter()
        try:
            response = await client.post(f"/api/v1/conversations/{transcript.conversation_id}/messages", json=body)
            latency = (time.perf_counter() - began) * 1000
            response.raise_for_status()
            turn = Turn.from_response(move, latency, response.json())
        except (httpx.HTTPError, ValueError) as exc:
            latency = (time.perf_counter() - began) * 1000
            turn = Turn(text=move.text, payload=move.payload, latency_ms=latency, error=repr(exc))
            transcript.error = turn.error
        transcript.turns.append(turn)
        move = next_move(case, transcript.turns)
    return transcript


async def converse_all(
    base_url: str,
    cases: list[Case],
    concurrency: int,
    *,
    timeout: float = 120.0,
    on_done: Callable[[Transcript], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Transcript]:
    """Every case, at most ``concurrency`` conversations at a time; results in the cases' order."""
    gate = asyncio.Semaphore(max(1, concurrency))
    limits = httpx.Limits(max_connections=max(1, concurrency) + 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, transport=transport) as client:

        async def one(case: Case) -> Transcript:
            async with gate:
                transcript = await converse(client, case)
            if on_done:
                on_done(transcript)
            return transcript

        return list(await asyncio.gather(*(one(case) for case in cases)))
