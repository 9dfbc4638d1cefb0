"""What the guide gate shows (``retriever.answering.decide`` and the facet action): one matter when the
question's own words choose it among sub-cases, a choice only when the search is sure enough to offer
one, and an honest decline, never a request to name the matter, for a facet question about something
the catalogue does not hold."""

from __future__ import annotations

from retriever import Hit, SearchResult
from retriever.answering import CLARIFY_FLOOR, LONE_FLOOR, decide, names_one, told_apart
from tests.test_regions import run, texts, two_platforms  # noqa: F401  (the fixture, used by name)

TOBACCO = "烟草专卖零售许可证"


def _hit(eid: str, name: str, score: float, parent: str | None = "p") -> Hit:
    return Hit(eid, name, "烟草局", "广西壮族自治区防城港市", parent, "父事项" if parent else None, score)


def _result(question: str, *hits: Hit, confidence: float = 0.95) -> SearchResult:
    return SearchResult(question, list(hits), confidence, confidence >= 0.6, question)


def test_a_sub_case_the_question_names_is_presented_without_asking():
    reissue, new = _hit("bu", f"{TOBACCO}补办", 0.30), _hit("xin", f"{TOBACCO}新办", 0.26)
    decision = decide(_result("烟草证丢了怎么补办", reissue, new))
    assert decision.kind == "present" and decision.hits == (reissue,)


def test_sub_cases_the_question_does_not_tell_apart_are_offered():
    passengers = _hit("ke", "道路旅客运输车辆《道路运输证》年度审验", 0.33)
    goods = _hit("huo", "道路货物运输车辆《道路运输证》年度审验", 0.28)
    decision = decide(_result("货车的道路运输证年审怎么弄", passengers, goods))
    assert decision.kind == "clarify" and decision.reason == "siblings"
    assert [hit.external_id for hit in decision.hits] == ["ke", "huo"]


def test_matters_named_nearly_alike_are_offered_even_below_the_close_ratio():
    """The fused score rewards the words twins share: 企业 or 机关事业单位 weighs little (dialogue_dev2)."""
    from retriever.answering import are_twins

    firms = _hit("qy", "企业老工伤人员纳入工伤保险统筹管理申请", 0.177, parent=None)
    public = _hit("jg", "机关事业单位老工（公）伤人员纳入工伤保险统筹管理申请", 0.155, parent="other")
    decision = decide(_result("单位有个老职工很多年前工伤，现在能纳入工伤保险统筹吗", firms, public))
    assert decision.kind == "clarify" and {h.external_id for h in decision.hits} == {"qy", "jg"}
    assert decide(_result("企业的老工伤人员怎么纳入统筹", firms, public)).kind == "present", "the question says which"
    # shared qualifiers are no likeness; a 一件事 is no matter's twin
    retire = _hit("tx", "职工正常退休（职）申请——机关事业单位职工", 0.2, parent=None)
    recheck = _hit("hd", "退休人员基本养老金重新核定申请——机关事业单位职工", 0.17, parent=None)
    assert not are_twins(retire, recheck)
    loan = _hit("jq", "贷款结清", 0.2, parent=None)
    bundle = Hit(
        "yjs", "个人公积金贷款结清“一件事”", "公积金中心", "广西壮族自治区防城港市", None, None, 0.17, kind="bundle"
    )
    assert not are_twins(loan, bundle)


def test_words_of_the_runner_up_keep_the_choice_open():
    reissue, new = _hit("bu", f"{TOBACCO}补办", 0.30), _hit("xin", f"{TOBACCO}新办", 0.29)
    assert not told_apart("新办还是补办烟草证", reissue, new)
    assert decide(_result("新办还是补办烟草证", reissue, new)).kind == "clarify"


def test_the_question_as_searched_counts_the_rewrites_official_words():
    stock = _hit("cl", "房屋所有权转移登记（存量房转移登记）", 0.30, parent=None)
    new = _hit("xj", "房屋所有权转移登记（新建商品房转移登记）", 0.29, parent=None)
    typed = SearchResult("买的二手房怎么过户", [stock, new], 0.95, True, "买的二手房怎么过户 存量房")
    assert decide(typed).kind == "present"
    assert decide(SearchResult("买的二手房怎么过户", [stock, new], 0.95, True)).kind == "clarify"


