"""The agents' queue: open tickets, urgent first, then the nearest deadline.

Lists show a masked phone and masked free text: an agent sees the whole number only on the one
ticket they open, so a screenshot of the queue gives away nobody's phone or ID number.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session

from common.clock import utcnow
from common.masking import mask_phone, mask_text
from common.phones import normalise_phone
from hotline import sla
from hotline.models import OPEN_STATUSES, Ticket

PREVIEW_CHARS = 60


class QueueItem(BaseModel):
    id: int
    number: str
    type: str
    status: str
    priority: str
    category: str | None
    department: str | None
    assigned_agent: int | None
    supervised: bool
    phone: str
    """Masked: 138****1234."""
    preview: str
    """The start of the content, with phone and ID numbers masked."""
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    remaining_seconds: int | None
    """Negative once overdue; None without a deadline."""
    remaining_text: str


def to_item(ticket: Ticket, now: datetime) -> QueueItem:
    left = sla.remaining(ticket, now)
    content = mask_text(ticket.content)
    return QueueItem(
        id=ticket.id,
        number=ticket.number,
        type=ticket.type,
        status=ticket.status,
        priority=ticket.priority,
        category=ticket.category,
        department=ticket.department,
        assigned_agent=ticket.assigned_agent,
        supervised=ticket.supervised,
        phone=mask_phone(ticket.phone),
        preview=content if len(content) <= PREVIEW_CHARS else content[:PREVIEW_CHARS] + "…",
        created_at=ticket.created_at,
        due_at=ticket.due_at,
        overdue=sla.is_overdue(ticket, now),
        remaining_seconds=None if left is None else int(left.total_seconds()),
        remaining_text=sla.describe_remaining(left) if ticket.status in OPEN_STATUSES else ticket.status,
    )


def _queue_order(query: Select) -> Select:
    return query.order_by(
        case((Ticket.priority == "urgent", 0), else_=1),
        Ticket.due_at.is_(None),  # tickets from before the SLA go last rather than first
        Ticket.due_at,
        Ticket.created_at,
        Ticket.id,
    )


def open_tickets(
    session: Session,
    *,
    now: datetime | None = None,
    status: str | None = None,
    assigned_to: int | None = None,
    unclaimed_only: bool = False,
    department: str | None = None,
    overdue_only: bool = False,
    limit: int = 200,
) -> list[QueueItem]:
    """Open tickets in the order they should be worked on; the filters narrow the list, never reorder it."""
    now = now or utcnow()
    query = select(Ticket).where(Ticket.status.in_([status] if status else OPEN_STATUSES))
    if assigned_to is not None:
        query = query.where(Ticket.assigned_agent == assigned_to)
    if unclaimed_only:
        query = query.where(Ticket.assigned_agent.is_(None))
    if department:
        query = query.where(Ticket.department == department)
    if overdue_only:
        query = query.where(Ticket.due_at < sla.to_utc_naive(now))
    items = [to_item(t, now) for t in session.scalars(_queue_order(query).limit(limit))]
    return items


def search_tickets(session: Session, text: str, *, now: datetime | None = None, limit: int = 50) -> list[QueueItem]:
    """By ticket number (whole or its 20261123-0001 tail) or the citizen's whole phone number; open or closed."""
    now = now or utcnow()
    text = text.strip()
    if not text:
        return []
    conditions = []
    phone = normalise_phone(text)
    if phone:
        conditions.append(Ticket.phone == phone)
    fragment = text.upper()
    if len(fragment.replace("-", "")) >= 4 and all(c.isdigit() or c == "-" for c in fragment.removeprefix("12345-")):
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Ticket.number.like(f"%{escaped}", escape="\\"))
    if not conditions:
        return []
    query = select(Ticket).where(or_(*conditions)).order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
    return [to_item(t, now) for t in session.scalars(query)]
