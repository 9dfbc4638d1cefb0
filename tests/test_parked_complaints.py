"""A complaint not yet filed is never dropped without the citizen being told (issue 11, item 5): parked
behind a digression, it is offered after every answer until 继续 or 不用了; replaced by a new complaint,
the citizen is told the earlier one is given up (``dialogue.actions.resume``)."""

from __future__ import annotations

from common import tickets as form
from tests.test_digressions import _offered, _outcomes, _run, _set, _tracker


def test_a_parked_complaint_is_offered_after_every_answer_until_the_citizen_decides():
    """Offered, ignored (another question), offered again after its answer; 继续 unparks it."""
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.resume import ActionResume, offer_resume
    from dialogue.actions.session import PARKED_SLOT

    slots = {form.TYPE_SLOT: "投诉", form.CONTENT_SLOT: "路灯坏了", "requested_slot": form.CONFIRMED_SLOT}
    for _question in range(3):
        dispatcher = CollectingDispatcher()
        slots = {
            **slots,
            **_set(offer_resume(dispatcher, _tracker(slots, loop=None if PARKED_SLOT in slots else "ticket_form"))),
        }
        assert _offered(dispatcher) == [("ticket", None)]
        assert slots[PARKED_SLOT] is True and slots[form.TYPE_SLOT] == "投诉"
    taken = _set(_run(ActionResume().run(CollectingDispatcher(), _tracker(slots, text="/affirm", intent="affirm"), {})))
    assert taken[PARKED_SLOT] is False
    assert offer_resume(CollectingDispatcher(), _tracker({**slots, **taken})) == [], "taken up: no more offers"


def test_a_new_complaint_over_an_unfiled_one_says_the_earlier_one_is_given_up():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.session import PARKED_SLOT
    from dialogue.actions.tickets import start_intake

    parked = {form.TYPE_SLOT: "投诉", form.CONTENT_SLOT: "港口区渔洲坪路口的路灯坏了一个月", PARKED_SLOT: True}
    text = "我要举报，江山大道有人半夜施工噪音很大"
    dispatcher = CollectingDispatcher()
    started = _set(start_intake(dispatcher, _tracker(parked, text=text, intent="report")))
    kinds = [(o["kind"], o.get("ticket_type"), o.get("replaced")) for o in _outcomes(dispatcher)]
    assert kinds == [("ticket_cancelled", "投诉", True), ("intake_started", "举报", None)]
    assert started[form.TYPE_SLOT] == "举报" and started[PARKED_SLOT] is False

    again = CollectingDispatcher()  # the same complaint sent again (its reply lost) replaces nothing
    start_intake(again, _tracker({form.TYPE_SLOT: "举报", form.CONTENT_SLOT: text}, text=text, intent="report"))
    assert [o["kind"] for o in _outcomes(again)] == ["intake_started"]
