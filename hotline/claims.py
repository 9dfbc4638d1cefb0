"""Claiming a ticket: exactly one agent wins, on any number of replicas (a conversation: ``hotline.handoffs``).

A claim is one conditional UPDATE (``… WHERE assigned_agent IS NULL``) and its row count says who
won. The database decides, not a lock in one process: PostgreSQL re-checks the condition after the
first claimer's row lock is released, and SQLite runs one writer at a time, so a second claimer always
sees the first one's agent and updates nothing. On SQLite the claim must be the first write of its
transaction (it is, in the gateway's one-session-per-request pattern), so the busy timeout rather
than a stale snapshot governs it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from common.clock import utcnow
from hotline.lifecycle import Actor
from hotline.models import OPEN_STATUSES, Ticket, TicketEvent

log = logging.getLogger(__name__)


DESK = "自动分配"
"""The actor name of an assignment the desk made (``hotline.assignment``): no person acted."""


def _event(
    session: Session, ticket_id: int, action: str, actor: Actor | None, now: datetime, details: dict | None = None
) -> None:
    status = session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
    session.add(
        TicketEvent(
            ticket_id=ticket_id,
            action=action,
            from_status=status,
            to_status=status,
            actor_id=actor.id if actor else None,
            actor_name=actor.display_name if actor else DESK,
            at=now,
            details=details or {},
        )
    )
    session.flush()


def _refresh(session: Session, model: type, row_id: int) -> None:
    """The UPDATE went around the ORM: an object already loaded in this session must not keep old values."""
    loaded = session.identity_map.get(session.identity_key(model, row_id))
    if loaded is not None:
        session.refresh(loaded)


def _take(session: Session, ticket_id: int, agent: Actor, now: datetime) -> bool:
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.assigned_agent.is_(None), Ticket.status.in_(OPEN_STATUSES))
        .values(assigned_agent=agent.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def claim_ticket(session: Session, ticket_id: int, actor: Actor, *, now: datetime | None = None) -> bool:
    """True when ``actor`` now holds the open, unclaimed ticket; False when someone else was first."""
    now = now or utcnow()
    if not _take(session, ticket_id, actor, now):
        return False
    _event(session, ticket_id, "认领", actor, now)
    _refresh(session, Ticket, ticket_id)
    return True


def assign_ticket(session: Session, ticket_id: int, agent: Actor, *, now: datetime | None = None) -> bool:
    """The desk's claim on an agent's behalf (分配): the same conditional UPDATE, so an agent clicking 认领
    at the same moment either wins or finds it assigned; the history says the desk chose."""
    now = now or utcnow()
    if not _take(session, ticket_id, agent, now):
        return False
    _event(session, ticket_id, "分配", None, now, {"agent_id": agent.id, "agent": agent.display_name})
    _refresh(session, Ticket, ticket_id)
    return True


def release_ticket(session: Session, ticket_id: int, actor: Actor, *, now: datetime | None = None) -> bool:
    """Gives an open ticket back to the queue; only its holder (or an admin) can."""
    now = now or utcnow()
    condition = [Ticket.id == ticket_id, Ticket.assigned_agent.is_not(None), Ticket.status.in_(OPEN_STATUSES)]
    if actor.role != "admin":
        condition.append(Ticket.assigned_agent == actor.id)
    result = session.execute(
        update(Ticket)
        .where(*condition)
        .values(assigned_agent=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _event(session, ticket_id, "释放", actor, now)
    _refresh(session, Ticket, ticket_id)
    return True
