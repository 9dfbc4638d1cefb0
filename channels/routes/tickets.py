"""The 12345 ticket desk: the queue with SLA timers, claiming, lifecycle moves, category and search.

Every move goes through ``hotline.lifecycle`` / ``hotline.claims`` so the rules and the event
history stay in one place; this module only maps their outcomes to HTTP. Lists mask phone and ID
numbers; the ticket itself shows them in full only to the agent who holds it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import BAD_VALUE, CONFLICT, GUARDED, NOT_FOUND, AgentUser, SessionDep, actor_of, require_role
from channels.params import Id
from common.clock import UtcDateTime, utcnow
from common.conversations import transcript
from common.masking import mask_phone, mask_text
from common.users import User
from hotline import claims, classifier, corrections, lifecycle, queue, sla
from hotline.lifecycle import ConcurrentChange, EventOut, IllegalTransition, TicketError
from hotline.models import OPEN_STATUSES, Ticket, TicketEvent
from hotline.queue import QueueItem
from hotline.slot_labels import SlotField, labelled_slots

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/tickets",
    tags=["tickets"],
    responses={**GUARDED, **NOT_FOUND, **CONFLICT, **BAD_VALUE},
    dependencies=[Depends(require_role("agent"))],
)

Action = Literal["受理", "派单", "签收", "办结", "回访", "退回", "延期", "督办"]
CATEGORY_CHANGE = "改分类"


class TicketsOut(BaseModel):
    now: UtcDateTime
    """The server's clock (UTC), so the console's countdowns do not depend on the agent's PC clock."""
    items: list[QueueItem]
    agent_names: dict[int, str]


class PredictionOut(BaseModel):
    type: str
    type_confidence: float
    category: str
    category_confidence: float
    top_category: str
    suggested_department: str


class TicketDetail(BaseModel):
    id: int
    number: str
    type: str
    status: str
    priority: str
    category: str | None
    category_confidence: float | None
    department: str | None
    suggested_department: str
    assigned_agent: int | None
    assigned_agent_name: str | None
    supervised: bool
    citizen_name: str | None
    phone: str
    contact_in_full: bool
    """True only for the agent who holds the ticket: phone, ID numbers and free text unmasked."""
    content: str
    location: str | None
    event_time: str | None
    slots: dict
    slot_fields: list[SlotField]
    """What the dialogue understood, under Chinese labels; internal slots left out."""
    conversation_id: str | None
    transcript: list[dict]
    """The conversation the ticket came from, so the agent never asks again what the citizen said."""
    created_at: UtcDateTime
    updated_at: UtcDateTime
    due_at: UtcDateTime | None
    overdue: bool
    remaining_seconds: int | None
    remaining_text: str
    resolution: str | None
    rating: int | None
    allowed_actions: list[str]
    events: list[EventOut]
    prediction: PredictionOut
    categories: list[str]
    now: UtcDateTime


class TransitionIn(BaseModel):
    action: Action
    department: str | None = Field(default=None, max_length=100)
    resolution: str | None = Field(default=None, max_length=4000)
    reason: str | None = Field(default=None, max_length=1000)
    rating: int | None = None
    working_days: int | None = Field(default=None, ge=1, le=60)
    note: str | None = Field(default=None, max_length=1000)


class CategoryIn(BaseModel):
    category: str = Field(min_length=1, max_length=50)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _agent_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def _ticket_or_404(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="未找到该工单")
    return ticket


def _prediction(ticket: Ticket) -> PredictionOut:
    found = classifier.classify(ticket.content)
    return PredictionOut(
        type=found.type,
        type_confidence=found.type_confidence,
        category=found.category,
        category_confidence=found.category_confidence,
        top_category=found.top_category,
        suggested_department=classifier.suggest_department(found.category),
    )


