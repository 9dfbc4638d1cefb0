"""The agent console's API: login, the role wall around every staff route, live handoffs and the ticket desk.

Real SQLite database, real password hashing, the real app through TestClient (no index loaded: none
of these routes searches). Races between replicas are tested on PostgreSQL in tests/test_claims.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.accounts import UserIn, create_user, get_user, set_password
from tests.staff_api import PASSWORD, assert_guarded, login, operations

USERS = {"agent1": ("agent", "李坐席"), "agent2": ("agent", "王坐席"), "editor1": ("editor", "赵编辑"),
         "boss": ("admin", "周主任")}  # fmt: skip
STAFF_PREFIXES = ("/api/v1/agent", "/api/v1/tickets")


@pytest.fixture
def session(data_dir) -> Iterator:
    """A plain session the test commits as it goes, so each request sees what the test seeded."""
    from sqlalchemy.orm import sessionmaker

    from banshi.db import get_engine, migrate

    migrate()
    with sessionmaker(get_engine(), expire_on_commit=False)() as session:
        yield session


@pytest.fixture
def app(session):
    from channels.app import create_app

    for username, (role, name) in USERS.items():
        create_user(session, UserIn(username=username, display_name=name, role=role, password=PASSWORD))
    session.commit()
    return create_app()


@pytest.fixture
def agents(app) -> Iterator[tuple[TestClient, TestClient]]:
    yield login(app, "agent1"), login(app, "agent2")


def test_login_me_logout_and_bearer(app, session):
    client = TestClient(app)
    wrong = client.post("/api/v1/auth/login", json={"username": "agent1", "password": "nope nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "用户名或密码错误"
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": PASSWORD})
    assert unknown.status_code == 401 and unknown.json()["detail"] == "用户名或密码错误"
    assert client.get("/api/v1/auth/me").status_code == 401

    response = client.post("/api/v1/auth/login", json={"username": "AGENT1", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    token = response.json()["token"]
    me = client.get("/api/v1/auth/me").json()
    assert (me["username"], me["role"], me["role_label"], me["display_name"]) == ("agent1", "agent", "坐席", "李坐席")
    assert "password_hash" not in me

    bearer = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert bearer.get("/api/v1/auth/me", headers=headers).status_code == 200
    forged = {"Authorization": f"Bearer {token[:-2]}xx"}
    assert bearer.get("/api/v1/auth/me", headers=forged).status_code == 401

    # Signing out ends the session for good: a copy of the token (an app's, a stolen one) stops working.
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    assert bearer.get("/api/v1/auth/me", headers=headers).status_code == 401
    token = client.post("/api/v1/auth/login", json={"username": "agent1", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert bearer.get("/api/v1/auth/me", headers=headers).status_code == 200

    # A new password signs out the old sessions; so does switching the account off.
    set_password(session, get_user(session, "agent1"), "another horse 2")
    session.commit()
    assert bearer.get("/api/v1/auth/me", headers=headers).status_code == 401
    second = login(app, "agent2")
    get_user(session, "agent2").active = False
    session.commit()
    assert second.get("/api/v1/auth/me").status_code == 401


def test_wrong_passwords_lock_the_account_for_a_while(app, session, monkeypatch):
    from datetime import timedelta

    from channels import sign_in_throttle

    client = TestClient(app)
    for _attempt in range(5):
        wrong = client.post("/api/v1/auth/login", json={"username": "agent2", "password": "guess guess"})
        assert wrong.status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "agent2", "password": PASSWORD})
    assert locked.status_code == 429 and "锁定" in locked.json()["detail"] and "15 分钟" in locked.json()["detail"]
    assert client.post("/api/v1/auth/login", json={"username": "agent1", "password": PASSWORD}).status_code == 200

    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60

    later = sign_in_throttle.utcnow() + timedelta(minutes=16)
    monkeypatch.setattr(sign_in_throttle, "utcnow", lambda: later)
    assert client.post("/api/v1/auth/login", json={"username": "agent2", "password": PASSWORD}).status_code == 200
    session.expire_all()
    assert sign_in_throttle.failures(session, "agent2") == 0, "a right password starts the count again"


def test_signing_key_survives_a_restart(app, data_dir):
    from channels import auth

    token = login(app, "agent1").cookies[auth.COOKIE_NAME]
    key_file = data_dir / auth.SECRET_FILE
    assert key_file.is_file() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    auth._secret_for.cache_clear()  # what a new process starts with
    client = TestClient(app)
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_every_staff_route_needs_login_and_the_agent_role(app, monkeypatch):
    from banshi.config import get_settings

    monkeypatch.setenv("BANSHI_LIVE_STREAM_SECONDS", "0.2")  # the live streams let the right user in, then end
    get_settings.cache_clear()
    found = operations(app, STAFF_PREFIXES)
    assert len(found) >= 19 and {p.split("/")[3] for _m, p in found} == {"agent", "tickets"}, found
    assert_guarded(app, found, denied="editor1", allowed="agent1")


def _waiting_conversation(session, phone: str = "13877001234") -> tuple[str, int]:
    from common import conversations as conv
    from hotline import handoffs

    conversation = conv.start_conversation(session)
    conv.add_message(session, conversation.id, "citizen", "text", "我要投诉，小区门口夜间施工噪音扰民")
    conv.add_message(session, conversation.id, "bot", "text", "请问施工地点在哪里？")
    conv.add_message(session, conversation.id, "citizen", "text", f"港口区渔洲坪，我的电话是{phone}")
    conv.add_message(session, conversation.id, "citizen", "text", "/request_human")
    handoff = handoffs.request_handoff(
        session, conversation.id, reason="request_human", slots={"ticket_location": "港口区渔洲坪"}
    )
    session.commit()
    return conversation.id, handoff.id


def _mode(session, conversation_id: str) -> tuple[str, int | None]:
    from common import conversations as conv

    session.expire_all()
    found = conv.get_conversation(session, conversation_id)
    return found.mode, found.agent_id


def test_handoff_claim_reply_transfer_and_back_to_bot(app, agents, session):
    from common import conversations as conv

    first, second = agents
    conversation_id, handoff_id = _waiting_conversation(session)
    queue = first.get("/api/v1/agent/handoffs").json()
    waiting = queue["waiting"][0]
    assert waiting["id"] == handoff_id and waiting["mode"] == "waiting" and queue["mine"] == []
    assert waiting["last_citizen_text"] == "/request_human" or "138****1234" in waiting["last_citizen_text"]
    assert waiting["wait_seconds"] >= 0 and waiting["slots"] == {"ticket_location": "港口区渔洲坪"}

    assert first.post(f"/api/v1/agent/handoffs/{handoff_id}/claim").status_code == 200
    lost = second.post(f"/api/v1/agent/handoffs/{handoff_id}/claim")
    assert lost.status_code == 409 and lost.json()["detail"] == "该会话已被其他坐席接入"
    agent1 = get_user(session, "agent1")
    assert _mode(session, conversation_id) == ("agent", agent1.id)

    held = first.get(f"/api/v1/agent/handoffs/{handoff_id}").json()
    assert held["in_full"] and any("13877001234" in m["text"] for m in held["messages"])
    onlooker = second.get(f"/api/v1/agent/handoffs/{handoff_id}").json()
    assert not onlooker["in_full"] and not any("13877001234" in m["text"] for m in onlooker["messages"])

    canned = first.get("/api/v1/agent/canned-replies").json()
    assert len(canned) >= 3
    sent = first.post(f"/api/v1/agent/handoffs/{handoff_id}/reply", json={"text": canned[0]})
    assert sent.status_code == 200 and sent.json()["sender"] == "agent"
    assert second.post(f"/api/v1/agent/handoffs/{handoff_id}/reply", json={"text": "抢答"}).status_code == 409
    assert first.post(f"/api/v1/agent/handoffs/{handoff_id}/reply", json={"text": ""}).status_code == 422
    stored = conv.messages_since(session, conversation_id)
    assert (stored[-1].sender, stored[-1].text, stored[-1].author) == ("agent", canned[0], "李坐席")
    assert any(m.sender == "system" and "李坐席已接入" in m.text for m in stored)
    newer = first.get(f"/api/v1/agent/handoffs/{handoff_id}/messages", params={"after": stored[-2].id}).json()
    assert [m["text"] for m in newer] == [canned[0]]

    others = first.get("/api/v1/agent/agents").json()
    agent2 = get_user(session, "agent2")
    assert agent2.id in [a["id"] for a in others] and agent1.id not in [a["id"] for a in others]
    assert first.post(f"/api/v1/agent/handoffs/{handoff_id}/transfer", json={"agent_id": 99999}).status_code == 400
    moved = first.post(f"/api/v1/agent/handoffs/{handoff_id}/transfer", json={"agent_id": agent2.id})
    assert moved.status_code == 200 and moved.json()["agent_id"] == agent2.id
    assert _mode(session, conversation_id) == ("agent", agent2.id)
    assert first.post(f"/api/v1/agent/handoffs/{handoff_id}/reply", json={"text": "还在吗"}).status_code == 409
    assert second.get("/api/v1/agent/handoffs").json()["mine"][0]["id"] == handoff_id

    back = second.post(f"/api/v1/agent/handoffs/{handoff_id}/bot")
    assert back.status_code == 200 and back.json()["status"] == "closed"
    assert _mode(session, conversation_id) == ("bot", None)
    assert second.post(f"/api/v1/agent/handoffs/{handoff_id}/close").json()["detail"] == "该会话已结束"

    # A second 转人工 in the same conversation, closed for good this time.
    from hotline import handoffs

    again = handoffs.request_handoff(session, conversation_id, reason="request_human").id
    session.commit()
    assert again != handoff_id
    assert second.post(f"/api/v1/agent/handoffs/{again}/close").status_code == 409  # not claimed yet
    second.post(f"/api/v1/agent/handoffs/{again}/claim")
    assert second.post(f"/api/v1/agent/handoffs/{again}/close").status_code == 200
    assert _mode(session, conversation_id)[0] == "closed"


def test_the_ticket_draft_holds_what_the_ticket_form_collected(app, agents, session):
    """The citizen answered the form's place, time and phone, then asked for a person instead of filing:
    the draft carries those answers (the phone was never typed in a message the draft could search)."""
    from common import conversations as conv
    from hotline import handoffs

    first, _second = agents
    conversation = conv.start_conversation(session)
    for text in ("我要投诉，小区旁边工地夜间施工噪音太大", "港口区渔洲坪街道金海湾小区", "转人工"):
        conv.add_message(session, conversation.id, "citizen", "text", text)
    form = {
        "ticket_type": "投诉",
        "ticket_content": "小区旁边工地夜间施工噪音太大",
        "ticket_location": "港口区渔洲坪街道金海湾小区",
        "ticket_time": "每天晚上十一点以后",
        "ticket_name": "匿名",
        "ticket_phone": "13877001234",
    }
    handoff = handoffs.request_handoff(session, conversation.id, reason="request_human", slots=form)
    session.commit()
    first.post(f"/api/v1/agent/handoffs/{handoff.id}/claim")
    draft = first.get(f"/api/v1/agent/handoffs/{handoff.id}/ticket-draft").json()
    assert (draft["location"], draft["event_time"]) == ("港口区渔洲坪街道金海湾小区", "每天晚上十一点以后")
    assert (draft["phone"], draft["name"], draft["type"]) == ("13877001234", "匿名", "投诉")


def test_what_the_bot_understood_is_shown_under_chinese_labels(app, agents, session):
    from common import conversations as conv
    from hotline import handoffs
    from hotline.slot_labels import labelled_slots
    from tests.hotline_helpers import ticket

    slots = {
        "handoff": True, "unanswered": False, "walk_state": {"step": 2}, "offered_matters": ["a", "b"],
        "pending_facet": "region", "requested_slot": "ticket_phone",
        "ticket_content": "小区门口夜间施工噪音扰民", "ticket_phone": "13877001234", "region": "港口区",
        "ticket_location": "渔洲坪", "ticket_time": "昨天晚上", "ticket_name": "王女士", "ticket_type": "投诉",
        "matter": "建筑施工许可", "ticket_name_unused": None, "lookup_phone": "",
    }  # fmt: skip
    shown = [(f.label, f.value) for f in labelled_slots(slots)]
    assert shown == [
        ("诉求类型", "投诉"), ("诉求内容", "小区门口夜间施工噪音扰民"), ("事项", "建筑施工许可"), ("地区", "港口区"),
        ("地点", "渔洲坪"), ("时间", "昨天晚上"), ("姓名", "王女士"), ("联系电话", "13877001234"),
    ]  # fmt: skip

    first, second = agents
    conversation = conv.start_conversation(session)
    conv.add_message(session, conversation.id, "citizen", "text", "转人工")
    handoff = handoffs.request_handoff(session, conversation.id, reason="request_human", slots=slots)
    filed = ticket(session, slots=slots)
    session.commit()

    def labels(fields: list[dict]) -> str:
        return "；".join(f"{f['label']}：{f['value']}" for f in fields)

    waiting = labels(first.get(f"/api/v1/agent/handoffs/{handoff.id}").json()["slot_fields"])
    assert "诉求内容：小区门口夜间施工噪音扰民" in waiting and "地区：港口区" in waiting
    assert "138****1234" in waiting and "13877001234" not in waiting, "masked until claimed"
    for internal in ("handoff", "ticket_content", "region", "walk_state", "true", "True", "pending_facet"):
        assert internal not in waiting
    first.post(f"/api/v1/agent/handoffs/{handoff.id}/claim")
    assert "联系电话：13877001234" in labels(first.get(f"/api/v1/agent/handoffs/{handoff.id}").json()["slot_fields"])
    on_ticket = labels(second.get(f"/api/v1/tickets/{filed.id}").json()["slot_fields"])
    assert on_ticket.startswith("诉求类型：投诉；诉求内容：") and "handoff" not in on_ticket


def test_ticket_from_a_conversation(app, agents, session):
    from common import conversations as conv
    from hotline.models import Ticket

    first, _second = agents
    conversation_id, handoff_id = _waiting_conversation(session)
    assert first.get(f"/api/v1/agent/handoffs/{handoff_id}/ticket-draft").status_code == 409
    first.post(f"/api/v1/agent/handoffs/{handoff_id}/claim")
    draft = first.get(f"/api/v1/agent/handoffs/{handoff_id}/ticket-draft").json()
    assert "夜间施工噪音" in draft["content"] and "/request_human" not in draft["content"]
    assert draft["phone"] == "13877001234" and draft["type"] == "投诉" and draft["location"] == "港口区渔洲坪"
    assert 0 <= draft["category_confidence"] <= 1 and draft["suggested_department"]

    assert first.post(f"/api/v1/agent/handoffs/{handoff_id}/ticket", json={"phone": "12"}).status_code == 400
    made = first.post(f"/api/v1/agent/handoffs/{handoff_id}/ticket", json={"priority": "urgent"})
    assert made.status_code == 201, made.text
    ticket = session.get(Ticket, made.json()["id"])
    assert ticket.conversation_id == conversation_id and ticket.phone == "13877001234"
    assert ticket.priority == "urgent" and ticket.slots["ticket_location"] == "港口区渔洲坪"
    assert ticket.category is not None and ticket.category_confidence is not None
    card = conv.messages_since(session, conversation_id)[-1]
    assert card.kind == "ticket" and card.payload["number"] == ticket.number

    # The ticket shows the conversation it came from: in full to the agent who holds it, masked to others.
    session.commit()
    own = first.post(f"/api/v1/tickets/{ticket.id}/claim").json()
    said = "\n".join(line["text"] or "" for line in own["transcript"] if line["sender"] == "citizen")
    assert "夜间施工噪音" in said and "13877001234" in said
    other = _second.get(f"/api/v1/tickets/{ticket.id}").json()
    assert "13877001234" not in json.dumps(other["transcript"], ensure_ascii=False)


def test_ticket_desk(app, agents, session):
    from tests.hotline_helpers import ticket

    first, second = agents
    admin = login(app, "boss")
    normal = ticket(session, content="小区门口夜间施工噪音扰民，电话13877001234", phone="13877001234")
    urgent = ticket(session, content="工厂偷排废水，河水发黑发臭", phone="13977005678", priority="urgent")
    session.commit()

    listed = first.get("/api/v1/tickets").json()
    assert [i["number"] for i in listed["items"]] == [urgent.number, normal.number]
    row = listed["items"][1]
    assert row["phone"] == "138****1234" and "13877001234" not in row["preview"]
    assert row["remaining_seconds"] > 0 and row["overdue"] is False and listed["now"]

    assert first.post(f"/api/v1/tickets/{normal.id}/claim").status_code == 200
    assert second.post(f"/api/v1/tickets/{normal.id}/claim").status_code == 409
    assert first.get("/api/v1/tickets", params={"scope": "mine"}).json()["items"][0]["id"] == normal.id
    assert [i["id"] for i in second.get("/api/v1/tickets", params={"scope": "unclaimed"}).json()["items"]] == [
        urgent.id
    ]

    mine = first.get(f"/api/v1/tickets/{normal.id}").json()
    assert mine["contact_in_full"] and mine["phone"] == "13877001234" and "13877001234" in mine["content"]
    assert mine["allowed_actions"] == ["受理", "督办"] and mine["assigned_agent_name"] == "李坐席"
    assert mine["prediction"]["category"] in mine["categories"] and mine["prediction"]["suggested_department"]
    theirs = second.get(f"/api/v1/tickets/{normal.id}").json()
    assert not theirs["contact_in_full"] and theirs["phone"] == "138****1234" and "13877001234" not in theirs["content"]

    def move(client, action, **fields):
        return client.post(f"/api/v1/tickets/{normal.id}/transitions", json={"action": action, **fields})

    illegal = move(first, "办结", resolution="已处理")
    assert illegal.status_code == 409 and "不能直接办结" in illegal.json()["detail"]
    assert move(second, "受理").status_code == 409  # someone else's ticket
    assert move(first, "督办").status_code == 403
    assert move(first, "受理").json()["status"] == "已受理"
    missing = move(first, "派单")
    assert missing.status_code == 400 and missing.json()["detail"] == "请填写承办部门"
    assert move(first, "派单", department=mine["suggested_department"]).json()["status"] == "已派单"
    assert move(admin, "督办", note="群众反映强烈").json()["supervised"] is True

    changed = first.put(f"/api/v1/tickets/{normal.id}/category", json={"category": "环境保护"}).json()
    assert changed["category"] == "环境保护" and changed["category_confidence"] is None
    assert changed["suggested_department"] == "生态环境局"
    assert changed["events"][-1]["action"] == "改分类"
    assert first.put(f"/api/v1/tickets/{normal.id}/category", json={"category": "火星"}).status_code == 400

    move(first, "签收")
    done = move(first, "办结", resolution="已责令施工方夜间停工")
    assert done.json()["status"] == "已办结" and done.json()["resolution"] == "已责令施工方夜间停工"
    history = ["登记", "认领", "受理", "派单", "督办", "改分类", "签收", "办结"]
    assert [e["action"] for e in done.json()["events"]] == history
    assert normal.id not in [i["id"] for i in first.get("/api/v1/tickets").json()["items"]]

    by_number = first.get("/api/v1/tickets/search", params={"q": normal.number}).json()["items"]
    assert [i["id"] for i in by_number] == [normal.id]
    by_phone = first.get("/api/v1/tickets/search", params={"q": "139 7700 5678"}).json()["items"]
    assert [i["id"] for i in by_phone] == [urgent.id] and by_phone[0]["phone"] == "139****5678"
    assert first.get("/api/v1/tickets/99999").status_code == 404


def test_configured_signing_key_is_used_and_nothing_is_written(app, data_dir, monkeypatch):
    from banshi.config import get_settings
    from channels import auth

    monkeypatch.setenv("BANSHI_SECRET_KEY", "a-key-shared-by-every-replica")
    get_settings.cache_clear()
    token = login(app, "agent1").cookies[auth.COOKIE_NAME]
    assert not (data_dir / auth.SECRET_FILE).exists()
    monkeypatch.setenv("BANSHI_SECRET_KEY", "another-key")
    get_settings.cache_clear()
    assert TestClient(app).get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_console_page_is_served_in_chinese_with_only_local_assets(app):
    client = TestClient(app)
    page = client.get("/console")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in page.text and "坐席工作台" in page.text
    for name, kind in (("console.js", "javascript"), ("console-ticket.js", "javascript"), ("console.css", "text/css")):
        asset = client.get(f"/console/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", asset.text), name
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    assert client.get("/console/secrets.txt").status_code == 404
