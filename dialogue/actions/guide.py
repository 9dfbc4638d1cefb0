"""Find the guide: from a question (and the ``matter`` entity, the ``region`` slot) to one matter,
a short list to choose from, or an honest "not found" with the hotline offered.

The decision itself is ``retriever.answering.answer`` (Rasa-free, shared with the editors' hit test);
this action says it in words and states it as an outcome (``state_outcome``) for the gateway.

When the citizen asked (nearly) the very question of an FAQ entry of one of the matters found, the
editors' answer is spoken with its matter cited, and the guide is a button away: a specific answer
beats a whole guide, and the citation lets the citizen check where it comes from.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions import catalogue
from dialogue.actions.bundle_words import order_lines
from dialogue.actions.checklist import FULLY_ONLINE_TEXT, citation_text, place_line
from dialogue.actions.facet_answers import answer_facet
from dialogue.actions.materials import start_walk
from dialogue.actions.offers import (
    HOTLINE_BUTTONS,
    choose_button,
    choose_payload,
    decline,
    elsewhere_text,
    place_of,
)
from dialogue.actions.resume import offer_resume
from dialogue.actions.session import entity_said, entity_value, leave_form, previous_bot_action, state_outcome
from dialogue.routing import GUIDE_INTENTS, route

if TYPE_CHECKING:
    from knowledge.faqs import FaqMatch
    from knowledge.schema import MatterIn
    from retriever.answering import Decision

log = logging.getLogger(__name__)

GUIDE_PREFIX = "为您找到办事指南："
DEPARTMENT_PREFIX = "办理部门："


_ORDINALS = {"一": 0, "1": 0, "二": 1, "2": 1, "两": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4}


def pick_ordinal(text: str, count: int) -> int | None:
    """第二个 -> 1, 最后一个 -> count-1: a suggestion chosen in words rather than with its button."""
    if count <= 0:
        return None
    if "最后" in text:
        return count - 1
    found = re.search(r"第\s*([一二两三四五1-5])", text)
    if not found:
        return None
    index = _ORDINALS[found[1]]
    return index if index < count else None


def faq_reply(faq: FaqMatch) -> tuple[str, list[dict[str, str]]]:
    """The FAQ's answer citing its matter, and the button that goes on to that matter's guide."""
    text = f"{faq.answer}（出自《{faq.matter_name}》办事指南）"
    button = {"title": f"查看《{faq.matter_name}》办事指南", "payload": choose_payload(faq.matter_external_id)}
    return text, [button]


def answer_faq(dispatcher: CollectingDispatcher, faq: FaqMatch) -> list[dict[str, Any]]:
    """Remembers the matter, so 那要多久 or 要什么材料 next goes on with it."""
    text, buttons = faq_reply(faq)
    dispatcher.utter_message(text=text, buttons=buttons)
    state_outcome(dispatcher, "faq_answered", matter_id=faq.matter_external_id, faq_id=faq.faq_id)
    return [
        SlotSet("matter_id", faq.matter_external_id),
        SlotSet("unanswered", False),
        SlotSet("pending_facet", None),
        SlotSet("offered_matters", [faq.matter_external_id]),
    ]


def offer(dispatcher: CollectingDispatcher, decision: Decision) -> dict[str, Any]:
    """States the choice offered, and remembers it so that 第二个 typed out picks the same matter as its button."""
    ids = [hit.external_id for hit in decision.hits]
    state_outcome(dispatcher, "clarification_offered", matter_ids=ids, reason=decision.reason or "close")
    return SlotSet("offered_matters", ids)


def heading(matter: MatterIn, *, tell_where: bool) -> str:
    """The guide's first message: 全程网办 first of all (no trip is the best news), then the department,
    and where to go when the citizen named a region or the matter is done in several regions."""
    lines = [f"{GUIDE_PREFIX}{matter.name}"]
    if matter.fully_online:
        lines.append(f"{FULLY_ONLINE_TEXT}：{matter.online_url}")
    lines.append(f"{DEPARTMENT_PREFIX}{matter.department}")
    if tell_where and (where := place_line(matter)):
        lines.append(where)
    lines.append(f"（{citation_text(matter)}）")
    return "\n".join(lines)


def present(
    dispatcher: CollectingDispatcher, tracker: Tracker, external_id: str, region: str | None = None
) -> list[dict[str, Any]]:
    """Shows the guide with its citation and starts the materials walk (or answers a pending facet).

    ``region``: the place the citizen named this turn (else the ``region`` slot)."""
    found = catalogue.get_bundle(external_id)
    if found is None:
        dispatcher.utter_message(text="抱歉，这个事项的办事指南目前已下线或正在更新，请稍后再试，或拨打12345热线咨询。")
        return [SlotSet("matter_id", None)]
    matter = found.guide
    events: list[dict[str, Any]] = [SlotSet("matter_id", matter.external_id), SlotSet("unanswered", False)]
    facet = tracker.get_slot("pending_facet")
    # A facet question waits only for the very next answer; later it would hijack a new request.
    if facet and previous_bot_action(tracker) in ("action_answer_facet", "action_find_guide"):
        dispatcher.utter_message(text=answer_facet(facet, matter))
        state_outcome(dispatcher, "facet_answered", matter_id=matter.external_id, facet=facet)
        return [*events, SlotSet("pending_facet", None), *offer_resume(dispatcher, tracker)]
    events.append(SlotSet("pending_facet", None))
    region = region or tracker.get_slot("region")
    dispatcher.utter_message(text=heading(matter, tell_where=bool(region) or catalogue.has_namesakes(matter)))
    state_outcome(dispatcher, "guide_presented", matter_id=matter.external_id, matter_name=matter.name)
    if matter.is_bundle:
        # 一件事: the matters in the order to do them first, then one walk over all their papers.
        if lines := order_lines(found):
            dispatcher.utter_message(text="\n".join(lines))
        members = [m.external_id for m in found.members]
        state_outcome(dispatcher, "bundle_presented", matter_id=matter.external_id, matter_ids=members)
    if not matter.materials:
        return [*events, FollowupAction("action_checklist")]
    bring = sum(m.must_bring for m in matter.materials)
    spared = len(matter.materials) - bring
    if not bring:
        dispatcher.utter_message(text=f"这个事项的{spared}项材料都无需您提交（部门通过数据共享获取或免提交）。")
        return [*events, FollowupAction("action_checklist")]
    saved = f"另有{spared}项无需您提交，清单里单独列出。" if spared else ""
    what = "这件事共" if found.members else "这个事项"
    once = "（几个事项都要的材料只算一次）" if found.members else ""
    dispatcher.utter_message(
        text=f"办理{what}需要准备{bring}项材料{once}，我们逐项核对一下。{saved}您也可以随时说“直接告诉我全部”。"
    )
    state_outcome(dispatcher, "walk_started", matter_id=matter.external_id)
    return [
        *events,
        SlotSet("walk_state", start_walk(matter)),
        SlotSet("material_answer", None),
        SlotSet("requested_slot", None),
        FollowupAction("materials_form"),
    ]


def divert_to_guide(tracker: Tracker) -> list[dict[str, Any]] | None:
    """For an action its intent reached without a search (intake, fallback, out of scope, goodbye): the
    catalogue's answer instead, when ``dialogue.routing.route`` says a confident guide beats the intent."""
    intent = tracker.latest_message.get("intent") or {}
    text = tracker.latest_message.get("text") or ""
    if not text.strip() or text.startswith("/"):
        return None  # a button's payload says exactly what the citizen chose
    named = entity_value(tracker, "matter")
    region = entity_value(tracker, "region") or tracker.get_slot("region")
    found = catalogue.answer(text, named=named, region=region, said=entity_said(tracker, "matter"))
    if route(intent.get("name"), float(intent.get("confidence") or 0.0), text, found) != "guide":
        return None
    log.info("route %s (%.2f) to the guide", intent.get("name"), float(intent.get("confidence") or 0.0))
    return [FollowupAction("action_find_guide")]


