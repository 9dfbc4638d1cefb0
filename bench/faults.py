"""What citizens notice when one process of the cluster dies: tickets kept, none twice, conversations going on.

    .venv/bin/python bench/faults.py                               # 200 conversations, 100 confirmations
    .venv/bin/python bench/faults.py --conversations 40 --confirmations 20 --kinds rasa,actions --json

Starts ``banshi.cluster`` (2 gateways, 2 Rasa servers, 2 action servers behind HAProxy, on a throwaway
PostgreSQL and Redis) over the sample catalogue. Then, for each kind of fault in turn, a fresh set of
citizens chats at once: ``--confirmations`` of them file a complaint (the form, then 确认提交), the others
ask guide questions until the complaints are done. The complainants confirm spread over
``--confirm-window`` seconds, and in the middle of that window one gateway, one Rasa server or one action
server is killed (``kill -9`` of its process group, then started again at once, as ``banshi cluster``
does), or PostgreSQL is restarted (``pg_ctl restart -m immediate``: a crash and a recovery).

A citizen does what a person would: answers what the bot asks for (read from the turn's
``slot_requested`` outcome), presses 确认提交 when offered, and sends the same turn again after an error,
the unavailable notice or a 503/429 (after ``Retry-After``), up to ``--retries`` times. Every reply is
classified from data (HTTP status, sender, message kind, outcomes), never from its wording; the one
comparison with text is against the gateway's own constant ``UNAVAILABLE_TEXT``.

Figures per fault: tickets shown to citizens vs tickets in the database for those conversations,
duplicates (more than one ticket for one complaint), lost (shown but not in the database), filed but never
shown, conversations that could not go on (a complainant with no ticket in the end, a citizen who gave up
on a turn, or a complaint form that was gone), and the count of each kind of reply citizens saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from banshi.cluster import Cluster, Layout  # noqa: E402
from banshi.stack import DEFAULT_MODEL, Ports  # noqa: E402
from channels.relay import UNAVAILABLE_TEXT  # noqa: E402
from tests.services import free_port, postgres, redis, restart_postgres  # noqa: E402

COMPLAINT = "我要投诉港口区渔洲坪路口的路灯坏了一个月没人修"
ANSWERS = {
    "ticket_content": COMPLAINT,
    "ticket_location": "港口区渔洲坪路口",
    "ticket_time": "上个月开始",
    "ticket_name": "匿名",
    "ticket_phone": "13800138000",
}
QUESTIONS = ["办身份证要带什么", "直接告诉我全部", "那要多久", "在哪办", "公积金怎么提取", "谢谢"]
CONFIRM = {"text": "确认提交", "payload": "/affirm"}
SAMPLE_CATALOGUE = ROOT / "knowledge" / "sample" / "catalogue.jsonl"


@dataclass
class Tally:
    """What one fault's citizens saw and got."""

    seen: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    shown: set[tuple[str, str]] = field(default_factory=set)
    stuck: Counter = field(default_factory=Counter)
    conversations: list[str] = field(default_factory=list)
    complainants: list[str] = field(default_factory=list)


def classify(status: int, messages: list[dict[str, Any]]) -> str:
    """One word for a turn's answer, from data only."""
    if status != 200:
        return f"http_{status}"
    answers = [m for m in messages if m["sender"] != "citizen"]
    if any(m["kind"] == "ticket" for m in answers):
        return "ticket"
    if any(m["sender"] == "bot" for m in answers):
        return "bot_reply"
    if any(m["sender"] == "system" and m["text"] == UNAVAILABLE_TEXT for m in answers):
        return "unavailable_notice"
    if any(m["sender"] == "system" for m in answers):
        return "other_system_notice"
    return "empty"


class Citizen:
    def __init__(self, client: httpx.AsyncClient, tally: Tally, args: argparse.Namespace) -> None:
        self.client, self.tally, self.args = client, tally, args
        self.id = ""

    async def open(self) -> bool:
        for _ in range(self.args.retries + 1):
            try:
                response = await self.client.post("/api/v1/conversations")
                if response.status_code == 201:
                    self.id = response.json()["id"]
                    self.tally.conversations.append(self.id)
                    return True
                self.tally.seen[f"open_http_{response.status_code}"] += 1
            except httpx.HTTPError as exc:
                self.tally.seen[f"open_{type(exc).__name__}"] += 1
            await asyncio.sleep(self.args.retry_pause)
        self.tally.stuck["could_not_open"] += 1
        return False

    async def turn(self, body: dict[str, str]) -> list[dict[str, Any]] | None:
        """One turn, sent again after an error or a notice, as a person would; None when they give up."""
        for _ in range(self.args.retries + 1):
            pause = self.args.retry_pause
            try:
                response = await self.client.post(f"/api/v1/conversations/{self.id}/messages", json=body)
                status, messages = response.status_code, response.json() if response.status_code == 200 else []
                pause = float(response.headers.get("Retry-After") or pause)
                seen = classify(status, messages)
            except httpx.HTTPError as exc:
                seen, messages = type(exc).__name__, []
            self.tally.seen[seen] += 1
            if seen in ("ticket", "bot_reply"):
                said = [o for m in messages if m["sender"] == "citizen" for o in m.get("outcomes") or []]
                self.tally.outcomes.update(o["kind"] for o in said)
                self.tally.shown.update((self.id, m["ticket"]["number"]) for m in messages if m["kind"] == "ticket")
                return messages
            await asyncio.sleep(pause)
        self.tally.stuck["gave_up_on_a_turn"] += 1
        return None

    async def think(self) -> None:
        await asyncio.sleep(random.uniform(0, self.args.pause))