def test_a_choice_and_a_single_guide_each_need_their_own_floor():
    cultural = _hit("ww", "文物的认定", 0.30, parent=None)
    blasting = _hit("bp", "爆破作业人员资格认定", 0.29, parent=None)
    unsure = CLARIFY_FLOOR - 0.05
    assert decide(_result("教师资格证怎么认定", cultural, blasting, confidence=unsure)).kind == "none"
    assert decide(_result("教师资格证怎么认定", cultural, blasting, confidence=0.9)).kind == "clarify"
    alone = _hit("ww", "文物的认定", 0.30, parent=None)
    assert decide(_result("文物怎么认定", alone, confidence=LONE_FLOOR)).kind == "present"


def test_a_lone_guide_barely_over_the_threshold_is_declined_not_presented():
    """身份证丢了在哪补办 matches 证照遗失补领 on 遗失 and 补领, not on 身份证: a guess, declined."""
    lost = _hit("zz", "证照遗失补领、换发申请", 0.30, parent=None)
    assert decide(_result("身份证丢了在哪补办", lost, confidence=0.74)).kind == "none"
    assert decide(_result("身份证丢了在哪补办", lost, confidence=0.74)).hits == ()
    gas, transfer = _hit("bz", "用气报装", 0.17), _hit("gh", "用气过户", 0.15)
    chosen = decide(_result("家里要装燃气怎么申请", gas, transfer, confidence=0.71))
    assert chosen.kind == "present" and chosen.hits == (gas,), "the words chose it among its family"
    newborn = Hit("xs", "新生儿出生“一件事”", "卫健委", "广西壮族自治区防城港市", None, None, 0.27, kind="bundle")
    assert decide(_result("宝宝出生后要跑哪些手续", newborn, confidence=0.66)).kind == "present", "a life event"
    named = SearchResult("证照遗失补领、换发申请", [lost], 0.5, False)
    assert decide(named, named="证照遗失补领、换发申请").kind == "present", "a matter named exactly needs no floor"


def test_the_plain_case_is_told_apart_from_one_with_a_qualifier_the_question_lacks():
    company, branch = _hit("gs", "公司设立登记", 0.30), _hit("fgs", "分公司设立登记", 0.29)
    assert told_apart("我想注册一家公司，设立登记怎么办", company, branch)
    assert not told_apart("我想注册一家公司，设立登记怎么办", branch, company)
    assert decide(_result("我想注册一家公司，设立登记怎么办", company, branch)).kind == "present"
    retired, renting = _hit("tx", "退休提取住房公积金", 0.30), _hit("zl", "租赁住房提取住房公积金", 0.29)
    assert not told_apart("公积金怎么提取", retired, renting), "each has words of its own: a choice"
    construction = _hit("xb", "建筑工程施工许可（新办）", 0.30)
    assert not told_apart("施工许可证要什么材料", construction, _hit("yq", "建筑工程施工许可（延期）", 0.29)), "a tie"


def test_one_character_tells_sub_cases_apart_when_the_pairs_tie():
    """续期 shares no pair with 延续, but its 续 is 延续's alone; 补缴 and 断缴 tie on both counts."""
    renew, stop = _hit("yx", f"{TOBACCO}延续", 0.30), _hit("ty", f"{TOBACCO}停业", 0.28)
    assert told_apart("烟草证快到期了，怎么续期", renew, stop)
    assert decide(_result("烟草证快到期了，怎么续期", renew, stop)).kind == "present"
    arrears = _hit("qf", "社会保险费欠费补缴申报", 0.28)
    assert not told_apart("社保要补缴", _hit("dj", "社会保险费断缴补缴申报", 0.30), arrears)


