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
from knowledge.matter_diff import readable
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        """The details in one Chinese line for the admin's list: no field names, no ``null``, no JSON."""
        return describe(self.action, self.details)


FAQ_FIELDS = {"question": "问题", "answer": "答复", "matter_external_id": "事项", "status": "状态"}
STATUS_WORDS = {"published": "已发布", "draft": "草稿"}


def _short(text: Any, limit: int = 60) -> str:
    text = readable(STATUS_WORDS.get(text, text) if isinstance(text, str) else text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | dict) else int(value or 0)


def _faq_changes(changes: dict) -> list[str]:
    return [
        f"{FAQ_FIELDS.get(name, name)}：「{_short(c.get('before'), 30)}」→「{_short(c.get('after'), 30)}」"
        for name, c in changes.items()
        if isinstance(c, dict)
    ]


def _word(action: str, key: str, v: Any) -> str | None:
    """One detail in words; None when it says nothing worth a line."""
    simple = {
        "to": f"回滚到第 {v} 版内容",
        "previous": f"原线上第 {v} 版",
        "base_version": f"基于第 {v} 版修改",
        "file": f"文件：{v}",
        "faq_id": f"常见问题 #{v}",
        "count": f"共 {v} 条",
        "phrasings_added": f"新增 {v} 种问法",
        "note": f"说明：{readable(v)}",
    }
    match key:
        case _ if key in simple:
            return simple[key]
        case "version":
            return f"发布第 {v} 版" if action == "publish" else f"生成第 {v} 版"
        case "published":
            return ("已发布" if action.startswith("resolve") else "并发布") if v else None
        case "publish":
            return "已发布" if v else "存为草稿"
        case "created" | "updated" | "unchanged":
            return f"{ {'created': '新增', 'updated': '修改', 'unchanged': '未变'}[key] } {_count(v)} 个"
        case "errors":
            return f"有错误 {_count(v)} 行" if v else None
        case "conflicts":
            return f"冲突未导入 {_count(v)} 行" if v else None
        case "representative":
            return f"代表问法：{_short(v)}"
        case "aliases":
            return f"别名：{readable(v)}"
        case "name":
            return f"名称：{_short(v)}"
        case "changes":
            return "；".join(_faq_changes(v)) if isinstance(v, dict) else None
        case "question_ids":
            return None
        case _ if key in FAQ_FIELDS:
            return f"{FAQ_FIELDS[key]}：{_short(v)}"
    return f"{key}：{_short(v)}"


def describe(action: str, details: dict[str, Any]) -> str:
    """The entry's details in the order they were recorded; empty values are left out (counts are kept)."""
    parts = []
    for key, value in details.items():
        empty = value is None or value == "" or value == [] or value == {}
        if empty and key not in ("created", "updated"):
            continue
        word = _word(action, key, value)
        if word:
            parts.append(word)
    return "；".join(parts)


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
