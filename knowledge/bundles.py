"""一件事: one life event, one checklist.

A bundle is a matter like any other (versioned, published, searched) whose ``bundle`` lists the
matters the life event takes, in the order to do them; the catalogue's own joint matters (named
“…一件事”) are bundles with no list, their materials already being one form. What a citizen needs is
one checklist, so ``combine`` folds the bundle's own materials and its matters' into one list in
which a paper needed by several matters appears once, with the matters that need it. It is pure: the
dialogue and the tests call it on ``MatterIn`` values; ``resolve`` only reads the published members.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import store
from knowledge.models import Matter
from knowledge.schema import MaterialIn, MatterIn

_NOT_IN_KEY = re.compile(r"[\s《》〈〉“”\"'‘’「」『』、，,。.:：;；·()（）\[\]【】]+")


def material_key(name: str) -> str:
    """Two matters' papers are the same paper when their names differ only in spacing and punctuation."""
    return _NOT_IN_KEY.sub("", name).casefold()


@dataclass(frozen=True)
class Combined:
    """A bundle read as one guide: ``guide`` is the bundle with the combined materials."""

    guide: MatterIn
    members: tuple[MatterIn, ...]
    """The published matters of the bundle, in the order to do them."""
    needed_by: tuple[tuple[str, ...], ...]
    """Per combined material, the external ids of the matters that need it (the bundle's own id for
    its own materials), in bundle order."""
    withdrawn: tuple[str, ...] = ()
    """Listed matters that citizens cannot see now (withdrawn or never published)."""


def _merge(kept: MaterialIn, other: MaterialIn) -> MaterialIn:
    """One paper for two matters: brought if either needs it brought, needed unless both make it optional.

    A matter that fetches the paper itself does not spare the citizen when another matter wants it
    in hand; the one that wants it brought gives the description. Copies are the larger count: the
    citizen brings the paper once to one window (一窗受理).
    """
    base, extra = (other, kept) if other.must_bring and not kept.must_bring else (kept, other)
    return base.model_copy(
        update={
            "required": kept.required or other.required,
            "condition": None if not (kept.condition and other.condition) else base.condition,
            "original_count": max(kept.original_count, other.original_count),
            "copy_count": max(kept.copy_count, other.copy_count),
            "e_licence": base.e_licence and (extra.e_licence or not extra.must_bring),
            "note": base.note or extra.note,
        }
    )


def combine(bundle: MatterIn, members: Sequence[MatterIn], withdrawn: Sequence[str] = ()) -> Combined:
    """The bundle's own materials, then each matter's in order, every paper once."""
    materials: list[MaterialIn] = []
    needed_by: list[list[str]] = []
    position: dict[str, int] = {}
    for matter in (bundle, *members):
        for material in matter.materials:
            key = material_key(material.name)
            if key not in position:
                position[key] = len(materials)
                materials.append(material)
                needed_by.append([matter.external_id])
                continue
            at = position[key]
            materials[at] = _merge(materials[at], material)
            if matter.external_id not in needed_by[at]:
                needed_by[at].append(matter.external_id)
    guide = bundle.model_copy(update={"materials": materials})
    return Combined(guide, tuple(members), tuple(tuple(ids) for ids in needed_by), tuple(withdrawn))


def resolve(session: Session, bundle: MatterIn) -> Combined:
    """The bundle with its published matters; one that is withdrawn is named in ``withdrawn``, not guessed."""
    live = {m.external_id: m for m in store.published(session, bundle.bundle)}
    members = [live[e] for e in bundle.bundle if e in live]
    return combine(bundle, members, [e for e in bundle.bundle if e not in live])


def problems(session: Session, item: MatterIn, *, publishing: bool = False) -> list[str]:
    """Why ``item``'s list of matters cannot be saved (or, ``publishing``, published): in Chinese, for the editor.

    Each listed matter must be in the catalogue and not a bundle itself (a life event of life events
    would need a checklist of checklists); at publishing, citizens must be able to see each one.
    """
    if not item.bundle:
        return []
    rows = {m.external_id: m for m in session.scalars(select(Matter).where(Matter.external_id.in_(item.bundle)))}
    found = []
    for external_id in item.bundle:
        row = rows.get(external_id)
        if row is None or row.status == "deleted":
            found.append(f"一件事包含的事项 {external_id} 不存在")
        elif row.bundle:
            found.append(f"一件事不能包含另一个一件事：{row.name}")
        elif publishing and row.status != "published":
            found.append(f"一件事包含的事项《{row.name}》尚未发布，请先发布它")
    return found
