"""A matter's facets in words (where, how long, how much, online, visits, conditions): pure, so that the
guide (which answers a facet asked before the matter was chosen) and the facet action share them
without importing each other."""

from __future__ import annotations

from dialogue.actions.checklist import citation_text, place_line, time_limit_text, visits_text
from knowledge.schema import MatterIn


def _ask_hotline(matter: MatterIn, what: str) -> str:
    phone = matter.phone or "12345热线"
    return f"办事指南中没有写明{what}，建议办理前拨打{phone}确认。"


def facet_body(facet: str, matter: MatterIn) -> str:
    """The answer to one facet, in words; a gap in the guide is said plainly, never guessed."""
    if facet == "location":
        where = place_line(matter)
        if where is None:
            return _ask_hotline(matter, "办理地点")
        return where + (f"\n办理时间：{matter.hours}" if matter.hours else "")
    if facet == "time_limit":
        limit = time_limit_text(matter.time_limit_legal_days, matter.time_limit_promised_days)
        return f"办理时限：{limit}" if limit else _ask_hotline(matter, "办理时限")
    if facet == "fee":
        return f"收费标准：{matter.fee}" if matter.fee else _ask_hotline(matter, "收费标准")
    if facet == "online":
        if matter.online_url or "网上办理" in matter.handle_forms:
            link = f"：{matter.online_url}" if matter.online_url else "，请通过广西数字政务一体化平台或相关政务App办理"
            return f"可以网上办理{link}"
        where = f"（{matter.location}）" if matter.location else ""
        return f"办事指南中没有提供网上办理渠道，目前需要到窗口办理{where}。"
    if facet == "visits":
        visits = visits_text(matter.visits)
        return f"跑动次数：{visits}" if visits else _ask_hotline(matter, "需要跑几次")
    if facet == "conditions":
        parts = [f"申请条件：{matter.conditions}"] if matter.conditions else []
        if matter.process_steps:
            steps = "\n".join(
                f"{n}. {s.name}" + (f"：{s.desc}" if s.desc else "") for n, s in enumerate(matter.process_steps, 1)
            )
            parts.append(f"办理流程：\n{steps}")
        return "\n".join(parts) or _ask_hotline(matter, "申请条件")
    raise ValueError(f"unknown facet {facet!r}")


def answer_facet(facet: str, matter: MatterIn) -> str:
    return f"关于“{matter.name}”（{matter.department}）：\n{facet_body(facet, matter)}\n（{citation_text(matter)}）"
