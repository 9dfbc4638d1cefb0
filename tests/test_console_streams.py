"""The agent console's live streams: the open conversation (``/handoffs/{id}/stream``) and the queues (``/events``).

TestClient hands a stream back whole once it has ended, so a change "after the reader connected" is
made from a thread that waits until the stream has polled the database once. Same app, users and
seeded conversation as tests/test_console_api.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests import test_console_api as console_api
from tests.sse import events
from tests.staff_api import login

app, agents, session = console_api.app, console_api.agents, console_api.session  # the same fixtures
_waiting_conversation = console_api._waiting_conversation

CITIZEN_SAYS = "噪音还在继续，我的另一个电话是13977005678"


def _after_first_poll(monkeypatch, module, name: str, change: Callable[[], None]) -> threading.Thread:
    """Runs ``change`` in a thread once ``module.name`` (a stream's database read) has run once."""
    polled = threading.Event()
    real = getattr(module, name)

    def spy(*args):
        try:
            return real(*args)
        finally:
            polled.set()

    monkeypatch.setattr(module, name, spy)

    def work() -> None:
        assert polled.wait(30), "the stream never polled"
        change()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_the_streams_need_login_and_the_agent_role(app, session):
    _conversation_id, handoff_id = _waiting_conversation(session)
    anonymous, editor = TestClient(app), login(app, "editor1")
    for path in (f"/api/v1/agent/handoffs/{handoff_id}/stream", "/api/v1/agent/events"):
        response = anonymous.get(path)
        assert response.status_code == 401 and response.json()["detail"] == "请先登录", path
        response = editor.get(path)
        assert response.status_code == 403 and "没有权限" in response.json()["detail"], path
    missing = login(app, "agent1").get("/api/v1/agent/handoffs/99999/stream")
    assert missing.status_code == 404 and missing.json()["detail"] == "未找到该会话"


def test_the_conversation_stream_brings_what_the_citizen_says_and_resumes(app, agents, session, monkeypatch):
    from banshi.db import session_scope
    from channels import live
    from channels.accounts import get_user
    from common import conversations as conv

    first, second = agents
    conversation_id, handoff_id = _waiting_conversation(session)
    assert first.post(f"/api/v1/agent/handoffs/{handoff_id}/claim").status_code == 200
    joined = conv.messages_since(session, conversation_id)[-1].id  # the console has everything up to here

    def citizen_writes() -> None:
        with session_scope() as other:  # the citizen's turn, as another replica stores it
            conv.add_message(other, conversation_id, "citizen", "text", CITIZEN_SAYS)

    writer = _after_first_poll(monkeypatch, live, "_poll", citizen_writes)
    path = f"/api/v1/agent/handoffs/{handoff_id}/stream"
    with first.stream("GET", path, params={"after": joined, "seconds": 3}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    writer.join()
    got = events(body)
    holder = get_user(session, "agent1").id
    assert [(e["event"], json.loads(e["data"])) for e in got[:2]] == [
        ("mode", {"mode": "agent"}),
        ("handoff", {"status": "claimed", "agent_id": holder, "in_full": True}),
    ], "the state comes first: the message was written after the stream connected"
    [said] = [json.loads(e["data"]) | {"event_id": e["id"]} for e in got if e["event"] == "message"]
    stored = conv.messages_since(session, conversation_id, joined)
    assert [m.text for m in stored] == [CITIZEN_SAYS]
    assert said["event_id"] == str(stored[0].id) == str(said["id"])
    assert (said["sender"], said["kind"], said["text"], said["author"]) == ("citizen", "text", CITIZEN_SAYS, None)
    assert set(said) - {"event_id"} == {"id", "sender", "kind", "text", "author", "created_at"}, "a ConsoleMessage"
    polled = first.get(f"/api/v1/agent/handoffs/{handoff_id}/messages", params={"after": joined}).json()
    assert polled == [{k: v for k, v in said.items() if k != "event_id"}], "the same data as /messages"

    # EventSource reconnects with Last-Event-ID: only what came after it; and an onlooker sees numbers masked.
    resumed = second.get(path, params={"seconds": 0.2}, headers={"Last-Event-ID": str(joined)})
    [again] = [json.loads(e["data"]) for e in events(resumed.text) if e["event"] == "message"]
    assert again["id"] == said["id"] and again["text"] == "噪音还在继续，我的另一个电话是139****5678"
    handoff_state = [json.loads(e["data"]) for e in events(resumed.text) if e["event"] == "handoff"]
    assert handoff_state == [{"status": "claimed", "agent_id": holder, "in_full": False}]
    caught_up = first.get(path, params={"seconds": 0.2}, headers={"Last-Event-ID": said["event_id"]})
    assert [e["event"] for e in events(caught_up.text)] == ["mode", "handoff"]


def test_the_queue_stream_says_when_a_list_changed(app, agents, session, monkeypatch):
    from banshi.db import session_scope
    from channels.routes import agent_live
    from common import conversations as conv
    from hotline import handoffs
    from hotline.classifier import classify
    from tests.hotline_helpers import ticket

    classify("预热")  # the first classification imports sklearn (seconds on a busy machine): not under test here
    first, _second = agents
    monkeypatch.setattr(agent_live, "QUEUE_POLL_SECONDS", 0.05)
    reads: list[str] = []
    real = agent_live.queue_fingerprint

    def counted() -> str:
        reads.append(real())
        return reads[-1]

    monkeypatch.setattr(agent_live, "queue_fingerprint", counted)

    def wait_for_reads(count: int) -> None:
        deadline = time.monotonic() + 30
        while len(reads) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def changes() -> None:
        wait_for_reads(1)
        with session_scope() as other:  # a citizen presses 转人工 on another replica
            conversation = conv.start_conversation(other)
            conv.add_message(other, conversation.id, "citizen", "text", "转人工")
            handoffs.request_handoff(other, conversation.id, reason="request_human")
        wait_for_reads(len(reads) + 2)
        with session_scope() as other:  # and the action server files a ticket
            ticket(other, content="路灯坏了好几天")

    writer = threading.Thread(target=changes)
    writer.start()
    body = first.get("/api/v1/agent/events", params={"seconds": 3}).text
    writer.join()
    got = events(body)
    assert [e["event"] for e in got] == ["queues"] * 3, "at once, then one per change"
    versions = [e["id"] for e in got]
    assert len(set(versions)) == 3 and versions == [json.loads(e["data"])["version"] for e in got]
    assert len(reads) > 10, "read every QUEUE_POLL_SECONDS, sent only on a change"

    # A reconnect that already saw the current version is not told again; a fresh reader is, at once.
    resumed = first.get("/api/v1/agent/events", params={"seconds": 0.2}, headers={"Last-Event-ID": versions[-1]})
    assert events(resumed.text) == []
    fresh = first.get("/api/v1/agent/events", params={"seconds": 0.2})
    assert [e["id"] for e in events(fresh.text)] == [versions[-1]]
