"""Deadlines for 12345 tickets, in working days of the centre's own calendar.

The database keeps naive UTC like every other timestamp here; the rules are about the local
working day (weekends, holidays, 18:00), so each computation goes to local time and back.
Following the usual rule for administrative time limits, the day a ticket is filed does not count:
one working day from Friday morning is Monday at the end of the working day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from banshi.config import Settings, get_settings
from hotline.models import OPEN_STATUSES


class HasDeadline(Protocol):
    status: str
    due_at: datetime | None


def _settings(settings: Settings | None) -> Settings:
    return settings or get_settings()


def to_local(moment: datetime, settings: Settings | None = None) -> datetime:
    """Naive datetimes are UTC (as stored); the answer is aware, in the centre's time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(_settings(settings).timezone))


def to_utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _like(template: datetime, local: datetime) -> datetime:
    """Answers in the caller's convention: aware in, aware out (same zone); naive UTC in, naive UTC out."""
    return local.astimezone(template.tzinfo) if template.tzinfo else to_utc_naive(local)


def is_working_day(day: date, settings: Settings | None = None) -> bool:
    settings = _settings(settings)
    if day in settings.sla_extra_workdays:
        return True
    return day.weekday() < 5 and day not in settings.sla_holidays


def add_working_days(day: date, count: int, settings: Settings | None = None) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    settings = _settings(settings)
    for _ in range(count):
        day += timedelta(days=1)
        while not is_working_day(day, settings):
            day += timedelta(days=1)
    return day


def _day_end(day: date, zone: ZoneInfo, settings: Settings) -> datetime:
    return datetime.combine(day, settings.sla_day_end, tzinfo=zone)


def due_at(ticket_type: str, priority: str, created: datetime, settings: Settings | None = None) -> datetime:
    """When a ticket filed at ``created`` must be resolved.

    Urgent: the end of the same working day, or of the next one when it was filed after hours or on
    a day off. Otherwise the type's working days from settings (an unknown type gets the longest).
    """
    settings = _settings(settings)
    local = to_local(created, settings)
    zone = ZoneInfo(settings.timezone)
    if priority == "urgent":
        day = local.date()
        if not is_working_day(day, settings) or local >= _day_end(day, zone, settings):
            day = add_working_days(day, 1, settings)
        return _like(created, _day_end(day, zone, settings))
    days = settings.sla_working_days.get(ticket_type, max(settings.sla_working_days.values(), default=13))
    return _like(created, _day_end(add_working_days(local.date(), days, settings), zone, settings))


def extend_due(current: datetime, working_days: int, settings: Settings | None = None) -> datetime:
    """A 延期 moves the deadline by working days, to the end of the working day it lands on."""
    settings = _settings(settings)
    local = to_local(current, settings)
    day = add_working_days(local.date(), working_days, settings)
    return _like(current, _day_end(day, ZoneInfo(settings.timezone), settings))


def _now_like(due: datetime, now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(UTC)
    if due.tzinfo is None:
        return to_utc_naive(now)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def remaining(ticket: HasDeadline, now: datetime | None = None) -> timedelta | None:
    """Time left before the deadline; negative once it has passed; None when there is no deadline."""
    if ticket.due_at is None:
        return None
    return ticket.due_at - _now_like(ticket.due_at, now)


def is_overdue(ticket: HasDeadline, now: datetime | None = None) -> bool:
    """Only an open ticket can be overdue: a resolved one stopped the clock."""
    left = remaining(ticket, now)
    return ticket.status in OPEN_STATUSES and left is not None and left < timedelta(0)


def describe_remaining(left: timedelta | None) -> str:
    """剩余 2天3小时 / 已超时 5小时: what the queue shows beside a deadline."""
    if left is None:
        return "无时限"
    seconds = abs(int(left.total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    text = f"{days}天{hours}小时" if days else (f"{hours}小时{minutes}分钟" if hours else f"{minutes}分钟")
    return f"已超时 {text}" if left < timedelta(0) else f"剩余 {text}"
