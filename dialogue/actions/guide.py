"""Find the guide: from a question (and the ``matter`` entity, the ``region`` slot) to one matter,
a short list to choose from, or an honest "not found" with the hotline offered.

``decide`` is pure: it looks only at the search hits, so the thresholds are tested without Rasa. It
never presents a guide the retriever was not confident about, because a wrong guide sends a citizen
to the wrong window with the wrong papers.

When the citizen asked (nearly) the very question of an FAQ entry of one of the matters found, the
editors' answer is spoken with its matter cited, and the guide is a button away: a specific answer
beats a whole guide, and the citation lets the citizen check where it comes from.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions import catalogue
from dialogue.actions.checklist import citation_text
from dialogue.actions.facet_answers import answer_facet
from dialogue.actions.materials import start_walk
from dialogue.actions.session import entity_value, leave_form, previous_bot_action
from retriever import Hit, SearchResult

if TYPE_CHECKING:
    from knowledge.faqs import FaqMatch

log = logging.getLogger(__name__)

GUIDE_PREFIX = "为您找到办事指南："
DEPARTMENT_PREFIX = "办理部门："
"""How a presented guide opens; the gateway's dashboard reads the matter shown from these lines."""
CLOSE_RATIO = 0.9
"""A runner-up within 10% of the top fused score is as likely the citizen's matter: ask."""
SIBLING_RATIO = 0.75
"""Sub-cases (情形) of one parent are told apart by details the question rarely has: ask sooner."""
HOTLINE_BUTTONS = [
    {"title": "转人工", "payload": "/request_human"},
    {"title": "留言咨询", "payload": '/seek_help{"ticket_type":"咨询"}'},
]


@dataclass(frozen=True)
class Decision:
    kind: Literal["present", "clarify", "ask_region", "none"]
    hits: tuple[Hit, ...] = ()


def decide(result: SearchResult, *, named: str | None = None) -> Decision:
    """One matter, a choice (by name or by region), or nothing."""
    hits = result.hits
    if named:
        same = [hit for hit in hits if hit.name == named]
        if len(same) == 1:
            return Decision("present", (same[0],))
        if len(same) > 1:
            return Decision("ask_region", tuple(same[:5]))
    if not result.confident or not hits:
        return Decision("none")
    top = hits[0]
    close = [
        hit
        for hit in hits[1:]
        if hit.score >= CLOSE_RATIO * top.score
        or (
            top.parent_external_id
            and hit.parent_external_id == top.parent_external_id
            and hit.score >= SIBLING_RATIO * top.score
        )
    ]
    if not close:
        return Decision("present", (top,))
    if all(hit.name == top.name for hit in close):
        return Decision("ask_region", (top, *close))
    return Decision("clarify", tuple(hits[:3]))


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


def choose_payload(external_id: str) -> str:
    return "/choose_matter" + json.dumps({"matter_id": external_id}, ensure_ascii=False)


def choose_button(hit: Hit, title: str | None = None) -> dict[str, str]:
    return {"title": title or hit.name, "payload": choose_payload(hit.external_id)}


def faq_reply(faq: FaqMatch) -> tuple[str, list[dict[str, str]]]:
    """The FAQ's answer citing its matter, and the button that goes on to that matter's guide."""
    text = f"{faq.answer}（出自《{faq.matter_name}》办事指南）"
    button = {"title": f"查看《{faq.matter_name}》办事指南", "payload": choose_payload(faq.matter_external_id)}
    return text, [button]


def answer_faq(dispatcher: CollectingDispatcher, faq: FaqMatch) -> list[dict[str, Any]]:
    """Remembers the matter, so 那要多久 or 要什么材料 next goes on with it."""
    text, buttons = faq_reply(faq)
    dispatcher.utter_message(text=text, buttons=buttons)
    return [
        SlotSet("matter_id", faq.matter_external_id),
        SlotSet("unanswered", False),
        SlotSet("pending_facet", None),
        SlotSet("offered_matters", [faq.matter_external_id]),
    ]


def place_of(hit: Hit) -> str:
    """The most specific place of a hit: 港口区 out of 广西壮族自治区防城港市港口区, else the city."""
    region = re.sub(r"^.*?(自治区|省)", "", hit.region)
    city_end = region.find("市")
    if 0 <= city_end < len(region) - 1:
        return region[city_end + 1 :]
    return region or hit.department


def find(text: str, *, named: str | None, region: str | None) -> Decision:
    """Named matters are looked up by keyword (fast, exact); otherwise the question is searched."""
    if named:
        for place in (region, None) if region else (None,):
            decision = decide(catalogue.search(named, 10, region=place, keyword_only=True), named=named)
            if decision.kind != "none":
                return decision
    return decide(catalogue.search(text, 5, region=region))


