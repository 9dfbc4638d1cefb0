"""The ticket lifecycle: every legal path, every illegal move refused in Chinese, every move recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hotline import lifecycle
from hotline.lifecycle import RULES, ConcurrentChange, IllegalTransition, TicketError
from hotline.models import STATUSES
from tests.hotline_helpers import bring_to, do, staff, ticket

T0 = datetime(2026, 11, 23, 1, 0)  # Monday 09:00 in Beijing, as naive UTC


def test_the_main_path_records_who_when_from_and_to(session):
    agent = staff(session, "zhang", name="张坐席")
    item = ticket(session, now=T0)
    for step, action in enumerate(["受理", "派单", "签收", "办结", "回访"], start=1):
        do(session, item, agent, action, now=T0 + timedelta(hours=step))
    assert item.status == "已回访"
    assert item.department == "港口区住房和城乡建设局"
    assert (item.resolution, item.rating) == ("已责令施工方夜间停工", 5)

    events = lifecycle.history(session, item)
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("登记", None, "待受理"),
        ("受理", "待受理", "已受理"),
        ("派单", "已受理", "已派单"),
        ("签收", "已派单", "办理中"),
        ("办结", "办理中", "已办结"),
        ("回访", "已办结", "已回访"),
    ]
    assert events[0].actor_name == "市民" and events[0].actor_id is None
    assert all(e.actor_id == agent.id and e.actor_name == "张坐席" for e in events[1:])
    assert [e.at for e in events] == [T0 + timedelta(hours=h) for h in range(6)]
    assert events[2].details == {"department": "港口区住房和城乡建设局"}
    assert events[5].details == {"rating": 5}
    entered = lifecycle.entered_at(session, item)
    assert entered["已办结"] == T0 + timedelta(hours=4) and set(entered) == set(STATUSES)


@pytest.mark.parametrize("from_status", ["已派单", "办理中"])
def test_send_back_returns_to_accepted_for_redispatch(session, from_status):
    agent = staff(session, "li")
    item = bring_to(session, ticket(session), agent, from_status)
    event = do(session, item, agent, "退回", reason="不属于本部门职责，应由街道办处理")
    assert (item.status, item.department) == ("已受理", None)
    assert (event.from_status, event.to_status) == (from_status, "已受理")
    assert event.note == "不属于本部门职责，应由街道办处理"
    assert event.details == {"department": "港口区住房和城乡建设局"}
    do(session, item, agent, "派单", department="渔洲坪街道办事处")
    do(session, item, agent, "签收")
    do(session, item, agent, "办结")
    assert item.status == "已办结" and item.department == "渔洲坪街道办事处"


@pytest.mark.parametrize("from_status", ["已派单", "办理中"])
def test_extension_moves_the_deadline_by_working_days_and_keeps_the_status(session, from_status):
    agent = staff(session, "wang")
    item = bring_to(session, ticket(session, type="咨询", now=T0), agent, from_status)
    assert item.due_at == datetime(2026, 11, 24, 10, 0)  # Tuesday 18:00 Beijing
    event = do(session, item, agent, "延期", reason="需现场勘查", working_days=3)
    assert item.status == from_status
    assert item.due_at == datetime(2026, 11, 27, 10, 0)  # Friday 18:00 Beijing
    assert (event.action, event.from_status, event.to_status) == ("延期", from_status, from_status)
    assert event.note == "需现场勘查"
    assert event.details["old_due_at"].startswith("2026-11-24") and event.details["new_due_at"].startswith("2026-11-27")
    do(session, item, agent, "延期", reason="等待检测报告", working_days=1)
    assert item.due_at == datetime(2026, 11, 30, 10, 0)  # over the weekend to Monday


def test_supervision_is_for_admins_on_open_tickets_once(session):
    agent, boss = staff(session, "agent1"), staff(session, "boss", role="admin", name="督办科")
    item = bring_to(session, ticket(session), agent, "办理中")
    with pytest.raises(TicketError, match=r"没有权限督办.*需要班长或管理员"):
        do(session, item, agent, "督办")
    event = do(session, item, boss, "督办", note="群众多次来电，请加快办理")
    assert item.supervised and item.status == "办理中"
    assert (event.actor_name, event.note) == ("督办科", "群众多次来电，请加快办理")
    assert "督办" not in lifecycle.allowed_actions(item)
    with pytest.raises(TicketError, match="已在督办中"):
        do(session, item, boss, "督办")
    closed = bring_to(session, ticket(session), agent, "已办结")
    with pytest.raises(IllegalTransition, match="当前为「已办结」，不能直接督办"):
        do(session, closed, boss, "督办")


ILLEGAL = [(status, action) for status in STATUSES for action in RULES if status not in RULES[action].sources]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_every_illegal_move_is_refused_in_chinese_and_changes_nothing(session, status, action):
    actor = staff(session, "root", role="admin")
    item = bring_to(session, ticket(session), actor, status)
    before = len(lifecycle.history(session, item))
    with pytest.raises(IllegalTransition) as caught:
        do(session, item, actor, action)
    assert f"工单 {item.number} 当前为「{status}」，不能直接{action}" in str(caught.value)
    assert item.status == status
    assert len(lifecycle.history(session, item)) == before


def test_the_example_message_for_resolving_a_new_ticket(session):
    item = ticket(session)
    with pytest.raises(IllegalTransition, match=r"^工单 12345-\d{8}-0001 当前为「待受理」，不能直接办结"):
        lifecycle.resolve(session, item, staff(session, "a"), "已处理")


def test_every_legal_move_is_offered(session):
    agent = staff(session, "b", role="admin")
    for status, actions in {
        "待受理": ["受理", "督办"],
        "已受理": ["派单", "督办"],
        "已派单": ["签收", "退回", "延期", "督办"],
        "办理中": ["办结", "退回", "延期", "督办"],
        "已办结": ["回访"],
        "已回访": [],
    }.items():
        item = bring_to(session, ticket(session), agent, status)
        assert lifecycle.allowed_actions(item) == actions


@pytest.mark.parametrize(
    ("status", "action", "kwargs", "message"),
    [
        ("办理中", "办结", {"resolution": "  "}, "请填写办理结果"),
        ("已派单", "退回", {"reason": ""}, "请填写退回原因"),
        ("已派单", "延期", {"reason": " "}, "请填写延期原因"),
        ("已派单", "延期", {"working_days": 0}, "至少为 1 个工作日"),
        ("已受理", "派单", {"department": ""}, "请填写承办部门"),
        ("已办结", "回访", {"rating": 6}, "1 到 5"),
        ("已办结", "回访", {"rating": 0}, "1 到 5"),
    ],
)
def test_required_reasons_and_ratings(session, status, action, kwargs, message):
    agent = staff(session, "c")
    item = bring_to(session, ticket(session), agent, status)
    with pytest.raises(TicketError, match=message):
        do(session, item, agent, action, **kwargs)
    assert item.status == status


def test_editors_do_not_work_tickets_and_claimed_tickets_belong_to_their_agent(session):
    from hotline.claims import claim_ticket

    editor, mine, other, admin = (
        staff(session, "ed", role="editor"),
        staff(session, "mine"),
        staff(session, "other"),
        staff(session, "adm", role="admin"),
    )
    item = ticket(session)
    with pytest.raises(TicketError, match="没有权限受理"):
        do(session, item, editor, "受理")
    assert claim_ticket(session, item.id, mine)
    with pytest.raises(TicketError, match="已由其他坐席认领"):
        do(session, item, other, "受理")
    do(session, item, mine, "受理")
    do(session, item, admin, "派单")
    assert item.status == "已派单"


def test_two_agents_acting_on_the_same_ticket_cannot_both_move_it(data_dir):
    from banshi.db import migrate, session_scope

    migrate()
    with session_scope() as s:
        agent_a, agent_b = staff(s, "a1"), staff(s, "b1")
        ticket_id = ticket(s).id
    from hotline.models import Ticket

    with session_scope() as first, session_scope() as second:
        seen_by_first, seen_by_second = first.get(Ticket, ticket_id), second.get(Ticket, ticket_id)
        do(second, seen_by_second, agent_b, "受理")
        second.commit()
        with pytest.raises(ConcurrentChange, match="刚被他人改为「已受理」"):
            do(first, seen_by_first, agent_a, "受理")
        assert seen_by_first.status == "已受理"


def test_the_citizen_rates_a_finished_ticket_and_may_change_the_rating(session):
    from hotline.claims import claim_ticket

    agent = staff(session, "sun", name="孙坐席")
    item = ticket(session, now=T0)
    assert claim_ticket(session, item.id, agent)
    with pytest.raises(TicketError, match="办结后才能评价"):
        lifecycle.rate_by_citizen(session, item, 5)
    bring_to(session, item, agent, "已办结")

    lifecycle.rate_by_citizen(session, item, 4, now=T0 + timedelta(days=2))  # a claimed ticket is no obstacle
    assert (item.status, item.rating) == ("已回访", 4)
    lifecycle.rate_by_citizen(session, item, 2, now=T0 + timedelta(days=3))
    assert (item.status, item.rating) == ("已回访", 2)
    rated = [e for e in lifecycle.history(session, item) if e.details.get("rating")]
    assert [(e.action, e.from_status, e.to_status, e.actor_name, e.actor_id) for e in rated] == [
        ("回访", "已办结", "已回访", "市民", None),
        ("评价", "已回访", "已回访", "市民", None),
    ]
    assert [e.details for e in rated] == [
        {"rating": 4, "previous_rating": None, "by": "citizen"},
        {"rating": 2, "previous_rating": 4, "by": "citizen"},
    ]
    for bad in (0, 6, True):
        with pytest.raises(TicketError, match="1 到 5"):
            lifecycle.rate_by_citizen(session, item, bad)
    assert item.rating == 2
    assert lifecycle.allowed_actions(item) == [], "the console offers the agent nothing new on a rated ticket"