def detail(session: Session, ticket: Ticket, user: UserOut, now: datetime | None = None) -> TicketDetail:
    now = now or utcnow()
    in_full = ticket.assigned_agent is not None and ticket.assigned_agent == user.id
    shown = (lambda v: v) if in_full else _masked
    events = lifecycle.history(session, ticket)
    if not in_full:
        events = [e.model_copy(update={"note": _masked(e.note), "details": _masked(e.details)}) for e in events]
    left = sla.remaining(ticket, now)
    prediction = _prediction(ticket)
    names = _agent_names(session, {ticket.assigned_agent} if ticket.assigned_agent else set())
    return TicketDetail(
        id=ticket.id,
        number=ticket.number,
        type=ticket.type,
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category,
        category_confidence=ticket.category_confidence,
        department=ticket.department,
        suggested_department=classifier.suggest_department(ticket.category or prediction.category),
        assigned_agent=ticket.assigned_agent,
        assigned_agent_name=names.get(ticket.assigned_agent or 0),
        supervised=ticket.supervised,
        citizen_name=ticket.citizen_name,
        phone=ticket.phone if in_full else mask_phone(ticket.phone),
        contact_in_full=in_full,
        content=shown(ticket.content),
        location=shown(ticket.location),
        event_time=ticket.event_time,
        slots=shown(ticket.slots or {}),
        slot_fields=labelled_slots(shown(ticket.slots or {})),
        conversation_id=ticket.conversation_id,
        transcript=shown(transcript(session, ticket.conversation_id) if ticket.conversation_id else []),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        due_at=ticket.due_at,
        overdue=sla.is_overdue(ticket, now),
        remaining_seconds=None if left is None else int(left.total_seconds()),
        remaining_text=sla.describe_remaining(left) if ticket.status in OPEN_STATUSES else ticket.status,
        resolution=ticket.resolution,
        rating=ticket.rating,
        allowed_actions=lifecycle.allowed_actions(ticket),
        events=events,
        prediction=prediction,
        categories=[*classifier.CATEGORIES, classifier.OTHER_CATEGORY],
        now=now,
    )


@router.get("", response_model=TicketsOut)
def ticket_queue(
    session: SessionDep,
    user: AgentUser,
    scope: Literal["all", "mine", "unclaimed"] = "all",
    overdue: bool = False,
    status_filter: str | None = Query(default=None, alias="status"),
) -> TicketsOut:
    """Open tickets, urgent first, then the nearest deadline."""
    if status_filter is not None and status_filter not in OPEN_STATUSES:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"状态应为：{'、'.join(OPEN_STATUSES)}")
    now = utcnow()
    items = queue.open_tickets(
        session,
        now=now,
        status=status_filter,
        assigned_to=user.id if scope == "mine" else None,
        unclaimed_only=scope == "unclaimed",
        overdue_only=overdue,
    )
    names = _agent_names(session, {i.assigned_agent for i in items if i.assigned_agent})
    return TicketsOut(now=now, items=items, agent_names=names)


@router.get("/search", response_model=TicketsOut)
def search(session: SessionDep, q: str = Query(min_length=1, max_length=40, description="工单号或完整手机号")):
    """Open or closed, by number (or its date-and-sequence tail) or the citizen's whole phone number."""
    now = utcnow()
    items = queue.search_tickets(session, q, now=now)
    names = _agent_names(session, {i.assigned_agent for i in items if i.assigned_agent})
    return TicketsOut(now=now, items=items, agent_names=names)


@router.get("/{ticket_id}", response_model=TicketDetail)
def get_ticket(ticket_id: Id, session: SessionDep, user: AgentUser) -> TicketDetail:
    return detail(session, _ticket_or_404(session, ticket_id), user)


@router.post("/{ticket_id}/claim", response_model=TicketDetail)
def claim(ticket_id: Id, session: SessionDep, user: AgentUser) -> TicketDetail:
    ticket = _ticket_or_404(session, ticket_id)
    if ticket.assigned_agent == user.id:
        return detail(session, ticket, user)
    if not claims.claim_ticket(session, ticket.id, actor_of(user)):
        session.refresh(ticket)
        why = "已办结，不能认领" if ticket.status not in OPEN_STATUSES else "已被其他坐席认领"
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"工单 {ticket.number} {why}")
    return detail(session, ticket, user)


