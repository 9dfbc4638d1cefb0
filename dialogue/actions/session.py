"""Small helpers every action module needs: entities of the latest message, leaving a form, and stating
a turn's outcome."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from common import tickets as form


def _entity(tracker: Tracker, entity: str) -> dict[str, Any] | None:
    """The latest message's entity of a type with a value, the gazetteer's first (it gives canonical names)."""
    found = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == entity]
    found.sort(key=lambda e: e.get("extractor") != "SpacyGazetteer")
    for item in found:
        value = item.get("value")
        if isinstance(value, str) and value.strip():
            return item
    return None


def entity_value(tracker: Tracker, entity: str) -> str | None:
    """The latest message's value for an entity, preferring the gazetteer (it gives canonical names)."""
    item = _entity(tracker, entity)
    return item["value"].strip() if item else None


def entity_said(tracker: Tracker, entity: str) -> str | None:
    """The citizen's own words for the value ``entity_value`` gives: an alias, when the gazetteer
    resolved one (烟草零售许可证 for 烟草专卖零售许可证新办); ``retriever.answering.names_one`` judges
    whether such an alias names that one matter or its family."""
    item = _entity(tracker, entity)
    text = tracker.latest_message.get("text") or ""
    start, end = (item.get("start"), item.get("end")) if item else (None, None)
    if not isinstance(start, int) or not isinstance(end, int) or not text[start:end].strip():
        return None
    return text[start:end].strip()


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


PARKED_SLOT = "ticket_parked"
"""A complaint left unfiled by what interrupted it (a guide with its walk, a choice of matters, a ticket
look-up, 转人工): ``dialogue.actions.resume.offer_resume`` offers it again once that is done."""


def leave_form(tracker: Tracker) -> list[dict[str, Any]]:
    """Ends whatever form is running, so an interrupting request (转人工, a complaint) takes over
    instead of the form asking its question again. A complaint left so is parked, never dropped."""
    running = (tracker.active_loop or {}).get("name")
    if not running:
        return []
    events = [ActiveLoop(None), SlotSet("requested_slot", None)]
    if running == "ticket_form" and tracker.get_slot(form.TYPE_SLOT):
        events.append(SlotSet(PARKED_SLOT, True))
    return events


def previous_bot_action(tracker: Tracker) -> str | None:
    """The last action the assistant ran before the citizen's latest message (listen excluded)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return event["name"]
    return None


def state_outcome(dispatcher: CollectingDispatcher, kind: str, **fields: Any) -> None:
    """Says what this turn did, as data for the gateway (the outcome contract, docs/architecture.md):
    the gateway stores it and never shows it, and reads it instead of the words said."""
    dispatcher.utter_message(json_message={"type": "outcome", "kind": kind, **fields})


def filled_slots(tracker: Tracker) -> dict[str, Any]:
    """The slots with a value, for the agent a handoff goes to (``requested_slot`` is the form's own)."""
    return {
        name: value
        for name, value in tracker.current_slot_values().items()
        if value not in (None, [], {}, "") and name != "requested_slot"
    }
