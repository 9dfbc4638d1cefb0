"""Digressions and corrections (issue 11, item 5), decided without a model: what in the middle of the
materials walk or at the complaint's summary is an answer and what is a new question, what a correction
at the summary changes, that an 18-digit ID number does not make a 社保 question a ticket look-up, and
that a bare phone number is never a goodbye. The same conversations through the real stack are in
tests/test_digressions_live.py; Rasa's own story check is dialogue/tests/test_stories.yml."""

from __future__ import annotations

import pytest

from common import tickets as form
from dialogue.actions.corrections import Correction, correction_in
from dialogue.actions.tickets import confirmation_reply
from dialogue.routing import bare_phone, is_digression, route
from retriever.answering import Answer, Decision

NOTHING = Answer(Decision("none", ()), None, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("ask_time_limit", "那要多久能办好"),
        ("nlu_fallback", "社保卡丢了怎么补办？"),
        ("ask_materials", "有没有更快的办法？"),
        ("out_of_scope", "今天天气怎么样"),
        ("check_ticket", "/check_ticket"),
    ],
)
def test_a_new_question_mid_walk_is_a_digression_not_an_unclear_answer(intent, text):
    assert is_digression(intent, text, understood=False)


@pytest.mark.parametrize(
    ("intent", "text", "understood"),
    [("affirm", "有", True), ("deny", "没有", True), ("affirm", "/affirm", True), ("nlu_fallback", "嗯嗯", False)],
)
def test_answers_and_unclear_replies_stay_with_the_form(intent, text, understood):
    assert not is_digression(intent, text, understood)


def test_a_correction_at_the_summary_names_the_field_and_its_new_value():
    assert correction_in("地点写错了，应该是西门") == Correction(form.LOCATION_SLOT, "西门")
    assert correction_in("时间不对") == Correction(form.TIME_SLOT, None)
    assert correction_in("电话写错了，是13900001111") == Correction(form.PHONE_SLOT, "13900001111")
    assert correction_in("13900001111") == Correction(form.PHONE_SLOT, "13900001111")
    assert correction_in("确认提交") is None
    assert correction_in("办身份证在哪里") is None


def test_the_reply_to_the_summary_files_cancels_corrects_or_yields():
    assert confirmation_reply("/affirm", "affirm") == {form.CONFIRMED_SLOT: "yes"}
    assert confirmation_reply("/deny", "deny") == {form.CONFIRMED_SLOT: "no"}
    assert confirmation_reply("地点写错了，应该是西门", "ask_location") == {
        form.LOCATION_SLOT: "西门",
        form.CONFIRMED_SLOT: None,
    }
    assert confirmation_reply("办身份证在哪里办？", "ask_location") == {}  # a new question: the form yields
    assert confirmation_reply("嗯嗯", "chitchat") == {form.CONFIRMED_SLOT: None}  # asked again


def test_an_id_number_about_social_insurance_is_no_ticket_look_up():
    text = "我的身份证号是450602199001011234，想查一下社保交了多少"
    assert route("check_ticket", 0.8, text, NOTHING) == "guide"
    assert route("check_ticket", 0.8, "工单12345-20260101-0001怎么样了", NOTHING) == "intent"


def test_a_bare_phone_number_is_recognised():
    assert bare_phone("13900001111") == "13900001111"
    assert bare_phone("139-0000-1111。") == "13900001111"
    assert bare_phone("再见") is None
    assert bare_phone("我的电话13900001111") is None
