"""The dialogue's pure parts, without a Rasa server: the materials walk, phone checks, the checklist,
and the decision between presenting, asking and admitting that nothing fits."""

from __future__ import annotations

import pytest

from dialogue.actions.checklist import build_checklist, render_checklist, time_limit_text
from dialogue.actions.handoff import consecutive_fallbacks
from dialogue.actions.materials import Reply, advance, current_step, parse_reply, start_walk, statuses_for
from dialogue.actions.offers import place_of
from dialogue.actions.tickets import check_mobile, describes_problem, is_anonymous
from knowledge.schema import MatterIn
from retriever import Hit, SearchResult
from retriever.answering import Decision, decide


def _matter(**overrides) -> MatterIn:
    data = {
        "external_id": "t-1",
        "name": "居民身份证首次申领",
        "department": "防城港市公安局",
        "materials": [
            {"name": "居民户口簿", "original_or_copy": "原件", "original_count": 1, "medium": "纸质"},
            {"name": "委托书", "required": False, "condition": "委托他人代办时", "original_count": 1},
            {"name": "受托人身份证", "required": False, "condition": "委托他人代办时", "copy_count": 1},
            {"name": "数码相片", "source": "申请人自备", "note": "可现场采集"},
        ],
        "time_limit_legal_days": 60,
        "time_limit_promised_days": 20,
        "fee": "收费：工本费20元",
        "location": "户籍所在地派出所",
        "hours": "工作日9:00-17:00",
        "visits": 1,
        "phone": "12345",
        "updated_at": "2026-01-12T09:00:00",
    }
    return MatterIn.model_validate({**data, **overrides})


# -- the materials walk ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("有", None, Reply.yes),
        ("有的，带了", None, Reply.yes),
        ("是的", None, Reply.yes),
        ("/affirm", "affirm", Reply.yes),
        ("没有", None, Reply.no),
        ("还没有呢", None, Reply.no),
        ("否", None, Reply.no),
        ("/deny", "deny", Reply.no),
        ("直接告诉我全部", "ask_materials", Reply.all),
        ("不用一个个问了", None, Reply.all),
        ("嗯嗯", "affirm", Reply.yes),
        ("今天天气怎么样", "out_of_scope", Reply.unknown),
        ("", None, Reply.unknown),
    ],
)
def test_replies_are_understood(text, intent, expected):
    assert parse_reply(text, intent) is expected


def test_walk_asks_each_material_and_a_condition_once():
    state = start_walk(_matter())
    assert current_step(state).name == "居民户口簿" and current_step(state).stage == "have"
    state = advance(state, Reply.yes)
    step = current_step(state)
    assert (step.name, step.stage, step.number, step.total) == ("委托书", "condition", 2, 4)
    state = advance(state, Reply.yes)  # the condition applies
    assert current_step(state).stage == "have"
    state = advance(state, Reply.no)  # but no 委托书 yet
    # The second material with the same condition skips the condition question.
    assert (current_step(state).name, current_step(state).stage) == ("受托人身份证", "have")
    state = advance(state, Reply.yes)
    state = advance(state, Reply.no)
    assert state["done"] and current_step(state) is None
    assert statuses_for(state, "t-1") == ["have", "missing", "have", "missing"]


def test_a_condition_that_does_not_apply_marks_its_materials_not_applicable():
    state = advance(start_walk(_matter()), Reply.yes)
    state = advance(state, Reply.no)
    assert current_step(state).name == "数码相片"
    state = advance(state, Reply.yes)
    assert statuses_for(state, "t-1") == ["have", "not_applicable", "not_applicable", "have"]


def test_unknown_reply_changes_nothing_and_all_ends_the_walk():
    state = start_walk(_matter())
    assert advance(state, Reply.unknown) == state
    skipped = advance(state, Reply.all)
    assert skipped["done"] and skipped["skipped"]
    assert statuses_for(skipped, "t-1") == ["unknown"] * 4
    assert state["done"] is False  # advance is pure


def test_statuses_belong_to_their_matter():
    assert statuses_for(start_walk(_matter()), "other") is None
    assert statuses_for(None, "t-1") is None


# -- phones and ticket wording ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000", "我的手机13800138000"],
)
def test_valid_mobiles_are_normalised(raw):
    assert check_mobile(raw).phone == "13800138000"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1380013800", "11位"),
        ("138001380001", "11位"),
        ("07702822222", "以1开头"),
        ("12800138000", "第二位"),
        ("没有电话", "没有识别到"),
        ("13800138000 13900139000", "不止一个"),
    ],
)
def test_invalid_mobiles_get_a_reason(raw, reason):
    check = check_mobile(raw)
    assert check.phone is None and reason in check.problem


def test_first_message_prefills_content_only_when_it_describes_the_problem():
    assert not describes_problem("我要投诉")
    assert not describes_problem("我想提个建议")
    assert not describes_problem('/seek_help{"ticket_type":"咨询"}')
    assert describes_problem("我要投诉港口区渔洲坪路口的路灯坏了一个月没人修")


