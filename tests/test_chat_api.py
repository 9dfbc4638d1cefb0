"""The citizen chat API in-process (TestClient) against a real Rasa server and action server over the
sample catalogue: a guide ends in a checklist, a complaint in a ticket, 转人工 in the agents' queue."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.browser import LiveStack

pytestmark = pytest.mark.slow
TICKET_NUMBER = re.compile(r"^12345-\d{8}-\d{4,}$")


@pytest.fixture(scope="module")
def client(live_stack: LiveStack) -> Iterator[TestClient]:
    """A gateway in this process over the shared stack's Rasa and database (``LiveStack.in_process``)."""
    with live_stack.in_process():
        from channels.app import create_app

        with TestClient(create_app()) as test_client:
            yield test_client


class Citizen:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.id = client.post("/api/v1/conversations").json()["id"]

    def say(self, text: str, payload: str | None = None) -> list[dict]:
        body = {"text": text, **({"payload": payload} if payload else {})}
        response = self.client.post(f"/api/v1/conversations/{self.id}/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def click(self, replies: list[dict], title: str) -> list[dict]:
        button = next(b for m in replies for b in (m["buttons"] or []) if b["title"] == title)
        return self.say(button["title"], button["payload"])


def _texts(replies: list[dict]) -> str:
    return "\n".join(m["text"] or "" for m in replies)


def test_a_guide_ends_in_a_checklist(client):
    citizen = Citizen(client)
    replies = citizen.say("换身份证要带什么材料")
    assert replies[0]["sender"] == "citizen" and all(m["sender"] == "bot" for m in replies[1:])
    replies = citizen.click(replies, "直接告诉我全部")
    assert replies[0]["text"] == "直接告诉我全部"
    [checklist] = [m["checklist"] for m in replies if m["kind"] == "checklist"]
    assert checklist["matter"]["name"] == "居民身份证换领"
    assert checklist["materials"] and {m["status"] for m in checklist["materials"]} == {"unknown"}
    assert checklist["location"]
    transcript = client.get(f"/api/v1/conversations/{citizen.id}/transcript").json()
    assert [m["kind"] for m in transcript["messages"]].count("checklist") == 1


def test_a_complaint_ends_in_a_ticket(client):
    citizen = Citizen(client)
    replies = citizen.say("我要投诉港口区渔洲坪路口的路灯坏了一个月没人修")
    answers = [
        ("什么地点", "港口区渔洲坪路口"),
        ("什么时候", "上个月开始"),
        ("怎么称呼", "匿名"),
        ("手机号码", "13800138000"),
    ]
    for _turn in range(8):
        if any(b["title"] == "确认提交" for m in replies for b in (m["buttons"] or [])):
            break
        question = _texts(replies)
        answer = next((a for cue, a in answers if cue in question), None)
        assert answer, f"unexpected question: {question}"
        replies = citizen.say(answer)
    replies = citizen.click(replies, "确认提交")
    [ticket] = [m["ticket"] for m in replies if m["kind"] == "ticket"]
    assert TICKET_NUMBER.match(ticket["number"]) and ticket["ticket_type"] == "投诉" and ticket["status"] == "待受理"

    from banshi.db import session_scope
    from hotline.tickets import find_ticket

    with session_scope() as session:
        filed = find_ticket(session, ticket["number"], "13800138000")
        assert filed is not None and filed.conversation_id == citizen.id


def test_asking_for_a_person_queues_the_conversation_with_its_slots(client):
    from banshi.db import session_scope
    from hotline.handoffs import waiting_handoffs
    from hotline.models import Handoff

    citizen = Citizen(client)
    citizen.say("办身份证要带什么")
    replies = citizen.say("转人工")
    assert [m["kind"] for m in replies][-2:] == ["handoff", "text"] and replies[-1]["sender"] == "system"
    assert client.get(f"/api/v1/conversations/{citizen.id}").json()["mode"] == "waiting"
    with session_scope() as session:
        [queued] = [h for h in waiting_handoffs(session) if h.conversation_id == citizen.id]
        assert queued.transcript[0]["text"] == "办身份证要带什么"
        assert session.get(Handoff, queued.id).slots.get("matter_id") == "bs-sfz-sc"
    quiet = citizen.say("请问还要多久")
    assert [m["sender"] for m in quiet] == ["citizen"], "the bot is silent while the citizen waits"


def test_asking_for_a_person_in_the_ticket_form_gives_the_agent_a_draft_with_the_answers(client):
    """The citizen answers the ticket form (place, time, phone) but files nothing and asks for a person:
    the agent who takes the conversation finds those answers in the ticket draft, not blanks to ask again."""
    from banshi.db import session_scope
    from channels.accounts import UserIn, create_user
    from hotline.handoffs import waiting_handoffs
    from tests.staff_api import PASSWORD

    citizen = Citizen(client)
    replies = citizen.say("我要投诉工地夜间施工噪音太大，影响休息")
    answers = [
        ("什么地点", "港口区渔洲坪街道金海湾小区"),
        ("什么时候", "每天晚上十一点以后"),
        ("怎么称呼", "匿名"),
        ("手机号码", "13877001234"),
    ]
    given = []
    for _turn in range(8):
        if any(b["title"] == "确认提交" for m in replies for b in (m["buttons"] or [])):
            break
        question = _texts(replies)
        answer = next((a for cue, a in answers if cue in question), None)
        assert answer, f"unexpected question: {question}"
        given.append(answer)
        replies = citizen.say(answer)
    assert given[0] == "港口区渔洲坪街道金海湾小区" and "13877001234" in given, given
    replies = citizen.say("转人工")
    assert not [m for m in replies if m["kind"] == "ticket"], "nothing was filed"
    assert client.get(f"/api/v1/conversations/{citizen.id}").json()["mode"] == "waiting"
    with session_scope() as session:
        create_user(session, UserIn(username="draft-agent", display_name="周坐席", role="agent", password=PASSWORD))
        [handoff_id] = [h.id for h in waiting_handoffs(session) if h.conversation_id == citizen.id]

    agent = TestClient(client.app)
    assert agent.post("/api/v1/auth/login", json={"username": "draft-agent", "password": PASSWORD}).status_code == 200
    assert agent.post(f"/api/v1/agent/handoffs/{handoff_id}/claim").status_code == 200
    draft = agent.get(f"/api/v1/agent/handoffs/{handoff_id}/ticket-draft").json()
    assert draft["location"] == "港口区渔洲坪街道金海湾小区"
    assert draft["event_time"] == "每天晚上十一点以后"
    assert draft["phone"] == "13877001234" and draft["type"] == "投诉"
    assert "夜间施工噪音" in draft["content"] and draft["name"] == "匿名"


def _requested(replies: list[dict]) -> list[str]:
    """The form slots the bot asked for in this turn, from the turn's outcomes (data, not wording)."""
    return [o["slot"] for m in replies for o in m["outcomes"] if o["kind"] == "slot_requested"]


def test_a_complaint_that_says_where_and_when_is_not_asked_again(client):
    citizen = Citizen(client)
    complaint = (
        "我要投诉，港口区渔洲坪沙潭江路的工地昨天晚上11点还在施工，打桩的声音特别大，"
        "家里老人孩子都睡不着，已经不是第一次了，希望有关部门管一管。"
    )
    replies = citizen.say(complaint)
    asked = _requested(replies)
    answers = {"ticket_name": "匿名", "ticket_phone": "13800138000"}
    for _turn in range(5):
        if any(b["title"] == "确认提交" for m in replies for b in (m["buttons"] or [])):
            break
        [slot] = _requested(replies)
        assert slot in answers, f"asked again for what the complaint said: {slot}"
        replies = citizen.say(answers[slot])
        asked += _requested(replies)
    assert asked == ["ticket_name", "ticket_phone", "ticket_confirmed"]  # the last: the summary
    summary = _texts(replies)
    assert "地点：港口区渔洲坪沙潭江路" in summary and "时间：昨天晚上11点" in summary, summary
    replies = citizen.click(replies, "确认提交")
    [ticket] = [m["ticket"] for m in replies if m["kind"] == "ticket"]

    from banshi.db import session_scope
    from hotline.tickets import find_ticket

    with session_scope() as session:
        filed = find_ticket(session, ticket["number"], "13800138000")
        assert filed.content.startswith("我要投诉，港口区渔洲坪沙潭江路的工地")
        assert (filed.location, filed.event_time) == ("港口区渔洲坪沙潭江路", "昨天晚上11点")


def _stated(replies: list[dict], kind: str) -> list[dict]:
    """What the turn did, as data: the outcomes the citizen's message carries."""
    return [o for m in replies if m["sender"] == "citizen" for o in m["outcomes"] if o["kind"] == kind]


def test_a_district_without_the_matter_is_told_so_and_gets_another_districts_guide(client):
    """上思县 lists no marriage registration; 港口区 does: said so, with 港口区's window, not a decline."""
    citizen = Citizen(client)
    replies = citizen.say("我在上思县，领结婚证要带什么材料")
    assert [o["matter_id"] for o in _stated(replies, "guide_presented")] == ["bs-hy-jh"]
    said = _texts(replies)
    assert "上思县暂未收录这个事项，以下是其他地区的办事指南" in said
    assert "办理地点（港口区）：港口区民政局婚姻登记处" in said


def test_a_named_district_hears_its_own_window_and_that_it_can_be_done_online_first(client):
    citizen = Citizen(client)
    replies = citizen.say("我在东兴市，个体工商户设立登记怎么办理")
    assert [o["matter_id"] for o in _stated(replies, "guide_presented")] == ["bs-gtgsh-sl"], _texts(replies)
    guide = next(m["text"] for m in replies if m["sender"] == "bot" and m["text"]).splitlines()
    assert guide[:2] == ["为您找到办事指南：个体工商户设立登记", "可全程网办，无需跑腿：https://zwfw.gxzf.gov.cn/yct"]
    assert any(line.startswith("办理地点（东兴市）：东兴市政务服务中心市场监管窗口") for line in guide)

    replies = citizen.click(replies, "直接告诉我全部")
    [checklist] = [m["checklist"] for m in replies if m["kind"] == "checklist"]
    assert checklist["location"].startswith("东兴市政务服务中心") and checklist["fully_online"] is True
    replies = citizen.say("在哪里办")
    assert [o["matter_id"] for o in _stated(replies, "facet_answered")] == ["bs-gtgsh-sl"]
    assert f"办理地点（东兴市）：{checklist['location']}" in _texts(replies), "the answer and the checklist agree"
