"""Editing with versions: drafts, publishing, rollback, optimistic concurrency and diffs.

Every save is a new ``matter_versions`` row; the ``matters`` row stays what citizens see until a
version is published (``Matter.published_version``). A version newer than that is a draft, which
neither citizens nor the retriever see. Two editors who loaded the same version cannot silently
overwrite each other: a save names its ``base_version`` and fails with the other editor's changes
(``knowledge.matter_diff`` says how two versions differ).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import audit, bundles, store
from knowledge.matter_diff import FieldChange, diff_data
from knowledge.models import Matter, MatterVersion
from knowledge.schema import MatterIn


class VersionError(Exception):
    """Base of the editing errors; the message is shown to the editor as it is."""


class MatterNotFound(VersionError):
    pass


class VersionNotFound(VersionError):
    pass


class BundleInvalid(VersionError):
    """A 一件事 lists a matter that is unknown, a bundle itself, or (at publishing) not published."""


class VersionConflict(VersionError):
    """Someone saved after the editor loaded ``base``: the save would overwrite their work."""

    def __init__(self, external_id: str, base: int | None, latest: MatterVersion, changes: list[FieldChange]):
        super().__init__(f"事项 {external_id} 已被 {latest.author} 修改为第 {latest.version} 版，请先查看差异再保存")
        self.external_id = external_id
        self.base = base
        self.latest = latest
        self.changes = changes


class VersionOut(BaseModel):
    version: int
    author: str
    note: str | None
    created_at: datetime
    published_at: datetime | None
    state: str
    """``published`` (live now), ``draft`` (newer than live), ``history`` (older, or replaced)."""


# -- reading --------------------------------------------------------------------------------------


def matter_or_raise(session: Session, external_id: str) -> Matter:
    matter = store.get_by_external_id(session, external_id)
    if matter is None:
        raise MatterNotFound(f"未找到事项 {external_id}")
    return matter


def version_or_raise(session: Session, matter: Matter, version: int) -> MatterVersion:
    row = store.version_row(session, matter, version)
    if row is None:
        raise VersionNotFound(f"事项 {matter.external_id} 没有第 {version} 版")
    return row


def history(session: Session, matter: Matter) -> list[VersionOut]:
    """Newest first, each with its state relative to what citizens see now."""
    rows = session.scalars(
        select(MatterVersion).where(MatterVersion.matter_id == matter.id).order_by(MatterVersion.version.desc())
    )
    live = matter.published_version if matter.status == "published" else None
    out = []
    for row in rows:
        if live is not None and row.version == live:
            state = "published"
        elif row.version > (matter.published_version or 0):
            state = "draft"
        else:
            state = "history"
        out.append(
            VersionOut(
                version=row.version,
                author=row.author,
                note=row.note,
                created_at=row.created_at,
                published_at=row.published_at,
                state=state,
            )
        )
    return out


def diff(session: Session, external_id: str, from_version: int, to_version: int) -> list[FieldChange]:
    matter = matter_or_raise(session, external_id)
    before = version_or_raise(session, matter, from_version)
    after = version_or_raise(session, matter, to_version)
    return diff_data(before.data, after.data)


# -- writing --------------------------------------------------------------------------------------


def save_draft(
    session: Session,
    item: MatterIn,
    *,
    author: str,
    note: str | None = None,
    base_version: int | None = None,
) -> MatterVersion:
    """Stores ``item`` as the matter's next version, a draft until published.

    ``base_version`` is the latest version the editor loaded (``None`` or 0 for a new matter); when
    another save came in between, ``VersionConflict`` carries that version and the diff base→latest.
    """
    matter = store.get_by_external_id(session, item.external_id)
    latest = store.latest_version(session, matter) if matter is not None else None
    if latest is not None and (base_version or 0) != latest.version:
        base_row = store.version_row(session, matter, base_version) if base_version else None
        changes = diff_data(base_row.data, latest.data) if base_row is not None else []
        raise VersionConflict(item.external_id, base_version, latest, changes)
    if found := bundles.problems(session, item):
        raise BundleInvalid("；".join(found))
    row = store.add_version(session, item, author=author, note=note)
    audit.record(
        session,
        actor=author,
        action="save",
        target=item.external_id,
        details={"version": row.version, "note": note, "base_version": base_version},
    )
    return row


def publish(session: Session, external_id: str, version: int, *, author: str) -> Matter:
    """Makes ``version`` what citizens see; every index catches up through the change log."""
    matter = matter_or_raise(session, external_id)
    row = version_or_raise(session, matter, version)
    if row.note == "删除" and row.published_at is not None and matter.status == "deleted":
        raise VersionError(f"第 {version} 版是删除记录，不能发布")
    if found := bundles.problems(session, MatterIn.model_validate(row.data), publishing=True):
        raise BundleInvalid("；".join(found))
    previous = matter.published_version if matter.status == "published" else None
    store.publish_version(session, matter, row)
    audit.record(
        session,
        actor=author,
        action="publish",
        target=external_id,
        details={"version": version, "previous": previous},
    )
    return matter


def rollback(
    session: Session, external_id: str, version: int, *, author: str, publish_now: bool = False
) -> MatterVersion:
    """A new version equal to ``version``: history is never rewritten, only added to."""
    matter = matter_or_raise(session, external_id)
    old = version_or_raise(session, matter, version)
    item = MatterIn.model_validate(old.data)
    row = store.add_version(session, item, author=author, note=f"回滚到第 {version} 版")
    audit.record(
        session,
        actor=author,
        action="rollback",
        target=external_id,
        details={"to": version, "version": row.version, "published": publish_now},
    )
    if publish_now:
        publish(session, external_id, row.version, author=author)
    return row


def delete(session: Session, external_id: str, *, author: str) -> bool:
    deleted = store.delete_matter(session, external_id, author=author)
    if deleted:
        audit.record(session, actor=author, action="delete", target=external_id, details={})
    return deleted
