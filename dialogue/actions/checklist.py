"""The 一次告知 summary: every material of a matter with what the citizen still lacks, plus where,
when, how long, how much and how many visits, as text and as the contract's ``checklist`` payload.

The builders are pure (a ``MatterIn`` and the walk's statuses in, text and dicts out) so that the
wording is tested without a Rasa server; the action at the bottom only fetches and sends.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions import catalogue
from dialogue.actions.bundle_words import bundle_payload, order_lines, shared_by, shared_text
from dialogue.actions.materials import describe_material, statuses_for
from dialogue.actions.resume import offer_resume
from dialogue.actions.session import state_outcome
from knowledge.bundles import Combined
from knowledge.schema import MaterialIn, MatterIn

STATUS_LABELS = {
    "have": "已准备",
    "missing": "尚缺，请准备",
    "unknown": "请自行核对",
    "not_applicable": "您的情况不需要",
    "not_needed": "无需提交",
}
FULLY_ONLINE_TEXT = "可全程网办，无需跑腿"


def time_limit_text(legal_days: int | None, promised_days: int | None) -> str | None:
    """承诺/法定 working days; 0 means done on the spot (即办)."""
    if promised_days == 0 or (promised_days is None and legal_days == 0):
        return "即办（符合条件的当场办结）"
    parts = []
    if promised_days is not None:
        parts.append(f"承诺{promised_days}个工作日内办结")
    if legal_days is not None:
        parts.append(f"法定{legal_days}个工作日")
    return "，".join(parts) or None


def visits_text(visits: int | None) -> str | None:
    if visits is None:
        return None
    return "无需到现场（全程网办）" if visits == 0 else f"最多跑{visits}次"


def no_need_text(material: MaterialIn) -> str:
    """Why the citizen need not bring it, in the words a window clerk would use."""
    if material.exempt:
        how = {"电子证照": "以电子证照代替", "数据共享": "部门通过数据共享获取", "告知承诺": "以告知承诺代替"}
        return f"免提交（{how.get(material.exempt_by or '', '无需提交')}）"
    return "部门通过数据共享获取"


def citation_text(matter: MatterIn) -> str:
    """Where the answer comes from, so the citizen can check it: code or id, link, update date."""
    parts = [f"事项编码：{matter.code}" if matter.code else f"事项编号：{matter.external_id}"]
    if matter.source_url:
        parts.append(f"来源：{matter.source_url}")
    if matter.updated_at:
        parts.append(f"更新日期：{matter.updated_at:%Y-%m-%d}")
    return "；".join(parts)


def place_line(matter: MatterIn) -> str | None:
    """Where to go, named with the matter's own region, so that a citizen who named a district (or chose
    one of several places) sees that the window is that region's."""
    if not matter.location:
        return None
    where = matter.county or matter.city or matter.province
    return f"办理地点（{where}）：{matter.location}" if where else f"办理地点：{matter.location}"


def matter_ref(matter: MatterIn) -> dict[str, Any]:
    return {
        "external_id": matter.external_id,
        "name": matter.name,
        "department": matter.department,
        "code": matter.code,
        "source_url": matter.source_url,
        "updated_at": matter.updated_at.isoformat() if matter.updated_at else None,
    }


def build_checklist(
    matter: MatterIn, statuses: list[str] | None = None, bundle: Combined | None = None
) -> dict[str, Any]:
    """The ``checklist`` payload; a material the walk never reached is ``unknown``.

    A material the citizen need not bring (免提交, or fetched by data sharing) is ``not_needed`` whatever
    the walk said, and ``counts`` says how many papers are left to bring and how many were saved. For a
    一件事 (``bundle``, whose ``guide`` is ``matter``) the payload has ``bundle`` (its matters in order)
    and each material the ``matters`` that need it.
    """
    statuses = list(statuses or [])
    statuses += ["unknown"] * (len(matter.materials) - len(statuses))
    statuses = [status if m.must_bring else "not_needed" for m, status in zip(matter.materials, statuses, strict=False)]
    payload = {
        "type": "checklist",
        "matter": matter_ref(matter),
        "fully_online": matter.fully_online,
        "counts": {
            "must_bring": sum(m.must_bring for m in matter.materials),
            "saved": sum(not m.must_bring for m in matter.materials),
            "e_licence": sum(m.must_bring and m.e_licence for m in matter.materials),
        },
        "materials": [
            {
                "name": m.name,
                "required": m.required,
                "condition": m.condition,
                "original_or_copy": m.original_or_copy,
                "original_count": m.original_count,
                "copy_count": m.copy_count,
                "medium": m.medium,
                "source": m.source,
                "note": m.note,
                "must_bring": m.must_bring,
                "exempt": m.exempt,
                "exempt_by": m.exempt_by,
                "data_shared": m.data_shared,
                "e_licence": m.e_licence,
                "no_need": None if m.must_bring else no_need_text(m),
                "status": status,
                "matters": shared_by(bundle, position) if bundle is not None else [],
            }
            for position, (m, status) in enumerate(zip(matter.materials, statuses, strict=False))
        ],
        "location": matter.location,
        "hours": matter.hours,
        "online_url": matter.online_url,
        "time_limit": {"legal_days": matter.time_limit_legal_days, "promised_days": matter.time_limit_promised_days},
        "fee": matter.fee,
        "visits": matter.visits,
        "phone": matter.phone,
    }
    if bundle is not None and matter.is_bundle:
        payload["bundle"] = bundle_payload(bundle)
    return payload