@pytest.mark.parametrize("text", ["匿名", "不留了", "跳过", "不想留名字"])
def test_anonymity_is_accepted(text):
    assert is_anonymous(text)


# -- the checklist ----------------------------------------------------------------------------


def test_checklist_payload_follows_the_contract():
    payload = build_checklist(_matter(), ["have", "missing", "have", "missing"])
    assert payload["type"] == "checklist"
    assert payload["matter"]["external_id"] == "t-1" and payload["matter"]["updated_at"].startswith("2026-01-12")
    assert [m["status"] for m in payload["materials"]] == ["have", "missing", "have", "missing"]
    assert payload["time_limit"] == {"legal_days": 60, "promised_days": 20}
    assert {"location", "hours", "online_url", "fee", "visits", "phone"} <= payload.keys()


def test_checklist_defaults_to_unknown_and_text_flags_what_is_missing():
    assert {m["status"] for m in build_checklist(_matter())["materials"]} == {"unknown"}
    text = render_checklist(_matter(), ["have", "not_applicable", "not_applicable", "missing"])
    assert "【一次告知】居民身份证首次申领" in text
    assert "数码相片" in text and "尚缺" in text and "您还需要准备：数码相片" in text
    assert "不需要" in text and "户籍所在地派出所" in text and "最多跑1次" in text
    assert "承诺20个工作日" in text and "更新日期：2026-01-12" in text


def test_zero_days_is_on_the_spot():
    assert time_limit_text(0, 0).startswith("即办")
    assert time_limit_text(None, None) is None


# -- choosing the guide -----------------------------------------------------------------------


def _hit(eid: str, name: str, score: float, parent: str | None = None, region: str = "广西壮族自治区防城港市") -> Hit:
    return Hit(eid, name, "部门", region, parent, "父事项" if parent else None, score)


def _result(*hits: Hit, confident: bool = True) -> SearchResult:
    return SearchResult("q", list(hits), 0.9 if confident else 0.1, confident)


def test_one_clear_winner_is_presented():
    decision = decide(_result(_hit("a", "居民身份证补领", 0.31), _hit("b", "居民身份证换领", 0.26)))
    assert decision == Decision("present", (_hit("a", "居民身份证补领", 0.31),))


def test_close_scores_and_siblings_are_asked():
    close = decide(_result(_hit("a", "补领", 0.27), _hit("b", "首次申领", 0.265), _hit("c", "临时", 0.2)))
    assert close.kind == "clarify" and [h.external_id for h in close.hits] == ["a", "b", "c"]
    assert close.reason == "close"
    siblings = decide(_result(_hit("a", "租房提取", 0.30, "p"), _hit("b", "退休提取", 0.24, "p")))
    assert siblings.kind == "clarify" and siblings.reason == "siblings"


def test_not_confident_is_none_even_with_hits():
    assert decide(_result(_hit("a", "普通护照签发", 0.2), confident=False)).kind == "none"


def test_same_name_in_several_places_asks_the_region():
    a = _hit("a", "内地居民结婚登记", 0.3, region="广西壮族自治区防城港市港口区")
    b = _hit("b", "内地居民结婚登记", 0.29, region="广西壮族自治区防城港市东兴市")
    decision = decide(_result(a, b), named="内地居民结婚登记")
    assert decision.kind == "ask_region" and decision.reason == "region"
    assert [place_of(h) for h in decision.hits] == ["港口区", "东兴市"]
    assert place_of(_hit("c", "x", 0.1)) == "防城港市"


def test_a_named_matter_wins_even_when_the_search_is_unsure():
    decision = decide(_result(_hit("a", "普通护照签发", 0.2), confident=False), named="普通护照签发")
    assert decision.kind == "present"


def test_two_fallbacks_in_a_row_are_counted():
    def user(intent: str) -> dict:
        return {"event": "user", "parse_data": {"intent": {"name": intent}}}

    class FakeTracker:
        def __init__(self, events: list[dict]) -> None:
            self.events = events

    greeting = [user("greet"), {"event": "action", "name": "utter_greet"}]
    assert consecutive_fallbacks(FakeTracker([*greeting, user("nlu_fallback"), user("nlu_fallback")])) == 2
    assert consecutive_fallbacks(FakeTracker([user("nlu_fallback"), user("ask_guide"), user("nlu_fallback")])) == 1


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("第一个", 3, 0),
        ("我选第2个", 3, 1),
        ("就办第三个吧", 3, 2),
        ("最后一个", 3, 2),
        ("第四个", 3, None),
        ("随便", 3, None),
    ],
)
def test_a_suggestion_picked_in_words(text, count, expected):
    from dialogue.actions.guide import pick_ordinal

    assert pick_ordinal(text, count) == expected


