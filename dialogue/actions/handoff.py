"""Handing the conversation to a human agent (转人工), the two-strikes NLU fallback, out of scope, and
goodbyes that end whatever form was running. The fallback, out of scope and goodbye first let a
confident guide answer instead (``dialogue.routing``): a short question the NLU misread is still a
question about a matter."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions.guide import divert_to_guide
from dialogue.actions.offers import HOTLINE_BUTTONS
from dialogue.actions.resume import interrupted, offer_resume
from dialogue.actions.session import filled_slots, latest_intent, leave_form, state_outcome
from dialogue.actions.ticket_lookup import retry_lookup
from dialogue.actions.tickets import start_intake
from dialogue.routing import account_to_intake, bare_phone

HANDOFF_TEXT = "好的，这就为您联系12345热线人工客服。人工客服能看到我们刚才的对话，您不用再重复说明。"
"""Says nothing about waiting: whether a person can answer now (business hours) is the gateway's notice
that follows (``hotline.hours``), not the dialogue's to promise."""


def handoff(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> list[dict[str, Any]]:
    dispatcher.utter_message(text=HANDOFF_TEXT)
    dispatcher.utter_message(
        json_message={"type": "handoff", "reason": reason, "matter": tracker.get_slot("matter_id")}
    )
    # The slots go to the agent with the handoff, so the gateway need not ask Rasa for the tracker.
    state_outcome(dispatcher, "handoff", reason=reason, slots=filled_slots(tracker))
    return [*leave_form(tracker), SlotSet("handoff", True)]


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row fell below the NLU confidence threshold."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        reason = "no_answer" if tracker.get_slot("unanswered") else "request_human"
        return handoff(dispatcher, tracker, reason)


class ActionFallback(Action):
    """First miss: ask to rephrase. Second miss in a row: a person takes over. A long account of a problem
    is no miss: the hotline intake takes it (``dialogue.routing.account_to_intake``)."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if (retry := retry_lookup(tracker)) is not None:
            return retry
        if (guide := divert_to_guide(tracker)) is not None:
            return guide
        if account_to_intake(latest_intent(tracker), tracker.latest_message.get("text") or ""):
            return [*start_intake(dispatcher, tracker), FollowupAction("ticket_form")]
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(text="抱歉，我还是没能理解您的意思。")
            return handoff(dispatcher, tracker, "fallback")
        dispatcher.utter_message(
            text="抱歉，我没太理解您的意思。您可以换个说法，比如“办身份证要带什么材料”“公积金怎么提取”，"
            "也可以转人工客服。",
            buttons=HOTLINE_BUTTONS,
        )
        state_outcome(dispatcher, "misunderstood")
        return offer_resume(dispatcher, tracker)


class ActionGoodbye(Action):
    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if (retry := retry_lookup(tracker)) is not None:
            return retry
        if (guide := divert_to_guide(tracker)) is not None:
            return guide
        if bare_phone(tracker.latest_message.get("text") or ""):
            return [FollowupAction("action_fallback")]  # a number alone is no goodbye, whatever the NLU says
        if interrupted(tracker) is not None:
            # An unfinished complaint (or walk) is not left behind by a 再见 without a word.
            return offer_resume(dispatcher, tracker)
        dispatcher.utter_message(text="感谢您的使用，再见！如有需要随时来问我。")
        return leave_form(tracker)


class ActionOutOfScope(Action):
    """Declined with the hotline offered (``utter_out_of_scope`` and its outcome), unless a guide fits."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if (retry := retry_lookup(tracker)) is not None:
            return retry
        if (guide := divert_to_guide(tracker)) is not None:
            return guide
        dispatcher.utter_message(response="utter_out_of_scope")
        return offer_resume(dispatcher, tracker)
