"""Where to do it, across platforms: two platforms' catalogues in one database (the 广西 export's shape in
tests/data, the fictional 浙江 exports through their own mappings), and the dialogue's own actions over
them. A citizen who names a district hears that district's window; a district without the matter hears
so, and gets another region's guide rather than a decline; a matter done wholly online says so first."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ROOT
from tests.test_import_mappings import ZJ_CSV, ZJ_CSV_MAPPING, ZJ_JSON, ZJ_MAPPING

GX_SAMPLE = ROOT / "tests" / "data" / "gxzwfw_services_sample.json"
HAISHU_BIZ = "海曙区行政服务中心"
ELSEWHERE = "暂未收录这个事项，以下是其他地区的办事指南"


@pytest.fixture
def two_platforms(data_dir, use_embedder, monkeypatch):
    """Both platforms imported into one database, indexed as the action server would be."""
    from banshi.config import get_settings
    from banshi.db import migrate, session_scope
    from banshi.runtime import index_options
    from dialogue.actions import catalogue
    from knowledge.importers import import_path
    from knowledge.importers.mapping_spec import load_mapping
    from retriever import HybridIndex, rebuild

    migrate()
    with session_scope() as db:
        reports = [
            import_path(db, GX_SAMPLE),
            import_path(db, ZJ_JSON, mapping=load_mapping(ZJ_MAPPING)),
            import_path(db, ZJ_CSV, mapping=load_mapping(ZJ_CSV_MAPPING)),
        ]
    assert [(len(r.created), r.errors) for r in reports] == [(3, []), (6, []), (4, [])]
    index = HybridIndex(use_embedder, **index_options(get_settings()))
    with session_scope() as db:
        rebuild(db, index)
    monkeypatch.setattr(catalogue, "_index", index)
    return index


def run(action, text: str, *, intent: str = "ask_guide", region: str | None = None, slots: dict | None = None,
        entities: list[dict] | None = None) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """One custom action as the action server runs it (its own event loop, on a thread): the messages the
    citizen is shown and the outcomes stated. ``region`` is the place the NLU found in the message."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    found = [*(entities or []), *([{"entity": "region", "value": region}] if region else [])]
    message = {"text": text, "intent": {"name": intent}, "entities": found}
    slots = {"region": region, **(slots or {})}
    tracker = Tracker("t-regions", slots, message, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, action.run(dispatcher, tracker, {})).result()
    stated = [m for m in dispatcher.messages if (m.get("custom") or {}).get("type") == "outcome"]
    return [m for m in dispatcher.messages if m not in stated], [m["custom"] for m in stated]


def texts(shown: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in shown)


def matter(external_id: str):
    from dialogue.actions import catalogue

    return catalogue.get_matter(external_id)


def test_a_short_place_name_inside_a_longer_one_is_not_that_place():
    """防城 (short for 防城区) inside 防城港市: a citizen of the city is not filtered to one district."""
    from knowledge.schema import MatterIn
    from retriever.documents import MatterDoc
    from retriever.regions import Place, RegionFilter

    def doc(external_id: str, county: str | None) -> MatterDoc:
        place = {"province": "广西壮族自治区", "city": "防城港市", "county": county}
        return MatterDoc.from_matter(MatterIn(external_id=external_id, name="结婚登记", department="民政局", **place))

    places = RegionFilter([doc("gk", "港口区"), doc("fc", "防城区")])
    assert places.resolve("我在防城港市") == Place("广西壮族自治区", "防城港市")
    assert places.resolve("防城港") == Place("广西壮族自治区", "防城港市")
    assert places.resolve("我在防城") == Place("广西壮族自治区", "防城港市", "防城区")
    assert not places.knows("南宁市") and places.knows("港口区")


def test_a_citizen_in_a_district_of_the_second_platform_hears_that_districts_window(two_platforms):
    from dialogue.actions.checklist import ActionChecklist
    from dialogue.actions.facets import ActionAnswerFacet
    from dialogue.actions.guide import ActionFindGuide

    haishu = matter("nb330203-101")
    assert haishu.location.startswith(HAISHU_BIZ) and haishu.fully_online
    for region, external_id in (("海曙区", "nb330203-101"), ("西湖区", "zj330106-0001"), ("防城港市", "gx-fcg-gtgsh")):
        shown, outcomes = run(ActionAnswerFacet(), "个体工商户设立登记在哪里办", intent="ask_location", region=region)
        told = {"type": "outcome", "kind": "facet_answered", "matter_id": external_id, "facet": "location"}
        assert outcomes == [told]
        assert f"办理地点（{region}）：{matter(external_id).location}" in texts(shown), region
        assert ELSEWHERE not in texts(shown)

    shown, outcomes = run(ActionFindGuide(), "个体工商户设立登记怎么办", region="海曙区")
    assert outcomes[0] == {"type": "outcome", "kind": "guide_presented", "matter_id": "nb330203-101",
                           "matter_name": "个体工商户设立登记"}  # fmt: skip
    first = shown[0]["text"].splitlines()
    assert first[:2] == ["为您找到办事指南：个体工商户设立登记", f"可全程网办，无需跑腿：{haishu.online_url}"]
    assert f"办理地点（海曙区）：{haishu.location}" in first

    shown, _ = run(ActionChecklist(), "直接告诉我全部", intent="all", slots={"matter_id": "nb330203-101"})
    [card] = [m["custom"] for m in shown if (m.get("custom") or {}).get("type") == "checklist"]
    assert card["location"] == haishu.location and card["fully_online"] is True, "the checklist agrees"
    assert f"办理地点：{haishu.location}" in texts(shown)


