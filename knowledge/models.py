"""Database tables of the catalogue. ``knowledge/`` is the only writer of these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from banshi.db import Base
from common.clock import utcnow


class Matter(Base):
    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    department: Mapped[str] = mapped_column(String(100), index=True)
    province: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    county: Mapped[str | None] = mapped_column(String(50))
    type: Mapped[str | None] = mapped_column(String(30))
    parent_external_id: Mapped[str | None] = mapped_column(String(100), index=True)
    parent_name: Mapped[str | None] = mapped_column(String(200))
    applicant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    processing_type: Mapped[str | None] = mapped_column(String(10))

    conditions: Mapped[str | None] = mapped_column(Text)
    process_steps: Mapped[list[dict]] = mapped_column(JSON, default=list)
    time_limit_legal_days: Mapped[int | None]
    time_limit_promised_days: Mapped[int | None]
    fee: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    hours: Mapped[str | None] = mapped_column(Text)
    handle_forms: Mapped[list[str]] = mapped_column(JSON, default=list)
    online_url: Mapped[str | None] = mapped_column(Text)
    visits: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(Text)
    bundle: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    """A 一件事 bundle's matters (external ids) in the order to do them; empty for a plain matter."""
    bundle_note: Mapped[str | None] = mapped_column(Text)

    source_url: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="published", index=True)
    """``draft`` (never published, never seen by citizens), ``published`` or ``deleted``."""
    published_version: Mapped[int | None] = mapped_column(default=None)
    """The version citizens see; a newer ``matter_versions`` row is a draft (``knowledge.versions``)."""

    materials: Mapped[list[Material]] = relationship(
        back_populates="matter",
        order_by="Material.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class Material(Base):
    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    required: Mapped[bool] = mapped_column(default=True)
    original_or_copy: Mapped[str | None] = mapped_column(String(10))
    original_count: Mapped[int] = mapped_column(default=0)
    copy_count: Mapped[int] = mapped_column(default=0)
    medium: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str | None] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    condition: Mapped[str | None] = mapped_column(String(200))
    exempt: Mapped[bool] = mapped_column(default=False)
    exempt_by: Mapped[str | None] = mapped_column(String(10))
    data_shared: Mapped[bool] = mapped_column(default=False)
    e_licence: Mapped[bool] = mapped_column(default=False)

    matter: Mapped[Matter] = relationship(back_populates="materials")

    __table_args__ = (Index("ix_materials_matter_position", "matter_id", "position"),)


class MatterVersion(Base):
    """A full snapshot per save, so that history, diffs and rollback never depend on the live row."""

    __tablename__ = "matter_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    data: Mapped[dict] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    """When this version went live; ``None`` for a draft that never was."""

    __table_args__ = (Index("ix_matter_versions_matter_version", "matter_id", "version", unique=True),)


class CatalogueChange(Base):
    """Append-only log of publishes and deletions.

    Every process that holds an index remembers the last ``seq`` it applied and replays the rest,
    which is how a publish reaches all action servers without a full rebuild.
    """

    __tablename__ = "catalogue_changes"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(100), index=True)
    op: Mapped[str] = mapped_column(String(10))
    """``publish`` or ``delete``."""
    version: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who changed the catalogue, when and how: every matter save, publish, rollback, import and delete,
    every FAQ change and every action on a group of unanswered questions (``knowledge.audit``)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(20), index=True)
    """One of ``knowledge.audit.ACTIONS`` (at most 20 characters)."""
    target: Mapped[str] = mapped_column(String(200), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