def render_checklist(matter: MatterIn, statuses: list[str] | None = None, bundle: Combined | None = None) -> str:
    """The same checklist as a message a citizen can read (and screenshot) in one go."""
    payload = build_checklist(matter, statuses, bundle)
    counts = payload["counts"]
    lines = [f"【一次告知】{matter.name}（{matter.department}）"]
    if bundle is not None and matter.is_bundle:
        lines.extend(order_lines(bundle))
    if matter.fully_online:
        lines.append(f"{FULLY_ONLINE_TEXT}：{matter.online_url}")
    pairs = list(zip(matter.materials, payload["materials"], strict=True))
    lines.append(f"需要提交的材料（共{counts['must_bring']}项）：")
    if not matter.materials:
        lines.append("办事指南中未列出需要提交的材料，具体以窗口要求为准。")
    brought = [(position, m, i) for position, (m, i) in enumerate(pairs) if m.must_bring]
    for number, (position, material, item) in enumerate(brought, 1):
        shared = shared_text(bundle, position) if bundle is not None else ""
        condition = f"（{material.condition}需要）" if material.condition else ""
        optional = "（非必需）" if not material.required and not material.condition else ""
        licence = "（可用电子证照）" if material.e_licence else ""
        notes = describe_material(material)
        lines.append(
            f"{number}. {material.name}{condition}{optional}{licence}{shared}【{STATUS_LABELS[item['status']]}】"
            + (f"\n   {notes}" if notes else "")
        )
    if counts["saved"]:
        lines.append(f"无需提交的材料（共{counts['saved']}项，为您省去{counts['saved']}份材料）：")
        lines.extend(f"- {m.name}：{item['no_need']}" for m, item in pairs if not m.must_bring)
    missing = [m["name"] for m in payload["materials"] if m["status"] == "missing"]
    if missing:
        lines.append(f"您还需要准备：{'、'.join(missing)}。")
    facts = [
        ("办理地点", matter.location),
        ("办理时间", matter.hours),
        ("网上办理", matter.online_url),
        ("办理时限", time_limit_text(matter.time_limit_legal_days, matter.time_limit_promised_days)),
        ("收费标准", matter.fee),
        ("跑动次数", visits_text(matter.visits)),
        ("咨询电话", matter.phone),
    ]
    lines.extend(f"{label}：{value}" for label, value in facts if value)
    lines.append(f"（{citation_text(matter)}；具体以办理窗口要求为准）")
    return "\n".join(lines)


class ActionChecklist(Action):
    """Sends the summary after the walk-through, or straight away when the citizen skipped it."""

    def name(self) -> str:
        return "action_checklist"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        found = catalogue.get_bundle(tracker.get_slot("matter_id"))
        if found is None:
            dispatcher.utter_message(
                text="抱歉，我还不知道您要办理哪个事项。请告诉我事项名称，例如“办身份证要带什么材料”。"
            )
            return []
        matter = found.guide
        statuses = statuses_for(tracker.get_slot("walk_state"), matter.external_id)
        dispatcher.utter_message(text=render_checklist(matter, statuses, found))
        dispatcher.utter_message(json_message=build_checklist(matter, statuses, found))
        state_outcome(dispatcher, "checklist_shown", matter_id=matter.external_id)
        dispatcher.utter_message(
            text="如果还有其他问题，比如“在哪里办”“要多久”，可以继续问我；需要人工帮助请说“转人工”。"
        )
        # A complaint parked for this guide is offered again now that the guide is done.
        resume = offer_resume(dispatcher, tracker)
        # The checklist ends the turn. Reached as a follow-up (a matter with nothing to bring), no rule
        # says so, and the policies would guess on (a 没太理解, or the guide again for a diverted question).
        return [*resume, FollowupAction("action_listen")]
