"""A ticket's lifecycle: 待受理 → 已受理 → 已派单 → 办理中 → 已办结 → 已回访, with 退回, 延期 and 督办.

Each move is a compare-and-set on the status (``UPDATE … WHERE status = <what the agent saw>``),
so two people acting on the same ticket at once cannot both move it, and each move writes one
``ticket_events`` row with who did it, when, from which status to which, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banshi.config import get_settings
from common.clock import utcnow
from common.users import DESK_ROLES, SUPERVISING_ROLES
from hotline import sla
from hotline.models import CLOSED_STATUSES, OPEN_STATUSES, Ticket, TicketEvent

STAFF_ROLES = DESK_ROLES
SUPERVISOR_ROLES = SUPERVISING_ROLES


class Actor(BaseModel):
    """Who acts; built from a ``channels.accounts.User`` (``Actor.model_validate(user)``) or by hand."""

    model_config = ConfigDict(from_attributes=True)

    id: int | None
    username: str
    display_name: str
    role: str


class TicketError(ValueError):
    """A move the ticket cannot make; the message is shown to the agent as it is."""


class IllegalTransition(TicketError):
    pass


class ConcurrentChange(TicketError):
    """Someone else moved the ticket between the agent's look and their action."""


@dataclass(frozen=True)
class Rule:
    label: str
    sources: tuple[str, ...]
    target: str | None
    """None: the status stays (延期, 督办)."""
    roles: tuple[str, ...] = STAFF_ROLES


RULES: dict[str, Rule] = {
    "受理": Rule("受理", ("待受理",), "已受理"),
    "派单": Rule("派单", ("已受理",), "已派单"),
    "签收": Rule("签收", ("已派单",), "办理中"),
    "办结": Rule("办结", ("办理中",), "已办结"),
    "回访": Rule("回访", ("已办结",), "已回访"),
    "退回": Rule("退回", ("已派单", "办理中"), "已受理"),
    "延期": Rule("延期", ("已派单", "办理中"), None),
    "督办": Rule("督办", OPEN_STATUSES, None, SUPERVISOR_ROLES),
}


def allowed_actions(ticket: Ticket) -> list[str]:
    """What the console offers for this ticket now (督办 only once)."""
    return [
        name
        for name, rule in RULES.items()
        if ticket.status in rule.sources and not (name == "督办" and ticket.supervised)
    ]


