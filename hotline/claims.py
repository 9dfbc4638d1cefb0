"""Claiming a ticket or a waiting conversation: exactly one agent wins, on any number of replicas.

A claim is one conditional UPDATE (``… WHERE assigned_agent IS NULL`` / ``… WHERE status =
'waiting'``) and its row count says who won. The database decides, not a lock in one process:
PostgreSQL re-checks the condition after the first claimer's row lock is released, and SQLite runs
one writer at a time, so a second claimer always sees the first one's agent and updates nothing.
On SQLite the claim must be the first write of its transaction (it is, in the gateway's
one-session-per-request pattern), so the busy timeout rather than a stale snapshot governs it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.lifecycle import Actor
from hotline.masking import mask_text
from hotline.models import OPEN_STATUSES, Handoff, Ticket, TicketEvent
from knowledge.models import utcnow

log = logging.getLogger(__name__)


def _event(session: Session, ticket_id: int, action: str, actor: Actor, now: datetime) -> None:
    status = session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
    session.add(
        TicketEvent(
            ticket_id=ticket_id,
            action=action,
            from_status=status,
            to_status=status,
            actor_id=actor.id,
            actor_name=actor.display_name,
            at=now,
        )
    )
    session.flush()


def _refresh(session: Session, model: type, row_id: int) -> None:
    """The UPDATE went around the ORM: an object already loaded in this session must not keep old values."""
    loaded = session.identity_map.get(session.identity_key(model, row_id))
    if loaded is not None:
        session.refresh(loaded)


def claim_ticket(session: Session, ticket_id: int, actor: Actor, *, now: datetime | None = None) -> bool:
    """True when ``actor`` now holds the open, unclaimed ticket; False when someone else was first."""
    now = now or utcnow()
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.assigned_agent.is_(None), Ticket.status.in_(OPEN_STATUSES))
        .values(assigned_agent=actor.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _event(session, ticket_id, "认领", actor, now)
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


class HandoffOut(BaseModel):
    """A waiting conversation as the agent list shows it: phone and ID numbers masked in the transcript."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    status: str
    agent_id: int | None
    reason: str | None
    transcript: list
    created_at: datetime
    claimed_at: datetime | None


def request_handoff(
    session: Session,
    conversation_id: str,
    *,
    transcript: list | None = None,
    slots: dict | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Handoff:
    """The citizen asked for a person: the conversation waits, once, however often they ask."""
    existing = session.scalar(
        select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status != "closed")
    )
    if existing is not None:
        return existing
    handoff = Handoff(
        conversation_id=conversation_id,
        status="waiting",
        transcript=transcript or [],
        slots=slots or {},
        reason=reason,
        created_at=now or utcnow(),
    )
    session.add(handoff)
    session.flush()
    return handoff


def claim_handoff(session: Session, handoff_id: int, actor: Actor, *, now: datetime | None = None) -> bool:
    """True when ``actor`` now talks to this citizen; False when another agent took the conversation first."""
    result = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == "waiting")
        .values(status="claimed", agent_id=actor.id, claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount == 1
    if won:
        _refresh(session, Handoff, handoff_id)
        log.info("handoff %s claimed by %s", handoff_id, actor.username)
    return won


def close_handoff(session: Session, handoff_id: int, actor: Actor, *, now: datetime | None = None) -> bool:
    """Ends the live conversation; its holder, an admin, or anyone while it still waits (the citizen left)."""
    condition = [Handoff.id == handoff_id, Handoff.status != "closed"]
    if actor.role != "admin":
        condition.append((Handoff.agent_id == actor.id) | (Handoff.status == "waiting"))
    result = session.execute(
        update(Handoff)
        .where(*condition)
        .values(status="closed", closed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        _refresh(session, Handoff, handoff_id)
    return result.rowcount == 1


def waiting_handoffs(session: Session) -> list[HandoffOut]:
    """Oldest first: the citizen who has waited longest is served first."""
    rows = session.scalars(select(Handoff).where(Handoff.status == "waiting").order_by(Handoff.created_at, Handoff.id))
    out = []
    for row in rows:
        item = HandoffOut.model_validate(row)
        item.transcript = [_masked_turn(turn) for turn in row.transcript]
        out.append(item)
    return out


def _masked_turn(turn: object) -> object:
    if isinstance(turn, dict) and isinstance(turn.get("text"), str):
        return {**turn, "text": mask_text(turn["text"])}
    return mask_text(turn) if isinstance(turn, str) else turn