def test_namesakes_in_several_places_are_never_told_apart_by_words():
    here = Hit("a", "内地居民结婚登记", "民政局", "广西壮族自治区防城港市港口区", None, None, 0.30)
    there = Hit("b", "内地居民结婚登记", "民政局", "广西壮族自治区防城港市东兴市", None, None, 0.29)
    assert not told_apart("结婚登记在港口区办", here, there)
    assert decide(_result("结婚登记怎么办", here, there)).kind == "ask_region"


def test_a_facet_question_about_something_not_in_the_catalogue_is_declined(two_platforms):  # noqa: F811
    from dialogue.actions.facets import ActionAnswerFacet

    shown, outcomes = run(ActionAnswerFacet(), "彩票中奖了去哪兑奖", intent="ask_location")
    assert outcomes[0]["kind"] == "not_found", outcomes
    assert {b["payload"] for m in shown for b in m.get("buttons") or []} >= {"/request_human"}

    shown, outcomes = run(ActionAnswerFacet(), "在哪办", intent="ask_location")
    assert outcomes == [{"type": "outcome", "kind": "clarification_offered", "matter_ids": [], "reason": "name"}]

    # After a guide, the same follow-up is about the conversation's matter, and says where.
    shown, outcomes = run(ActionAnswerFacet(), "在哪办", intent="ask_location", slots={"matter_id": "nb330203-101"})
    told = {"type": "outcome", "kind": "facet_answered", "matter_id": "nb330203-101", "facet": "location"}
    assert outcomes == [told] and texts(shown)

    # An editors' out-of-scope ruling comes first, even for a follow-up about the conversation's matter.
    from banshi.db import session_scope
    from knowledge.unanswered import mark_out_of_scope

    with session_scope() as db:
        mark_out_of_scope(db, ["在哪办"], author="editor1")
    shown, outcomes = run(ActionAnswerFacet(), "在哪办", intent="ask_location", slots={"matter_id": "nb330203-101"})
    assert outcomes[0]["kind"] == "out_of_scope", outcomes


def test_a_short_question_a_hotline_intent_is_unsure_of_is_the_guides_even_with_nothing_to_show():
    from dialogue.routing import route, unsure_question
    from retriever.answering import Answer, Decision

    nothing = Answer(Decision("none"), None, None)
    assert route("complain", 0.45, "开饭店要办食品经营许可证吗", nothing) == "guide"
    assert route("seek_help", 0.6, "快递丢了找谁赔", nothing) == "guide"
    assert route("check_ticket", 0.45, "手机话费怎么查", nothing) == "guide"
    # a statement, a sure reading, the hotline's own words, a ticket number, an account: the intent stays
    assert route("complain", 0.6, "小区门口的路灯坏了一个月了", nothing) == "intent"
    assert route("complain", 0.95, "楼下烧烤店油烟太大怎么办", nothing) == "intent"
    assert route("complain", 0.6, "物业乱收费可以投诉吗", nothing) == "intent"
    assert route("check_ticket", 0.6, "12345-20260101-0001 处理得怎么样了", nothing) == "intent"
    account = "我家楼下的烧烤店每天晚上营业到凌晨两点。油烟和噪音很大，孩子没法睡觉。找过老板很多次都没有用，怎么办？"
    assert not unsure_question("complain", 0.5, account)
    assert route("nlu_fallback", 0.3, "快递丢了找谁赔", nothing) == "intent", "the fallback declines by itself"


def test_a_question_about_a_filing_or_a_permit_is_the_guides_however_sure_the_complaint_reading():
    """Business owners' questions that DIET reads as complaints at 0.9 and above (dialogue_dev2)."""
    from dialogue.routing import asks_about_procedure, route
    from retriever.answering import Answer, Decision

    nothing = Answer(Decision("none"), None, None)
    for text in ["工地上的塔吊装好了，验收合格后要去登记吗", "厂里装好了监测设备，验收完了是不是还要去环保局备个案"]:
        assert asks_about_procedure(text)
        assert route("complain", 0.97, text, nothing) == "guide", text
    assert route("suggest", 0.95, "多招了应届生，政府的补助怎么领", nothing) == "guide"
    assert route("complain", 0.97, "考研报名什么时候开始", nothing) == "guide", "declined there, not a complaint"
    assert route("complain", 0.97, "报关找哪家代理比较靠谱", nothing) == "guide", "advice"
    # a grievance, the hotline's own words, an account: the hotline keeps it
    assert route("complain", 0.97, "办营业执照的窗口态度很差，为什么没人管", nothing) == "intent"
    assert route("complain", 0.97, "补贴申请了半年还不发，能投诉吗", nothing) == "intent"
    account = "我去年就申请了创业补贴。材料交齐了，窗口说等通知。到现在半年了一直没有消息，打电话也没人接，怎么办？"
    assert not asks_about_procedure(account)


