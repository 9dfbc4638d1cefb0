"""Ticket status look-up: the number and the phone it was filed with, then the status, and only for the
right pair. Split from the intake (``dialogue.actions.tickets``): the look-up files nothing.

After a look-up that found nothing, a message that is only a phone number is that lookup tried again
with the same ticket number (``retry_lookup``), whatever the classifier makes of its digits (it has
read a bare number as goodbye).

A reply to the form's questions is taken as the number or the phone (a malformed one gets the format
hint), unless it is something else (``dialogue.routing.leaves_lookup``: a guide question, a complaint,
转人工): then nothing is extracted, the form yields to the intent's rule, and the answering action leaves
the look-up (``resume.offer_resume``; the complaint's and the guide's start leave it themselves).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from common.masking import mask_phone
from dialogue.actions.guide import divert_to_guide
from dialogue.actions.resume import offer_resume
from dialogue.actions.session import entity_value, latest_intent, leave_form, previous_bot_action, state_outcome
from dialogue.actions.ticket_replies import guide_fits
from dialogue.actions.tickets import TICKET_NUMBER, FormQuestion, check_mobile, validated_phone
from dialogue.routing import bare_phone, leaves_lookup

log = logging.getLogger(__name__)


class AskLookupTicketNo(FormQuestion):
    slot = "lookup_ticket_no"
    question = "请告诉我您的工单编号（格式如 12345-20260101-0001）。"


class AskLookupPhone(FormQuestion):
    slot = "lookup_phone"
    question = "请告诉我提交工单时留下的手机号码，用于核实身份。"


def retry_lookup(tracker: Tracker) -> list[dict[str, Any]] | None:
    """Right after a look-up that found nothing, a bare phone number: the look-up again with it (and the
    number kept from the failed one; the form asks for a number if none was kept). Else None."""
    phone = bare_phone(tracker.latest_message.get("text") or "")
    if phone is None or previous_bot_action(tracker) != "action_check_ticket":
        return None
    return [
        *leave_form(tracker),
        SlotSet("lookup_phone", phone),
        SlotSet("requested_slot", None),
        ActiveLoop("ticket_lookup_form"),
    ]


class ActionStartTicketLookup(Action):
    """check_ticket: takes the number and phone from the message when given, otherwise the form asks."""

    def name(self) -> str:
        return "action_start_ticket_lookup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if (retry := retry_lookup(tracker)) is not None:
            return retry
        text = tracker.latest_message.get("text") or ""
        # Only what has a ticket number's shape is one: the classifier also tags a 身份证号's digits.
        tagged = TICKET_NUMBER.search(entity_value(tracker, "ticket_no") or "")
        number = tagged[0] if tagged else next(iter(TICKET_NUMBER.findall(text)), None)
        if not number and (guide := divert_to_guide(tracker)) is not None:
            return guide
        phone = entity_value(tracker, "phone")
        return [
            *leave_form(tracker),
            SlotSet("lookup_ticket_no", number.upper() if number else None),
            SlotSet("lookup_phone", check_mobile(phone).phone if phone else None),
        ]


LOOKUP_SLOTS = ("lookup_ticket_no", "lookup_phone")


def lookup_reply(tracker: Tracker) -> dict[str, Any]:
    """What a reply to the look-up's question fills: a ticket number or a phone wherever it is in the
    message, else the text itself for the slot asked (its validation gives the format hint); nothing
    for a message that is something else (``leaves_lookup``), so the form yields to its rule."""
    asked = tracker.get_slot("requested_slot")
    if asked not in LOOKUP_SLOTS:
        return {}
    text = (tracker.latest_message.get("text") or "").strip()
    intent = latest_intent(tracker)
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
    if leaves_lookup(intent, confidence, text, guide_fits=guide_fits(tracker, intent, text)):
        return {}
    number = TICKET_NUMBER.search(entity_value(tracker, "ticket_no") or "") or TICKET_NUMBER.search(text)
    found = {"lookup_ticket_no": number[0] if number else None, "lookup_phone": entity_value(tracker, "phone")}
    found[asked] = found[asked] or text
    return {slot: value for slot, value in found.items() if value}


class ValidateTicketLookupForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_lookup_form"

    def extract_lookup_ticket_no(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        """The whole reply, the phone included (a message may give both): read once, so the search a
        question may need (``guide_fits``) runs once. ``lookup_phone`` has no extractor of its own."""
        return lookup_reply(tracker)

    def validate_lookup_ticket_no(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        if value is None:  # a reset by the start action, not an answer
            return {}
        found = TICKET_NUMBER.search(str(value or ""))
        if not found:
            dispatcher.utter_message(text="工单编号的格式类似 12345-20260101-0001，请核对后重新输入。")
            return {"lookup_ticket_no": None}
        return {"lookup_ticket_no": found.group(0).upper()}

    def validate_lookup_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        return validated_phone("lookup_phone", value, dispatcher)


class ActionCheckTicket(Action):
    """Answers only for the right number-and-phone pair, and says the same for every wrong pair."""

    def name(self) -> str:
        return "action_check_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        from dialogue.actions import catalogue
        from hotline import followup
        from hotline.tickets import find_ticket

        number, phone = tracker.get_slot("lookup_ticket_no"), tracker.get_slot("lookup_phone")
        reset = [SlotSet("lookup_ticket_no", None), SlotSet("lookup_phone", None)]
        # No match: the number is kept, so a phone number sent next is tried with it (``retry_lookup``).
        kept = [SlotSet("lookup_phone", None)]
        if not number or not phone:
            dispatcher.utter_message(text="请提供工单编号和提交时留下的手机号码，我来帮您查询。")
            return reset
        with catalogue.session() as db:
            ticket = find_ticket(db, number, phone)
            found = None if ticket is None else (followup.status_reply(ticket), followup.card(ticket))
        log.info("ticket lookup %s (phone %s): %s", number, mask_phone(phone), "found" if found else "no match")
        if found is None:
            dispatcher.utter_message(
                text="没有查到与这个手机号码对应的工单。请核对工单编号和提交时留下的手机号码后再试；"
                "如有疑问，也可以拨打12345热线查询。"
            )
            state_outcome(dispatcher, "ticket_not_found")
            return [*kept, *offer_resume(dispatcher, tracker)]
        reply, card = found
        dispatcher.utter_message(text=reply)
        dispatcher.utter_message(json_message=card)
        return [*reset, *offer_resume(dispatcher, tracker)]
