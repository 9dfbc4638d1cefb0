"""What the dialogue had understood, as an agent reads it: the slots under Chinese labels, internal ones left out.

A handoff and a ticket filed from the chat keep the dialogue's slots (``ticket_content``, ``region``, …).
Agents need the facts the citizen gave, under the names the hotline uses (诉求内容, 地点, 联系电话), not
the dialogue's bookkeeping (``handoff``, ``walk_state``, ``offered_matters``). Pure: a dict in, a list out.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

SLOT_LABELS: dict[str, str] = {
    "ticket_type": "诉求类型",
    "ticket_content": "诉求内容",
    "matter": "事项",
    "matter_id": "事项编号",
    "region": "地区",
    "applicant_type": "申请人类型",
    "ticket_location": "地点",
    "address": "地点",
    "ticket_time": "时间",
    "event_time": "时间",
    "ticket_name": "姓名",
    "name": "姓名",
    "citizen_name": "姓名",
    "ticket_phone": "联系电话",
    "phone": "联系电话",
    "lookup_ticket_no": "查询的工单编号",
    "lookup_phone": "查询时留的电话",
    "material_answer": "材料情况",
}
"""In the order an agent reads them; any slot not listed here is the dialogue's own bookkeeping."""


class SlotField(BaseModel):
    name: str
    """The slot's name, kept for tests and for anyone matching on it; not shown."""
    label: str
    value: str


def labelled_slots(slots: dict[str, Any] | None) -> list[SlotField]:
    """The slots an agent should see, labelled and in reading order; empty, internal and structured ones
    (lists, flags, the walk-through's state) left out, and a label shown once even if two slots carry it."""
    shown: list[SlotField] = []
    seen_labels: set[str] = set()
    for name, label in SLOT_LABELS.items():
        value = (slots or {}).get(name)
        if value is None or isinstance(value, bool | list | dict):
            continue
        text = str(value).strip()
        if not text or label in seen_labels:
            continue
        seen_labels.add(label)
        shown.append(SlotField(name=name, label=label, value=text))
    return shown