def test_a_question_for_a_recommendation_or_a_sum_is_no_complaint():
    from dialogue.routing import route
    from retriever.answering import Answer, Decision

    nothing = Answer(Decision("none"), None, None)
    assert route("complain", 0.99, "汽车驾驶培训学校哪家好", nothing) == "guide", "advice, however sure the intent"
    assert route("suggest", 0.48, "一加一等于几", nothing) == "guide"
    assert route("complain", 0.99, "驾校教练态度不好还乱收费", nothing) == "intent", "a sure statement"
    assert route("complain", 0.95, "楼下烧烤店油烟太大怎么办", nothing) == "intent"
    assert route("complain", 0.6, "医保断了几个月没人管", nothing) == "intent", "几 inside a statement asks nothing"


def test_a_gazetteer_alias_names_its_matter():
    """换身份证 names 居民身份证换领 (the sample catalogue's walk-through tests rely on it)."""
    from rasa_sdk import Tracker

    from dialogue.actions.session import entity_said, entity_value

    def tracker(text: str, *entities: dict) -> Tracker:
        message = {"text": text, "intent": {"name": "ask_guide"}, "entities": list(entities)}
        return Tracker("t-named", {}, message, [], False, None, {}, "action_listen")

    alias = {"entity": "matter", "value": "居民身份证换领", "start": 0, "end": 4, "extractor": "SpacyGazetteer"}
    learned = {"entity": "matter", "value": "居民身份证", "start": 1, "end": 4, "extractor": "DIETClassifier"}
    assert entity_value(tracker("换身份证要带什么材料", learned, alias), "matter") == "居民身份证换领"
    assert entity_said(tracker("换身份证要带什么材料", learned, alias), "matter") == "换身份证"
    assert entity_value(tracker("你好"), "matter") is None and entity_said(tracker("你好"), "matter") is None


def test_an_alias_of_a_family_of_sub_cases_names_none_of_them():
    """烟草零售许可证 fits 新办, 延续 and 变更 alike; 换身份证 says 换, which only 换领 has."""
    new, renew, change = (
        _hit(eid, f"{TOBACCO}{case}", 0.0) for eid, case in (("xin", "新办"), ("yx", "延续"), ("bg", "变更"))
    )
    assert not names_one("烟草零售许可证", new, [renew, change])
    assert not names_one("办烟草证", new, [_hit("bu", f"{TOBACCO}补办", 0.0)]), "补办 has 办 too"
    assert names_one("新办烟草证", new, [renew, change])
    swap, lost = _hit("hl", "居民身份证换领", 0.0), _hit("bl", "居民身份证补领", 0.0)
    assert names_one("换身份证", swap, [lost]) and not names_one("身份证", swap, [lost])
    assert names_one("烟草零售许可证", new, []), "a matter with no siblings is named by any alias"
    business = _hit("sl", "个体工商户设立登记", 0.0)
    assert names_one("办营业执照", business, [_hit("bg", "个体工商户变更登记", 0.0)]), "the editors' own word"


