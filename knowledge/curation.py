"""Turning a group of unanswered questions into catalogue changes, through the versioned editing path.

Every change goes through ``knowledge.versions`` (draft, then publish), so it has a version, an audit
entry and a change-log entry like an editor's own save, and every index picks it up within a second.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from knowledge import store, versions
from knowledge.schema import MatterIn


class CurationError(Exception):
    """The message is shown to the editor as it is."""


class MatterMissing(CurationError):
    """The named matter is not in the catalogue (or was deleted)."""


def add_alias(session: Session, external_id: str, aliases: list[str], *, author: str) -> bool:
    """Adds the citizens' phrasings as aliases of a matter; returns True when they are live now.

    A published matter gets the aliases on its live content, published at once, so the next citizen
    who asks the same way is answered. A pending draft is not published with them (it may be
    unfinished work): it is saved again on top with the aliases added, so publishing it later keeps them.
    A never-published matter only gets a new draft.
    """
    matter = store.get_by_external_id(session, external_id)
    if matter is None or matter.status == "deleted":
        raise MatterMissing(f"未找到事项 {external_id}")
    latest = store.latest_version(session, matter)
    latest_number = latest.version if latest is not None else None
    note = "由未解决问题添加别名"

    def with_aliases(item: MatterIn) -> MatterIn | None:
        new = [a for a in aliases if a not in item.aliases and a != item.name]
        if not new:
            return None
        return item.model_copy(update={"aliases": [*item.aliases, *new], "updated_at": None})

    live = matter.status == "published"
    pending = None
    if latest is not None and latest.version > (matter.published_version or 0):
        pending = MatterIn.model_validate(latest.data)
    if live:
        item = with_aliases(store.to_schema(matter))
        if item is not None:
            row = versions.save_draft(session, item, author=author, note=note, base_version=latest_number)
            versions.publish(session, external_id, row.version, author=author)
            latest_number = row.version
    if pending is not None:
        item = with_aliases(pending)
        if item is not None:
            versions.save_draft(session, item, author=author, note=note, base_version=latest_number)
    return live


def new_matter_draft(session: Session, item: MatterIn, *, author: str) -> int:
    """A matter the catalogue lacks, as a draft for review; returns its version."""
    existing = store.get_by_external_id(session, item.external_id)
    if existing is not None and existing.status != "deleted":
        raise CurationError(f"事项编号 {item.external_id} 已存在，请换一个编号，或把问题添加为该事项的别名")
    base = store.latest_version(session, existing) if existing is not None else None
    row = versions.save_draft(
        session, item, author=author, note="由未解决问题新建", base_version=base.version if base else None
    )
    return row.version
