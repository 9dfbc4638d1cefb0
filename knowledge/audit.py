"""The catalogue's audit log: one row per save, publish, rollback, import and delete of a matter,
per FAQ change, and per action on a group of unanswered questions.

Written by ``knowledge`` itself (not by the routes) so that every caller — the editor API, the
unanswered-question actions, the command line — leaves the same trace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, computed_field
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import utcnow
from knowledge.models import AuditEntry

AuditAction = Literal[
    "save", "publish", "rollback", "import", "delete",
    "faq_create", "faq_update", "faq_delete",
    "resolve_alias", "resolve_faq", "resolve_out_of_scope", "resolve_new_matter",
]  # fmt: skip
"""At most 20 characters each (the column's width). ``resolve_*`` is an editor's action on a group of
unanswered questions (``knowledge.unanswered.resolve``)."""
ACTIONS: tuple[str, ...] = get_args(AuditAction)
ACTION_LABELS: dict[str, str] = {
    "save": "保存事项",
    "publish": "发布事项",
    "rollback": "回滚事项",
    "import": "导入",
    "delete": "删除事项",
    "faq_create": "新建常见问题",
    "faq_update": "修改常见问题",
    "faq_delete": "删除常见问题",
    "resolve_alias": "未解决问题：加为别名",
    "resolve_faq": "未解决问题：加为常见问题",
    "resolve_out_of_scope": "未解决问题：不属于办事范围",
    "resolve_new_matter": "未解决问题：新建事项草稿",
}


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def action_label(self) -> str:
        """What the admin's list shows, in Chinese."""
        return ACTION_LABELS.get(self.action, self.action)


def record(session: Session, *, actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
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