def asked(messages: list[dict[str, Any]]) -> str | None:
    said = [o for m in messages if m["sender"] == "citizen" for o in m.get("outcomes") or []]
    return next((o.get("slot") for o in said if o["kind"] == "slot_requested"), None)


def confirmable(messages: list[dict[str, Any]]) -> bool:
    return any(b["payload"] == CONFIRM["payload"] for m in messages for b in m.get("buttons") or [])


@dataclass
class Phase:
    """One fault's citizens: complainants wait at ``go`` once their form asks for confirmation."""

    go: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    ready: int = 0


async def complainant(citizen: Citizen, phase: Phase, offset: float) -> None:
    """Files one complaint: the form to its confirmation, then 确认提交 ``offset`` seconds after ``go``."""
    try:
        if not await citizen.open():
            return
        citizen.tally.complainants.append(citizen.id)
        await citizen.think()
        replies = await citizen.turn({"text": COMPLAINT})
        for _ in range(len(ANSWERS) + 2):
            if replies is None or confirmable(replies):
                break
            slot = asked(replies)
            if slot not in ANSWERS:
                citizen.tally.stuck["form_gone"] += 1
                return
            await citizen.think()
            replies = await citizen.turn({"text": ANSWERS[slot]})
        if replies is None:
            return
        if not confirmable(replies):
            citizen.tally.stuck["form_gone"] += 1
            return
    finally:
        phase.ready += 1
    await phase.go.wait()
    await asyncio.sleep(offset)
    done = await citizen.turn(CONFIRM)
    for _ in range(citizen.args.retries):
        # Not filed (the database restarting): the reply says so in data and offers 确认提交 again.
        if done is None or any(m["kind"] == "ticket" for m in done) or not confirmable(done):
            break
        await asyncio.sleep(citizen.args.retry_pause)
        done = await citizen.turn(CONFIRM)
    if done is not None and not any(m["kind"] == "ticket" for m in done):
        citizen.tally.stuck["confirmation_not_filed"] += 1


async def asker(citizen: Citizen, phase: Phase) -> None:
    """Asks guide questions, over and over, until the complaints are done."""
    if not await citizen.open():
        return
    for text in cycle(QUESTIONS):
        if phase.finished.is_set():
            return
        await citizen.think()
        if await citizen.turn({"text": text}) is None:
            return


@dataclass
class Fault:
    """Kills one process of the cluster (then starts it again at once) or restarts PostgreSQL."""

    kind: str
    cluster: Cluster
    database_url: str

    def inject(self) -> None:
        if self.kind == "postgres":
            restart_postgres(self.database_url)
            return
        name = f"{self.kind}-1"
        self.cluster.kill(name)
        self.cluster.respawn(name)

    def recover(self) -> None:
        """Waits until the killed replica answers again, so the next fault starts from a whole cluster."""
        if self.kind != "postgres":
            self.cluster.wait_ready(f"{self.kind}-1")


KINDS = ("gateway", "rasa", "actions", "postgres")


async def one_fault(base: str, fault: Fault, args: argparse.Namespace) -> Tally:
    tally, phase = Tally(), Phase()
    limits = httpx.Limits(max_connections=args.conversations + 10, max_keepalive_connections=args.conversations)
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        step = args.confirm_window / max(1, args.confirmations)
        complaints = [
            asyncio.create_task(complainant(Citizen(client, tally, args), phase, i * step))
            for i in range(args.confirmations)
        ]
        chatting = [
            asyncio.create_task(asker(Citizen(client, tally, args), phase))
            for _ in range(args.conversations - args.confirmations)
        ]
        ready_by = time.monotonic() + args.form_seconds
        while phase.ready < len(complaints) and time.monotonic() < ready_by:
            await asyncio.sleep(0.5)
        phase.go.set()
        await asyncio.sleep(args.confirm_window / 2)
        started = time.monotonic()
        await asyncio.to_thread(fault.inject)
        tally.seen["_inject_seconds"] = round(time.monotonic() - started)
        _, late = await asyncio.wait(complaints, timeout=args.deadline)
        for task in late:
            task.cancel()
        tally.stuck["unfinished_at_deadline"] += len(late)
        phase.finished.set()
        await asyncio.gather(*chatting)
    await asyncio.to_thread(fault.recover)
    return tally


def filed(database_url: str, conversations: list[str]) -> list[tuple[str, str]]:
    from sqlalchemy import create_engine, select

    from hotline.models import Ticket

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(Ticket.conversation_id, Ticket.number).where(Ticket.conversation_id.in_(conversations))
            return [(row[0], row[1]) for row in connection.execute(query)]
    finally:
        engine.dispose()


