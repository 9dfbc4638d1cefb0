"""Deadlines in working days of the centre's calendar: weekends, holidays, urgent tickets, overdue."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from banshi.config import Settings
from hotline import sla
from tests.hotline_helpers import ticket

BJ = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ)


@pytest.mark.parametrize(
    ("kind", "created", "due"),
    [
        ("咨询", bj(2026, 11, 23, 10), bj(2026, 11, 24, 18)),  # Monday → Tuesday
        ("求助", bj(2026, 11, 27, 10), bj(2026, 11, 30, 18)),  # Friday → Monday, over the weekend
        ("咨询", bj(2026, 11, 28, 15), bj(2026, 11, 30, 18)),  # filed on Saturday → Monday
        ("咨询", bj(2026, 11, 29, 23, 59), bj(2026, 11, 30, 18)),  # Sunday night → Monday
        ("投诉", bj(2026, 11, 23, 10), bj(2026, 12, 10, 18)),  # 13 working days: two weekends skipped
        ("举报", bj(2026, 11, 27, 20), bj(2026, 12, 16, 18)),
        ("建议", bj(2026, 11, 23, 10), bj(2026, 12, 10, 18)),
    ],
)
def test_working_days_skip_weekends(kind, created, due):
    assert sla.due_at(kind, "normal", created, SETTINGS) == due


@pytest.mark.parametrize(
    ("created", "due"),
    [
        (bj(2026, 11, 25, 10), bj(2026, 11, 25, 18)),  # Wednesday morning: the same day
        (bj(2026, 11, 25, 17, 59), bj(2026, 11, 25, 18)),
        (bj(2026, 11, 25, 18, 0), bj(2026, 11, 26, 18)),  # after hours: the next working day
        (bj(2026, 11, 27, 21), bj(2026, 11, 30, 18)),  # Friday night → Monday
        (bj(2026, 11, 28, 9), bj(2026, 11, 30, 18)),  # Saturday → Monday
    ],
)
def test_urgent_tickets_are_due_by_the_end_of_the_working_day(created, due):
    assert sla.due_at("投诉", "urgent", created, SETTINGS) == due


def test_holidays_and_makeup_workdays_come_from_settings():
    settings = Settings(
        sla_holidays=[date(2026, 11, 30)], sla_extra_workdays=[date(2026, 11, 28)], sla_day_end=time(17, 30)
    )
    assert sla.due_at("咨询", "normal", bj(2026, 11, 27, 10), settings) == bj(2026, 11, 28, 17, 30)
    assert sla.due_at("咨询", "normal", bj(2026, 11, 28, 10), settings) == bj(2026, 12, 1, 17, 30)
    assert not sla.is_working_day(date(2026, 11, 30), settings)
    assert sla.is_working_day(date(2026, 11, 28), settings)


def test_limits_per_type_come_from_settings():
    settings = Settings(sla_working_days={"咨询": 2, "投诉": 5})
    assert sla.due_at("咨询", "normal", bj(2026, 11, 23, 10), settings) == bj(2026, 11, 25, 18)
    assert sla.due_at("投诉", "normal", bj(2026, 11, 23, 10), settings) == bj(2026, 11, 30, 18)
    assert sla.due_at("举报", "normal", bj(2026, 11, 23, 10), settings) == bj(2026, 11, 30, 18)  # unknown: longest


def test_naive_times_are_utc_in_and_out():
    created = datetime(2026, 11, 27, 2, 0)  # Friday 10:00 in Beijing
    assert sla.due_at("咨询", "normal", created, SETTINGS) == datetime(2026, 11, 30, 10, 0)
    late = datetime(2026, 11, 24, 16, 30)  # Tuesday 00:30 Beijing: still Tuesday's urgent deadline
    assert sla.due_at("投诉", "urgent", late, SETTINGS) == datetime(2026, 11, 25, 10, 0)


def test_overdue_and_remaining_time():
    open_ticket = SimpleNamespace(status="办理中", due_at=datetime(2026, 11, 30, 10, 0))
    assert not sla.is_overdue(open_ticket, datetime(2026, 11, 30, 9, 59))
    assert sla.remaining(open_ticket, datetime(2026, 11, 30, 9, 0)) == timedelta(hours=1)
    assert sla.is_overdue(open_ticket, datetime(2026, 11, 30, 10, 1))
    assert sla.is_overdue(open_ticket, bj(2026, 11, 30, 18, 1))  # aware "now" works too
    assert sla.remaining(open_ticket, datetime(2026, 12, 1, 10, 0)) == timedelta(days=-1)
    done = SimpleNamespace(status="已办结", due_at=datetime(2026, 11, 30, 10, 0))
    assert not sla.is_overdue(done, datetime(2027, 1, 1))
    assert not sla.is_overdue(SimpleNamespace(status="待受理", due_at=None), datetime(2027, 1, 1))
    assert sla.describe_remaining(timedelta(days=2, hours=3)) == "剩余 2天3小时"
    assert sla.describe_remaining(timedelta(hours=-5, minutes=-10)) == "已超时 5小时10分钟"
    assert sla.describe_remaining(None) == "无时限"


def test_filing_sets_the_deadline_and_numbers_by_the_local_date(session):
    now = datetime(2026, 11, 27, 17, 0)  # Saturday 01:00 in Beijing
    normal = ticket(session, type="咨询", now=now)
    urgent = ticket(session, type="求助", priority="urgent", category="城乡建设", category_confidence=0.9, now=now)
    assert normal.number == "12345-20261128-0001" and urgent.number == "12345-20261128-0002"
    assert normal.due_at == datetime(2026, 11, 30, 10, 0)  # Monday 18:00 Beijing
    assert urgent.due_at == datetime(2026, 11, 30, 10, 0)
    assert (urgent.priority, urgent.category, urgent.category_confidence) == ("urgent", "城乡建设", 0.9)
    assert normal.priority == "normal" and normal.created_at == now
