"""One facet of a matter (where, how long, how much, online, visits, conditions), for the matter the
question names or, for follow-ups such as 那要多久 / 在哪办, the matter the conversation is about."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions import catalogue
from dialogue.actions.checklist import citation_text, time_limit_text, visits_text
from dialogue.actions.offers import choose_button, decline, place_of
from dialogue.actions.session import entity_value, latest_intent, state_outcome
from knowledge.schema import MatterIn

FACET_OF_INTENT = {
    "ask_location": "location",
    "ask_time_limit": "time_limit",
    "ask_fee": "fee",
    "ask_online": "online",
    "ask_visits": "visits",
    "ask_conditions": "conditions",
}
FACET_LABEL = {
    "location": "办理地点",
    "time_limit": "办理时限",
    "fee": "收费标准",
    "online": "网上办理方式",
    "visits": "需要跑几次",
    "conditions": "申请条件",
}


def _ask_hotline(matter: MatterIn, what: str) -> str:
    phone = matter.phone or "12345热线"
    return f"办事指南中没有写明{what}，建议办理前拨打{phone}确认。"


def facet_body(facet: str, matter: MatterIn) -> str:
    """The answer to one facet, in words; a gap in the guide is said plainly, never guessed."""
    if facet == "location":
        if not matter.location:
            return _ask_hotline(matter, "办理地点")
        return f"办理地点：{matter.location}" + (f"\n办理时间：{matter.hours}" if matter.hours else "")
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


class ActionAnswerFacet(Action):
    def name(self) -> str:
        return "action_answer_facet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        facet = FACET_OF_INTENT.get(latest_intent(tracker) or "", "conditions")
        text = tracker.latest_message.get("text") or ""
        named = entity_value(tracker, "matter")
        region = entity_value(tracker, "region") or tracker.get_slot("region")
        current = tracker.get_slot("matter_id")
        # The same answer as a guide question gets (out of scope, confidence gate), without the FAQ.
        found = catalogue.answer(text, named=named, region=region, with_faq=False)
        decision = found.decision
        if decision.kind == "out_of_scope":
            return [*decline(dispatcher, "out_of_scope"), SlotSet("pending_facet", None)]
        if current and not named and decision.kind != "present":
            # A follow-up names no matter: only a confident, unambiguous hit may change the subject.
            decision = None
        chosen = decision.hits[0].external_id if decision and decision.kind == "present" else current
        if decision is None or decision.kind == "present":
            matter = catalogue.get_matter(chosen)
            if matter is not None:
                dispatcher.utter_message(text=answer_facet(facet, matter))
                state_outcome(dispatcher, "facet_answered", matter_id=matter.external_id, facet=facet)
                return [SlotSet("matter_id", matter.external_id), SlotSet("pending_facet", None)]
        label = FACET_LABEL[facet]
        if decision and decision.kind in ("clarify", "ask_region"):
            titles = [place_of(h) if decision.kind == "ask_region" else None for h in decision.hits]
            buttons = [choose_button(hit, title) for hit, title in zip(decision.hits, titles, strict=True)]
            dispatcher.utter_message(text=f"请问您想了解哪个事项的{label}？", buttons=buttons)
            ids = [h.external_id for h in decision.hits]
            state_outcome(dispatcher, "clarification_offered", matter_ids=ids, reason=decision.reason or "close")
            return [SlotSet("pending_facet", facet), SlotSet("offered_matters", ids)]
        dispatcher.utter_message(text=f"请问您想了解哪个事项的{label}？请告诉我事项名称，例如“办身份证”“公积金提取”。")
        state_outcome(dispatcher, "clarification_offered", matter_ids=[], reason="name")
        return [SlotSet("pending_facet", facet)]