def test_a_family_alias_is_searched_and_gated_a_sub_case_alias_is_presented(use_embedder):
    from knowledge.schema import MatterIn
    from retriever import HybridIndex
    from retriever.answering import find

    def matter(eid: str, name: str, parent: str) -> MatterIn:
        return MatterIn(
            external_id=eid, name=name, department="防城港市烟草专卖局", province="广西壮族自治区", city="防城港市",
            parent_external_id=parent, parent_name=f"{parent}核发",
        )  # fmt: skip

    cases = ("新办", "延续", "变更", "补办", "停业")
    family = [matter(f"yc-{i}", f"{TOBACCO}{case}", "yc") for i, case in enumerate(cases)]
    ids = [matter("sfz-hl", "居民身份证换领", "sfz"), matter("sfz-bl", "居民身份证补领", "sfz")]
    index = HybridIndex(use_embedder)
    index.build([*family, *ids], seq=1)
    assert {hit.name for hit in index.siblings("yc-0")} == {f"{TOBACCO}{case}" for case in cases[1:]}

    question, named = "烟草零售许可证上的地址要改，怎么变更", f"{TOBACCO}新办"
    assert find(index, question, named=named, region=None).external_ids == ["yc-0"], "today's naming"
    searched = find(index, question, named=named, region=None, said="烟草零售许可证")
    assert searched.searched is not None and "yc-0" not in searched.external_ids[:1]
    assert searched.external_ids[:1] == ["yc-2"], searched.external_ids
    by_name = find(index, "烟草专卖零售许可证新办要什么材料", named=named, region=None, said=named)
    assert by_name.kind == "present" and by_name.external_ids == ["yc-0"]
    swap = find(index, "换身份证要带什么材料", named="居民身份证换领", region=None, said="换身份证")
    assert swap.kind == "present" and swap.external_ids == ["sfz-hl"] and swap.searched is None


def test_the_gate_probe_counts_what_a_first_turn_would_show(tmp_path):
    """``evaluate_gate`` (bench/retrieval.py --gate): a guide presented right or wrong, a choice holding
    the matter or not, nothing; an out-of-catalogue question declined or shown something."""
    from retriever.evaluation import EvalQuery, evaluate_gate, load_dialogue_queries

    reissue, new = _hit("bu", f"{TOBACCO}补办", 0.30), _hit("xin", f"{TOBACCO}新办", 0.26)
    results = {
        "烟草证丢了怎么补办": _result("烟草证丢了怎么补办", reissue, new),
        "烟草证怎么办": _result("烟草证怎么办", reissue, new),
        "天气": _result("天气", reissue, confidence=0.3),
    }
    queries = [
        EvalQuery(query="烟草证丢了怎么补办", gold=["bu"]),  # presented, right
        EvalQuery(query="烟草证丢了怎么补办", gold=["xin"]),  # presented, wrong
        EvalQuery(query="烟草证怎么办", gold=["xin"]),  # a choice that holds it
        EvalQuery(query="天气", gold=["bu"]),  # nothing shown
        EvalQuery(query="天气"),  # out of catalogue, declined
        EvalQuery(query="烟草证怎么办"),  # out of catalogue, shown a choice
    ]
    figures = evaluate_gate(queries, results.__getitem__)
    assert {k: figures[k] for k in ("present_right", "present_wrong", "choice_right", "none")} == dict.fromkeys(
        ("present_right", "present_wrong", "choice_right", "none"), 1
    )
    assert (figures["ood_declined"], figures["ood_shown"]) == (1, 1)
    assert figures["first_turn"] == 0.25 and figures["within_two"] == 0.5 and figures["declined"] == 0.5
    assert figures["wrong_guide"] == round(2 / 6, 3)

    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        '{"id": "g1", "text": "烟草证丢了", "expect": {"guide": "bu"}}\n'
        '{"id": "g2", "text": "公积金", "expect": {"guide": ["a", "b"]}}\n'
        '{"id": "o1", "text": "天气", "expect": {"decline": true}}\n'
        '{"id": "h1", "ref": {"file": "hotline/x.jsonl", "id": "1"}, "expect": {"intake": true}}\n',
        encoding="utf-8",
    )
    read = load_dialogue_queries(cases)
    assert [(q.query, q.gold) for q in read] == [("烟草证丢了", ["bu"]), ("公积金", ["a", "b"]), ("天气", [])]
