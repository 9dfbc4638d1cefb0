"""The relay and the chat API against a fake Rasa (httpx MockTransport): payload mapping, modes, handoff,
outage, validation, persistence and the live stream. The real Rasa stack is in test_chat_api.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.relay import UNAVAILABLE_TEXT, WAITING_TEXT, Relay, map_rasa_reply
from tests.sse import events as _events

WAITING = WAITING_TEXT.format(minutes=5)
"""The notice with the default promise (``desk_reply_minutes``): the desk is open around the clock by default."""

CHECKLIST = {
    "type": "checklist",
    "matter": {
        "external_id": "bs-sfz-hl",
        "name": "居民身份证换领",
        "department": "公安局",
        "code": None,
        "source_url": "https://example.gov.cn/g/1",
        "updated_at": "2026-01-02",
    },
    "materials": [
        {
            "name": "居民户口簿",
            "required": True,
            "condition": None,
            "original_or_copy": "原件",
            "original_count": 1,
            "copy_count": 0,
            "medium": "纸质",
            "source": None,
            "note": None,
            "status": "have",
        },
        {
            "name": "近期照片",
            "required": True,
            "condition": None,
            "original_or_copy": None,
            "original_count": 0,
            "copy_count": 0,
            "medium": None,
            "source": None,
            "note": "现场采集",
            "status": "missing",
        },
    ],
    "location": "户籍所在地派出所",
    "hours": "工作日 9:00-17:00",
    "online_url": None,
    "time_limit": {"legal_days": 60, "promised_days": 20},
    "fee": "20元",
    "visits": 1,
    "phone": "0770-12345",
}
TICKET = {"type": "ticket", "number": "12345-20261125-0001", "ticket_type": "投诉", "status": "待受理"}


def test_mapping_of_text_buttons_and_custom_payloads():
    replies = [
        {
            "recipient_id": "x",
            "text": "您想办理的是哪一项？",
            "buttons": [
                {"title": "居民身份证换领", "payload": '/choose_matter{"matter_id":"bs-sfz-hl"}'},
                {"title": "都不是", "payload": "/deny"},
            ],
        },
        {"recipient_id": "x", "text": "【一次告知】居民身份证换领（公安局）\n需要提交的材料（共2项）：…"},
        {"recipient_id": "x", "custom": CHECKLIST},
        {"recipient_id": "x", "text": "还有问题可以继续问我。"},
        {"recipient_id": "x", "custom": TICKET},
        {"recipient_id": "x", "custom": {"type": "handoff", "reason": "request_human", "matter": None}},
        {"recipient_id": "x", "image": "https://example.com/a.png"},
        {"recipient_id": "x", "custom": {"type": "carousel"}},
        {"recipient_id": "x", "custom": {"type": "ticket"}},
    ]
    out = map_rasa_reply(replies).messages
    assert [o.kind for o in out] == ["buttons", "checklist", "text", "ticket", "handoff"]
    assert out[0].text == "您想办理的是哪一项？"
    assert out[0].payload == {
        "buttons": [
            {"title": "居民身份证换领", "payload": '/choose_matter{"matter_id":"bs-sfz-hl"}'},
            {"title": "都不是", "payload": "/deny"},
        ]
    }
    assert out[1].text.startswith("【一次告知】居民身份证换领"), "the checklist keeps its plain-text form"
    assert out[1].payload["materials"][1]["status"] == "missing"
    assert out[3].payload["number"] == "12345-20261125-0001"


def test_a_text_that_does_not_name_the_matter_stays_its_own_message():
    out = map_rasa_reply([{"text": "好的"}, {"custom": CHECKLIST}]).messages
    assert [(o.kind, o.text) for o in out] == [("text", "好的"), ("checklist", None)]


def outcome(kind: str, **fields) -> dict:
    """An outcome as Rasa's REST channel delivers it: a custom payload of its own."""
    return {"recipient_id": "x", "custom": {"type": "outcome", "kind": kind, **fields}}


def test_outcomes_are_taken_out_of_what_is_shown():
    turn = map_rasa_reply([
        {"recipient_id": "x", "text": "为您找到办事指南：居民身份证换领"},
        outcome("guide_presented", matter_id="bs-sfz-hl", matter_name="居民身份证换领"),
        {"recipient_id": "x", "text": "【一次告知】居民身份证换领（公安局）…"},
        {"recipient_id": "x", "custom": CHECKLIST},
        outcome("checklist_shown", matter_id="bs-sfz-hl"),
        outcome("no_such_kind"),
        {"recipient_id": "x", "custom": {"type": "outcome"}},
    ])  # fmt: skip
    assert [(o.kind, o.text[:4]) for o in turn.messages] == [("text", "为您找到"), ("checklist", "【一次告")]
    assert turn.outcomes == [
        {"kind": "guide_presented", "matter_id": "bs-sfz-hl", "matter_name": "居民身份证换领"},
        {"kind": "checklist_shown", "matter_id": "bs-sfz-hl"},
    ], "unknown kinds are dropped, never shown"
    assert turn.handoff() is None


