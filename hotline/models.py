"""Ticket, ticket-event and handoff tables.

The dialogue files tickets here, agents move them through their lifecycle, and every move is kept
in ``ticket_events``: nothing a citizen submitted, and nothing done about it, is kept anywhere else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from banshi.db import Base
from common.clock import utcnow
from common.users import User  # noqa: F401  (registers the users table the foreign keys point at)

OPEN_STATUSES = ("待受理", "已受理", "已派单", "办理中")
CLOSED_STATUSES = ("已办结", "已回访")
STATUSES = (*OPEN_STATUSES, *CLOSED_STATUSES)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    """12345-YYYYMMDD-NNNN, what the citizen quotes on the phone."""
    type: Mapped[str] = mapped_column(String(8), index=True)
    content: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    event_time: Mapped[str | None] = mapped_column(String(100))
    """As the citizen said it (昨天晚上, 上周三): the agent reads it, nothing computes with it."""
    citizen_name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(100), index=True)
    slots: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="待受理", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    priority: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")
    """``normal`` or ``urgent``; urgent tickets lead the queue and are due the same working day."""
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    category_confidence: Mapped[float | None] = mapped_column(Float)
    """The classifier's calibrated confidence; None when a person chose the category."""
    department: Mapped[str | None] = mapped_column(String(100), index=True)
    """The department it is dispatched to; cleared when the department sends it back (退回)."""
    assigned_agent: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """The agent who claimed it; set only by the conditional update in ``hotline.claims``."""
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    """Deadline in UTC from the SLA; None only for tickets filed before the SLA existed."""
    resolution: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column()
    """The citizen's 1–5 satisfaction at the 回访 (taken by an agent, or given by the citizen in the chat)."""
    supervised: Mapped[bool] = mapped_column(default=False, server_default=false())
    filing_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    """``hotline.tickets.filing_key``: one ticket per confirmation, however often it is repeated."""
    """督办: a supervisor is watching; the queue shows it and the department sees it."""


class TicketEvent(Base):
    """One move of a ticket: the history the citizen, the department and an audit can all rely on."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    """登记, 认领, 分配 (the desk assigned it), 释放, 受理, 派单, 签收, 办结, 回访, 退回, 延期, 督办;
    评价 (the citizen re-rates a 已回访 ticket)."""
    from_status: Mapped[str | None] = mapped_column(String(8))
    to_status: Mapped[str] = mapped_column(String(8))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    """None when the citizen or the system acted (filing through the assistant)."""
    actor_name: Mapped[str] = mapped_column(String(50))
    """Kept as it was at the time, so the history reads the same after a rename."""
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    """What else changed: department, old and new deadline, rating."""
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Handoff(Base):
    """A live conversation waiting for, or talking to, a human agent."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(8), default="waiting", index=True)
    """``waiting`` → ``claimed`` → ``closed``; changed only by ``hotline.handoffs``, with the conversation's mode."""
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    transcript: Mapped[list] = mapped_column(JSON, default=list)
    """The conversation so far, so the agent does not ask again what the citizen already said."""
    slots: Mapped[dict] = mapped_column(JSON, default=dict)
    """The dialogue's filled slots when the citizen asked for a person (names in ``common.tickets``): the
    only copy, which the agent's list and the ticket draft read."""
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    category: Mapped[str | None] = mapped_column(String(50))
    """The subject the classifier reads in what the citizen said: the skill the desk assigns by."""
    assigned_at: Mapped[datetime | None] = mapped_column()
    """When the desk gave it to its agent, who must answer within ``desk_answer_minutes``; None once they
    answer, and after a claim or transfer by a person."""
    returned_count: Mapped[int] = mapped_column(default=0, server_default="0")
    """How often it went back to the queue because the assigned agent did not answer."""
    returned_from: Mapped[int | None] = mapped_column()
    """The user id of the last agent who did not answer (the supervisors' board names them)."""
    returned_at: Mapped[datetime | None] = mapped_column()


class AgentDesk(Base):
    """An agent's place at the desk: online or away, their skills, and when the desk last gave them work.

    One row per agent who ever set a status; no row means away. Written only by ``hotline.desk``."""

    __tablename__ = "agent_desk"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default="away")
    """``online`` (the desk assigns to them) or ``away``."""
    away_reason: Mapped[str | None] = mapped_column(String(20))
    """Why they are away when the desk set it (未应答), None when they chose it."""
    skills: Mapped[list] = mapped_column(JSON, default=list)
    """Ticket categories or departments (城乡建设, 生态环境局…); empty: a generalist, given anything."""
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_assigned_at: Mapped[datetime | None] = mapped_column()
    """Round-robin among equals: of agents with the same skill match and load, the one served longest ago."""


class LabelExample(Base):
    """A message with the type or category an agent gave it: ``banshi hotline train`` learns from these.

    Written by ``hotline.corrections`` in the same transaction as the correction itself, so a
    correction the console shows as saved is also a training example. Either label may be None (an
    agent corrected only the other one).
    """

    __tablename__ = "label_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    """The ticket's content when it was corrected: what the model saw."""
    type: Mapped[str | None] = mapped_column(String(8))
    """One of ``common.tickets.TICKET_TYPES``."""
    category: Mapped[str | None] = mapped_column(String(50))
    """One of ``hotline.classifier.CATEGORIES`` (a correction to 其他 teaches nothing and is not kept)."""
    predicted: Mapped[str | None] = mapped_column(String(50))
    """What the model (or the ticket) said before the agent changed it."""
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
