"""Filing and looking up 12345 tickets.

A ticket is accepted only once it is committed with its number, so a citizen who was given a
number can always find it again, after restarts and on any replica.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banshi.db import hold_write_lock
from common.clock import utcnow
from common.masking import mask_phone
from common.phones import normalise_phone
from common.tickets import TicketType
from hotline import classifier, sla
from hotline.models import Ticket, TicketEvent

Priority = Literal["normal", "urgent"]
TICKET_NUMBER = re.compile(r"^12345-\d{8}-\d{4,}$")
log = logging.getLogger(__name__)


class TicketIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    type: TicketType
    content: str = Field(min_length=2, max_length=4000)
    location: str | None = None
    event_time: str | None = None
    name: str | None = Field(default=None, max_length=50)
    """None or 匿名 when the citizen stays anonymous."""
    phone: str
    conversation_id: str | None = None
    slots: dict = Field(default_factory=dict)
    priority: Priority = "normal"
    category: str | None = Field(default=None, max_length=50)
    category_confidence: float | None = Field(default=None, ge=0, le=1)
    filing_key: str | None = Field(default=None, max_length=64)
    """The same key files the same ticket once: a 确认提交 repeated after a crash gets the first ticket back."""

    @field_validator("phone")
    @classmethod
    def _mobile(cls, value: str) -> str:
        phone = normalise_phone(value)
        if phone is None:
            raise ValueError("请提供有效的11位手机号码")
        return phone


def filing_key(conversation_id: str, item: TicketIn) -> str:
    """Derived from the conversation and what the citizen confirmed, so a confirmation repeated after any
    crash (the action filed, Rasa never stored the turn, the citizen pressed 确认提交 again) is the same
    key, while a second, different complaint in the same conversation is another."""
    confirmed = [conversation_id, item.type, item.content, item.location, item.event_time, item.name, item.phone]
    return hashlib.sha256(json.dumps(confirmed, ensure_ascii=False).encode()).hexdigest()[:64]


def _filed(session: Session, key: str | None) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.filing_key == key)) if key else None


def _next_number(session: Session, day: datetime) -> str:
    prefix = f"12345-{day:%Y%m%d}-"
    last = session.scalar(
        select(Ticket.number).where(Ticket.number.like(f"{prefix}%")).order_by(Ticket.id.desc()).limit(1)
    )
    return f"{prefix}{(int(last.rsplit('-', 1)[1]) + 1) if last else 1:04d}"


def _classified(item: TicketIn) -> tuple[str, float | None]:
    """The caller's category if it gave one, else the classifier's.

    Every ticket reaches the queue already sorted by subject (and so with a suggested department),
    whichever channel filed it: an agent corrects the classifier rather than reading every ticket to
    route it. The department itself is set only when the ticket is dispatched (派单)."""
    if item.category is not None:
        return item.category, item.category_confidence
    prediction = classifier.classify(item.content)
    return prediction.category, prediction.category_confidence


def create_ticket(session: Session, item: TicketIn, *, now: datetime | None = None) -> Ticket:
    """Files the ticket with the day's next number; two replicas racing for it retry on the unique key.

    ``now`` is naive UTC like every stored time; the number takes the centre's local date, and the
    deadline comes from the SLA for the ticket's type and priority.
    """
    now = now or utcnow()
    hold_write_lock(session)  # the number is read, then written in a savepoint
    if (already := _filed(session, item.filing_key)) is not None:
        log.info("ticket %s confirmed again: not filed twice", already.number)
        return already
    category, confidence = _classified(item)
    for _attempt in range(20):
        ticket = Ticket(
            number=_next_number(session, sla.to_local(now)),
            type=item.type,
            content=item.content,
            location=item.location,
            event_time=item.event_time,
            citizen_name=item.name,
            phone=item.phone,
            conversation_id=item.conversation_id,
            slots=item.slots,
            priority=item.priority,
            category=category,
            category_confidence=confidence,
            created_at=now,
            updated_at=now,
            due_at=sla.due_at(item.type, item.priority, now),
            filing_key=item.filing_key,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
                session.add(
                    TicketEvent(ticket_id=ticket.id, action="登记", to_status=ticket.status, actor_name="市民", at=now)
                )
        except IntegrityError:
            if (already := _filed(session, item.filing_key)) is not None:  # another replica filed it first
                return already
            continue
        log.info("ticket %s filed (%s, %s)", ticket.number, ticket.type, mask_phone(ticket.phone))
        return ticket
    raise RuntimeError("could not allocate a ticket number")


def find_ticket(session: Session, number: str, phone: str) -> Ticket | None:
    """Only the number together with the phone it was filed with opens a ticket."""
    phone_digits = normalise_phone(phone)
    if phone_digits is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.number == number.strip().upper(), Ticket.phone == phone_digits))


def filed_in(session: Session, conversation_id: str, number: str) -> Ticket | None:
    """The ticket this conversation filed under that number: what a 确认提交 repeated after the filing was
    answered (the reply lost with a dying gateway) is shown again, never filed again."""
    return session.scalar(select(Ticket).where(Ticket.number == number, Ticket.conversation_id == conversation_id))
