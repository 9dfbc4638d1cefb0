"""The catalogue's audit log: one row per save, publish, rollback, import and delete.

Written by ``knowledge`` itself (not by the routes) so that every caller — the editor API, the
unanswered-question actions, the command line — leaves the same trace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import AuditEntry, utcnow

ACTIONS = ("save", "publish", "rollback", "import", "delete")


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def record(session: Session, *, actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(at=utcnow(), actor=actor, action=action, target=target[:200], details=details or {}))


def entries(
    session: Session,
    *,
    target: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditOut]:
    """Newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if target:
        query = query.where(AuditEntry.target == target)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    return [AuditOut.model_validate(e) for e in session.scalars(query.limit(limit).offset(offset))]