@router.post("/{ticket_id}/release", response_model=TicketDetail)
def release(ticket_id: Id, session: SessionDep, user: AgentUser) -> TicketDetail:
    ticket = _ticket_or_404(session, ticket_id)
    if not claims.release_ticket(session, ticket.id, actor_of(user)):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"工单 {ticket.number} 不在您名下，无法释放")
    return detail(session, ticket, user)


def _guard(ticket: Ticket, user: UserOut, action: str) -> None:
    """The permission half of lifecycle's checks as 403/409; what is left is the citizen-facing 400."""
    rule = lifecycle.RULES[action]
    if user.role not in rule.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"没有权限{rule.label}工单：需要班长或管理员角色")
    if ticket.assigned_agent not in (None, user.id) and user.role != "admin":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"工单 {ticket.number} 已由其他坐席认领，不能{rule.label}")


def _run(session: Session, ticket: Ticket, user: UserOut, body: TransitionIn) -> None:
    actor = actor_of(user)
    match body.action:
        case "受理":
            lifecycle.accept(session, ticket, actor, note=body.note)
        case "派单":
            lifecycle.dispatch(session, ticket, actor, body.department or "", note=body.note)
        case "签收":
            lifecycle.start(session, ticket, actor, note=body.note)
        case "办结":
            lifecycle.resolve(session, ticket, actor, body.resolution or "")
        case "回访":
            lifecycle.revisit(session, ticket, actor, body.rating or 0, note=body.note)
        case "退回":
            lifecycle.send_back(session, ticket, actor, body.reason or "")
        case "延期":
            lifecycle.extend(session, ticket, actor, body.reason or "", working_days=body.working_days)
        case "督办":
            lifecycle.supervise(session, ticket, actor, note=body.note)


@router.post("/{ticket_id}/transitions", response_model=TicketDetail)
def transition(ticket_id: Id, body: TransitionIn, session: SessionDep, user: AgentUser) -> TicketDetail:
    """One lifecycle move; an illegal one (e.g. 办结 from 待受理) or a lost race is a 409 with the reason."""
    ticket = _ticket_or_404(session, ticket_id)
    _guard(ticket, user, body.action)
    try:
        _run(session, ticket, user, body)
    except (IllegalTransition, ConcurrentChange) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except TicketError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    return detail(session, ticket, user)


@router.put("/{ticket_id}/category", response_model=TicketDetail)
def change_category(ticket_id: Id, body: CategoryIn, session: SessionDep, user: AgentUser) -> TicketDetail:
    """A person's choice replaces the classifier's (confidence cleared); the event keeps both.

    The correction is also kept as a labelled example (``hotline.corrections``), in the same
    transaction, for ``banshi hotline train``.
    """
    ticket = _ticket_or_404(session, ticket_id)
    known = [*classifier.CATEGORIES, classifier.OTHER_CATEGORY]
    if body.category not in known:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"分类应为：{'、'.join(known)}")
    if ticket.status not in OPEN_STATUSES:
        detail_text = f"工单 {ticket.number} 已「{ticket.status}」，不能再改分类"
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail_text)
    if ticket.assigned_agent not in (None, user.id) and user.role != "admin":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"工单 {ticket.number} 已由其他坐席认领，不能改分类")
    if body.category == ticket.category and ticket.category_confidence is None:
        return detail(session, ticket, user)
    now = utcnow()
    old = ticket.category
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(category=body.category, category_confidence=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            action=CATEGORY_CHANGE,
            from_status=ticket.status,
            to_status=ticket.status,
            actor_id=user.id,
            actor_name=user.display_name,
            note=f"{old or '未分类'} → {body.category}",
            details={
                "old_category": old,
                "new_category": body.category,
                "suggested_department": classifier.suggest_department(body.category),
            },
            at=now,
        )
    )
    corrections.record_correction(
        session, ticket.content, category=body.category, predicted=old, ticket_id=ticket.id, actor_id=user.id
    )
    session.flush()
    session.refresh(ticket)
    return detail(session, ticket, user, now)
