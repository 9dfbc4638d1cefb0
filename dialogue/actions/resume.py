"""Back to what was left: a materials walk or a complaint that a new question interrupted is kept, and
offered again once that question is answered (「刚才的材料清单还没走完，要继续吗？」 继续 / 不用了).

The walk's state (``walk_state``) and the complaint's fields (the ticket form's slots) stay in the
tracker while the citizen asks something else; the form is left, so no question of it hangs over the
answer. ``offer_resume`` is called by the actions that answer a digression (guide, facet, out of scope,
fallback, ticket status, goodbye, the checklist that ends a walk, 都不是 to a choice of matters);
``ActionResume`` takes the citizen's 继续 or 不用了. A complaint is never dropped without the citizen
being told: one left for a walk, a choice of matters or a look-up is parked (``session.leave_form``)
and offered when that ends; it stays parked, and is offered after every later answer, until the
citizen says 继续 or 不用了 (which says it will not be filed). A walk a complaint interrupted is offered
once the complaint is filed or cancelled (``offer_walk``).
"""

from __future__ import annotations

from typing import Any, Literal

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from common import tickets as form
from dialogue.actions.session import PARKED_SLOT, latest_intent, leave_form, state_outcome

Task = Literal["walk", "ticket"]
FORM_OF: dict[Task, str] = {"walk": "materials_form", "ticket": "ticket_form"}
RESUME_BUTTONS = [{"title": "继续", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}]
TASK_SLOT = "resume_task"
"""Which task the last offer was about: the walk may have been offered while a complaint was parked."""


def walk_open(tracker: Tracker) -> bool:
    """A materials walk started and neither done nor put away (不用了 clears it)."""
    walk = tracker.get_slot("walk_state")
    return isinstance(walk, dict) and not walk.get("done")


def unfinished(tracker: Tracker) -> Task | None:
    """What the citizen left: a complaint not yet filed comes first, then a walk not yet done."""
    if tracker.get_slot(form.TYPE_SLOT):
        return "ticket"
    return "walk" if walk_open(tracker) else None


def interrupted(tracker: Tracker) -> Task | None:
    """What a digression answered now left: the running form's task (the walk before a complaint parked
    behind it), else a parked complaint. Nothing when nothing was interrupted."""
    running = (tracker.active_loop or {}).get("name")
    if running == FORM_OF["walk"] and walk_open(tracker):
        return "walk"
    if tracker.get_slot(form.TYPE_SLOT) and (running == FORM_OF["ticket"] or tracker.get_slot(PARKED_SLOT)):
        return "ticket"
    return None


def offer_text(task: Task, ticket_type: str | None) -> str:
    if task == "walk":
        return "刚才的材料清单还没走完，要继续吗？"
    return f"您刚才的{ticket_type or '留言'}还没有提交，信息已为您保留，要继续吗？"


def offer_resume(dispatcher: CollectingDispatcher, tracker: Tracker, task: Task | None = None) -> list[dict[str, Any]]:
    """After a digression is answered: when it interrupted the walk or the complaint (their form was
    running, or the complaint was parked), or for ``task`` when given, the form is left and the citizen
    asked whether to go on. The complaint stays parked: a citizen who answers the offer with another
    question is offered it again after that answer, until 继续 or 不用了. Nothing else interrupted: a
    form still running (the ticket look-up a new question left) is left, so its question is not asked
    over the answer."""
    task = task or interrupted(tracker)
    if task is None:
        return leave_form(tracker)
    dispatcher.utter_message(text=offer_text(task, tracker.get_slot(form.TYPE_SLOT)), buttons=RESUME_BUTTONS)
    state_outcome(dispatcher, "resume_offered", task=task, matter_id=_walk_matter(tracker, task))
    parked = [SlotSet(PARKED_SLOT, True)] if task == "ticket" else []
    return [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("resume_offered", True),
        SlotSet(TASK_SLOT, task),
        *parked,
    ]


