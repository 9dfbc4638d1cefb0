"""The desk through the API: the supervisors' wall, an agent going online and being given the waiting
citizen at once, skills set by a supervisor, and 转人工 inside and outside business hours.

Real SQLite, real password hashing, the real app (no lifespan: the desk's clock is not running, so what
happens here happens because of the request). Rasa is down: the 转人工 button goes on without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.accounts import UserIn, create_user
from tests.staff_api import PASSWORD, assert_guarded, login

USERS = {"agent1": ("agent", "李坐席"), "agent2": ("agent", "王坐席"), "lead": ("supervisor", "张班长"),
         "editor1": ("editor", "赵编辑"), "boss": ("admin", "周主任")}  # fmt: skip
LUNCH = '["09:00-12:00", "13:30-17:30"]'


@pytest.fixture
def app(data_dir, monkeypatch) -> Iterator:
    from sqlalchemy.orm import sessionmaker

    from banshi.config import get_settings
    from banshi.db import get_engine, migrate
    from channels.app import create_app
    from channels.relay import Relay

    monkeypatch.setenv("BANSHI_DESK_HOURS", LUNCH)
    get_settings.cache_clear()
    migrate()
    with sessionmaker(get_engine())() as session:
        for username, (role, name) in USERS.items():
            create_user(session, UserIn(username=username, display_name=name, role=role, password=PASSWORD))
        session.commit()
    app = create_app()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app.state.relay = Relay("http://rasa.test", transport=httpx.MockTransport(down))
    yield app
    app.state.relay.close()


def at(monkeypatch, local: datetime) -> None:
    """The gateway's clock for 转人工, in Shanghai time."""
    from channels import relay

    monkeypatch.setattr(relay, "utcnow", lambda: local - timedelta(hours=8))


def ask_for_a_person(client: TestClient, words: str = "我家楼下的饭店油烟太大，熏得没法开窗") -> tuple[str, dict]:
    cid = client.post("/api/v1/conversations").json()["id"]
    client.post(f"/api/v1/conversations/{cid}/messages", json={"text": words})
    out = client.post(f"/api/v1/conversations/{cid}/handoff")
    assert out.status_code == 200, out.text
    return cid, out.json()


def test_the_board_and_skills_are_for_supervisors_and_admins(app):
    guarded = [("GET", "/api/v1/desk/board"), ("PUT", "/api/v1/desk/agents/1/skills"),
               ("PUT", "/api/v1/desk/agents/1/status")]  # fmt: skip
    assert_guarded(app, guarded, denied="agent1", allowed="lead")
    assert_guarded(app, [("GET", "/api/v1/desk/me"), ("PUT", "/api/v1/desk/me")], denied="editor1", allowed="agent1")
    assert login(app, "boss").get("/api/v1/desk/board").status_code == 200


def test_going_online_is_given_the_waiting_citizen_at_once(app, monkeypatch):
    at(monkeypatch, datetime(2026, 11, 30, 10, 0))  # a Monday morning
    citizen = TestClient(app)
    cid, out = ask_for_a_person(citizen)
    assert out["mode"] == "waiting" and out["desk"] == {"open": True, "reply_within_minutes": 5, "opens_at": None}
    assert "5分钟内" in out["messages"][0]["text"]

    agent, lead = login(app, "agent1"), login(app, "lead")
    assert agent.get("/api/v1/desk/me").json()["status"] == "away", "nobody is online until they say so"
    assert citizen.get(f"/api/v1/conversations/{cid}").json()["mode"] == "waiting"
    place = agent.put("/api/v1/desk/me", json={"status": "online"}).json()
    assert (place["status"], place["conversations"]) == ("online", 1)
    mine = agent.get("/api/v1/agent/handoffs").json()["mine"]
    assert [h["conversation_id"] for h in mine] == [cid]
    said = [m["text"] for m in citizen.get(f"/api/v1/conversations/{cid}/messages").json()]
    assert said[-1] == "人工客服李坐席已接入，正在为您服务。"

    board = lead.get("/api/v1/desk/board").json()
    assert [r["conversation_id"] for r in board["talking"]] == [cid] and board["waiting"] == []
    assert board["talking"][0]["agent_name"] == "李坐席"
    loads = {a["name"]: (a["status"], a["conversations"]) for a in board["agents"]}
    assert loads["李坐席"] == ("online", 1) and loads["王坐席"] == ("away", 0) and loads["张班长"] == ("away", 0)
    agent.post("/api/v1/auth/logout")
    assert login(app, "agent1").get("/api/v1/desk/me").json()["status"] == "away", "signing out sets them away"
    assert board["max_conversations"] == 5 and board["hours"]["hours"] == ["09:00-12:00", "13:30-17:30"]


def test_a_supervisor_sets_skills_and_sends_an_agent_away_but_never_online(app):
    lead, agent = login(app, "lead"), login(app, "agent2")
    me = agent.get("/api/v1/desk/me").json()
    skills = lead.put(f"/api/v1/desk/agents/{me['user_id']}/skills", json={"skills": ["环境保护", " 生态环境局 ", ""]})
    assert skills.json()["skills"] == ["环境保护", "生态环境局"]
    agent.put("/api/v1/desk/me", json={"status": "online"})
    refused = lead.put(f"/api/v1/desk/agents/{me['user_id']}/status", json={"status": "online"})
    assert refused.status_code == 400 and refused.json()["detail"] == "只有坐席本人可以设置为在线"
    away = lead.put(f"/api/v1/desk/agents/{me['user_id']}/status", json={"status": "away"})
    assert away.json()["status"] == "away" and agent.get("/api/v1/desk/me").json()["status"] == "away"
    editor_id = login(app, "editor1").get("/api/v1/auth/me").json()["id"]
    wrong = lead.put(f"/api/v1/desk/agents/{editor_id}/skills", json={"skills": ["环境保护"]})
    assert wrong.status_code == 400 and wrong.json()["detail"] == "该账号不是在岗坐席"


@pytest.mark.parametrize(
    ("local", "opens"),
    [(datetime(2026, 11, 30, 12, 30), "11月30日 13:30"), (datetime(2026, 12, 4, 20, 0), "12月7日 09:00")],
)
def test_outside_business_hours_the_citizen_is_offered_liuyan_not_a_queue(app, monkeypatch, local, opens):
    at(monkeypatch, local)
    citizen, lead = TestClient(app), login(app, "lead")
    cid, out = ask_for_a_person(citizen)
    assert out["mode"] == "bot", "nobody to answer: not put in a queue"
    assert out["desk"]["open"] is False and out["desk"]["reply_within_minutes"] is None
    assert out["desk"]["opens_at"].startswith(f"{local:%Y}-")
    [notice] = out["messages"]
    assert notice["buttons"] == [{"title": "留言咨询", "payload": '/seek_help{"ticket_type":"咨询"}'}]
    assert opens in notice["text"] and "09:00-12:00、13:30-17:30" in notice["text"]
    assert lead.get("/api/v1/desk/board").json()["waiting"] == []
    assert citizen.get(f"/api/v1/conversations/{cid}").json()["mode"] == "bot"
