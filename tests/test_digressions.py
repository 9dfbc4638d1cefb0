"""Digressions and corrections (issue 11, item 5), decided without a model: what in the middle of the
materials walk or at the complaint's summary is an answer and what is a new question, what a correction
at the summary changes, that an 18-digit ID number does not make a 社保 question a ticket look-up, and
that a bare phone number is never a goodbye. The same conversations through the real stack are in
tests/test_digressions_live.py; Rasa's own story check is dialogue/tests/test_stories.yml."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from common import tickets as form
from dialogue.actions.corrections import Correction, correction_in
from dialogue.actions.ticket_replies import confirmation_reply
from dialogue.routing import account_to_intake, bare_phone, is_digression, is_small_talk, route
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


# -- the complaint form's open questions, parked complaints, small talk, a repeated 确认提交 -------------


def _tracker(
    slots: dict | None = None, *, text: str = "", intent: str | None = None, loop: str | None = None, sure: float = 0.9
):
    from rasa_sdk import Tracker

    message = {"text": text, "intent": {"name": intent, "confidence": sure}, "entities": []}
    active = {"name": loop} if loop else {}
    return Tracker("t-detour", dict(slots or {}), message, [], False, None, active, "action_listen")


def _run(action_run):
    """An action's coroutine on a thread of its own (Playwright may leave a loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, action_run).result()