def figures(tally: Tally, database_url: str) -> dict[str, Any]:
    stored = filed(database_url, tally.conversations)
    per_conversation = Counter(conversation for conversation, _ in stored)
    shown_per = Counter(conversation for conversation, _ in tally.shown)
    got_ticket = {conversation for conversation, _ in stored} & set(tally.complainants)
    seen = dict(tally.seen)
    return {
        "conversations": len(tally.conversations),
        "complaints": len(tally.complainants),
        "tickets_shown": len(tally.shown),
        "tickets_in_database": len(stored),
        "duplicates": sum(n - 1 for n in per_conversation.values() if n > 1),
        "shown_twice_different": sum(1 for n in shown_per.values() if n > 1),
        "lost": len(tally.shown - set(stored)),
        "filed_never_shown": len(set(stored) - tally.shown),
        "complaints_without_ticket": len(set(tally.complainants) - got_ticket),
        "could_not_go_on": sum(tally.stuck.values()),
        "why_not": {k: n for k, n in tally.stuck.items() if n},
        "fault_seconds": seen.pop("_inject_seconds", None),
        "replies": seen,
        "outcomes": dict(tally.outcomes),
    }


def show(results: dict[str, dict[str, Any]], heading: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=heading)
    rows = [
        ("conversations", "conversations"),
        ("complaints confirmed", "complaints"),
        ("tickets shown to citizens", "tickets_shown"),
        ("tickets in the database", "tickets_in_database"),
        ("duplicates (goal 0)", "duplicates"),
        ("lost: shown, not stored (goal 0)", "lost"),
        ("filed, never shown", "filed_never_shown"),
        ("could not go on (goal 0)", "could_not_go_on"),
        ("fault took (s)", "fault_seconds"),
    ]
    table.add_column("")
    for kind in results:
        table.add_column(kind, justify="right")
    for label, key in rows:
        table.add_row(label, *(str(r[key]) for r in results.values()))
    for key in sorted({k for r in results.values() for k in r["replies"]}):
        table.add_row(f"replies: {key}", *(str(r["replies"].get(key, 0)) for r in results.values()))
    for key in sorted({k for r in results.values() for k in r["why_not"]}):
        table.add_row(f"stuck: {key}", *(str(r["why_not"].get(key, 0)) for r in results.values()))
    Console().print(table)


def cycle(items: list[str]) -> Iterator[str]:
    while True:
        yield from items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=200, help="citizens chatting at once, per fault")
    parser.add_argument("--confirmations", type=int, default=100, help="of them, complainants who confirm")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"faults, comma-separated: {', '.join(KINDS)}")
    parser.add_argument("--pause", type=float, default=3.0, help="a citizen's think time between turns, at most (s)")
    parser.add_argument("--confirm-window", type=float, default=10.0, help="confirmations spread over (s)")
    parser.add_argument("--form-seconds", type=float, default=600.0, help="longest wait for the forms (s)")
    parser.add_argument("--retries", type=int, default=40, help="times a citizen sends a turn again")
    parser.add_argument("--retry-pause", type=float, default=3.0, help="seconds before sending it again")
    parser.add_argument("--timeout", type=float, default=90.0, help="HTTP timeout of one turn (s)")
    parser.add_argument("--deadline", type=float, default=1200.0, help="longest a fault's round may take (s)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--logs", type=Path, help="keep the processes' logs here (default: removed at the end)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(kinds) - set(KINDS)
    if unknown or not 0 < args.confirmations <= args.conversations:
        parser.error(f"unknown kinds {sorted(unknown)}" if unknown else "need 0 < confirmations <= conversations")
    # Hundreds of citizens from one loopback address: the per-address limit would refuse most of them.
    os.environ.update(BANSHI_RATE_PER_ADDRESS="0", BANSHI_RATE_PER_CONVERSATION="0")
    load = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="banshi-faults-") as scratch, postgres() as database_url, redis() as port:
        work = Path(scratch)
        ports = [Ports(free_port(), free_port(), free_port()) for _ in range(3)]
        layout = Layout((ports[0], ports[1]), ports[2], stats=free_port())
        logs = args.logs or work / "logs"
        cluster = Cluster(layout, args.model.resolve(), work / "var", database_url, f"redis://127.0.0.1:{port}/0", logs)
        cluster.import_catalogue(SAMPLE_CATALOGUE)
        with cluster:
            base = f"http://127.0.0.1:{layout.front.gateway}"
            for kind in kinds:
                tally = asyncio.run(one_fault(base, Fault(kind, cluster, database_url), args))
                results[kind] = figures(tally, database_url)
                print(f"{kind}: {json.dumps(results[kind], ensure_ascii=False)}", file=sys.stderr)
    heading = (
        f"faults: {args.conversations} conversations, {args.confirmations} confirmations, 2x2x2 behind HAProxy "
        f"(load before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)"
    )
    if args.json:
        shown_args = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        print(json.dumps({"heading": heading, "args": shown_args, "faults": results}, ensure_ascii=False, indent=2))
    else:
        show(results, heading)


if __name__ == "__main__":
    main()
