"""Drafts: versions saved after the one citizens see, for previews (hit testing) and review lists."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.models import Matter, MatterVersion
from knowledge.schema import MatterIn


def _latest_rows(session: Session) -> list[tuple[Matter, MatterVersion]]:
    newest = (
        select(MatterVersion.matter_id, func.max(MatterVersion.version).label("version"))
        .group_by(MatterVersion.matter_id)
        .subquery()
    )
    query = (
        select(Matter, MatterVersion)
        .join(newest, newest.c.matter_id == Matter.id)
        .join(MatterVersion, (MatterVersion.matter_id == Matter.id) & (MatterVersion.version == newest.c.version))
        .where(MatterVersion.version > func.coalesce(Matter.published_version, 0))
        .order_by(Matter.id)
    )
    return [(m, v) for m, v in session.execute(query)]


def latest_drafts(session: Session) -> list[MatterIn]:
    """The newest draft of every matter that has one, including matters never published."""
    return [MatterIn.model_validate(v.data) for _, v in _latest_rows(session)]


def draft_versions(session: Session) -> dict[str, int]:
    """External id → the version number of its newest draft."""
    return {m.external_id: v.version for m, v in _latest_rows(session)}