def test_the_handoff_outcome_carries_the_dialogues_slots():
    slots = {"ticket_location": "港口区渔洲坪", "ticket_phone": "13812345678"}
    turn = map_rasa_reply([
        {"recipient_id": "x", "text": "好的，正在为您转接"},
        {"recipient_id": "x", "custom": {"type": "handoff", "reason": "request_human", "matter": None}},
        outcome("handoff", reason="request_human", slots=slots),
    ])  # fmt: skip
    assert [o.kind for o in turn.messages] == ["text", "handoff"]
    assert turn.handoff() == {"kind": "handoff", "reason": "request_human", "slots": slots}
    older = map_rasa_reply([{"custom": {"type": "handoff", "reason": "fallback", "matter": None}}])
    assert older.handoff()["reason"] == "fallback", "a handoff payload alone still hands off"


class FakeRasa:
    """Answers the REST webhook from a script keyed by the message; records what it was sent."""

    def __init__(self, script: dict[str, list[dict]]) -> None:
        self.script, self.sent, self.down = script, [], False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.url.path == "/webhooks/rest/webhook", "the gateway only talks to Rasa's REST channel"
        body = json.loads(request.content)
        self.sent.append(body)
        return httpx.Response(200, json=self.script.get(body["message"], [{"text": "您好，请问要办什么事？"}]))


@pytest.fixture
def chat(session) -> Iterator[Callable[..., tuple[TestClient, FakeRasa]]]:
    """A gateway in-process whose relay talks to a FakeRasa."""
    from channels.app import create_app

    session.commit()
    clients = []

    def make(script: dict[str, list[dict]] | None = None) -> tuple[TestClient, FakeRasa]:
        fake = FakeRasa(script or {})
        app = create_app()
        client = TestClient(app)
        client.__enter__()
        app.state.relay.close()
        app.state.relay = Relay("http://rasa.test", transport=httpx.MockTransport(fake))
        clients.append(client)
        return client, fake

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_a_turn_in_bot_mode_is_forwarded_and_stored(chat):
    client, rasa = chat(
        {
            "换身份证": [
                {"text": "【一次告知】居民身份证换领…"},
                {"custom": CHECKLIST},
                outcome("checklist_shown", matter_id="bs-sfz-hl"),
            ],
            "/affirm": [{"custom": TICKET}],
        }
    )
    created = client.post("/api/v1/conversations", json={"channel": "web"})
    assert created.status_code == 201 and created.json()["mode"] == "bot"
    cid = created.json()["id"]

    sent = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": " 换身份证 "}).json()
    assert rasa.sent == [{"sender": cid, "message": "换身份证"}]
    assert [(m["sender"], m["kind"]) for m in sent] == [("citizen", "text"), ("bot", "checklist")]
    assert sent[0]["outcomes"] == [{"kind": "checklist_shown", "matter_id": "bs-sfz-hl"}]
    assert sent[1]["outcomes"] == [], "the citizen's message of the turn carries them"
    assert sent[1]["checklist"]["materials"][0]["status"] == "have" and sent[1]["buttons"] is None

    clicked = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "是的", "payload": "/affirm"}).json()
    assert rasa.sent[-1]["message"] == "/affirm", "the bot gets the button's payload"
    assert clicked[0]["text"] == "是的", "the transcript shows the button's title"
    assert clicked[1]["ticket"]["number"] == "12345-20261125-0001"

    after = client.get(f"/api/v1/conversations/{cid}/messages", params={"after": sent[-1]["id"]}).json()
    assert [m["id"] for m in after] == [m["id"] for m in clicked]
    transcript = client.get(f"/api/v1/conversations/{cid}/transcript").json()
    assert len(transcript["messages"]) == 4 and transcript["mode"] == "bot"
    assert transcript["messages"][0]["outcomes"] == sent[0]["outcomes"]