def offer_walk(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Once a complaint is filed or cancelled: a walk it interrupted (still open) is offered again, as
    after any digression. Nothing when there is none."""
    return offer_resume(dispatcher, tracker, "walk") if walk_open(tracker) else []


def _walk_matter(tracker: Tracker, task: Task) -> str | None:
    walk = tracker.get_slot("walk_state")
    return walk.get("matter_id") if task == "walk" and isinstance(walk, dict) else None


def reset_ticket() -> list[dict[str, Any]]:
    """The complaint's fields and type cleared: filed, cancelled, or not taken up again. An offer of it
    still pending is void: a yes after the filing is 确认提交 again, unless the walk is offered anew
    (``offer_walk``, after this)."""
    fields = (*form.FORM_SLOTS, form.TYPE_SLOT, form.CONFIRMED_SLOT)
    resets = [SlotSet(PARKED_SLOT, False), SlotSet("resume_offered", False), SlotSet(TASK_SLOT, None)]
    return [*(SlotSet(slot, None) for slot in fields), *resets]


def cancel_ticket(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """取消 at the summary, or 不用了 to a complaint offered again: said, stated, and the fields cleared;
    a walk the complaint interrupted is offered again."""
    ticket_type = tracker.get_slot(form.TYPE_SLOT)
    dispatcher.utter_message(text=f"好的，已取消，这次填写的{ticket_type or '信息'}不会提交。还有什么可以帮您？")
    state_outcome(dispatcher, "ticket_cancelled", ticket_type=ticket_type)
    return [*reset_ticket(), *offer_walk(dispatcher, tracker)]


def replace_ticket(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
    """A new complaint started while an earlier one is still unfiled: the earlier one is given up, and
    the citizen told so (``ticket_cancelled`` with ``replaced``), never silently. The same complaint
    sent again (its reply lost) is not an earlier one."""
    earlier = tracker.get_slot(form.TYPE_SLOT)
    content = tracker.get_slot(form.CONTENT_SLOT)
    if not earlier or not content or content.strip() == text.strip():
        return
    dispatcher.utter_message(text=f"您刚才未提交的{earlier}不再保留，下面记录这次的新留言。")
    state_outcome(dispatcher, "ticket_cancelled", ticket_type=earlier, replaced=True)


class ActionResume(Action):
    """继续: the form again, where it was (the walk's next material; the complaint's next question or its
    summary). 不用了: the walk is put away, the complaint cancelled, and the citizen told so; a complaint
    parked behind the walk is offered next."""

    def name(self) -> str:
        return "action_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SlotSet("resume_offered", False), SlotSet(TASK_SLOT, None)]
        task = _offered(tracker)
        if task is None:
            dispatcher.utter_message(text="好的。还有什么可以帮您？")
            return events
        taken = latest_intent(tracker) == "affirm"
        state_outcome(dispatcher, "resumed", task=task, taken=taken, matter_id=_walk_matter(tracker, task))
        if taken:
            # The form's question is asked again by the form itself (RulePolicy runs the active loop).
            reset = "material_answer" if task == "walk" else form.CONFIRMED_SLOT
            parked = [SlotSet(PARKED_SLOT, False)] if task == "ticket" else []
            return [*events, *parked, SlotSet(reset, None), SlotSet("requested_slot", None), ActiveLoop(FORM_OF[task])]
        if task == "walk":
            dispatcher.utter_message(text="好的，材料先不核对了。需要时可以再问我这个事项要带什么材料。")
            return [*events, SlotSet("walk_state", None), *offer_resume(dispatcher, tracker)]
        return [*events, *cancel_ticket(dispatcher, tracker)]


def _offered(tracker: Tracker) -> Task | None:
    """The task the offer was about, if it is still unfinished (a walk done since is not taken up)."""
    task = tracker.get_slot(TASK_SLOT)
    if task == "ticket" and tracker.get_slot(form.TYPE_SLOT):
        return "ticket"
    if task == "walk" and walk_open(tracker):
        return "walk"
    return unfinished(tracker) if task is None else None