def test_the_same_matter_in_several_regions_is_asked_by_place_and_the_chosen_place_is_told(two_platforms):
    from dialogue.actions.guide import ActionFindGuide

    named = {"entity": "matter", "value": "个体工商户设立登记"}  # as the gazetteer of this catalogue names it
    shown, outcomes = run(ActionFindGuide(), "个体工商户设立登记怎么办", entities=[named])
    assert outcomes[0]["kind"] == "clarification_offered" and outcomes[0]["reason"] == "region"
    assert set(outcomes[0]["matter_ids"]) == {"nb330203-101", "zj330106-0001", "gx-fcg-gtgsh"}
    buttons = {b["title"]: b["payload"] for m in shown for b in m.get("buttons") or []}
    assert set(buttons) == {"海曙区", "西湖区", "防城港市"}

    chosen = {"entity": "matter_id", "value": "zj330106-0001"}
    shown, outcomes = run(ActionFindGuide(), buttons["西湖区"], intent="choose_matter", entities=[chosen])
    assert outcomes[0]["matter_id"] == "zj330106-0001"
    assert f"办理地点（西湖区）：{matter('zj330106-0001').location}" in shown[0]["text"], "no region named, chosen"


def test_a_region_without_the_matter_gets_another_platforms_guide_and_says_so(two_platforms):
    from dialogue.actions.facets import ActionAnswerFacet
    from dialogue.actions.guide import ActionFindGuide

    shown, outcomes = run(ActionFindGuide(), "用气过户怎么办理", region="西湖区")
    assert shown[0]["text"].startswith(f"西湖区{ELSEWHERE}")
    assert outcomes[0]["kind"] == "guide_presented" and outcomes[0]["matter_id"] == "gx-fcg-gas"
    gas = matter("gx-fcg-gas")
    assert f"办理地点（防城港市）：{gas.location}" in shown[1]["text"], "whose window it is, said plainly"
    assert "可全程网办" not in texts(shown), "a window-only matter is not called 全程网办"

    shown, outcomes = run(ActionAnswerFacet(), "用气过户在哪办", intent="ask_location", region="海曙区")
    assert shown[0]["text"].startswith(f"海曙区{ELSEWHERE}") and gas.location in shown[1]["text"]
    assert outcomes[0]["matter_id"] == "gx-fcg-gas"

    marriage = [{"entity": "matter", "value": "结婚登记"}]
    shown, outcomes = run(ActionFindGuide(), "结婚登记要带什么材料", intent="ask_materials", region="防城港市",
                          entities=marriage)  # fmt: skip
    assert shown[0]["text"].startswith(f"防城港市{ELSEWHERE}")
    assert outcomes[0]["kind"] == "clarification_offered" and outcomes[0]["reason"] == "region"
    assert set(outcomes[0]["matter_ids"]) == {"zj330106-0002", "nb330203-102"}

    card = [{"entity": "matter", "value": "社会保障卡申领"}]
    shown, outcomes = run(ActionFindGuide(), "社会保障卡申领", region="南宁市", entities=card)
    assert shown[0]["text"].startswith(f"南宁市{ELSEWHERE}"), "a place the catalogue has nothing in"
    assert outcomes[0]["kind"] == "clarification_offered"
    assert set(outcomes[0]["matter_ids"]) == {"gx-fcg-sbk", "nb330203-103"}

    shown, outcomes = run(ActionFindGuide(), "社会保障卡申领", region="海曙区", entities=card)
    assert ELSEWHERE not in texts(shown) and outcomes[0]["matter_id"] == "nb330203-103"


def test_the_nlu_export_of_both_platforms_knows_both_platforms_places(two_platforms):
    """What lets the NLU pick out 海曙区 once `banshi nlu export` and `make train` ran on this catalogue."""
    from banshi.db import session_scope
    from knowledge import store
    from nlu.gazetteer import build_gazetteer

    with session_scope() as db:
        regions = build_gazetteer(store.published(db))["regions"]
    assert {"浙江省", "杭州市", "西湖区", "宁波市", "海曙区", "广西壮族自治区", "防城港市"} <= set(regions)