def test_handoff_from_the_bot_puts_the_conversation_in_the_queue(chat):
    from banshi.db import session_scope
    from hotline.handoffs import waiting_handoffs

    slots = {"matter_id": "bs-sfz-hl", "ticket_phone": "13812345678"}
    client, rasa = chat(
        {
            "转人工": [
                {"text": "好的，正在为您转接"},
                {"custom": {"type": "handoff", "reason": "request_human"}},
                outcome("handoff", reason="request_human", slots=slots),
            ]
        }
    )
    cid = client.post("/api/v1/conversations").json()["id"]
    client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "我的电话13812345678"})
    replies = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "转人工"}).json()
    assert [m["kind"] for m in replies] == ["text", "text", "handoff", "text"]
    assert replies[-1]["sender"] == "system" and replies[-1]["text"] == WAITING
    assert client.get(f"/api/v1/conversations/{cid}").json()["mode"] == "waiting"
    with session_scope() as s:
        [queued] = waiting_handoffs(s)
    assert queued.conversation_id == cid and queued.reason == "request_human"
    assert "138****5678" in queued.transcript[0]["text"], "the queue masks the phone number"
    with session_scope() as s:
        from hotline.models import Handoff

        assert s.get(Handoff, queued.id).slots == slots, "the slots the dialogue stated with its handoff"
    handed = [m for m in client.get(f"/api/v1/conversations/{cid}/messages").json() if m["text"] == "转人工"]
    assert [o["kind"] for o in handed[0]["outcomes"]] == ["handoff"]
    assert "slots" not in handed[0]["outcomes"][0], "the slots stay with the handoff, not in the chat API"

    sent_before = len(rasa.sent)
    stored = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "还要等多久"}).json()
    assert len(rasa.sent) == sent_before, "in waiting mode the bot stays silent"
    assert [m["sender"] for m in stored] == ["citizen"]
    again = client.post(f"/api/v1/conversations/{cid}/handoff").json()
    assert again["mode"] == "waiting" and "排队" in again["messages"][0]["text"]
    with session_scope() as s:
        assert len(waiting_handoffs(s)) == 1, "asking twice queues once"


def test_the_handoff_button_gives_the_agent_the_dialogues_slots_and_shows_only_the_notice(chat):
    from banshi.db import session_scope
    from hotline.models import Handoff

    slots = {"ticket_type": "投诉", "ticket_location": "港口区渔洲坪"}
    client, rasa = chat({"/request_human": [{"text": "好的，正在为您转接"}, outcome("handoff", reason="request_human",
                                                                                    slots=slots)]})  # fmt: skip
    cid = client.post("/api/v1/conversations").json()["id"]
    out = client.post(f"/api/v1/conversations/{cid}/handoff").json()
    assert rasa.sent == [{"sender": cid, "message": "/request_human"}], "the dialogue is told, and reports its slots"
    assert [m["text"] for m in out["messages"]] == [WAITING], "the bot's own words are not shown"
    with session_scope() as s:
        assert s.query(Handoff).filter_by(conversation_id=cid).one().slots == slots


def test_the_handoff_button_works_without_rasa(chat):
    client, rasa = chat()
    rasa.down = True
    cid = client.post("/api/v1/conversations").json()["id"]
    out = client.post(f"/api/v1/conversations/{cid}/handoff")
    assert out.status_code == 200 and out.json()["mode"] == "waiting"
    assert out.json()["messages"][0]["text"] == WAITING


def test_a_rasa_outage_gives_a_polite_message_not_a_500(chat):
    client, rasa = chat()
    rasa.down = True
    cid = client.post("/api/v1/conversations").json()["id"]
    response = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "你好"})
    assert response.status_code == 200
    citizen, system = response.json()
    assert citizen["text"] == "你好" and system["sender"] == "system" and system["text"] == UNAVAILABLE_TEXT


def test_an_empty_answer_from_rasa_is_the_polite_message_not_silence(chat):
    """Rasa answers HTTP 200 with ``[]`` while its action server is down: the citizen must not be left waiting."""
    client, _rasa = chat({"我要投诉路灯坏了": []})
    cid = client.post("/api/v1/conversations").json()["id"]
    response = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "我要投诉路灯坏了"})
    assert response.status_code == 200
    _citizen, system = response.json()
    assert system["sender"] == "system" and system["text"] == UNAVAILABLE_TEXT


def test_bad_input_is_refused_in_chinese(chat):
    client, _ = chat()
    cid = client.post("/api/v1/conversations").json()["id"]
    for body in ({"text": "   "}, {"text": ""}, {}, {"text": "x" * 1001}):
        response = client.post(f"/api/v1/conversations/{cid}/messages", json=body)
        assert response.status_code == 422, body
        assert "消息" in response.json()["message"], response.json()
    bad = client.post(f"/api/v1/conversations/{cid}/rating", json={"score": 6})
    assert bad.status_code == 422 and bad.json()["message"] == "评分不能大于 5"
    missing = client.post(f"/api/v1/conversations/{'0' * 32}/messages", json={"text": "你好"})
    assert missing.status_code == 404 and "未找到该会话" in missing.json()["detail"]
    assert client.get("/api/v1/conversations/not-an-id").status_code == 422


