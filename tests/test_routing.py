"""Where a message goes (``dialogue.routing``): the intent gate and the retriever's gate decided together.

The pure tests build the retriever's answer by hand; the real ones read each message with the trained
Rasa model and search the real 防城港 catalogue, then take the decision the actions take: a short guide
question that the NLU misreads still reaches its guide, a real complaint still reaches the intake, and
a facet question is never answered from a guessed matter."""

from __future__ import annotations

import pytest

from dialogue.routing import GUIDE_INTENTS, facet_matter, guide_gate, is_account, is_follow_up, route
from retriever import Hit, SearchResult
from retriever.answering import Answer, Decision, decide

# --- pure ----------------------------------------------------------------------------------------


def _hit() -> Hit:
    return Hit("m-1", "用气过户", "燃气公司", "防城港市", parent_external_id=None, parent_name=None, score=1.0)


def _answer(kind: str, confident: bool = True) -> Answer:
    hit = _hit()
    searched = SearchResult(query="q", hits=[hit], confidence=0.9 if confident else 0.1, confident=confident)
    hits = (hit,) if kind != "none" else ()
    return Answer(Decision(kind, hits), None, None, searched)  # type: ignore[arg-type]


LONG_COMPLAINT = (
    "我是港口区白沙万街道的居民，2026年10月12日在小区门口的一家超市买了一桶花生油，花了89元，回家一看已经过期三个月了。"
    "第二天拿着小票去找老板要求退换，老板不承认是他家卖的，还说出了门就不管，态度非常恶劣。"
    "我打了好几次市场监管的电话都没人接，到现在半个多月了也没人处理，希望有关部门尽快查处这家超市。"
)
DATED_COMPLAINT = "11月3日我在防城区一家药店买了两盒感冒药，被多收了45元，店员不给退"


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope", "goodbye", "seek_help", "complain"])
def test_a_confident_guide_wins_over_a_misread_short_question(intent):
    assert route(intent, 0.6, "燃气怎么过户", _answer("present")) == "guide"
    assert route(intent, 0.6, "燃气怎么过户", _answer("clarify")) == "guide"


def test_nothing_confident_leaves_the_intent_alone():
    assert route("nlu_fallback", 0.3, "燃气怎么过户", _answer("none", confident=False)) == "intent"
    assert route("out_of_scope", 0.9, "今天天气怎么样", _answer("none", confident=False)) == "intent"


def test_an_account_of_a_problem_stays_with_the_hotline_whatever_matter_it_names():
    assert is_account(LONG_COMPLAINT)
    assert route("complain", 0.6, LONG_COMPLAINT, _answer("present")) == "intent"
    assert route("seek_help", 0.5, LONG_COMPLAINT, _answer("present")) == "intent"
    assert route("nlu_fallback", 0.4, LONG_COMPLAINT, _answer("present")) == "intent"


def test_a_sure_statement_keeps_its_hotline_intent_but_a_question_goes_to_its_guide():
    assert route("complain", 0.95, "燃气过户窗口的人态度太差", _answer("present")) == "intent"
    assert route("complain", 0.99, "对燃气公司的服务不满意，怎么投诉", _answer("present")) == "guide"


def test_guide_and_facet_intents_apply_the_gate_in_their_own_action():
    for intent in GUIDE_INTENTS:
        assert route(intent, 0.2, "燃气怎么过户", _answer("present")) == "intent"
    assert route("request_human", 0.3, "燃气怎么过户", _answer("present")) == "intent"
    assert route("check_ticket", 0.9, "燃气怎么过户", _answer("present")) == "guide"
    assert route("check_ticket", 0.6, "我上周的投诉工单处理得怎么样了", _answer("present")) == "intent"


def test_the_gate_shows_nothing_unless_the_retriever_is_confident():
    assert not guide_gate(_answer("none", confident=False))
    hit = _hit()
    unsure = SearchResult(query="过户要多久", hits=[hit], confidence=0.2, confident=False)
    assert decide(unsure).kind == "none"


def test_a_follow_up_facet_is_about_the_conversations_matter():
    for text in ("那要多久", "在哪办", "要多少钱", "可以网上办吗", "需要什么条件"):
        assert is_follow_up(text), text
        assert facet_matter(_answer("none", confident=False), "current", text) == "current"


