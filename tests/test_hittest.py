"""命中测试: the editors' view of what the assistant would do with a question.

The sample catalogue, the `use` embedder (fast) and a fake Rasa parse (httpx MockTransport); the
real Rasa path is exercised by the dialogue tests. The app runs without its lifespan: the test gives
it the index and the relay, as the lifespan would.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from channels.accounts import UserIn, create_user
from tests.conftest import SAMPLE_CATALOGUE
from tests.staff_api import PASSWORD, assert_guarded, login, operations

USERS = {"editor1": ("editor", "赵编辑"), "agent1": ("agent", "李坐席"), "boss": ("admin", "周主任")}
DOG = {
    "external_id": "bs-dog-dj", "name": "犬只登记（办理养犬登记证）", "department": "防城港市公安局",
    "aliases": ["办狗证", "养狗登记", "狗证怎么办"], "province": "广西壮族自治区", "city": "防城港市",
}  # fmt: skip


def parse_reply(text: str) -> dict:
    entities = [{"entity": "matter", "value": "居民身份证补领", "start": 0, "end": 3, "extractor": "SpacyGazetteer"}]
    return {
        "text": text,
        "intent": {"name": "ask_guide", "confidence": 0.97},
        "intent_ranking": [{"name": "ask_guide", "confidence": 0.97}, {"name": "greet", "confidence": 0.01}],
        "entities": entities if "身份证" in text else [],
    }


class FakeRasa:
    """Answers /model/parse like Rasa, or refuses connections while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        assert request.url.path == "/model/parse"
        import json

        return httpx.Response(200, json=parse_reply(json.loads(request.content)["text"]))


@pytest.fixture
def session(data_dir) -> Iterator:
    """A plain session the test commits as it goes, so each request sees what the test seeded."""
    from sqlalchemy.orm import sessionmaker

    from banshi.db import get_engine, migrate

    migrate()
    with sessionmaker(get_engine(), expire_on_commit=False)() as session:
        yield session


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def app(session, use_embedder, rasa):
    from channels.app import create_app
    from channels.relay import Relay
    from knowledge.importers import import_path
    from retriever import HybridIndex, rebuild

    import_path(session, SAMPLE_CATALOGUE)
    for username, (role, name) in USERS.items():
        create_user(session, UserIn(username=username, display_name=name, role=role, password=PASSWORD))
    session.commit()
    index = HybridIndex(use_embedder)
    rebuild(session, index)
    app = create_app()
    app.state.index = index
    app.state.relay = Relay("http://rasa.test", transport=httpx.MockTransport(rasa))
    return app


