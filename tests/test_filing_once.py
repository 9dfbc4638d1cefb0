"""A 确认提交 repeated after a crash files one ticket (issue 14: no ticket lost or filed twice).

When Rasa or the gateway dies while the confirmation is in flight, the action has filed the ticket but
Rasa never stored the turn: the citizen presses 确认提交 again and Rasa runs the same action again on
the same slots. Here the real action server gets that same request twice, as Rasa would send it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from banshi.stack import Ports, running, services
from tests.rasa_stack import stack_environment
from tests.services import free_port

SLOTS = {
    "ticket_type": "投诉",
    "ticket_content": "港口区渔洲坪路口的路灯坏了一个月没人修",
    "ticket_location": "港口区渔洲坪路口",
    "ticket_time": "上个月开始",
    "ticket_name": "匿名",
    "ticket_phone": "13800138000",
}


@dataclass(frozen=True)
class ActionServer:
    url: str
    data_dir: Path
    database_url: str


@pytest.fixture
def action_server(tmp_path) -> Iterator[ActionServer]:
    """The real action server on a fresh, migrated database, as Rasa would reach it."""
    from banshi.db import migrate

    data_dir = tmp_path / "var"
    data_dir.mkdir()
    ports = Ports(gateway=0, rasa=free_port(), actions=free_port())
    env = stack_environment(data_dir, ports)
    migrate(env["DATABASE_URL"])
    with running(services(ports=ports, gateway=False)[:1], env, data_dir / "logs"):
        yield ActionServer(f"http://127.0.0.1:{ports.actions}/webhook", data_dir, env["DATABASE_URL"])


def _confirm(sender: str, slots: dict) -> dict:
    return {
        "next_action": "action_submit_ticket",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": "/affirm", "intent": {"name": "affirm", "confidence": 1.0}, "entities": []},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def _numbers(response: httpx.Response) -> list[str]:
    response.raise_for_status()
    return [
        r["custom"]["number"] for r in response.json()["responses"] if (r.get("custom") or {}).get("type") == "ticket"
    ]


def test_the_same_confirmation_twice_files_one_ticket_and_a_new_complaint_another(action_server):
    from banshi.db import make_engine, session_scope
    from hotline.models import Ticket

    url = action_server.url
    first = _numbers(httpx.post(url, json=_confirm("c-once", SLOTS), timeout=60))
    again = _numbers(httpx.post(url, json=_confirm("c-once", SLOTS), timeout=60))
    other = {**SLOTS, "ticket_content": "同一路口的井盖也松动了，晚上骑车很危险"}
    second = _numbers(httpx.post(url, json=_confirm("c-once", other), timeout=60))
    assert len(first) == 1 and again == first, "the repeated confirmation shows the first ticket"
    assert second and second != first, "a different complaint in the same conversation is a ticket of its own"
    engine = make_engine(action_server.database_url)
    try:
        with session_scope(engine) as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == 2
    finally:
        engine.dispose()


def test_a_filing_the_database_refuses_offers_the_confirmation_again_and_files_once_pressed(action_server):
    """The database locked past its wait (as while it restarts): the citizen is told, in data too, and
    gets 确认提交 again; pressed once the database is back, it files the ticket."""
    import sqlite3

    holder = sqlite3.connect(action_server.data_dir / "banshi.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the filing's wait
    try:
        refused = httpx.post(action_server.url, json=_confirm("c-locked", SLOTS), timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    again = httpx.post(action_server.url, json=_confirm("c-locked", SLOTS), timeout=60)
    assert _numbers(refused) == []
    replies = refused.json()["responses"]
    outcomes = [r["custom"] for r in replies if (r.get("custom") or {}).get("type") == "outcome"]
    assert outcomes == [{"type": "outcome", "kind": "ticket_not_filed", "ticket_type": "投诉"}]
    assert {"title": "确认提交", "payload": "/affirm"} in [b for r in replies for b in r.get("buttons") or []]
    assert len(_numbers(again)) == 1, "pressed again, it is filed"