def _set(events: list[dict]) -> dict:
    """The slots a list of events leaves set (the last SlotSet of each wins)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("intent", "text", "guide_fits"),
    [
        ("ask_location", "办身份证在哪里办", False),
        ("ask_materials", "办身份证要带什么材料？", False),
        ("out_of_scope", "今天天气怎么样", False),
        ("check_ticket", "/check_ticket", False),
        ("nlu_fallback", "社保卡丢了怎么补办？", True),
    ],
)
def test_a_new_question_at_an_open_question_of_the_complaint_is_a_digression(intent, text, guide_fits):
    assert is_digression(intent, text, understood=True, free_text=True, guide_fits=guide_fits)


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        ("nlu_fallback", "港口区渔洲坪路口"),
        ("complain", "路灯坏了一个月，为什么没人修？"),
        ("nlu_fallback", "社保卡丢了怎么补办？"),  # no confident guide: taken as the answer
        ("ask_location", "小区门口的路灯从上个月开始就不亮了。晚上出门很危险。物业说不归他们管，到底该找谁？"),
        ("affirm", "记不清了"),
    ],
)
def test_answers_to_an_open_question_of_the_complaint_stay_answers(intent, text):
    assert not is_digression(intent, text, understood=True, free_text=True)


def test_the_complaint_form_takes_an_answer_and_yields_to_a_question():
    from dialogue.actions.ticket_replies import open_answer

    at = {"requested_slot": form.LOCATION_SLOT}
    answer = _tracker(at, text="港口区渔洲坪路口", intent="nlu_fallback", loop="ticket_form")
    assert open_answer(answer, form.LOCATION_SLOT) == {form.LOCATION_SLOT: "港口区渔洲坪路口"}
    question = _tracker(at, text="办身份证在哪里办", intent="ask_location", loop="ticket_form")
    assert open_answer(question, form.LOCATION_SLOT) == {}
    assert open_answer(_tracker(at, text="转人工", intent="request_human"), form.LOCATION_SLOT) == {}
    assert open_answer(answer, form.TIME_SLOT) == {}, "only the question asked is answered"
    phone = _tracker({"requested_slot": form.PHONE_SLOT}, text="13800138000", intent="goodbye")
    assert open_answer(phone, form.PHONE_SLOT) == {form.PHONE_SLOT: "13800138000"}, "digits read as goodbye"


@pytest.mark.parametrize(
    ("intent", "text"), [("thank", "谢谢"), ("greet", "你好"), ("affirm", "好的"), ("affirm", "好的，谢谢")]
)
def test_small_talk_mid_walk_is_recognised(intent, text):
    assert is_small_talk(intent, text)


@pytest.mark.parametrize(
    ("intent", "text"), [("affirm", "有"), ("affirm", "好了"), ("chitchat", "你是机器人吗"), ("affirm", "/affirm")]
)
def test_answers_and_questions_are_no_small_talk(intent, text):
    assert not is_small_talk(intent, text, understood=intent == "affirm")
    assert not is_small_talk("thank", "有的，谢谢", understood=True)


WALK = {
    "matter_id": "bs-sfz-sc",
    "materials": [
        {"name": "户口簿", "condition": None, "bring": True},
        {"name": "照片", "condition": None, "bring": True},
    ],
    "position": 0,
    "stage": "have",
    "answers": [None, None],
    "conditions": {},
    "done": False,
    "skipped": False,
}


def test_thanks_mid_walk_get_a_polite_reply_and_the_question_again():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.materials import ValidateMaterialsForm

    dispatcher = CollectingDispatcher()
    tracker = _tracker({"walk_state": WALK, "requested_slot": "material_answer"}, text="谢谢", intent="thank")
    assert ValidateMaterialsForm().validate_material_answer("谢谢", dispatcher, tracker, {}) == {
        "material_answer": None
    }
    kinds = [m["custom"]["kind"] for m in dispatcher.messages if m.get("custom")]
    assert kinds == ["small_talk"], "not misunderstood, and the walk did not move"
    thanked = _tracker({"walk_state": WALK, "requested_slot": "material_answer"}, text="有的，谢谢", intent="thank")
    answered = ValidateMaterialsForm().validate_material_answer("有的，谢谢", CollectingDispatcher(), thanked, {})
    assert answered["walk_state"]["answers"][0] == "have", "an answer with thanks is an answer"


def test_a_complaint_left_for_a_walk_is_parked_and_offered_when_the_walk_is_done():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.resume import offer_resume
    from dialogue.actions.session import PARKED_SLOT, leave_form

    complaint = {form.TYPE_SLOT: "投诉", form.CONTENT_SLOT: "路灯坏了"}
    assert _set(leave_form(_tracker(complaint, loop="ticket_form")))[PARKED_SLOT] is True
    assert PARKED_SLOT not in _set(leave_form(_tracker({"walk_state": WALK}, loop="materials_form")))

    dispatcher = CollectingDispatcher()
    done = {**complaint, PARKED_SLOT: True, "walk_state": {**WALK, "done": True}}
    offered = _set(offer_resume(dispatcher, _tracker(done)))
    assert offered == {"requested_slot": None, "resume_offered": True, "resume_task": "ticket", PARKED_SLOT: True}
    [outcome] = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert (outcome["kind"], outcome["task"]) == ("resume_offered", "ticket")
    assert offer_resume(CollectingDispatcher(), _tracker(complaint)) == [], "nothing interrupted: no offer"


def test_a_walk_put_away_offers_the_complaint_parked_behind_it():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.resume import ActionResume
    from dialogue.actions.session import PARKED_SLOT

    slots = {form.TYPE_SLOT: "投诉", PARKED_SLOT: True, "walk_state": WALK, "resume_task": "walk"}
    dispatcher = CollectingDispatcher()
    events = _run(ActionResume().run(dispatcher, _tracker(slots, text="/deny", intent="deny"), {}))
    assert _set(events)["walk_state"] is None
    assert [(o["kind"], o["task"]) for o in (m["custom"] for m in dispatcher.messages if m.get("custom"))] == [
        ("resumed", "walk"),
        ("resume_offered", "ticket"),
    ]
    taken = _run(ActionResume().run(CollectingDispatcher(), _tracker(slots, text="/affirm", intent="affirm"), {}))
    assert {"event": "active_loop", "name": "materials_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in taken if e.get("event") == "active_loop"
    ]


def test_a_yes_typed_after_the_filing_is_only_acknowledged():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.tickets import ActionSubmitTicket

    dispatcher = CollectingDispatcher()
    tracker = _tracker({"filed_ticket": "12345-20260101-0001"}, text="好的", intent="affirm")
    assert _run(ActionSubmitTicket().run(dispatcher, tracker, {})) == []
    assert [m.get("response") for m in dispatcher.messages] == ["utter_ok"], "no ticket shown, none filed"


# -- a long account the NLU could not place -----------------------------------------------------------

ACCOUNT = (
    "我们小区里从今年三月以来越来越多的传销人员进出，每天晚上在楼下聚集到很晚，居民都很害怕，"
    "找过物业几次，物业说管不了，希望有关部门赶快来处理。"
)


def test_routing_sends_only_an_unplaced_account_to_the_intake():
    assert account_to_intake("nlu_fallback", ACCOUNT)
    assert not account_to_intake("nlu_fallback", "电表能不能移个位置"), "a short miss asks again"
    assert not account_to_intake("complain", ACCOUNT), "a placed intent has its own rule"


def test_an_account_the_nlu_could_not_place_starts_the_intake_with_what_it_says(data_dir, use_embedder, monkeypatch):
    """A citizen who wrote a whole account is not told 没太理解: the intake takes it, typed by the hotline
    classifier, its content already filled; a short message the NLU could not place still asks again."""
    from rasa_sdk.executor import CollectingDispatcher

    from banshi.config import get_settings
    from banshi.db import migrate, session_scope
    from banshi.runtime import index_options
    from dialogue.actions import catalogue
    from dialogue.actions.handoff import ActionFallback
    from knowledge.importers import import_path
    from retriever import HybridIndex, rebuild
    from tests.conftest import SAMPLE_CATALOGUE

    migrate()
    with session_scope() as db:
        import_path(db, SAMPLE_CATALOGUE)
    index = HybridIndex(use_embedder, **index_options(get_settings()))
    with session_scope() as db:
        rebuild(db, index)
    monkeypatch.setattr(catalogue, "_index", index)

    dispatcher = CollectingDispatcher()
    events = _run(ActionFallback().run(dispatcher, _tracker(text=ACCOUNT, intent="nlu_fallback"), {}))
    stated = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    assert [s["kind"] for s in stated] == ["intake_started"]
    assert stated[0]["ticket_type"] in ("投诉", "举报", "求助")
    assert _set(events)[form.CONTENT_SLOT] == ACCOUNT, "what it already said is not asked again"
    assert {"event": "followup", "name": "ticket_form", "timestamp": None} in events

    dispatcher = CollectingDispatcher()
    _run(ActionFallback().run(dispatcher, _tracker(text="嗯那个东西呢", intent="nlu_fallback"), {}))
    assert [m["custom"]["kind"] for m in dispatcher.messages if m.get("custom")] == ["misunderstood"]


# -- issue 11 (item 5): a walk a complaint interrupted, an offer ignored (the look-up: test_digressions_lookup.py)


def _outcomes(dispatcher) -> list[dict]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom", {}).get("type") == "outcome"]


def _offered(dispatcher) -> list[tuple[str, str | None]]:
    """The offers made: (task, the walk's matter), with the buttons a citizen would see."""
    offers = [(o["task"], o["matter_id"]) for o in _outcomes(dispatcher) if o["kind"] == "resume_offered"]
    if offers:
        assert {"继续", "不用了"} <= {b["title"] for m in dispatcher.messages for b in m.get("buttons") or []}
    return offers


@pytest.mark.parametrize("answer", ["filed", "cancelled"])
def test_a_walk_a_complaint_interrupted_is_offered_once_the_complaint_is_filed_or_cancelled(data_dir, answer):
    from rasa_sdk.executor import CollectingDispatcher

    from banshi.db import migrate
    from dialogue.actions.resume import ActionResume
    from dialogue.actions.tickets import ActionSubmitTicket, start_intake

    migrate()  # the filing writes the ticket

    mid_walk = {"walk_state": WALK, "requested_slot": "material_answer"}
    text = "我要投诉，港口区渔洲坪路口的路灯坏了一个月没人修"
    started = _set(
        start_intake(CollectingDispatcher(), _tracker(mid_walk, text=text, intent="complain", loop="materials_form"))
    )
    assert "walk_state" not in started, "the walk is kept while the complaint is taken"

    complaint = {
        **mid_walk,
        **started,
        form.LOCATION_SLOT: "港口区渔洲坪路口",
        form.TIME_SLOT: "上个月",
        form.NAME_SLOT: form.ANONYMOUS,
        form.PHONE_SLOT: "13800138000",
        form.CONFIRMED_SLOT: "yes" if answer == "filed" else "no",
    }
    dispatcher = CollectingDispatcher()
    events = _run(ActionSubmitTicket().run(dispatcher, _tracker(complaint, text="/affirm", intent="affirm"), {}))
    kinds = [o["kind"] for o in _outcomes(dispatcher)]
    assert kinds == ["ticket_filed" if answer == "filed" else "ticket_cancelled", "resume_offered"]
    assert _offered(dispatcher) == [("walk", WALK["matter_id"])]
    after = {**complaint, **_set(events)}
    assert after[form.TYPE_SLOT] is None and after["walk_state"] == WALK

    assert after["resume_offered"] is True and after["resume_task"] == "walk"
    # 继续 (the same /affirm as 确认提交; a rule sends it here while the walk is offered): the walk again.
    taken = _run(ActionResume().run(CollectingDispatcher(), _tracker(after, text="/affirm", intent="affirm"), {}))
    assert {"event": "active_loop", "name": "materials_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in taken if e.get("event") == "active_loop"
    ]


def test_a_walk_is_offered_after_a_complaint_not_taken_up_again():
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.resume import ActionResume
    from dialogue.actions.session import PARKED_SLOT

    slots = {form.TYPE_SLOT: "投诉", PARKED_SLOT: True, "walk_state": WALK, "resume_task": "ticket"}
    dispatcher = CollectingDispatcher()
    _run(ActionResume().run(dispatcher, _tracker(slots, text="/deny", intent="deny"), {}))
    assert [o["kind"] for o in _outcomes(dispatcher)] == ["resumed", "ticket_cancelled", "resume_offered"]
    assert _offered(dispatcher) == [("walk", WALK["matter_id"])]
    nothing_open = _run(
        ActionResume().run(
            CollectingDispatcher(), _tracker({**slots, "walk_state": None}, text="/deny", intent="deny"), {}
        )
    )
    assert _set(nothing_open)["resume_offered"] is False, "no walk open: nothing offered"
