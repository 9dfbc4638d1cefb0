"""Reading and writing matters. Every write records a version snapshot and, when it changes what
citizens see, an entry in the change log that the indexes replay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from common.clock import utcnow
from knowledge.models import CatalogueChange, Material, Matter, MatterVersion
from knowledge.schema import MatterIn

_MATERIAL_FIELDS = (
    "name",
    "required",
    "original_or_copy",
    "original_count",
    "copy_count",
    "medium",
    "source",
    "note",
    "condition",
    "exempt",
    "exempt_by",
    "data_shared",
    "e_licence",
)
_SCALAR_FIELDS = tuple(
    name for name in MatterIn.model_fields if name not in {"materials", "process_steps", "updated_at"}
)


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class ChangeEntry:
    seq: int
    external_id: str
    op: str


def to_schema(matter: Matter) -> MatterIn:
    data = {name: getattr(matter, name) for name in _SCALAR_FIELDS}
    data["process_steps"] = matter.process_steps or []
    data["materials"] = [{f: getattr(m, f) for f in _MATERIAL_FIELDS} for m in matter.materials]
    data["updated_at"] = matter.updated_at
    return MatterIn.model_validate(data)


def _apply(matter: Matter, item: MatterIn) -> None:
    for name in _SCALAR_FIELDS:
        setattr(matter, name, getattr(item, name))
    matter.process_steps = [step.model_dump() for step in item.process_steps]
    matter.materials = [
        Material(position=i, **m.model_dump(include=set(_MATERIAL_FIELDS))) for i, m in enumerate(item.materials)
    ]
    matter.updated_at = (item.updated_at or utcnow()).replace(tzinfo=None)


def get_by_external_id(session: Session, external_id: str) -> Matter | None:
    return session.scalar(select(Matter).where(Matter.external_id == external_id))


def latest_version(session: Session, matter: Matter) -> MatterVersion | None:
    return session.scalar(
        select(MatterVersion)
        .where(MatterVersion.matter_id == matter.id)
        .order_by(MatterVersion.version.desc())
        .limit(1)
    )


def version_row(session: Session, matter: Matter, version: int) -> MatterVersion | None:
    return session.scalar(
        select(MatterVersion).where(MatterVersion.matter_id == matter.id, MatterVersion.version == version)
    )


def add_version(session: Session, item: MatterIn, *, author: str, note: str | None = None) -> MatterVersion:
    """Records ``item`` as the matter's next version without changing what citizens see.

    A matter that was never published gets its row created (status ``draft``) or refreshed, so lists
    show its current name; a published one keeps its live row until ``publish_version``.
    """
    matter = get_by_external_id(session, item.external_id)
    if matter is None:
        matter = Matter(version=0, status="draft")
        session.add(matter)
    if matter.published_version is None:
        _apply(matter, item)
        matter.status = "draft"
    matter.version += 1
    session.flush()
    row = MatterVersion(
        matter_id=matter.id, version=matter.version, data=item.model_dump(mode="json"), author=author, note=note
    )
    session.add(row)
    session.flush()
    return row


def publish_version(session: Session, matter: Matter, row: MatterVersion) -> Matter:
    """Makes a stored version the live row and tells every index (through the change log)."""
    _apply(matter, MatterIn.model_validate(row.data))
    matter.status = "published"
    matter.published_version = row.version
    row.published_at = utcnow()
    session.flush()
    _log(session, matter, "publish", row.version)
    return matter


def save_matter(
    session: Session,
    item: MatterIn,
    *,
    author: str,
    note: str | None = None,
    publish: bool = True,
) -> tuple[Matter, Outcome]:
    """Create or update by external id; a re-import of identical content changes nothing.

    ``publish=False`` stores a draft version: a published matter stays as citizens know it.
    """
    matter = get_by_external_id(session, item.external_id)
    if matter is not None and matter.status != "deleted":
        latest = latest_version(session, matter)
        current = MatterIn.model_validate(latest.data) if latest is not None else to_schema(matter)
        if current.content_key() == item.content_key():
            live = matter.status == "published" and (latest is None or matter.published_version == latest.version)
            if live or not publish:
                return matter, Outcome.unchanged
    outcome = Outcome.created if matter is None else Outcome.updated
    row = add_version(session, item, author=author, note=note)
    matter = get_by_external_id(session, item.external_id)
    if publish:
        publish_version(session, matter, row)
    return matter, outcome


def delete_matter(session: Session, external_id: str, *, author: str) -> bool:
    """Soft delete: history stays, citizens and indexes stop seeing it.

    The deletion is itself a published version, so no draft is left pending behind it.
    """
    matter = get_by_external_id(session, external_id)
    if matter is None or matter.status == "deleted":
        return False
    was_published = matter.status == "published"
    matter.status = "deleted"
    matter.version += 1
    matter.published_version = matter.version
    session.add(
        MatterVersion(
            matter_id=matter.id,
            version=matter.version,
            data=to_schema(matter).model_dump(mode="json"),
            author=author,
            note="删除",
            published_at=utcnow(),
        )
    )
    if was_published:
        _log(session, matter, "delete", matter.version)
    return True


_CHANGE_LOG_LOCK = 0x62616E73  # any constant: the key of PostgreSQL's advisory lock for the change log


def _log(session: Session, matter: Matter, op: str, version: int) -> None:
    """Appends to the change log that every index replays.

    Indexes remember the highest ``seq`` they applied, so entries must become visible in ``seq``
    order. PostgreSQL hands out sequence numbers before commit, so two concurrent publishes could
    commit 8 before 7 and an index would skip 7 for good; the transaction-scoped advisory lock makes
    publishers take turns until commit. SQLite has one writer at a time anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHANGE_LOG_LOCK})
    session.add(CatalogueChange(external_id=matter.external_id, op=op, version=version))


def published(session: Session, external_ids: Iterable[str] | None = None) -> list[MatterIn]:
    query = select(Matter).where(Matter.status == "published").order_by(Matter.id)
    if external_ids is not None:
        query = query.where(Matter.external_id.in_(list(external_ids)))
    return [to_schema(m) for m in session.scalars(query)]


def last_change_seq(session: Session) -> int:
    return session.scalar(select(func.coalesce(func.max(CatalogueChange.seq), 0))) or 0


def changes_since(session: Session, seq: int) -> list[ChangeEntry]:
    rows = session.scalars(select(CatalogueChange).where(CatalogueChange.seq > seq).order_by(CatalogueChange.seq))
    return [ChangeEntry(r.seq, r.external_id, r.op) for r in rows]


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Matter.status, func.count()).group_by(Matter.status))
    return {status: n for status, n in rows}
