"""The desk's business hours: whether a person can answer now, and what 转人工 may promise.

Decided here only, once per request, and handed on as data (``DeskHours``): the gateway queues the
citizen and promises a reply within ``desk_reply_minutes`` when the desk is open, and offers 留言
(a ticket, answered when the desk opens) when it is closed. Working days are the SLA's calendar
(weekends, holidays, 调休), the hours are ``desk_hours`` (a lunch break is the gap between two spans);
no hours set means the desk is staffed around the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from banshi.config import Settings, get_settings, parse_spans
from hotline import sla


class DeskHours(BaseModel):
    """What the desk can offer at one moment; the citizen-facing wording is the caller's."""

    open: bool
    reply_within_minutes: int | None
    """The promise while open: an agent answers within this many minutes."""
    opens_at: datetime | None
    """Closed: when it opens next (naive UTC, as stored); None while open."""
    hours: list[str]
    """The hours as configured (``09:00-12:00``…), for the notice; empty when always open."""


def desk_hours(now: datetime, settings: Settings | None = None) -> DeskHours:
    """``now`` is naive UTC (or aware); the answer follows the centre's local clock."""
    settings = settings or get_settings()
    spans = parse_spans(settings.desk_hours)
    if not spans:
        return DeskHours(open=True, reply_within_minutes=settings.desk_reply_minutes, opens_at=None, hours=[])
    local = sla.to_local(now, settings)
    if sla.is_working_day(local.date(), settings) and any(s <= local.time() < e for s, e in spans):
        return DeskHours(
            open=True, reply_within_minutes=settings.desk_reply_minutes, opens_at=None, hours=settings.desk_hours
        )
    opens_at = _next_opening(local, spans, settings)
    return DeskHours(open=False, reply_within_minutes=None, opens_at=opens_at, hours=settings.desk_hours)


def _next_opening(local: datetime, spans: list, settings: Settings) -> datetime:
    day = local.date()
    for _ in range(400):  # a year of holidays at most
        if sla.is_working_day(day, settings):
            for start, _end in spans:
                opening = datetime.combine(day, start, tzinfo=local.tzinfo)
                if opening > local:
                    return sla.to_utc_naive(opening)
        day += timedelta(days=1)
    raise ValueError("the desk never opens: check desk_hours and the holidays")
