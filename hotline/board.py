"""The supervisors' board: who waits, who talks, each agent's load, and what is about to miss its promise.

Read-only; one function builds it from the tables, so the console's board and its API say the same.
Free text is not on the board at all (no transcripts, no phone numbers): a supervisor opens the
conversation or ticket from the console to read it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from banshi.config import Settings, get_settings
from common.clock import UtcDateTime, utcnow
from common.users import DESK_ROLES, User
from hotline import sla
from hotline.assignment import conversation_load, department_of, ticket_load
from hotline.hours import DeskHours, desk_hours
from hotline.models import OPEN_STATUSES, AgentDesk, Handoff, Ticket


class ConversationRow(BaseModel):
    handoff_id: int
    conversation_id: str
    category: str | None
    department: str | None
    agent_id: int | None
    agent_name: str | None
    waited_seconds: int
    """Since the citizen asked for a person (waiting), or how long they waited before an agent took them."""
    returned_count: int
    """Times it came back to the queue unanswered."""
    returned_from: str | None
    """The agent who last left it unanswered."""
    at_risk: bool
    """Waiting past the promised reply time, or back from an agent who did not answer."""


class AgentRow(BaseModel):
    user_id: int
    name: str
    role: str
    status: str
    """``online`` or ``away``."""
    away_reason: str | None
    skills: list[str]
    conversations: int
    tickets: int
    full: bool
    """At conversation capacity: the desk gives them nothing more."""


class TicketRow(BaseModel):
    id: int
    number: str
    category: str | None
    priority: str
    status: str
    agent_name: str | None
    due_at: UtcDateTime | None
    remaining_text: str
    overdue: bool


class Board(BaseModel):
    now: UtcDateTime
    hours: DeskHours
    max_conversations: int
    max_tickets: int
    waiting: list[ConversationRow]
    talking: list[ConversationRow]
    agents: list[AgentRow]
    tickets_at_risk: list[TicketRow]
    """Open tickets overdue or due within ``desk_sla_risk_hours``, the nearest deadline first."""


def _conversation(handoff: Handoff, names: dict[int, str], now: datetime, settings: Settings) -> ConversationRow:
    end = handoff.claimed_at if handoff.status == "claimed" and handoff.claimed_at else now
    waited = max(0, int((end - handoff.created_at).total_seconds()))
    late = handoff.status == "waiting" and waited > settings.desk_reply_minutes * 60
    return ConversationRow(
        handoff_id=handoff.id,
        conversation_id=handoff.conversation_id,
        category=handoff.category,
        department=department_of(handoff.category, settings),
        agent_id=handoff.agent_id,
        agent_name=names.get(handoff.agent_id or 0),
        waited_seconds=waited,
        returned_count=handoff.returned_count,
        returned_from=names.get(handoff.returned_from or 0),
        at_risk=late or (handoff.status == "waiting" and handoff.returned_count > 0),
    )


def _agents(session: Session, settings: Settings) -> list[AgentRow]:
    conversations, tickets = conversation_load(session), ticket_load(session)
    rows = session.execute(
        select(User, AgentDesk)
        .outerjoin(AgentDesk, AgentDesk.user_id == User.id)
        .where(User.active.is_(True), User.role.in_(DESK_ROLES))
        .order_by(User.display_name, User.id)
    )
    out = []
    for user, place in rows:
        held = conversations.get(user.id, 0)
        out.append(
            AgentRow(
                user_id=user.id,
                name=user.display_name,
                role=user.role,
                status=place.status if place else "away",
                away_reason=place.away_reason if place else None,
                skills=list(place.skills or []) if place else [],
                conversations=held,
                tickets=tickets.get(user.id, 0),
                full=held >= settings.desk_max_conversations,
            )
        )
    return sorted(out, key=lambda a: a.status != "online")  # online first, by name within each


def _tickets_at_risk(session: Session, names: dict[int, str], now: datetime, settings: Settings) -> list[TicketRow]:
    horizon = now + timedelta(hours=settings.desk_sla_risk_hours)
    rows = session.scalars(
        select(Ticket)
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.due_at.is_not(None), Ticket.due_at <= horizon)
        .order_by(Ticket.due_at, Ticket.id)
        .limit(100)
    )
    return [
        TicketRow(
            id=t.id,
            number=t.number,
            category=t.category,
            priority=t.priority,
            status=t.status,
            agent_name=names.get(t.assigned_agent or 0),
            due_at=t.due_at,
            remaining_text=sla.describe_remaining(sla.remaining(t, now)),
            overdue=sla.is_overdue(t, now),
        )
        for t in rows
    ]


def board(session: Session, *, now: datetime | None = None, settings: Settings | None = None) -> Board:
    now, settings = now or utcnow(), settings or get_settings()
    names = {user_id: name for user_id, name in session.execute(select(User.id, User.display_name))}
    live = session.scalars(
        select(Handoff).where(Handoff.status.in_(("waiting", "claimed"))).order_by(Handoff.created_at, Handoff.id)
    ).all()
    return Board(
        now=now,
        hours=desk_hours(now, settings),
        max_conversations=settings.desk_max_conversations,
        max_tickets=settings.desk_max_tickets,
        waiting=[_conversation(h, names, now, settings) for h in live if h.status == "waiting"],
        talking=[_conversation(h, names, now, settings) for h in live if h.status == "claimed"],
        agents=_agents(session, settings),
        tickets_at_risk=_tickets_at_risk(session, names, now, settings),
    )
