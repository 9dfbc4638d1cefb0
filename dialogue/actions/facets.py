"""One facet of a matter (where, how long, how much, online, visits, conditions), for the matter the
question names or, for follow-ups such as 那要多久 / 在哪办, the matter the conversation is about."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions import catalogue
from dialogue.actions.facet_answers import answer_facet
from dialogue.actions.offers import choose_button, decline, elsewhere_text, place_of
from dialogue.actions.resume import offer_resume
from dialogue.actions.session import entity_said, entity_value, latest_intent, leave_form, state_outcome
from dialogue.routing import facet_matter, is_follow_up
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


class ActionAnswerFacet(Action):
    def name(self) -> str:
        return "action_answer_facet"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        facet = FACET_OF_INTENT.get(latest_intent(tracker) or "", "conditions")
        text = tracker.latest_message.get("text") or ""
        named = entity_value(tracker, "matter")
        region = entity_value(tracker, "region") or tracker.get_slot("region")
        current = tracker.get_slot("matter_id")
        follow_up = current and not named and is_follow_up(text) and not catalogue.ruled_out(text)
        if follow_up and (matter := catalogue.get_matter(current)):
            # 那要多久 after a guide names nothing: it is about the conversation's matter, as facet_matter
            # would decide, and searching it (an embedding: over half a facet turn's time) is skipped. An
            # editors' out-of-scope ruling still comes first, as in every answer.
            return _answered(dispatcher, tracker, facet, matter)
        # The same answer as a guide question gets (out of scope, confidence gate), without the FAQ.
        found = catalogue.answer(text, named=named, region=region, with_faq=False, said=entity_said(tracker, "matter"))
        decision = found.decision
        if decision.kind == "out_of_scope":
            resume = offer_resume(dispatcher, tracker)
            return [*decline(dispatcher, "out_of_scope"), SlotSet("pending_facet", None), *resume]
        # The same gate as a guide (dialogue.routing.facet_matter): a facet of a guessed matter is never told.
        chosen = facet_matter(found, None if named else current, text)
        if chosen is not None:
            matter = catalogue.get_matter(chosen)
            if matter is not None:
                if found.elsewhere and chosen in found.external_ids:
                    # Another region's facts: said as such, never as the citizen's own region's.
                    dispatcher.utter_message(text=elsewhere_text(region))
                return _answered(dispatcher, tracker, facet, matter)
        label = FACET_LABEL[facet]
        if decision.kind in ("clarify", "ask_region"):
            if found.elsewhere:
                dispatcher.utter_message(text=elsewhere_text(region))
            titles = [place_of(h) if decision.kind == "ask_region" else None for h in decision.hits]
            buttons = [choose_button(hit, title) for hit, title in zip(decision.hits, titles, strict=True)]
            dispatcher.utter_message(text=f"请问您想了解哪个事项的{label}？", buttons=buttons)
            ids = [h.external_id for h in decision.hits]
            state_outcome(dispatcher, "clarification_offered", matter_ids=ids, reason=decision.reason or "close")
            # A choice left open: the form it interrupted is left (a complaint parked, offered after).
            return [*leave_form(tracker), SlotSet("pending_facet", facet), SlotSet("offered_matters", ids)]
        if not is_follow_up(text):
            # The question names its matter (彩票中奖了去哪兑奖) and the catalogue has nothing confident
            # for it: declined as a guide question is, not asked to name what it already named.
            return [*decline(dispatcher), SlotSet("pending_facet", None), *offer_resume(dispatcher, tracker)]
        dispatcher.utter_message(text=f"请问您想了解哪个事项的{label}？请告诉我事项名称，例如“办身份证”“公积金提取”。")
        state_outcome(dispatcher, "clarification_offered", matter_ids=[], reason="name")
        return [*leave_form(tracker), SlotSet("pending_facet", facet)]


def _answered(dispatcher: CollectingDispatcher, tracker: Tracker, facet: str, matter: MatterIn) -> list[dict[str, Any]]:
    dispatcher.utter_message(text=answer_facet(facet, matter))
    state_outcome(dispatcher, "facet_answered", matter_id=matter.external_id, facet=facet)
    resume = offer_resume(dispatcher, tracker)
    return [SlotSet("matter_id", matter.external_id), SlotSet("pending_facet", None), *resume]