class ActionFindGuide(Action):
    """ask_guide, ask_materials and the choose_matter buttons all land here, and any message that
    ``divert_to_guide`` sends on (its rule would have run another action)."""

    def name(self) -> str:
        return "action_find_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        events = await self._answer(dispatcher, tracker)
        diverted = (tracker.latest_message.get("intent") or {}).get("name") not in GUIDE_INTENTS
        if diverted and not any(event.get("event") == "followup" for event in events):
            # No rule follows a diverted guide: the turn ends here, as after a guide question.
            events.append(FollowupAction("action_listen"))
        return events

    async def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        events = leave_form(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        chosen = entity_value(tracker, "matter_id")
        offered = tracker.get_slot("offered_matters") or []
        if intent == "choose_matter" and not chosen:
            index = pick_ordinal(tracker.latest_message.get("text") or "", len(offered))
            if index is None:
                dispatcher.utter_message(text="请点击上面的按钮选择事项，或者直接告诉我事项名称。")
                return events
            chosen = offered[index]
        if chosen:
            return [*events, *present(dispatcher, tracker, chosen)]
        text = tracker.latest_message.get("text") or ""
        named = entity_value(tracker, "matter")
        region = entity_value(tracker, "region") or tracker.get_slot("region")
        found = catalogue.answer(text, named=named, region=region, said=entity_said(tracker, "matter"))
        decision = found.decision
        log.info("guide %s for intent=%s named=%s region=%s", decision.kind, intent, named, region)
        if decision.kind == "out_of_scope":
            return [*events, *decline(dispatcher, "out_of_scope"), *offer_resume(dispatcher, tracker)]
        if found.faq is not None:
            return [*events, *answer_faq(dispatcher, found.faq), *offer_resume(dispatcher, tracker)]
        if found.elsewhere:
            # Rather than decline: the citizen's region lists no such matter, another region does.
            dispatcher.utter_message(text=elsewhere_text(region))
        if decision.kind == "present":
            return [*events, *present(dispatcher, tracker, decision.hits[0].external_id, region)]
        if decision.kind == "ask_region":
            dispatcher.utter_message(
                text=f"“{decision.hits[0].name}”在以下几个地方都可以办理，请问您在哪里办理？",
                buttons=[choose_button(hit, place_of(hit)) for hit in decision.hits],
            )
            return [*events, offer(dispatcher, decision)]
        if decision.kind == "clarify":
            dispatcher.utter_message(
                text="您问的可能是下面几个事项之一，请问您要办理的是哪一个？",
                buttons=[*(choose_button(hit) for hit in decision.hits), {"title": "都不是", "payload": "/deny"}],
            )
            return [*events, offer(dispatcher, decision)]
        current = tracker.get_slot("matter_id")
        if intent == "ask_materials" and current and not named:
            return [*events, *present(dispatcher, tracker, current)]
        # Nothing confident: said honestly, also in the middle of a walk (the walk is offered again).
        return [*events, *decline(dispatcher), *offer_resume(dispatcher, tracker)]


class ActionNoneMatched(Action):
    """The citizen said 都不是 to the suggestions: be honest and offer the hotline."""

    def name(self) -> str:
        return "action_none_matched"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="好的。很抱歉没能找到您要办的事项。您可以换个说法描述一下，也可以转人工客服，或者留言咨询。",
            buttons=HOTLINE_BUTTONS,
        )
        state_outcome(dispatcher, "clarification_rejected")
        return [SlotSet("unanswered", True), *offer_resume(dispatcher, tracker)]
