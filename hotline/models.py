"""Ticket tables. The hotline issue grows them (assignment, SLA, transitions); the dialogue already
files tickets here, so nothing a citizen submitted is ever kept anywhere else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banshi.db import Base
from knowledge.models import utcnow


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
