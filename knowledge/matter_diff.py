"""The difference of two versions of a matter, field by field, as an editor reads it: Chinese labels and values.

Materials are matched by name first; a material whose name changed is then matched to the unmatched one at
the same position or with the most similar name, so a renamed material reads as one change of its
材料名称 (with whatever else changed with it), not as a deletion plus an addition. Every change carries its
values twice: as data (``before``/``after``, for programs) and as Chinese text (``before_text``/
``after_text``: 是/否, lists joined with 、, a material as 材料名称：…；是否必需：是), so no page prints JSON.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from pydantic import BaseModel

from knowledge.importers.tabular import MATERIAL_COLUMNS, MATTER_COLUMNS
from knowledge.schema import MatterIn

EMPTY = "（空）"
RENAME_THRESHOLD = 0.5
"""How alike two unmatched materials must be (name similarity, plus 0.5 for the same position, plus a
little for each other field they share) to count as one material renamed."""


class FieldChange(BaseModel):
    field: str
    """Dotted path, e.g. ``name`` or ``materials[居民身份证].copy_count``."""
    label: str
    before: Any = None
    after: Any = None
    kind: str = "changed"
    """``changed``, ``added`` or ``removed`` (the last two for materials)."""
    before_text: str = EMPTY
    after_text: str = EMPTY
    """The values in Chinese, as the studio shows them."""


def readable(value: Any) -> str:
    """A stored value in the words an editor uses; never ``null``, ``true`` or JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        return _material_text(value) if "name" in value and "desc" not in value else _step_text(value)
    if isinstance(value, list):
        if all(isinstance(v, dict) for v in value):
            return "；".join(f"{i}. {readable(v)}" for i, v in enumerate(value, 1))
        return "、".join(readable(v) for v in value)
    return str(value)


def _step_text(step: dict) -> str:
    name, desc = step.get("name") or "", step.get("desc")
    return f"{name}：{desc}" if desc else str(name)


def _material_text(material: dict) -> str:
    parts = []
    for key, label in MATERIAL_COLUMNS.items():
        value = material.get(key)
        if value is None or value == "" or (value is False and key != "required") or (value == 0 and "count" in key):
            continue
        parts.append(f"{label}：{readable(value)}")
    return "；".join(parts)


def change(
    field: str,
    label: str,
    before: Any = None,
    after: Any = None,
    kind: str = "changed",
    *,
    texts: tuple[str, str] | None = None,
) -> FieldChange:
    before_text, after_text = texts or (readable(before), readable(after))
    return FieldChange(
        field=field,
        label=label,
        before=before,
        after=after,
        kind=kind,
        before_text=before_text if kind != "added" else EMPTY,
        after_text=after_text if kind != "removed" else EMPTY,
    )


def _likeness(old: dict, new: dict, same_position: bool) -> float:
    name = SequenceMatcher(None, str(old.get("name") or ""), str(new.get("name") or "")).ratio()
    shared = sum(1 for key in MATERIAL_COLUMNS if key != "name" and old.get(key) == new.get(key) is not None)
    return name + (0.5 if same_position else 0.0) + 0.02 * shared


def _pair_materials(before: list[dict], after: list[dict]) -> list[tuple[int | None, int | None]]:
    """(old index, new index) pairs: same name first, then renames by likeness; None on the side it lacks."""
    new_by_name: dict[Any, int] = {}
    for j, m in enumerate(after):
        new_by_name.setdefault(m.get("name"), j)
    pairs: dict[int, int] = {}
    for i, m in enumerate(before):
        j = new_by_name.get(m.get("name"))
        if j is not None and j not in pairs.values():
            pairs[i] = j
    loose_old = [i for i in range(len(before)) if i not in pairs]
    loose_new = [j for j in range(len(after)) if j not in pairs.values()]
    candidates = sorted(
        ((_likeness(before[i], after[j], i == j), i, j) for i in loose_old for j in loose_new),
        key=lambda c: (-c[0], c[1], c[2]),
    )
    for score, i, j in candidates:
        if score >= RENAME_THRESHOLD and i not in pairs and j not in pairs.values():
            pairs[i] = j
    out: list[tuple[int | None, int | None]] = [(i, pairs.get(i)) for i in range(len(before))]
    out += [(None, j) for j in range(len(after)) if j not in pairs.values()]
    return out


def _materials_diff(before: list[dict], after: list[dict]) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for i, j in _pair_materials(before, after):
        if j is None:
            old = before[i]
            changes.append(
                change(f"materials[{old.get('name')}]", f"申请材料「{old.get('name')}」", old, None, "removed")
            )
            continue
        if i is None:
            new = after[j]
            changes.append(
                change(f"materials[{new.get('name')}]", f"申请材料「{new.get('name')}」", None, new, "added")
            )
            continue
        old, new = before[i], after[j]
        where, label = f"materials[{old.get('name')}]", f"申请材料「{old.get('name')}」"
        if i != j:
            changes.append(
                change(f"{where}.position", f"{label}顺序", i + 1, j + 1, texts=(f"第{i + 1}项", f"第{j + 1}项"))
            )
        for key in dict.fromkeys([*old, *new]):
            if old.get(key) != new.get(key):
                changes.append(
                    change(f"{where}.{key}", f"{label}{MATERIAL_COLUMNS.get(key, key)}", old.get(key), new.get(key))
                )
    return changes


def diff_data(before: dict | MatterIn, after: dict | MatterIn) -> list[FieldChange]:
    """Field-by-field difference of two MatterIn dumps (bookkeeping such as ``updated_at`` ignored)."""
    old = before.content_key() if isinstance(before, MatterIn) else MatterIn.model_validate(before).content_key()
    new = after.content_key() if isinstance(after, MatterIn) else MatterIn.model_validate(after).content_key()
    changes: list[FieldChange] = []
    for name in MatterIn.model_fields:
        if name == "updated_at":
            continue
        if name == "materials":
            changes.extend(_materials_diff(old.get(name) or [], new.get(name) or []))
        elif old.get(name) != new.get(name):
            changes.append(change(name, MATTER_COLUMNS.get(name, name), old.get(name), new.get(name)))
    return changes
