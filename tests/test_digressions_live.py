"""Digressions and corrections through the real stack (issue 11, item 5): the chat API in-process over
the shared Rasa and action servers (``live_stack``). What each turn did is read from its outcomes (data),
never from the bot's words; buttons are clicked by their titles, as a citizen would."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.test_chat_api import Citizen, client  # noqa: F401  (the module's fixture)

pytestmark = pytest.mark.slow

ANSWERS = {
    "ticket_content": "港口区渔洲坪路口的路灯坏了一个月没人修",
    "ticket_location": "港口区渔洲坪路口",
    "ticket_time": "上个月开始",
    "ticket_name": "匿名",
    "ticket_phone": "13800138000",
}


def _outcomes(replies: list[dict], kind: str) -> list[dict]:
    return [o for m in replies for o in m["outcomes"] if o["kind"] == kind]


def _requested(replies: list[dict]) -> list[str]:
    return [o["slot"] for o in _outcomes(replies, "slot_requested")]


def _to_the_summary(citizen: Citizen) -> list[dict]:
    return _answer_until_the_summary(citizen, citizen.say("我要投诉，港口区渔洲坪路口的路灯坏了一个月没人修"))


def _answer_until_the_summary(citizen: Citizen, replies: list[dict]) -> list[dict]:
    """Answers whatever the complaint form asks until it shows the summary."""
    for _turn in range(6):
        if "ticket_confirmed" in _requested(replies):
            return replies
        [slot] = _requested(replies)
        replies = citizen.say(ANSWERS[slot])
    raise AssertionError("the summary was never shown")


def _tickets_of(conversation_id: str) -> list:
    from banshi.db import session_scope
    from hotline.models import Ticket

    with session_scope() as session:
        found = session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)).all()
        return [(t.location, t.phone) for t in found]


def test_a_correction_at_confirmation_changes_the_field_and_the_ticket_is_filed_once(client):  # noqa: F811
    citizen = Citizen(client)
    _to_the_summary(citizen)
    replies = citizen.say("地点写错了，应该是西门")
    assert _requested(replies) == ["ticket_confirmed"], "the summary is shown again, with the change"
    assert not _outcomes(replies, "ticket_filed") and _tickets_of(citizen.id) == []
    replies = citizen.click(replies, "确认提交")
    assert len(_outcomes(replies, "ticket_filed")) == 1
    assert _tickets_of(citizen.id) == [("西门", "13800138000")]


def test_a_question_at_confirmation_is_answered_and_the_complaint_offered_again(client):  # noqa: F811
    citizen = Citizen(client)
    _to_the_summary(citizen)
    replies = citizen.say("今天天气怎么样")
    assert _outcomes(replies, "out_of_scope")
    [offered] = _outcomes(replies, "resume_offered")
    assert offered["task"] == "ticket"
    replies = citizen.click(replies, "继续")
    assert _requested(replies) == ["ticket_confirmed"]
    replies = citizen.click(replies, "确认提交")
    assert len(_outcomes(replies, "ticket_filed")) == 1 and len(_tickets_of(citizen.id)) == 1


def test_a_complaint_not_taken_up_again_is_cancelled_out_loud(client):  # noqa: F811
    citizen = Citizen(client)
    _to_the_summary(citizen)
    replies = citizen.click(citizen.say("今天天气怎么样"), "不用了")
    assert _outcomes(replies, "ticket_cancelled") and _tickets_of(citizen.id) == []


def test_a_topic_change_mid_walk_is_answered_and_the_walk_offered_again(client):  # noqa: F811
    citizen = Citizen(client)
    replies = citizen.say("换身份证要带什么材料")
    [walk] = _outcomes(replies, "walk_started")
    replies = citizen.say("那要多久")
    assert _outcomes(replies, "facet_answered"), "the question is answered, not refused"
    assert not _outcomes(replies, "misunderstood")
    [offered] = _outcomes(replies, "resume_offered")
    assert (offered["task"], offered["matter_id"]) == ("walk", walk["matter_id"])
    replies = citizen.click(replies, "继续")
    assert _outcomes(replies, "resumed")[0]["taken"] is True
    replies = citizen.click(replies, "直接告诉我全部")
    assert [o["matter_id"] for o in _outcomes(replies, "checklist_shown")] == [walk["matter_id"]]


def test_an_id_number_in_a_social_insurance_question_is_no_ticket_look_up(client):  # noqa: F811
    citizen = Citizen(client)
    replies = citizen.say("我的身份证号是450602199001011234，想查一下社保交了多少")
    assert not {"lookup_ticket_no", "lookup_phone"} & set(_requested(replies))


def test_a_bare_phone_after_a_failed_look_up_is_the_look_up_again(client):  # noqa: F811
    citizen = Citizen(client)
    assert _requested(citizen.say("我想查一下工单进度")) == ["lookup_ticket_no"]
    assert _requested(citizen.say("12345-20260101-0001")) == ["lookup_phone"]
    assert _outcomes(citizen.say("13800138000"), "ticket_not_found")
    replies = citizen.say("13900001111")
    assert _outcomes(replies, "ticket_not_found"), "tried again with the same ticket number, not a goodbye"


# -- the rest of issue 11 (item 5) and issue 14 (item 3) -------------------------------------------------


def _buttons(replies: list[dict]) -> set[str]:
    return {b["title"] for m in replies for b in (m["buttons"] or [])}


def test_a_question_at_the_complaints_place_question_is_answered_not_taken_as_the_place(client):  # noqa: F811
    citizen = Citizen(client)
    citizen.say("我要投诉")
    assert _requested(citizen.say(ANSWERS["ticket_content"])) == ["ticket_location"]
    replies = citizen.say("居民身份证换领在哪里办")
    assert _outcomes(replies, "facet_answered"), "the question is answered"
    [offered] = _outcomes(replies, "resume_offered")
    assert offered["task"] == "ticket" and not _requested(replies)
    replies = citizen.click(replies, "继续")
    assert _requested(replies) == ["ticket_location"], "the form asks the place again, where it was"
    replies = citizen.click(_answer_until_the_summary(citizen, citizen.say(ANSWERS["ticket_location"])), "确认提交")
    assert len(_outcomes(replies, "ticket_filed")) == 1
    assert _tickets_of(citizen.id) == [(ANSWERS["ticket_location"], "13800138000")]


def test_a_guide_asked_at_the_summary_runs_its_walk_then_offers_the_complaint_again(client):  # noqa: F811
    citizen = Citizen(client)
    _to_the_summary(citizen)
    replies = citizen.say("换身份证要带什么材料")
    [walk] = _outcomes(replies, "walk_started")
    assert not _outcomes(replies, "resume_offered"), "the walk goes first"
    replies = citizen.click(replies, "直接告诉我全部")
    assert [o["matter_id"] for o in _outcomes(replies, "checklist_shown")] == [walk["matter_id"]]
    [offered] = _outcomes(replies, "resume_offered")
    assert offered["task"] == "ticket", "the complaint left for the guide is offered, not dropped"
    replies = citizen.click(replies, "继续")
    assert _requested(replies) == ["ticket_confirmed"], "the same summary, nothing lost"
    assert len(_outcomes(citizen.click(replies, "确认提交"), "ticket_filed")) == 1 and len(_tickets_of(citizen.id)) == 1


def test_a_choice_of_matters_at_the_summary_keeps_the_complaint(client):  # noqa: F811
    citizen = Citizen(client)
    _to_the_summary(citizen)
    replies = citizen.say("公积金怎么提取")
    assert _outcomes(replies, "clarification_offered")
    replies = citizen.click(replies, "都不是")
    assert _outcomes(replies, "clarification_rejected")
    [offered] = _outcomes(replies, "resume_offered")
    assert offered["task"] == "ticket"
    replies = citizen.click(replies, "继续")
    assert _requested(replies) == ["ticket_confirmed"], "the same summary, nothing lost"
    assert len(_outcomes(citizen.click(replies, "确认提交"), "ticket_filed")) == 1


def test_thanks_mid_walk_get_a_polite_reply_and_the_walks_question_again(client):  # noqa: F811
    citizen = Citizen(client)
    assert _outcomes(citizen.say("换身份证要带什么材料"), "walk_started")
    for words in ("谢谢", "好的"):
        replies = citizen.say(words)
        assert _outcomes(replies, "small_talk") and not _outcomes(replies, "misunderstood")
        assert {"有", "没有"} <= _buttons(replies), "the walk's question is asked again"


def test_confirmation_pressed_again_after_the_filing_shows_the_same_ticket(client):  # noqa: F811
    """What a citizen sees when the gateway died with the first answer in flight (issue 14): the turn was
    stored, the form is finished, and the page sends the same 确认提交 again."""
    citizen = Citizen(client)
    summary = _to_the_summary(citizen)
    [first] = _outcomes(citizen.click(summary, "确认提交"), "ticket_filed")
    replies = citizen.click(summary, "确认提交")  # the same button, the same payload
    [again] = _outcomes(replies, "ticket_filed")
    assert again["number"] == first["number"] and again["repeated"] is True
    [card] = [m["ticket"] for m in replies if m["kind"] == "ticket"]
    assert card["number"] == first["number"] and card["status"]
    assert len(_tickets_of(citizen.id)) == 1, "filed once"


# -- issue 11 (item 5): a walk a complaint interrupted, the look-up yielding, an offer ignored ------------


def test_a_complaint_typed_mid_walk_is_filed_and_the_walk_offered_again(client):  # noqa: F811
    citizen = Citizen(client)
    [walk] = _outcomes(citizen.say("换身份证要带什么材料"), "walk_started")
    replies = citizen.say("我要投诉，港口区渔洲坪路口的路灯坏了一个月没人修")
    assert _outcomes(replies, "intake_started"), "the complaint is taken"
    replies = citizen.click(_answer_until_the_summary(citizen, replies), "确认提交")
    assert len(_outcomes(replies, "ticket_filed")) == 1
    [offered] = _outcomes(replies, "resume_offered")
    assert (offered["task"], offered["matter_id"]) == ("walk", walk["matter_id"]), "the walk is not lost"
    replies = citizen.click(replies, "继续")
    assert _outcomes(replies, "resumed")[0]["taken"] is True
    assert {"有", "没有"} <= _buttons(replies), "the walk's question again"
    assert len(_tickets_of(citizen.id)) == 1, "filed once"


def test_a_question_at_the_look_up_leaves_it_and_a_malformed_number_gets_the_hint(client):  # noqa: F811
    citizen = Citizen(client)
    assert _requested(citizen.say("我想查一下工单进度")) == ["lookup_ticket_no"]
    replies = citizen.say("12345-2026")
    assert _requested(replies) == ["lookup_ticket_no"] and not _outcomes(replies, "ticket_not_found")
    replies = citizen.say("居民身份证换领在哪里办")
    assert _outcomes(replies, "facet_answered"), "the question is answered"
    assert not _requested(replies), "the look-up's question is not asked over the answer"
    replies = citizen.say("我要投诉，港口区渔洲坪路口的路灯坏了一个月没人修")
    assert _outcomes(replies, "intake_started") and not {"lookup_ticket_no", "lookup_phone"} & set(_requested(replies))


def test_a_complaint_offered_and_ignored_is_offered_again(client):  # noqa: F811
    citizen = Citizen(client)
    _to_the_summary(citizen)
    [offered] = _outcomes(citizen.say("今天天气怎么样"), "resume_offered")
    assert offered["task"] == "ticket"
    replies = citizen.say("居民身份证换领在哪里办")  # the offer ignored
    assert _outcomes(replies, "facet_answered")
    [again] = _outcomes(replies, "resume_offered")
    assert again["task"] == "ticket", "offered again, not dropped"
    replies = citizen.click(replies, "继续")
    assert _requested(replies) == ["ticket_confirmed"], "the same summary, nothing lost"
    assert len(_outcomes(citizen.click(replies, "确认提交"), "ticket_filed")) == 1 and len(_tickets_of(citizen.id)) == 1
