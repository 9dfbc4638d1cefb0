"""The content staff's 数据看板: how the assistant did over the last days, from the tables it already writes.

Nothing here is recorded for the dashboard alone; every figure is derived from rows the gateway, the
action server and the hotline keep anyway:

- **Conversations** are counted on the local day (the centre's time zone) they were started. A
  conversation is *active* once the citizen said something: the chat page opens one on every visit.
- **Answered**: the assistant showed a matter of the catalogue in that conversation, as the dialogue
  stated it (``channels.outcomes.ANSWERED``: the guide, a facet of it, an FAQ answer citing it, or
  the 一次告知 checklist). The same outcomes give the top matters asked, named as the catalogue names
  them. Nothing here reads the bot's wording, so a reworded reply changes no figure.
- **Handed off**: the conversation reached 转人工 (it has a row in ``handoffs``).
- **Unanswered**: a question of it was captured as not found or 都不是 (``unanswered_questions``).
- **Ticket filed**: a 12345 ticket carries its conversation id.

Shares are of the active conversations and overlap (a guide shown, then 转人工); ``outcomes`` splits the
same conversations into one outcome each, in that order of precedence, for a doughnut.
Ratings are the citizens' 好差评 on conversations started in the window; tickets are those filed in it;
overdue tickets are all open tickets past their deadline now, whenever they were filed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banshi.config import get_settings
from channels import outcomes as turn_outcomes
from common.clock import UtcDateTime, utcnow
from common.conversations import ChatMessage, Conversation
from common.masking import mask_text
from common.tickets import TICKET_TYPES
from hotline.models import OPEN_STATUSES, STATUSES, Handoff, Ticket
from hotline.queue import QueueItem, to_item
from knowledge import unanswered as uq
from knowledge.models import Matter

UNANSWERED_REASONS = ("not_found", "rejected_clarification")
"""The capture reasons that mean the bot found nothing (a handoff or a low rating is counted on its own)."""
TOP = 10
OVERDUE_SHOWN = 5

OUTCOMES = ("handed_off", "answered", "ticket", "unanswered", "other")
OUTCOME_LABELS = {
    "handed_off": "转人工",
    "answered": "已解答",
    "ticket": "已登记工单",
    "unanswered": "未解答",
    "other": "其他（寒暄、未完成）",
}


class DayCount(BaseModel):
    day: date
    """The local day (centre's time zone)."""
    started: int
    active: int


class Share(BaseModel):
    count: int
    share: float | None
    """``count`` over the active conversations, 0–1; None when there were none."""


class ConversationStats(BaseModel):
    started: int
    active: int
    """Conversations in which the citizen wrote or clicked at least once; the base of every share."""
    per_day: list[DayCount]
    answered: Share
    handed_off: Share
    unanswered: Share
    ticket: Share
    outcomes: dict[str, int]
    """One outcome per active conversation, keys in ``OUTCOMES`` order."""
    outcome_labels: dict[str, str] = Field(default_factory=lambda: dict(OUTCOME_LABELS))


class MatterCount(BaseModel):
    name: str
    department: str | None
    conversations: int
    """Conversations in which this matter's guide, a facet of it or its checklist was shown."""


class UnansweredGroupCount(BaseModel):
    id: int
    """The group's id on the 未解决问题 page."""
    representative: str
    """Masked (no phone or ID number)."""
    count: int
    """Questions of the group captured in the window."""
    open_total: int
    """All its open questions, whenever captured."""
    reasons: dict[str, int]


class RatingStats(BaseModel):
    count: int
    average: float | None
    distribution: list[int]
    """How many ratings of 1, 2, 3, 4 and 5 (index 0 is 1 分)."""


class TicketStats(BaseModel):
    total: int
    by_type: dict[str, int]
    by_status: dict[str, int]
    by_type_and_status: dict[str, dict[str, int]]
    """type → status → count, every known type and status present (zeros included), in lifecycle order."""


class OverdueStats(BaseModel):
    count: int
    oldest: list[QueueItem]
    """The most overdue first; phone and content masked as in the agents' queue."""


class Dashboard(BaseModel):
    days: int
    since: date
    until: date
    timezone: str
    generated_at: UtcDateTime
    conversations: ConversationStats
    top_matters: list[MatterCount]
    unanswered_questions: int
    """Questions captured as unanswered in the window, every reason."""
    top_unanswered: list[UnansweredGroupCount]
    ratings: RatingStats
    tickets: TicketStats
    overdue: OverdueStats


def matter_labels(session: Session, matter_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Each matter's (name, department) from the catalogue; a matter since deleted keeps the name the
    dialogue gave it, or its id."""
    ids = list(matter_ids)
    labels: dict[str, tuple[str, str | None]] = {}
    for chunk in _chunks(ids):
        for external_id, name, department in session.execute(
            select(Matter.external_id, Matter.name, Matter.department).where(Matter.external_id.in_(chunk))
        ):
            labels[external_id] = (name, department or None)
    missing = [i for i in ids if i not in labels]
    named = turn_outcomes.matter_names(session, missing)
    labels.update({i: (named.get(i, i), None) for i in missing})
    return labels


def window(days: int, now: datetime, zone: ZoneInfo) -> tuple[date, date, datetime]:
    """The first and last local day, and the first day's local midnight as naive UTC (how rows store time)."""
    until = now.replace(tzinfo=UTC).astimezone(zone).date()
    since = until - timedelta(days=days - 1)
    start = datetime.combine(since, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return since, until, start


def _share(count: int, base: int) -> Share:
    return Share(count=count, share=round(count / base, 4) if base else None)


def _chunks(ids: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _ids_with(session: Session, column, ids: list[str], *conditions) -> set[str]:
    """The conversation ids among ``ids`` that have a row in ``column``'s table (bounded IN lists)."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(session.scalars(select(column).where(column.in_(chunk), *conditions).distinct()))
    return found


def conversation_stats(
    session: Session, since: date, until: date, start: datetime, zone: ZoneInfo
) -> tuple[ConversationStats, list[MatterCount]]:
    rows = session.execute(select(Conversation.id, Conversation.created_at).where(Conversation.created_at >= start))
    day_of: dict[str, date] = {cid: created.replace(tzinfo=UTC).astimezone(zone).date() for cid, created in rows}
    ids = list(day_of)
    active = _ids_with(session, ChatMessage.conversation_id, ids, ChatMessage.sender == "citizen")

    shown = turn_outcomes.matters_shown(session, ids)
    answered = turn_outcomes.conversations_with(session, ids, turn_outcomes.ANSWERED)
    labels = matter_labels(session, shown)
    matters: dict[tuple[str, str | None], set[str]] = {}
    for matter_id, conversations in shown.items():
        matters.setdefault(labels[matter_id], set()).update(conversations)
    handed = _ids_with(session, Handoff.conversation_id, ids)
    unanswered = _ids_with(
        session, uq.UnansweredQuestion.conversation_id, ids, uq.UnansweredQuestion.reason.in_(UNANSWERED_REASONS)
    )
    ticketed = _ids_with(session, Ticket.conversation_id, ids)

    outcomes = dict.fromkeys(OUTCOMES, 0)
    for cid in active:
        for outcome, members in (("handed_off", handed), ("answered", answered), ("ticket", ticketed),
                                 ("unanswered", unanswered)):  # fmt: skip
            if cid in members:
                outcomes[outcome] += 1
                break
        else:
            outcomes["other"] += 1

    started_per_day = Counter(day_of.values())
    active_per_day = Counter(day_of[cid] for cid in active)
    per_day = [
        DayCount(day=day, started=started_per_day[day], active=active_per_day[day])
        for day in (since + timedelta(days=n) for n in range((until - since).days + 1))
    ]
    base = len(active)
    stats = ConversationStats(
        started=len(ids),
        active=base,
        per_day=per_day,
        answered=_share(len(answered & active), base),
        handed_off=_share(len(handed & active), base),
        unanswered=_share(len(unanswered & active), base),
        ticket=_share(len(ticketed & active), base),
        outcomes=outcomes,
    )
    top = sorted(matters.items(), key=lambda item: (-len(item[1]), item[0][0], item[0][1] or ""))[:TOP]
    return stats, [MatterCount(name=n, department=d, conversations=len(c)) for (n, d), c in top]


def unanswered_stats(
    session: Session, start: datetime, embedder, threshold: float | None
) -> tuple[int, list[UnansweredGroupCount]]:
    """All questions captured in the window; and the open groups (as the 未解决问题 page groups them) by
    how many of their questions came in the window."""
    total = session.scalar(
        select(func.count()).select_from(uq.UnansweredQuestion).where(uq.UnansweredQuestion.created_at >= start)
    )
    recent = session.scalar(
        select(func.count())
        .select_from(uq.UnansweredQuestion)
        .where(uq.UnansweredQuestion.created_at >= start, uq.UnansweredQuestion.status == "open")
    )
    if not recent or embedder is None:
        return total or 0, []
    counted = []
    for group in uq.group_questions(session, embedder, threshold):
        inside = [q for q in group.questions if q.created_at >= start]
        if inside:
            counted.append((group, inside))
    counted.sort(key=lambda item: (-len(item[1]), -item[0].count, item[0].id))
    return total or 0, [
        UnansweredGroupCount(
            id=group.id,
            representative=mask_text(group.representative),
            count=len(inside),
            open_total=group.count,
            reasons=dict(Counter(q.reason for q in inside)),
        )
        for group, inside in counted[:TOP]
    ]


def rating_stats(session: Session, start: datetime) -> RatingStats:
    rows = session.execute(
        select(Conversation.rating, func.count())
        .where(Conversation.created_at >= start, Conversation.rating.is_not(None))
        .group_by(Conversation.rating)
    )
    distribution = [0] * 5
    for score, count in rows:
        if 1 <= score <= 5:
            distribution[score - 1] = count
    count = sum(distribution)
    average = round(sum((i + 1) * n for i, n in enumerate(distribution)) / count, 2) if count else None
    return RatingStats(count=count, average=average, distribution=distribution)


def ticket_stats(session: Session, start: datetime) -> TicketStats:
    rows = session.execute(
        select(Ticket.type, Ticket.status, func.count())
        .where(Ticket.created_at >= start)
        .group_by(Ticket.type, Ticket.status)
    )
    counts = {(kind, status): n for kind, status, n in rows}
    types = [*TICKET_TYPES, *sorted({k for k, _ in counts} - set(TICKET_TYPES))]
    statuses = [*STATUSES, *sorted({s for _, s in counts} - set(STATUSES))]
    matrix = {kind: {status: counts.get((kind, status), 0) for status in statuses} for kind in types}
    return TicketStats(
        total=sum(counts.values()),
        by_type={kind: sum(matrix[kind].values()) for kind in types},
        by_status={status: sum(matrix[kind][status] for kind in types) for status in statuses},
        by_type_and_status=matrix,
    )


def overdue_stats(session: Session, now: datetime) -> OverdueStats:
    late = (Ticket.status.in_(OPEN_STATUSES), Ticket.due_at.is_not(None), Ticket.due_at < now)
    count = session.scalar(select(func.count()).select_from(Ticket).where(*late)) or 0
    oldest = session.scalars(select(Ticket).where(*late).order_by(Ticket.due_at, Ticket.id).limit(OVERDUE_SHOWN))
    return OverdueStats(count=count, oldest=[to_item(t, now) for t in oldest])


def dashboard(session: Session, days: int = 30, *, embedder=None, now: datetime | None = None) -> Dashboard:
    """Every figure of the 数据看板 for the last ``days`` local days (today included).

    ``embedder`` groups the unanswered questions (the gateway's index's); without one no groups are listed.
    """
    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    now = now or utcnow()
    if now.tzinfo is not None:  # rows store naive UTC
        now = now.astimezone(UTC).replace(tzinfo=None)
    since, until, start = window(days, now, zone)
    conversations, top_matters = conversation_stats(session, since, until, start, zone)
    total_unanswered, groups = unanswered_stats(session, start, embedder, settings.unanswered_group_threshold)
    return Dashboard(
        days=days,
        since=since,
        until=until,
        timezone=settings.timezone,
        generated_at=now.replace(tzinfo=UTC),
        conversations=conversations,
        top_matters=top_matters,
        unanswered_questions=total_unanswered,
        top_unanswered=groups,
        ratings=rating_stats(session, start),
        tickets=ticket_stats(session, start),
        overdue=overdue_stats(session, now),
    )
