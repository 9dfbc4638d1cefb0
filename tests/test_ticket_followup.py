"""Closing the loop with the citizen, without Rasa: what a closed ticket's lookup says and carries, and the
chat's rating of it through the citizen API, as the agent then reads it at the desk.

Real SQLite database and the real app through TestClient; the ticket card is put in the conversation the
way the dialogue's lookup puts it there (``hotline.followup.card``, only after the number and phone matched).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from channels.accounts import UserIn, create_user
from tests.hotline_helpers import bring_to, staff, ticket
from tests.staff_api import PASSWORD, login

RESULT = "已责令施工方夜间停工"


@pytest.fixture
def session(data_dir) -> Iterator:
    from sqlalchemy.orm import sessionmaker

    from banshi.db import get_engine, migrate

    migrate()
    with sessionmaker(get_engine(), expire_on_commit=False)() as session:
        yield session


@pytest.fixture
def app(session):
    from channels.app import create_app

    create_user(session, UserIn(username="agent1", display_name="李坐席", role="agent", password=PASSWORD))
    session.commit()
    return create_app()


def _finished(session, status: str = "已办结"):
    agent = staff(session, "desk", name="孙坐席")
    return bring_to(session, ticket(session, phone="13877001234"), agent, status)


def _looked_up(session, item) -> str:
    """A conversation in which the citizen looked the ticket up: the dialogue showed its card."""
    from common import conversations as conv
    from hotline import followup

    conversation = conv.start_conversation(session)
    conv.add_message(session, conversation.id, "citizen", "text", f"查询工单 {item.number}")
    conv.add_message(session, conversation.id, "bot", "text", followup.status_reply(item))
    conv.add_message(session, conversation.id, "bot", "ticket", None, followup.card(item))
    session.commit()
    return conversation.id


def test_a_closed_ticket_tells_its_result_and_department_and_an_open_one_does_not(session):
    from hotline import followup

    done = _finished(session)
    card = followup.card(done)
    assert card == {
        "type": "ticket", "number": done.number, "ticket_type": "投诉", "status": "已办结",
        "department": "港口区住房和城乡建设局", "resolution": RESULT, "rating": None, "rateable": True,
    }  # fmt: skip
    said = followup.status_reply(done)
    assert "当前状态：已办结" in said and "承办部门：港口区住房和城乡建设局" in said and f"办理结果：{RESULT}" in said
    assert "评分" in said

    fresh = ticket(session, phone="13877001234")
    assert followup.card(fresh) == {"type": "ticket", "number": fresh.number, "ticket_type": "投诉", "status": "待受理"}
    assert followup.status_reply(fresh).endswith("工作人员办理后会通过您留下的手机号码联系您。")
    assert "办理结果" not in followup.status_reply(fresh)


def test_the_citizen_rates_a_ticket_from_the_chat_and_the_agent_reads_it(app, session):
    from common import conversations as conv

    done = _finished(session)
    conversation_id = _looked_up(session, done)
    citizen = TestClient(app)
    url = f"/api/v1/conversations/{conversation_id}/ticket-rating"

    rated = citizen.post(url, json={"number": done.number, "score": 4})
    assert rated.status_code == 200, rated.text
    assert (
        rated.json().items() >= {"number": done.number, "status": "已回访", "rating": 4, "resolution": RESULT}.items()
    )
    thanks = conv.messages_since(session, conversation_id)[-1]
    assert (thanks.sender, thanks.kind) == ("system", "text") and "4 分" in thanks.text

    agent = login(app, "agent1")
    seen = agent.get(f"/api/v1/tickets/{done.id}").json()
    assert (seen["status"], seen["rating"]) == ("已回访", 4)
    assert seen["events"][-1].items() >= {"action": "回访", "actor_name": "市民"}.items()
    assert seen["events"][-1]["details"]["by"] == "citizen"

    again = citizen.post(url, json={"number": done.number, "score": 2})  # a change of mind is kept, not lost
    assert again.status_code == 200 and again.json()["rating"] == 2
    assert [e["action"] for e in agent.get(f"/api/v1/tickets/{done.id}").json()["events"]][-2:] == ["回访", "评价"]


def test_only_a_ticket_shown_in_this_conversation_can_be_rated_and_errors_are_in_chinese(app, session):
    from common import conversations as conv

    done = _finished(session)
    open_one = ticket(session, phone="13877001234")
    stranger = conv.start_conversation(session).id
    session.commit()
    citizen = TestClient(app)

    refused = citizen.post(f"/api/v1/conversations/{stranger}/ticket-rating", json={"number": done.number, "score": 5})
    assert refused.status_code == 403 and "请先凭工单编号和手机号码查询" in refused.json()["detail"]
    unknown = citizen.post(
        f"/api/v1/conversations/{stranger}/ticket-rating", json={"number": "12345-20200101-0001", "score": 5}
    )
    assert unknown.status_code == 403

    asked = _looked_up(session, open_one)
    early = citizen.post(f"/api/v1/conversations/{asked}/ticket-rating", json={"number": open_one.number, "score": 5})
    assert early.status_code == 409 and "办结后才能评价" in early.json()["detail"]

    asked = _looked_up(session, done)
    too_high = citizen.post(f"/api/v1/conversations/{asked}/ticket-rating", json={"number": done.number, "score": 6})
    assert too_high.status_code == 422 and too_high.json()["message"] == "评分不能大于 5"
    garbled = citizen.post(f"/api/v1/conversations/{asked}/ticket-rating", json={"number": "工单1号", "score": 3})
    assert garbled.status_code == 422 and garbled.json()["message"] == "工单编号格式不正确"
    gone = citizen.post(f"/api/v1/conversations/{'0' * 32}/ticket-rating", json={"number": done.number, "score": 3})
    assert gone.status_code == 404 and "未找到该会话" in gone.json()["detail"]
    session.expire_all()
    assert (done.status, done.rating) == ("已办结", None), "nothing refused was recorded"


def test_the_conversation_that_filed_the_ticket_may_rate_it(app, session):
    """The filing card counts as shown: the citizen who filed it in this conversation need not look it up."""
    from common import conversations as conv

    conversation_id = conv.start_conversation(session).id
    done = _finished(session)
    conv.add_message(session, conversation_id, "bot", "ticket", None,
                     {"type": "ticket", "number": done.number, "ticket_type": "投诉", "status": "待受理"})  # fmt: skip
    session.commit()
    rated = TestClient(app).post(
        f"/api/v1/conversations/{conversation_id}/ticket-rating", json={"number": done.number, "score": 5}
    )
    assert rated.status_code == 200 and rated.json()["rating"] == 5