def offer(decision: Decision) -> dict[str, Any]:
    """Remembers the suggestions so that 第二个 typed out picks the same matter as its button."""
    return SlotSet("offered_matters", [hit.external_id for hit in decision.hits])


def present(dispatcher: CollectingDispatcher, tracker: Tracker, external_id: str) -> list[dict[str, Any]]:
    """Shows the guide with its citation and starts the materials walk (or answers a pending facet)."""
    matter = catalogue.get_matter(external_id)
    if matter is None:
        dispatcher.utter_message(text="抱歉，这个事项的办事指南目前已下线或正在更新，请稍后再试，或拨打12345热线咨询。")
        return [SlotSet("matter_id", None)]
    events: list[dict[str, Any]] = [SlotSet("matter_id", matter.external_id), SlotSet("unanswered", False)]
    facet = tracker.get_slot("pending_facet")
    # A facet question waits only for the very next answer; later it would hijack a new request.
    if facet and previous_bot_action(tracker) in ("action_answer_facet", "action_find_guide"):
        dispatcher.utter_message(text=answer_facet(facet, matter))
        return [*events, SlotSet("pending_facet", None)]
    events.append(SlotSet("pending_facet", None))
    dispatcher.utter_message(
        text=f"{GUIDE_PREFIX}{matter.name}\n{DEPARTMENT_PREFIX}{matter.department}\n（{citation_text(matter)}）"
    )
    if not matter.materials:
        return [*events, FollowupAction("action_checklist")]
    dispatcher.utter_message(
        text=f"办理这个事项需要准备{len(matter.materials)}项材料，我们逐项核对一下。您也可以随时说“直接告诉我全部”。"
    )
    return [
        *events,
        SlotSet("walk_state", start_walk(matter)),
        SlotSet("material_answer", None),
        SlotSet("requested_slot", None),
        FollowupAction("materials_form"),
    ]


def say_not_found(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    dispatcher.utter_message(
        text="抱歉，我没有在办事指南库里找到与您的问题相符的事项，不想给您错误的指引。"
        "您可以换个说法再问一次，也可以转人工客服，或者留言咨询，由12345热线工作人员答复您。",
        buttons=HOTLINE_BUTTONS,
    )
    return [SlotSet("unanswered", True)]


class ActionFindGuide(Action):
    """ask_guide, ask_materials and the choose_matter buttons all land here."""

    def name(self) -> str:
        return "action_find_guide"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        walking = (tracker.active_loop or {}).get("name") == "materials_form"
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
        if catalogue.ruled_out_of_scope(text):
            return [*events, *say_not_found(dispatcher)]
        named = entity_value(tracker, "matter")
        region = entity_value(tracker, "region") or tracker.get_slot("region")
        decision = find(text, named=named, region=region)
        log.info("guide %s for intent=%s named=%s region=%s", decision.kind, intent, named, region)
        if decision.hits and (faq := catalogue.faq_answer(text, [hit.external_id for hit in decision.hits])):
            return [*events, *answer_faq(dispatcher, faq)]
        if decision.kind == "present":
            return [*events, *present(dispatcher, tracker, decision.hits[0].external_id)]
        if decision.kind == "ask_region":
            dispatcher.utter_message(
                text=f"“{decision.hits[0].name}”在以下几个地方都可以办理，请问您在哪里办理？",
                buttons=[choose_button(hit, place_of(hit)) for hit in decision.hits],
            )
            return [*events, offer(decision)]
        if decision.kind == "clarify":
            dispatcher.utter_message(
                text="您问的可能是下面几个事项之一，请问您要办理的是哪一个？",
                buttons=[*(choose_button(hit) for hit in decision.hits), {"title": "都不是", "payload": "/deny"}],
            )
            return [*events, offer(decision)]
        if walking and not named:
            # Mid-walk, a reply that names no matter was an unclear answer: keep the walk (the form
            # asks its question again after this action).
            dispatcher.utter_message(text="抱歉，我没有听明白。请回答“有”或“没有”，也可以说“直接告诉我全部”。")
            return []
        current = tracker.get_slot("matter_id")
        if intent == "ask_materials" and current and not named:
            return [*events, *present(dispatcher, tracker, current)]
        return [*events, *say_not_found(dispatcher)]


class ActionNoneMatched(Action):
    """The citizen said 都不是 to the suggestions: be honest and offer the hotline."""

    def name(self) -> str:
        return "action_none_matched"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="好的。很抱歉没能找到您要办的事项。您可以换个说法描述一下，也可以转人工客服，或者留言咨询。",
            buttons=HOTLINE_BUTTONS,
        )
        return [SlotSet("unanswered", True)]
