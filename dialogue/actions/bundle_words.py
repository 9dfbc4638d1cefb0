"""How a 一件事 is told: its matters in the order to do them, and which matters share each paper.

Pure builders over ``knowledge.bundles.Combined`` (no Rasa, no database), used by the guide when it
presents a bundle and by the checklist (its text and its card payload), so both say the same.
"""

from __future__ import annotations

from typing import Any

from knowledge.bundles import Combined


def names_of(found: Combined) -> dict[str, str]:
    return {found.guide.external_id: found.guide.name, **{m.external_id: m.name for m in found.members}}


def order_lines(found: Combined) -> list[str]:
    """1. 出生医学证明首次签发（防城港市卫生健康委员会）… and the editor's note, for the guide and the checklist."""
    lines = []
    if found.members:
        lines.append(f"这件事包含{len(found.members)}个事项，请按顺序办理：")
        lines.extend(f"{n}. {m.name}（{m.department}）" for n, m in enumerate(found.members, 1))
    if found.withdrawn:
        lines.append(f"另有{len(found.withdrawn)}个事项的办事指南正在更新，请向办理窗口咨询。")
    if found.guide.bundle_note:
        lines.append(f"说明：{found.guide.bundle_note}")
    return lines


def shared_by(found: Combined, position: int) -> list[str]:
    """The names of the matters that need the combined material at ``position`` (the bundle's own form excluded)."""
    names = names_of(found)
    own = found.guide.external_id
    return [names[e] for e in found.needed_by[position] if e != own and e in names]


def shared_text(found: Combined, position: int) -> str:
    """（出生登记、社会保障卡申领共用，只需准备一份） for a paper several matters need."""
    matters = shared_by(found, position)
    return f"（{'、'.join(matters)}共用，只需准备一份）" if len(matters) > 1 else ""


def bundle_payload(found: Combined) -> dict[str, Any]:
    """The checklist payload's ``bundle``: the matters in order (as the card lists them) and the note."""
    return {
        "matters": [
            {"external_id": m.external_id, "name": m.name, "department": m.department, "fully_online": m.fully_online}
            for m in found.members
        ],
        "note": found.guide.bundle_note,
        "withdrawn": list(found.withdrawn),
    }