def test_a_question_editors_ruled_out_of_scope_is_declined_with_the_hotline(data_dir):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from banshi.db import migrate, session_scope
    from dialogue.actions.guide import ActionFindGuide
    from knowledge.unanswered import mark_out_of_scope

    migrate()
    with session_scope() as db:
        mark_out_of_scope(db, ["帮我订一张去北京的机票"], author="editor1")
    message = {"text": "帮我订一张去北京的机票", "intent": {"name": "ask_guide"}, "entities": []}
    tracker = Tracker("t-oos", {}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    # Playwright's sync API leaves a loop running in this thread when the
    # browser tests ran first, so the action gets a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, ActionFindGuide().run(dispatcher, tracker, {})).result()
    reply, stated = dispatcher.messages
    assert "没有在办事指南库里找到" in reply["text"]
    assert "/request_human" in [b["payload"] for b in reply["buttons"]]
    assert stated["custom"] == {"type": "outcome", "kind": "out_of_scope"}, "stated as data, not only in words"


def _run_find_guide(message: dict, slots: dict | None = None) -> tuple[list[dict], list[dict], list[dict]]:
    """Runs ActionFindGuide on its own thread (see the out-of-scope test); returns (messages shown, events,
    outcomes stated)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.guide import ActionFindGuide

    tracker = Tracker("t-faq", slots or {}, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    with ThreadPoolExecutor(1) as pool:
        events = pool.submit(asyncio.run, ActionFindGuide().run(dispatcher, tracker, {})).result()
    return (
        [m for m in dispatcher.messages if not m.get("custom")],
        events,
        [m["custom"] for m in dispatcher.messages if m.get("custom")],
    )


def test_asking_an_faq_question_gets_its_answer_citing_the_matter_and_the_guide_button(
    data_dir, use_embedder, monkeypatch
):
    from banshi.config import get_settings
    from banshi.db import migrate, session_scope
    from banshi.runtime import index_options
    from dialogue.actions import catalogue
    from knowledge.faqs import FaqIn, create_faq
    from knowledge.importers import import_path
    from retriever import HybridIndex, rebuild
    from tests.conftest import SAMPLE_CATALOGUE

    migrate()
    answer = "个体户经营场所变更，须在变更后30日内到市场监管部门办理变更登记。"
    with session_scope() as db:
        import_path(db, SAMPLE_CATALOGUE)
        create_faq(db, FaqIn(question="公司地址变了要办什么", answer=answer, matter_external_id="bs-gtgsh-bg"),
                   author="editor1")  # fmt: skip
    index = HybridIndex(use_embedder, **index_options(get_settings()))
    with session_scope() as db:
        rebuild(db, index)
    monkeypatch.setattr(catalogue, "_index", index)

    asked = {"text": "请问，公司地址变了，要办什么？", "intent": {"name": "ask_guide"}, "entities": []}
    [reply], events, stated = _run_find_guide(asked)
    faq_id = stated[0].pop("faq_id")
    assert stated == [{"type": "outcome", "kind": "faq_answered", "matter_id": "bs-gtgsh-bg"}] and faq_id
    assert reply["text"] == f"{answer}（出自《个体工商户变更登记》办事指南）"
    assert reply["buttons"] == [
        {"title": "查看《个体工商户变更登记》办事指南", "payload": '/choose_matter{"matter_id": "bs-gtgsh-bg"}'}
    ]
    assert {"event": "slot", "name": "matter_id", "value": "bs-gtgsh-bg", "timestamp": None} in events
    assert not any(e.get("event") == "followup" for e in events), "no materials walk until the citizen asks"

    pressed = {"text": reply["buttons"][0]["payload"], "intent": {"name": "choose_matter"},
               "entities": [{"entity": "matter_id", "value": "bs-gtgsh-bg"}]}  # fmt: skip
    messages, _, stated = _run_find_guide(pressed, {"matter_id": "bs-gtgsh-bg"})
    assert messages[0]["text"].startswith("为您找到办事指南：个体工商户变更登记")
    assert {"type": "outcome", "kind": "guide_presented", "matter_id": "bs-gtgsh-bg",
            "matter_name": "个体工商户变更登记"} in stated  # fmt: skip

    similar = {"text": "公司名称变了要办什么", "intent": {"name": "ask_guide"}, "entities": []}
    messages, _, _ = _run_find_guide(similar)
    assert messages and answer not in " ".join(m["text"] or "" for m in messages), "another question, not the FAQ's"
    named = {"text": "个体工商户变更登记", "intent": {"name": "ask_guide"},
             "entities": [{"entity": "matter", "value": "个体工商户变更登记"}]}  # fmt: skip
    messages, _, _ = _run_find_guide(named)
    assert messages[0]["text"].startswith("为您找到办事指南：个体工商户变更登记")


def test_the_ticket_form_slots_are_the_ones_the_domain_declares():
    """The agent's ticket draft reads the handoff's slots by these names: a slot renamed in the domain and
    not in ``common.tickets`` would leave the draft blank again."""
    from pathlib import Path

    import yaml

    from common import tickets

    domain = yaml.safe_load((Path(__file__).resolve().parent.parent / "dialogue" / "domain.yml").read_text("utf-8"))
    assert tuple(domain["forms"]["ticket_form"]["required_slots"]) == (*tickets.FORM_SLOTS, tickets.CONFIRMED_SLOT)
    assert tickets.TYPE_SLOT in domain["slots"] and set(tickets.FORM_SLOTS) <= set(domain["slots"])
