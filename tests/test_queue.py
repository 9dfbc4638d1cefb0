"""The agents' queue: urgent first, then the nearest deadline; phones and IDs masked; search by number or phone."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.claims import claim_ticket
from hotline.queue import open_tickets, search_tickets
from tests.hotline_helpers import bring_to, staff, ticket

MONDAY = datetime(2026, 11, 23, 1, 0)  # 09:00 in Beijing


def test_urgent_first_then_nearest_deadline_and_closed_ones_left_out(session):
    complaint = ticket(session, type="投诉", now=MONDAY)  # due in 13 working days
    question = ticket(session, type="咨询", now=MONDAY + timedelta(hours=1))  # due Tuesday
    urgent_late = ticket(session, type="建议", priority="urgent", now=MONDAY + timedelta(hours=2))
    urgent_early = ticket(session, type="投诉", priority="urgent", now=MONDAY - timedelta(days=3))  # Friday's
    done = ticket(session, type="咨询", now=MONDAY - timedelta(days=10))
    bring_to(session, done, staff(session, "agent"), "已办结")

    now = MONDAY + timedelta(hours=3)
    queue = open_tickets(session, now=now)
    assert [item.number for item in queue] == [
        urgent_early.number,
        urgent_late.number,
        question.number,
        complaint.number,
    ]
    by_number = {item.number: item for item in queue}
    assert by_number[urgent_early.number].overdue  # was due Friday 18:00
    assert by_number[urgent_early.number].remaining_text.startswith("已超时")
    assert not by_number[question.number].overdue
    assert by_number[question.number].remaining_seconds == int((question.due_at - now).total_seconds())
    assert [i.number for i in open_tickets(session, now=now, overdue_only=True)] == [urgent_early.number]


def test_lists_show_masked_phones_and_masked_text(session):
    ticket(session, phone="13877001234", content="我的身份证450602199001011234被冒用，回电13900001111")
    [item] = open_tickets(session)
    assert item.phone == "138****1234"
    assert "450602199001011234" not in item.preview and "13900001111" not in item.preview
    assert "450***********1234" in item.preview and "139****1111" in item.preview
    assert "13877001234" not in item.model_dump_json()


def test_filters_by_agent_and_unclaimed(session):
    agent = staff(session, "zhao")
    first, second = ticket(session), ticket(session)
    assert claim_ticket(session, first.id, agent)
    assert [i.id for i in open_tickets(session, assigned_to=agent.id)] == [first.id]
    assert [i.id for i in open_tickets(session, unclaimed_only=True)] == [second.id]


def test_search_by_number_or_phone_including_closed(session):
    agent = staff(session, "qian")
    mine = ticket(session, phone="13877001234", now=MONDAY)
    other = ticket(session, phone="13900002222", now=MONDAY)
    bring_to(session, mine, agent, "已回访")
    assert [i.id for i in search_tickets(session, mine.number)] == [mine.id]
    assert [i.id for i in search_tickets(session, mine.number.lower())] == [mine.id]
    assert [i.id for i in search_tickets(session, "20261123-0002")] == [other.id]
    assert [i.id for i in search_tickets(session, "+86 138 7700 1234")] == [mine.id]
    assert search_tickets(session, "13877001234")[0].status == "已回访"
    assert search_tickets(session, "噪音") == [] and search_tickets(session, "  ") == []
    assert search_tickets(session, "%") == []