def test_a_facet_question_about_something_else_is_not_answered_with_the_current_matter():
    assert not is_follow_up("房子过户要多久")
    assert facet_matter(_answer("none", confident=False), "m-gas", "房子过户要多久") is None
    assert facet_matter(_answer("clarify"), "m-gas", "那要多久") is None  # a choice of others: ask
    assert facet_matter(_answer("present"), "m-gas", "燃气过户要多久") == "m-1"


# --- real: the trained model's reading, the real catalogue's answer --------------------------------

UTILITIES = {"用气过户", "用水过户", "更名过户"}
# Questions the retriever ranks right; the routing must not lose them to the intent gate.
GUIDE_QUESTIONS = [
    ("家里要装燃气怎么申请", {"用气报装"}),
    ("水表怎么过户", {"用水过户"}),
    ("电费户名怎么过户", {"更名过户"}),
    ("翻建房子能取公积金吗", {"建造自住住房提取", "建造自住住房提取公积金“一件事”"}),
    ("买了新车怎么登记上牌", {"机动车登记（设区的市级权限）", "新车注册登记预选号牌"}),
    ("盖厂房要办施工许可吗", {"建筑工程施工许可（新办）"}),
    ("新建商品房怎么办转移登记", {"国有建设用地使用权及房屋所有权转移登记（新建商品房转移登记）"}),
]
FACET_QUESTIONS = ["房子过户要多久", "车子过户要多久", "房子过户在哪办"]


@pytest.fixture(scope="module")
def readings(live_stack) -> dict[str, dict]:
    """The trained model's reading of each message, from the shared stack's Rasa (skips untrained)."""
    from tests.rasa_stack import parse_on_server

    texts = [q for q, _ in GUIDE_QUESTIONS] + FACET_QUESTIONS + [LONG_COMPLAINT, DATED_COMPLAINT]
    return {p["text"]: p for p in parse_on_server(live_stack.env["BANSHI_RASA_URL"], texts)}


def _decide(real_catalogue, reading: dict, *, with_faq: bool = True) -> tuple[str, Answer]:
    """What the actions do with a message: its intent's action, or the guide when ``route`` says so."""
    from banshi.db import session_scope
    from retriever.answering import answer

    engine, index = real_catalogue
    named = next((e["value"] for e in reading["entities"] if e["entity"] == "matter"), None)
    with session_scope(engine) as session:
        found = answer(session, index, reading["text"], named=named, with_faq=with_faq)
    intent = reading["intent"]
    way = "guide" if intent in GUIDE_INTENTS else route(intent, reading["confidence"], reading["text"], found)
    return way, found


@pytest.mark.slow
@pytest.mark.parametrize(("question", "gold"), GUIDE_QUESTIONS)
def test_a_short_guide_question_reaches_its_guide(real_catalogue, readings, question, gold):
    way, found = _decide(real_catalogue, readings[question])
    shown = [hit.name for hit in found.decision.hits]
    assert way == "guide", (readings[question]["intent"], found.kind, shown)
    assert guide_gate(found) and gold & set(shown), (found.kind, shown)


@pytest.mark.slow
@pytest.mark.parametrize("question", FACET_QUESTIONS)
def test_a_facet_is_never_told_of_a_utility_guessed_for_a_house_or_a_car(real_catalogue, readings, question):
    _, found = _decide(real_catalogue, readings[question], with_faq=False)
    if found.kind == "present":
        assert found.decision.hits[0].name not in UTILITIES


@pytest.mark.slow
@pytest.mark.parametrize("complaint", [LONG_COMPLAINT, DATED_COMPLAINT])
def test_a_real_complaint_reaches_the_intake_not_a_guide_or_the_ticket_lookup(real_catalogue, readings, complaint):
    from dialogue.actions.tickets import TICKET_TYPE_OF_INTENT

    way, _ = _decide(real_catalogue, readings[complaint])
    assert readings[complaint]["intent"] in TICKET_TYPE_OF_INTENT
    assert way == "intent"


def test_another_regions_guide_never_overrides_the_intent():
    here = Answer(Decision("present", (_hit(),)), None, "港口区")
    away = Answer(Decision("present", (_hit(),)), None, "上思县", elsewhere=True)
    assert route("nlu_fallback", 0.4, "燃气怎么过户", here) == "guide"
    assert route("nlu_fallback", 0.4, "燃气怎么过户", away) == "intent"