def test_rating_and_closed_conversations(chat):
    from banshi.db import session_scope
    from hotline import handoffs
    from tests.hotline_helpers import ADMIN

    client, _ = chat()
    cid = client.post("/api/v1/conversations").json()["id"]
    rated = client.post(f"/api/v1/conversations/{cid}/rating", json={"score": 4, "comment": " 很方便 "}).json()
    assert rated["rating"] == 4 and rated["rating_comment"] == "很方便"
    [message] = client.get(f"/api/v1/conversations/{cid}/messages").json()
    assert message["kind"] == "rating" and message["rating"] == {"score": 4, "comment": "很方便"}
    with session_scope() as s:  # an admin ends the conversation from the console
        handoffs.close_handoff(s, handoffs.request_handoff(s, cid).id, ADMIN)
    closed = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "你好"})
    assert closed.status_code == 409 and "已结束" in closed.json()["detail"]


def test_conversations_survive_a_restart(chat):
    client, _ = chat({"你好": [{"text": "您好！"}]})
    cid = client.post("/api/v1/conversations").json()["id"]
    client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "你好"})
    restarted, _ = chat()
    texts = [m["text"] for m in restarted.get(f"/api/v1/conversations/{cid}/messages").json()]
    assert texts == ["你好", "您好！"]


def test_the_stream_sends_new_messages_and_the_mode(chat, monkeypatch):
    from banshi.db import session_scope
    from common.conversations import add_message
    from hotline import handoffs
    from tests.hotline_helpers import ADMIN

    client, _ = chat({"你好": [{"text": "您好！"}]})
    cid = client.post("/api/v1/conversations").json()["id"]
    first = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "你好"}).json()
    with session_scope() as s:  # an agent on another replica
        handoffs.claim_handoff(s, handoffs.request_handoff(s, cid).id, ADMIN)
        add_message(s, cid, "agent", "text", "您好，我是客服小王", author="小王")
    with client.stream(
        "GET", f"/api/v1/conversations/{cid}/stream", params={"after": first[0]["id"], "seconds": 0.3}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join(response.iter_text())
    events = _events(body)
    kinds = [(e["event"], json.loads(e["data"]).get("text") or json.loads(e["data"]).get("mode")) for e in events]
    joined = handoffs.JOINED.format(name=ADMIN.display_name)
    assert kinds == [("message", "您好！"), ("message", joined), ("message", "您好，我是客服小王"), ("mode", "agent")]
    assert events[1]["id"] == str(first[1]["id"] + 1)
    resumed = client.get(
        f"/api/v1/conversations/{cid}/stream", params={"seconds": 0.1}, headers={"Last-Event-ID": events[2]["id"]}
    )
    assert [e["event"] for e in _events(resumed.text)] == ["mode"], "Last-Event-ID resumes after that message"


def test_pages_are_served(chat):
    client, _ = chat()
    page = client.get("/")
    assert page.status_code == 200 and "政务服务智能助手" in page.text and "/static/chat.js" in page.text
    for script in ("/static/chat-cards.js", "/static/chat.js"):
        assert script in page.text and client.get(script).status_code == 200
    assert client.get("/static/chat.css").status_code == 200
    widget = client.get("/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
    assert client.get("/healthz").json() == {"status": "ok"}
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/stream",
        "/api/v1/conversations/{conversation_id}/transcript",
        "/api/v1/conversations/{conversation_id}/rating",
        "/api/v1/conversations/{conversation_id}/handoff",
    ):
        assert path in schema["paths"], path
    assert "MessageOut" in schema["components"]["schemas"] and "ChecklistOut" in schema["components"]["schemas"]


def test_the_stream_catches_a_message_committed_late_with_a_lower_id(chat):
    """On PostgreSQL a lower id can commit after a higher one was sent: the stream still delivers it."""
    import threading

    from banshi.db import session_scope
    from common.conversations import ChatMessage, add_message

    client, _ = chat()
    cid = client.post("/api/v1/conversations").json()["id"]
    with session_scope() as s:
        first = add_message(s, cid, "citizen", "text", "一").id
        late_id = add_message(s, cid, "agent", "text", "占位").id
        add_message(s, cid, "agent", "text", "三")
        s.delete(s.get(ChatMessage, late_id))

    def commit_late() -> None:
        with session_scope() as s:
            s.add(ChatMessage(id=late_id, conversation_id=cid, sender="agent", kind="text", text="二"))

    timer = threading.Timer(0.8, commit_late)
    timer.start()
    body = client.get(f"/api/v1/conversations/{cid}/stream", params={"after": first, "seconds": 2}).text
    timer.join()
    texts = [json.loads(e["data"])["text"] for e in _events(body) if e["event"] == "message"]
    assert texts == ["三", "二"]