def _required(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TicketError(f"请填写{what}")
    return text


def _check(ticket: Ticket, actor: Actor, action: str) -> Rule:
    rule = RULES[action]
    if actor.role not in rule.roles:
        who = "班长或管理员" if rule.roles == SUPERVISOR_ROLES else "坐席、班长或管理员"
        raise TicketError(f"{actor.display_name} 没有权限{rule.label}工单 {ticket.number}：需要{who}")
    if ticket.status not in rule.sources:
        allowed = "、".join(f"「{s}」" for s in rule.sources)
        raise IllegalTransition(
            f"工单 {ticket.number} 当前为「{ticket.status}」，不能直接{rule.label}（{rule.label}需要工单处于{allowed}）"
        )
    if ticket.assigned_agent not in (None, actor.id) and actor.role != "admin":
        raise TicketError(f"工单 {ticket.number} 已由其他坐席认领，不能{rule.label}")
    return rule


def _apply(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    action: str,
    *,
    values: dict[str, Any] | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    rule = _check(ticket, actor, action)
    return _move(session, ticket, actor, action, rule.target or ticket.status, values, note, details, now)


def _move(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    action: str,
    target: str,
    values: dict[str, Any] | None,
    note: str | None,
    details: dict[str, Any] | None,
    now: datetime | None,
) -> TicketEvent:
    """The compare-and-set and its event, once the move is known to be allowed."""
    now = now or utcnow()
    seen = ticket.status
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == seen)
        .values(status=target, updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(ticket)
        raise ConcurrentChange(f"工单 {ticket.number} 刚被他人改为「{ticket.status}」，请刷新后再操作")
    event = TicketEvent(
        ticket_id=ticket.id,
        action=action,
        from_status=seen,
        to_status=target,
        actor_id=actor.id,
        actor_name=actor.display_name,
        note=note,
        details=details or {},
        at=now,
    )
    session.add(event)
    session.flush()
    session.refresh(ticket)
    return event


def accept(
    session: Session, ticket: Ticket, actor: Actor, *, note: str | None = None, now: datetime | None = None
) -> TicketEvent:
    """受理: the centre takes the ticket on."""
    return _apply(session, ticket, actor, "受理", note=note, now=now)


def dispatch(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    department: str,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    """派单: hands it to the department that must act."""
    department = _required(department, "承办部门")
    return _apply(
        session,
        ticket,
        actor,
        "派单",
        values={"department": department},
        note=note,
        details={"department": department},
        now=now,
    )


def start(
    session: Session, ticket: Ticket, actor: Actor, *, note: str | None = None, now: datetime | None = None
) -> TicketEvent:
    """签收: the department has taken it and is working on it."""
    return _apply(session, ticket, actor, "签收", note=note, now=now)


def resolve(
    session: Session, ticket: Ticket, actor: Actor, resolution: str, *, now: datetime | None = None
) -> TicketEvent:
    """办结: what was done, in words the citizen will be read at the 回访."""
    resolution = _required(resolution, "办理结果")
    return _apply(session, ticket, actor, "办结", values={"resolution": resolution}, note=resolution, now=now)


def revisit(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    rating: int,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    """回访: the citizen's 1–5 satisfaction closes the ticket for good."""
    _check_rating(rating)
    return _apply(
        session, ticket, actor, "回访", values={"rating": rating}, note=note, details={"rating": rating}, now=now
    )


def _check_rating(rating: int) -> None:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise TicketError("满意度评分应为 1 到 5 的整数")


CITIZEN = Actor(id=None, username="citizen", display_name="市民", role="citizen")
"""The citizen rating from the chat: not a staff member, so never subject to the staff rules."""


def rate_by_citizen(session: Session, ticket: Ticket, rating: int, *, now: datetime | None = None) -> TicketEvent:
    """The citizen's own 回访 from the chat, once the ticket is 办结.

    On an 已办结 ticket it is the 回访 (→ 已回访) with the citizen as the actor; on an 已回访 ticket it is
    a 评价 that replaces the rating and keeps the earlier one in the event, so the record says who rated
    what and when. Open tickets cannot be rated: there is no result to rate yet.
    """
    _check_rating(rating)
    if ticket.status not in CLOSED_STATUSES:
        raise TicketError(f"工单 {ticket.number} 当前为「{ticket.status}」，办结后才能评价")
    action = "回访" if ticket.status == "已办结" else "评价"
    details = {"rating": rating, "previous_rating": ticket.rating, "by": "citizen"}
    return _move(session, ticket, CITIZEN, action, "已回访", {"rating": rating}, None, details, now)


def send_back(
    session: Session, ticket: Ticket, actor: Actor, reason: str, *, now: datetime | None = None
) -> TicketEvent:
    """退回: the department says it is not theirs; back to 已受理 to be dispatched again."""
    reason = _required(reason, "退回原因")
    return _apply(
        session,
        ticket,
        actor,
        "退回",
        values={"department": None},
        note=reason,
        details={"department": ticket.department},
        now=now,
    )


def extend(
    session: Session,
    ticket: Ticket,
    actor: Actor,
    reason: str,
    *,
    working_days: int | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    """延期: more working days, for a reason the record keeps; the status stays."""
    reason = _required(reason, "延期原因")
    days = working_days if working_days is not None else get_settings().sla_extension_working_days
    if days < 1:
        raise TicketError("延期天数应至少为 1 个工作日")
    base = ticket.due_at or now or utcnow()
    new_due = sla.extend_due(base, days)
    details = {"working_days": days, "old_due_at": _iso(ticket.due_at), "new_due_at": _iso(new_due)}
    return _apply(session, ticket, actor, "延期", values={"due_at": new_due}, note=reason, details=details, now=now)


def supervise(
    session: Session, ticket: Ticket, actor: Actor, *, note: str | None = None, now: datetime | None = None
) -> TicketEvent:
    """督办: a supervisor flags an open ticket; the flag stays and the event says who and why."""
    if ticket.supervised:
        raise TicketError(f"工单 {ticket.number} 已在督办中")
    return _apply(session, ticket, actor, "督办", values={"supervised": True}, note=note, now=now)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str | None
    to_status: str
    actor_id: int | None
    actor_name: str
    note: str | None
    details: dict
    at: datetime


def history(session: Session, ticket: Ticket) -> list[EventOut]:
    """Every move, oldest first."""
    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
    )
    return [EventOut.model_validate(e) for e in events]


def entered_at(session: Session, ticket: Ticket) -> dict[str, datetime]:
    """When the ticket last entered each status: the per-transition timestamps, read from the events."""
    times: dict[str, datetime] = {}
    for event in history(session, ticket):
        if event.to_status != event.from_status:
            times[event.to_status] = event.at
    return times
