"""The ticket look-up's questions (issue 11, item 5): a number typed, however malformed, is the look-up's
and gets the format hint; a new question or request (a guide question, a complaint, 转人工) is not, so the
form yields to its rule and the look-up is left after the answer (``dialogue.routing.leaves_lookup``,
``dialogue.actions.ticket_lookup.lookup_reply``). Through the real stack: tests/test_digressions_live.py."""

from __future__ import annotations

import pytest

from dialogue.routing import leaves_lookup
from tests.test_digressions import _outcomes, _run, _tracker


@pytest.mark.parametrize(
    ("intent", "sure", "text", "guide_fits"),
    [
        ("ask_fee", 0.7, "办身份证要多少钱", False),
        ("complain", 0.95, "我要投诉，小区路灯坏了一个月", False),
        ("ask_guide", 0.95, "办理居民身份证", False),
        ("request_human", 0.6, "转人工", False),
        ("goodbye", 0.97, "再见", False),
        ("nlu_fallback", 0.3, "社保卡丢了怎么补办？", True),
        ("check_ticket", 0.8, "社保卡的进度怎么查", True),
        ("complain", 0.99, "/complain", False),
    ],
)
def test_a_new_question_or_request_at_the_ticket_look_up_leaves_it(intent, sure, text, guide_fits):
    assert leaves_lookup(intent, sure, text, guide_fits=guide_fits)


@pytest.mark.parametrize(
    ("intent", "sure", "text"),
    [
        ("check_ticket", 0.9, "12345-2026-01"),
        ("goodbye", 0.95, "139 0000 111"),
        ("nlu_fallback", 0.3, "我不记得了"),
        ("check_ticket", 0.8, "工单号找不到了"),
        ("complain", 0.6, "忘记工单编号了"),
        ("deny", 0.9, "没有"),
        ("thank", 0.9, "谢谢"),
    ],
)
def test_a_number_or_an_unclear_reply_at_the_ticket_look_up_stays_with_it(intent, sure, text):
    assert not leaves_lookup(intent, sure, text, guide_fits=True)


def test_the_look_up_form_takes_a_number_yields_to_a_question_and_is_left_after_the_answer():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.resume import offer_resume
    from dialogue.actions.ticket_lookup import ValidateTicketLookupForm, lookup_reply

    def reply(text: str, intent: str, sure: float = 0.9, asked: str = "lookup_ticket_no") -> dict:
        return lookup_reply(
            _tracker({"requested_slot": asked}, text=text, intent=intent, loop="ticket_lookup_form", sure=sure)
        )

    assert reply("12345-20260101-0001", "check_ticket") == {"lookup_ticket_no": "12345-20260101-0001"}
    assert reply("办身份证要多少钱", "ask_fee", 0.7) == {}, "a guide question: the form yields to its rule"
    assert reply("我要投诉，小区路灯坏了一个月", "complain", 0.97) == {}
    assert reply("13800138000", "goodbye", asked="lookup_phone") == {"lookup_phone": "13800138000"}
    malformed = reply("12345-2026", "goodbye")
    assert malformed == {"lookup_ticket_no": "12345-2026"}
    dispatcher = CollectingDispatcher()
    hint = ValidateTicketLookupForm().validate_lookup_ticket_no("12345-2026", dispatcher, _tracker(), {})
    assert hint == {"lookup_ticket_no": None} and [m["text"] for m in dispatcher.messages], "the format hint"

    dispatcher = CollectingDispatcher()
    left = offer_resume(dispatcher, _tracker({"requested_slot": "lookup_ticket_no"}, loop="ticket_lookup_form"))
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in left]
    assert dispatcher.messages == [], "the look-up is left without an offer, its question not asked again"


def test_goodbye_at_the_look_up_says_goodbye_and_leaves_it(monkeypatch):
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions import handoff

    monkeypatch.setattr(handoff, "divert_to_guide", lambda tracker: None)
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"requested_slot": "lookup_ticket_no"}, text="再见", intent="goodbye", loop="ticket_lookup_form")
    events = _run(handoff.ActionGoodbye().run(dispatcher, tracker, {}))
    assert [m["text"] for m in dispatcher.messages if m.get("text")], "said goodbye"
    assert not _outcomes(dispatcher) and {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
