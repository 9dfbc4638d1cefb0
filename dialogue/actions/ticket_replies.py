"""What a reply to a question of the complaint form is: an answer to it, or a new question that the form
yields to (answered by the question's own rule, the complaint offered again after). The open questions
(what happened, where, when, a name, a phone) and the summary (确认提交 / 取消 / a correction) each have
their reading here, on ``dialogue.routing.is_digression``; ``dialogue.actions.tickets`` asks them.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from common import tickets as form
from dialogue.actions.corrections import correction_in
from dialogue.actions.session import entity_said, entity_value, latest_intent
from dialogue.routing import is_digression, is_question, route

LEAVING = frozenset({"request_human", "goodbye"})
"""Intents that leave the form at an open question: 转人工, and 再见 (which offers the complaint first).
At the phone question only 转人工: digits confuse the classifier (a number may come out as goodbye)."""


def open_answer(tracker: Tracker, slot: str) -> dict[str, Any]:
    """The reply to one of the form's open questions (what happened, where, when, a name, a phone), or
    nothing for a new question (``dialogue.routing.is_digression``): the form then yields, the question's
    rule answers it, and the complaint is offered again after (``dialogue.actions.resume``)."""
    if tracker.get_slot("requested_slot") != slot:
        return {}
    text = (tracker.latest_message.get("text") or "").strip()
    intent = latest_intent(tracker)
    if intent in ({"request_human"} if slot == form.PHONE_SLOT else LEAVING):
        return {}
    fits = intent == "nlu_fallback" and guide_fits(tracker, intent, text)
    if is_digression(intent, text, understood=True, free_text=True, guide_fits=fits):
        return {}
    if slot == form.PHONE_SLOT:
        return {slot: entity_value(tracker, "phone") or text}
    return {slot: text}


def guide_fits(tracker: Tracker, intent: str | None, text: str) -> bool:
    """A question the NLU could not place (or read as a ticket question) that the fallback or the
    look-up's start would answer with a guide instead (the same ``route`` they ask); searched only for
    such a question."""
    if intent not in ("nlu_fallback", "check_ticket") or not is_question(text):
        return False
    from dialogue.actions import catalogue

    region = entity_value(tracker, "region") or tracker.get_slot("region")
    found = catalogue.answer(
        text, named=entity_value(tracker, "matter"), region=region, said=entity_said(tracker, "matter")
    )
    confidence = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)
    return route(intent, confidence, text, found) == "guide"


def confirmation_reply(text: str, intent: str | None) -> dict[str, Any]:
    """The slots a reply to the summary sets (see ``ValidateTicketForm.extract_ticket_confirmed``)."""
    correction = correction_in(text)
    if correction is not None and not text.startswith("/"):
        return {correction.slot: correction.value, form.CONFIRMED_SLOT: None}
    if is_digression(intent, text, understood=intent in ("affirm", "deny")):
        return {}
    if intent == "affirm":
        return {form.CONFIRMED_SLOT: "yes"}
    if intent == "deny":
        return {form.CONFIRMED_SLOT: "no"}
    return {form.CONFIRMED_SLOT: None}  # unclear: the summary is shown again