def test_a_question_shows_nlu_scores_confidence_and_decision(app, rasa):
    editor = login(app, "editor1")
    found = editor.post("/api/v1/hittest", json={"question": "身份证丢了怎么补办"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["nlu"]["available"] and body["nlu"]["intent"] == "ask_guide"
    assert body["nlu"]["entities"][0]["value"] == "居民身份证补领"
    top = body["hits"][0]
    assert top["external_id"] == "bs-sfz-bl" and top["rank"] == 1 and not top["draft"]
    assert top["score"] > 0 and top["bm25"] is not None and top["dense"] is not None
    assert body["confident"] and body["confidence"] >= body["threshold"]
    assert body["decision"]["kind"] == "present" and body["decision"]["external_ids"] == ["bs-sfz-bl"]
    assert body["decision"]["named"] == "居民身份证补领" and body["decision"]["label"] == "直接给出办事指南"

    rasa.down = True  # Rasa stopped: the retrieval part is still shown
    offline = editor.post("/api/v1/hittest", json={"question": "怎么申请低保"}).json()
    assert not offline["nlu"]["available"] and "无法连接" in offline["nlu"]["error"]
    assert offline["hits"][0]["external_id"] == "bs-mz-db" and offline["decision"]["named"] is None

    elsewhere = editor.post("/api/v1/hittest", json={"question": "怎么申请低保", "region": "东兴市"}).json()
    assert elsewhere["decision"]["region"] == "东兴市"
    # 东兴市 lists no 低保 matter: the dialogue says so and answers with 防城区's, and so does the hit test.
    assert elsewhere["decision"]["elsewhere"] and elsewhere["decision"]["external_ids"] == ["bs-mz-db"]

    nonsense = editor.post("/api/v1/hittest", json={"question": "火星移民签证怎么申请"}).json()
    assert nonsense["decision"]["kind"] == "none" and nonsense["decision"]["external_ids"] == []

    history = editor.get("/api/v1/hittest/history").json()
    assert history["total"] == 4
    asked = ["火星移民签证怎么申请", "怎么申请低保", "怎么申请低保", "身份证丢了怎么补办"]
    assert [h["question"] for h in history["items"]] == asked
    latest = history["items"][-1]
    assert (latest["author"], latest["top_external_id"], latest["confident"], latest["drafts"]) == (
        "赵编辑", "bs-sfz-bl", True, False,
    )  # fmt: skip
    assert latest["intent"] == "ask_guide" and history["items"][2]["intent"] is None
    boss = login(app, "boss")
    assert boss.get("/api/v1/hittest/history", params={"mine": True}).json()["total"] == 0
    newest = boss.get("/api/v1/hittest/history", params={"limit": 1}).json()["items"]
    assert [h["question"] for h in newest] == ["火星移民签证怎么申请"]

    blank = editor.post("/api/v1/hittest", json={"question": "   "})
    assert blank.status_code == 422 and blank.json()["message"] == "问题不能为空"
    assert editor.get("/api/v1/hittest/history", params={"limit": 0}).status_code == 422


def test_drafts_change_the_result_only_with_drafts_on(app, session):
    from knowledge import versions
    from knowledge.schema import MatterIn

    editor = login(app, "editor1")
    index = app.state.index
    before = editor.post("/api/v1/hittest", json={"question": "办狗证", "drafts": False}).json()
    assert before["hits"][0]["external_id"] != "bs-dog-dj" and before["decision"]["kind"] == "none"

    versions.save_draft(session, MatterIn.model_validate(DOG), author="赵编辑", note="新事项")
    session.commit()
    live = editor.post("/api/v1/hittest", json={"question": "办狗证"}).json()
    assert live["hits"][0]["external_id"] == before["hits"][0]["external_id"]
    preview = editor.post("/api/v1/hittest", json={"question": "办狗证", "drafts": True}).json()
    assert preview["hits"][0]["external_id"] == "bs-dog-dj" and preview["hits"][0]["draft"]
    assert preview["decision"]["kind"] == "present" and preview["confident"]
    assert "bs-dog-dj" not in index.external_ids()  # the process's index never saw the draft
    assert app.state.index is index

    # A draft of a published matter: the preview searches the draft's words, the live index the old ones.
    edited = versions.save_draft(
        session, MatterIn.model_validate({**DOG, "external_id": "bs-dog-dj", "aliases": ["办狗证", "遛狗牌照"]}),
        author="赵编辑", base_version=1,
    )  # fmt: skip
    session.commit()
    assert edited.version == 2
    again = editor.post("/api/v1/hittest", json={"question": "遛狗牌照", "drafts": True}).json()
    assert again["hits"][0]["external_id"] == "bs-dog-dj"

    versions.publish(session, "bs-dog-dj", 2, author="赵编辑")
    session.commit()
    published = editor.post("/api/v1/hittest", json={"question": "办狗证"}).json()
    assert published["hits"][0]["external_id"] == "bs-dog-dj" and not published["hits"][0]["draft"]
    history = editor.get("/api/v1/hittest/history").json()["items"]
    assert [h["drafts"] for h in history] == [False, True, True, False, False]


def test_a_test_set_flags_regressions_against_its_previous_run(app, session):
    from knowledge import versions
    from knowledge.schema import MatterIn

    editor = login(app, "editor1")
    questions = [
        {"question": "身份证丢了怎么补办", "expected_external_id": "bs-sfz-bl"},
        {"question": "办狗证", "expected_external_id": "bs-dog-dj"},
        {"question": "怎么申请低保"},
    ]
    created = editor.post("/api/v1/hittest/sets", json={"name": "常见问题", "questions": questions})
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    duplicate = editor.post("/api/v1/hittest/sets", json={"name": " 常见问题 ", "questions": questions})
    assert duplicate.status_code == 409 and "同名" in duplicate.json()["detail"]
    empty = editor.post("/api/v1/hittest/sets", json={"name": "空", "questions": []})
    assert empty.status_code == 422 and "问题列表" in empty.json()["message"]

    first = editor.post(f"/api/v1/hittest/sets/{set_id}/run").json()
    assert (first["total"], first["regressions"], first["previous_run_id"]) == (3, 1, None)
    sfz, dog, db = first["results"]
    assert sfz["expected_found"] and not sfz["regression"]
    assert dog["expected_found"] is False and dog["reasons"] == ["未找到预期事项 bs-dog-dj"]
    assert db["expected_found"] is None and not db["regression"]

    # The dog matter is published (a fix), the lost-ID-card matter withdrawn (a regression).
    versions.save_draft(session, MatterIn.model_validate(DOG), author="赵编辑")
    versions.publish(session, "bs-dog-dj", 1, author="赵编辑")
    versions.delete(session, "bs-sfz-bl", author="赵编辑")
    session.commit()
    second = editor.post(f"/api/v1/hittest/sets/{set_id}/run", json={"drafts": False}).json()
    assert second["previous_run_id"] == first["id"] and second["regressions"] == 1
    sfz, dog, db = second["results"]
    assert sfz["regression"] and sfz["top_changed"] and sfz["previous_top_external_id"] == "bs-sfz-bl"
    assert sfz["reasons"][0] == "未找到预期事项 bs-sfz-bl"
    assert sfz["reasons"][1].startswith("首位结果变化：bs-sfz-bl → ")
    assert dog["expected_found"] and dog["top_changed"] and not dog["regression"]
    assert not db["top_changed"] and not db["regression"]

    again = editor.get(f"/api/v1/hittest/sets/{set_id}/runs/{second['id']}").json()
    assert again == second
    listed = editor.get("/api/v1/hittest/sets").json()
    assert [(s["name"], s["runs"], s["last_run_id"]) for s in listed] == [("常见问题", 2, second["id"])]
    assert editor.get(f"/api/v1/hittest/sets/{set_id + 1}/runs/{second['id']}").status_code == 404
    assert editor.post(f"/api/v1/hittest/sets/{set_id + 1}/run").json()["detail"] == "未找到该测试集"
    assert editor.get("/api/v1/hittest/history").json()["total"] == 0  # set runs are read with their run

    # Editing keeps the runs (the next run compares with the last); deleting removes the set and its runs.
    other = editor.post("/api/v1/hittest/sets", json={"name": "别的", "questions": questions[:1]}).json()
    clash = editor.put(f"/api/v1/hittest/sets/{set_id}", json={"name": "别的", "questions": questions})
    assert clash.status_code == 409
    edited = editor.put(f"/api/v1/hittest/sets/{set_id}", json={"name": "常见问法", "questions": questions[:2]})
    assert edited.status_code == 200 and (edited.json()["name"], edited.json()["runs"]) == ("常见问法", 2)
    third = editor.post(f"/api/v1/hittest/sets/{set_id}/run").json()
    assert third["previous_run_id"] == second["id"] and third["total"] == 2
    assert editor.delete(f"/api/v1/hittest/sets/{set_id}").status_code == 204
    assert editor.get(f"/api/v1/hittest/sets/{set_id}/runs/{third['id']}").status_code == 404
    assert [s["id"] for s in editor.get("/api/v1/hittest/sets").json()] == [other["id"]]
    assert editor.delete(f"/api/v1/hittest/sets/{set_id}").status_code == 404


def test_every_hittest_route_needs_login_and_the_editor_role(app):
    found = operations(app, ("/api/v1/hittest",))
    assert len(found) == 8, found
    assert_guarded(app, found, denied="agent1", allowed="editor1")


def test_a_question_that_is_an_faq_says_the_faq_answer_comes_first(app, session):
    from knowledge.faqs import FaqIn, create_faq

    faq = create_faq(session, FaqIn(
        question="租房提取公积金每年能取几次", answer="每年可提取一次，按月租金和缴存余额计算额度。",
        matter_external_id="bs-gjj-tq-zf",
    ), author="editor1")  # fmt: skip
    session.commit()
    editor = login(app, "editor1")
    asked = editor.post("/api/v1/hittest", json={"question": "请问租房提取公积金每年能取几次？"}).json()
    assert asked["decision"]["faq"]["faq_id"] == faq.id
    assert asked["decision"]["faq"]["matter_name"] == "租赁住房提取住房公积金"
    other = editor.post("/api/v1/hittest", json={"question": "租房提取公积金要带什么材料"}).json()
    assert other["decision"]["kind"] != "none" and other["decision"]["faq"] is None


def _dialogue_decision(question: str) -> tuple[str, list[str]]:
    """What ActionFindGuide did with the question, read from the outcome it stated (not its words)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from dialogue.actions.guide import ActionFindGuide

    parsed = parse_reply(question)  # the very parse the hit test gets from the fake Rasa
    tracker = Tracker("t-hit", {}, parsed, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    with ThreadPoolExecutor(1) as pool:  # see tests/test_dialogue_units.py: a thread of its own
        pool.submit(asyncio.run, ActionFindGuide().run(dispatcher, tracker, {})).result()
    stated = [m["custom"] for m in dispatcher.messages if (m.get("custom") or {}).get("type") == "outcome"]
    kinds = {
        "guide_presented": "present", "not_found": "none", "out_of_scope": "out_of_scope",
    }  # fmt: skip
    first = stated[0]
    if first["kind"] == "clarification_offered":
        return ("ask_region" if first["reason"] == "region" else "clarify"), first["matter_ids"]
    return kinds[first["kind"]], [first["matter_id"]] if first.get("matter_id") else []


def test_the_hit_test_decides_what_the_dialogue_does_out_of_scope_included(app, session, monkeypatch):
    from dialogue.actions import catalogue
    from knowledge.unanswered import mark_out_of_scope

    monkeypatch.setattr(catalogue, "_index", app.state.index)  # the same index, caught up the same way
    monkeypatch.setattr(catalogue, "_migrated", True)
    ruled_out = "换身份证要带什么材料"
    mark_out_of_scope(session, [ruled_out], author="赵编辑")
    session.commit()
    editor = login(app, "editor1")
    seen = set()
    for question in ("身份证丢了怎么补办", "公积金怎么提取", "怎么申请低保", "火星移民签证怎么申请", ruled_out):
        decision = editor.post("/api/v1/hittest", json={"question": question}).json()["decision"]
        assert (decision["kind"], decision["external_ids"]) == _dialogue_decision(question), question
        seen.add(decision["kind"])
    assert decision["kind"] == "out_of_scope" and decision["label"].startswith("编辑已判定超出服务范围")
    assert {"present", "clarify", "none", "out_of_scope"} <= seen, "every kind of answer was compared"
