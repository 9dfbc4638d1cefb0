"""The desk that assigns itself, on a real database: capacity, skills, round-robin, the answer clock,
business hours, and the supervisors' board. The race (50 conversations at once) is in test_desk_race.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from banshi.config import Settings
from common import conversations as conv
from common.clock import utcnow
from hotline import board, desk, handoffs
from hotline.assignment import run_desk
from hotline.hours import desk_hours
from hotline.lifecycle import Actor
from hotline.models import Handoff, Ticket, TicketEvent
from tests.hotline_helpers import staff, ticket

POLLUTION = "小区旁边的化工厂每天晚上偷排废气，气味刺鼻，河里的鱼都死了"
WAGES = "工资被拖欠了三个月，老板一直不给发"
SCHOOL = "孩子上学的学位问题，学校不给报名"


def settings(**overrides) -> Settings:
    return Settings(**{"desk_max_conversations": 2, "desk_max_tickets": 3, **overrides})


def online(session, username: str, *skills: str, role: str = "agent") -> Actor:
    agent = staff(session, username, role=role)
    desk.set_status(session, agent.id, "online")
    desk.set_skills(session, agent.id, list(skills))
    return agent


def citizen(session, text: str, *, slots: dict | None = None) -> Handoff:
    conversation = conv.start_conversation(session)
    conv.add_message(session, conversation.id, "citizen", "text", text)
    conv.add_message(session, conversation.id, "citizen", "text", "转人工")
    return handoffs.request_handoff(session, conversation.id, slots=slots)


def holders(session, items: list[Handoff]) -> list[int | None]:
    for item in items:
        session.refresh(item)
    return [item.agent_id for item in items]


def told(session, handoff: Handoff) -> list[str]:
    return [m.text for m in conv.messages_since(session, handoff.conversation_id) if m.sender == "system"]


def test_nobody_online_assigns_nothing_and_capacity_is_never_passed(session):
    waiting = [citizen(session, POLLUTION) for _ in range(5)]
    assert run_desk(session, settings=settings()).conversations == []  # agents exist only once online
    a, b = online(session, "a"), online(session, "b")
    run = run_desk(session, settings=settings())
    assert len(run.conversations) == 4
    assert sorted(holders(session, waiting)[:4]) == [a.id, a.id, b.id, b.id], "oldest first, 2 each"
    assert waiting[4].status == "waiting", "the fifth waits: both agents are at capacity"
    conversation = conv.get_conversation(session, waiting[0].conversation_id)
    assert conversation.mode == "agent" and conversation.agent_id == waiting[0].agent_id
    assert told(session, waiting[0]) == [handoffs.JOINED.format(name="a" if waiting[0].agent_id == a.id else "b")]

    handoffs.close_handoff(session, waiting[0].id, Actor(id=waiting[0].agent_id, username="x", display_name="x",
                                                         role="agent"))  # fmt: skip
    run_desk(session, settings=settings())
    assert waiting[4].status == "claimed" and waiting[4].agent_id == waiting[0].agent_id, "freed capacity is used"
    desk.set_status(session, a.id, "away")
    third = citizen(session, WAGES)
    run_desk(session, settings=settings(desk_max_conversations=3))
    assert third.agent_id == b.id, "an agent who is away is given nothing new"


def test_skills_send_each_subject_to_its_specialists_then_to_generalists(session):
    env, labour = online(session, "env", "环境保护"), online(session, "labour", "人力资源和社会保障局")
    pollution = citizen(session, POLLUTION)
    wages = citizen(session, "我有个问题", slots={"ticket_content": WAGES})  # the form's content decides
    assert (pollution.category, wages.category) == ("环境保护", "劳动和社会保障")
    run_desk(session, settings=settings())
    assert holders(session, [pollution, wages]) == [env.id, labour.id], "by category, or by its department"

    school = citizen(session, SCHOOL)
    run_desk(session, settings=settings())
    assert school.status == "waiting", "no specialist of another subject takes it"
    anyone = online(session, "anyone")  # no skills: a generalist
    run_desk(session, settings=settings())
    assert school.agent_id == anyone.id

    more = [citizen(session, POLLUTION) for _ in range(2)]
    run_desk(session, settings=settings())
    assert holders(session, more) == [env.id, anyone.id], "the specialist first; when full, a generalist"

    plain = citizen(session, "你好")  # nothing to read: None, anyone may take it
    assert plain.category is None
    run_desk(session, settings=settings(desk_max_conversations=3))
    assert plain.agent_id == labour.id, "the least loaded agent, whatever their skills"


def test_new_tickets_go_by_skill_and_ticket_capacity_with_the_desk_in_the_history(session):
    env, other = online(session, "env", "环境保护"), online(session, "other")
    items = [ticket(session, content=POLLUTION, category="环境保护") for _ in range(4)]
    bus = ticket(session, content="公交车经常不按站点停车", category="交通运输")
    run = run_desk(session, settings=settings())
    assert [agent for _, agent in run.tickets] == [env.id, env.id, env.id, other.id, other.id]
    session.refresh(bus)
    assert bus.assigned_agent == other.id
    event = session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == items[0].id, TicketEvent.action == "分配")
    )
    assert (event.actor_id, event.actor_name, event.details["agent_id"]) == (None, "自动分配", env.id)
    late = ticket(session, content=POLLUTION, category="环境保护")
    run_desk(session, settings=settings(desk_max_tickets=0))
    assert session.get(Ticket, late.id).assigned_agent is None, "desk_max_tickets 0: tickets are claimed by hand"


def test_round_robin_among_equals(session):
    agents = [online(session, name) for name in ("a", "b", "c")]
    order = []
    for _ in range(6):  # each conversation ends before the next arrives: every agent's load is 0 each time
        item = citizen(session, POLLUTION)
        run_desk(session, settings=settings())
        order.append(item.agent_id)
        handoffs.hand_back_to_bot(session, item.id, Actor(id=item.agent_id, username="x", display_name="x",
                                                          role="agent"))  # fmt: skip
    assert order == [a.id for a in agents] * 2


def test_an_unanswered_conversation_goes_back_to_the_queue_and_the_board_shows_it(session):
    start = utcnow()
    slow, quick = online(session, "slow"), online(session, "quick")
    first, second = citizen(session, POLLUTION), citizen(session, WAGES)
    run_desk(session, now=start, settings=settings())
    assert holders(session, [first, second]) == [slow.id, quick.id]
    handoffs.reply_to_handoff(session, second.id, quick, "您好，我来帮您查一下")

    minutes = settings().desk_answer_minutes
    assert run_desk(session, now=start + timedelta(minutes=minutes - 0.5), settings=settings()).returned == []
    run = run_desk(session, now=start + timedelta(minutes=minutes + 0.5), settings=settings())
    assert run.returned == [first.id], "the answered one stays"
    assert run.conversations == [(first.id, quick.id)], "straight to someone else, never back to who missed it"
    assert (first.returned_count, first.returned_from, first.agent_id) == (1, slow.id, quick.id)
    assert (desk.desk_of(session, slow.id).status, desk.desk_of(session, slow.id).away_reason) == ("away", "未应答")
    assert told(session, first)[-2:] == [handoffs.RETURNED, handoffs.JOINED.format(name="quick")]

    shown = board.board(session, now=start + timedelta(minutes=minutes + 1), settings=settings())
    assert [(r.handoff_id, r.returned_from, r.agent_name) for r in shown.talking] == [
        (first.id, "slow", "quick"),
        (second.id, None, "quick"),
    ]
    places = {a.name: (a.status, a.away_reason, a.conversations, a.full) for a in shown.agents}
    assert places == {"slow": ("away", "未应答", 0, False), "quick": ("online", None, 2, True)}

    desk.set_status(session, quick.id, "away")
    handoffs.transfer_handoff(session, first.id, quick, slow.id)
    assert first.assigned_at is None, "a person's transfer stops the desk's clock"
    late = run_desk(session, now=start + timedelta(hours=1), settings=settings())
    assert late.returned == []


def test_the_board_counts_waiting_talking_and_tickets_at_risk(session):
    now = utcnow()
    online(session, "a")
    waiting = citizen(session, SCHOOL)
    waiting.created_at = now - timedelta(minutes=10)
    fresh = citizen(session, "你好")
    urgent = ticket(session, priority="urgent", now=now - timedelta(days=7))  # overdue
    ticket(session)  # due in weeks: not at risk
    shown = board.board(session, now=now, settings=settings(desk_reply_minutes=5))
    assert [(r.handoff_id, r.at_risk) for r in shown.waiting] == [(waiting.id, True), (fresh.id, False)]
    assert shown.waiting[0].department == "教育局"
    assert [(t.number, t.overdue) for t in shown.tickets_at_risk] == [(urgent.number, True)]
    assert shown.tickets_at_risk[0].remaining_text.startswith("已超时")
    assert [(a.name, a.status, a.conversations) for a in shown.agents] == [("a", "online", 0)]
    assert "13877001234" not in shown.model_dump_json(), "no phone numbers on the board"


LUNCH = ["09:00-12:00", "13:30-17:30"]


@pytest.mark.parametrize(
    ("local", "is_open", "opens"),
    [
        (datetime(2026, 11, 30, 10, 0), True, None),  # Monday morning
        (datetime(2026, 11, 30, 12, 30), False, datetime(2026, 11, 30, 13, 30)),  # lunch
        (datetime(2026, 11, 30, 17, 30), False, datetime(2026, 12, 1, 9, 0)),  # closing time is closed
        (datetime(2026, 12, 4, 20, 0), False, datetime(2026, 12, 7, 9, 0)),  # Friday night → Monday
        (datetime(2026, 12, 31, 16, 0), False, datetime(2027, 1, 2, 9, 0)),  # holidays, then a worked Saturday
        (datetime(2027, 1, 2, 9, 30), True, None),  # the Saturday worked (调休)
    ],
)
def test_business_hours_with_a_lunch_break_holidays_and_worked_weekends(local, is_open, opens):
    shanghai = timedelta(hours=8)
    rules = Settings(desk_hours=LUNCH, sla_holidays=[date(2026, 12, 31), date(2027, 1, 1)],
                     sla_extra_workdays=[date(2027, 1, 2)], desk_reply_minutes=7)  # fmt: skip
    hours = desk_hours(local - shanghai, rules)
    assert hours.open is is_open
    assert hours.reply_within_minutes == (7 if is_open else None)
    assert hours.opens_at == (None if opens is None else opens - shanghai)


def test_no_hours_set_means_always_open():
    assert desk_hours(datetime(2026, 12, 5, 3, 0), Settings(desk_hours=[])).open


def test_bad_hours_stop_the_process_at_start():
    with pytest.raises(ValueError, match="HH:MM"):
        Settings(desk_hours=["9-12"])
    with pytest.raises(ValueError, match="overlap"):
        Settings(desk_hours=["09:00-12:00", "11:00-13:00"])
