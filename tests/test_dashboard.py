"""The 数据看板 API: every figure from seeded conversations (with the outcomes the dialogue stated), tickets
and unanswered questions, the day window, masking in what it lists, the editors' role wall, and that a
reworded reply changes no figure.

``seed_dashboard`` is shared with tests/test_dashboard_browser.py, which checks the charts draw the same.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from channels.accounts import UserIn, create_user
from tests.staff_api import PASSWORD, assert_guarded, login, operations
from tests.test_chat_relay import chat  # noqa: F401  (fixture)

PHONE, ID_NUMBER = "13877001234", "450602199001011234"
GUIDE_TEXT = "为您找到办事指南：居民身份证换领\n办理部门：防城港市公安局\n（事项编号：bs-sfz-hl）"
FACET_TEXT = "关于“住房公积金提取”（防城港市住房公积金中心）：\n办理时限：3个工作日\n（事项编号：bs-gjj-tq）"
CHECKLIST = {
    "type": "checklist",
    "matter": {"external_id": "bs-sfz-hl", "name": "居民身份证换领", "department": "防城港市公安局"},
    "materials": [{"name": "居民户口簿", "status": "have"}],
}
NOT_FOUND = "抱歉，我没有在办事指南库里找到与您的问题相符的事项，不想给您错误的指引。"
MATTERS = [("bs-sfz-hl", "居民身份证换领", "防城港市公安局"), ("bs-gjj-tq", "住房公积金提取", "防城港市住房公积金中心")]

# What seed_dashboard makes, as the last 30 days should show it.
EXPECTED = {
    "started": 6,
    "active": 5,
    "answered": 3,
    "handed_off": 1,
    "unanswered": 1,
    "ticket": 1,
    "outcomes": {"handed_off": 1, "answered": 2, "ticket": 1, "unanswered": 1, "other": 0},
    "ratings": [1, 0, 0, 1, 1],
    "average": 3.33,
    "tickets": 4,
    "overdue": 1,
}


def seed_dashboard(session) -> dict[str, str]:
    """Six conversations over the last three days and one 40 days ago, four tickets (one overdue), and
    unanswered questions (two phrasings of one question, one in another conversation, one old)."""
    from channels import outcomes
    from channels.dashboard import window
    from common.clock import utcnow
    from common.conversations import add_message, set_rating, start_conversation
    from hotline.handoffs import request_handoff
    from hotline.tickets import TicketIn, create_ticket
    from knowledge.schema import MatterIn
    from knowledge.store import save_matter
    from knowledge.unanswered import UnansweredQuestion, record

    now = utcnow()
    *_days, today = window(1, now, ZoneInfo("Asia/Shanghai"))  # local midnight: "today" stays today
    for external_id, name, department in MATTERS:
        save_matter(session, MatterIn(external_id=external_id, name=name, department=department, city="防城港市"),
                    author="seed")  # fmt: skip

    def conversation(age: timedelta, *turns, rating: int | None = None) -> str:
        """``turns``: (sender, kind, text, payload), or (sender, kind, text, payload, outcomes) for a
        citizen's message whose turn stated those outcomes."""
        c = start_conversation(session)
        # Earlier days at their local noon, so the seed lands on the same local days at any hour of the day.
        c.created_at = max(now - age, today) if age < timedelta(days=1) else today + timedelta(hours=12) - age
        for sender, kind, text, payload, *stated in turns:
            message = add_message(session, c.id, sender, kind, text, payload)
            if stated:
                outcomes.store(session, c.id, message.id, stated[0])
        if rating:
            set_rating(session, c.id, rating)
        return c.id

    guide = [{"kind": "guide_presented", "matter_id": "bs-sfz-hl", "matter_name": "居民身份证换领"},
             {"kind": "walk_started", "matter_id": "bs-sfz-hl"}]  # fmt: skip

    ids = {
        "guide": conversation(timedelta(minutes=5), ("citizen", "text", "换身份证", None, guide),
                              ("bot", "text", GUIDE_TEXT, None), rating=5),
        "checklist": conversation(timedelta(minutes=3),
                                  ("citizen", "text", "身份证过期了", None,
                                   [{"kind": "checklist_shown", "matter_id": "bs-sfz-hl"}]),
                                  ("bot", "checklist", "【一次告知】居民身份证换领", CHECKLIST), rating=4),
        "handoff": conversation(timedelta(days=1),
                                ("citizen", "text", "公积金提取要多久", None,
                                 [{"kind": "facet_answered", "matter_id": "bs-gjj-tq", "facet": "time_limit"}]),
                                ("bot", "text", FACET_TEXT, None),
                                ("citizen", "text", "转人工", None, [{"kind": "handoff", "reason": "request_human"}])),
        "not_found": conversation(timedelta(days=1, hours=1),
                                  ("citizen", "text", f"我家猫走丢了，电话{PHONE}", None, [{"kind": "not_found"}]),
                                  ("bot", "buttons", NOT_FOUND, {"buttons": [{"title": "转人工",
                                                                             "payload": "/request_human"}]}),
                                  rating=1),
        "ticket": conversation(timedelta(days=2),
                               ("citizen", "text", "我要投诉小区噪音", None,
                                [{"kind": "intake_started", "ticket_type": "投诉"}]),
                               ("bot", "ticket", None, {"type": "ticket", "number": "x", "ticket_type": "投诉"})),
        "idle": conversation(timedelta(minutes=1)),
        "old": conversation(timedelta(days=40), ("citizen", "text", "换身份证", None, guide),
                            ("bot", "text", GUIDE_TEXT, None), rating=2),
    }  # fmt: skip
    request_handoff(session, ids["handoff"], reason="request_human")
    record(session, f"我家猫走丢了，电话{PHONE}", "not_found", ids["not_found"])
    record(session, "我家猫走丢了 电话" + PHONE, "low_rating", ids["not_found"])
    record(session, "公园里可以烧烤吗", "not_found", None)
    record(session, "旧问题：路灯坏了", "not_found", ids["old"])
    old_question = session.query(UnansweredQuestion).filter_by(conversation_id=ids["old"]).one()
    old_question.created_at = now - timedelta(days=40)

    create_ticket(session, TicketIn(type="投诉", content="小区夜间施工噪音扰民", phone="13600001111",
                                    conversation_id=ids["ticket"], category="城乡建设"))  # fmt: skip
    late = create_ticket(session, TicketIn(type="咨询", content=f"社保卡补办需要多久？我的身份证{ID_NUMBER}",
                                           phone=PHONE, category="劳动和社会保障"))  # fmt: skip
    late.due_at = now - timedelta(hours=5)
    done = create_ticket(session, TicketIn(type="举报", content="河边工厂夜里偷排废水", phone="13900002222",
                                           category="环境保护"))  # fmt: skip
    done.status = "已办结"
    create_ticket(
        session, TicketIn(type="建议", content="建议公交站加装雨棚", phone="13700003333", category="交通运输")
    )
    session.flush()
    ids["late_number"] = late.number
    return ids


@pytest.fixture
def db(data_dir) -> object:
    from sqlalchemy.orm import sessionmaker

    from banshi.db import get_engine, migrate

    migrate()
    with sessionmaker(get_engine(), expire_on_commit=False)() as db:
        yield db


def _app(db, use_embedder):
    from channels.app import create_app

    for username, role in (("agent1", "agent"), ("editor1", "editor"), ("boss", "admin")):
        create_user(db, UserIn(username=username, display_name=username, role=role, password=PASSWORD))
    db.commit()
    app = create_app()  # no lifespan: the dashboard needs only the index's embedder, to group questions
    app.state.index = SimpleNamespace(embedder=use_embedder)
    return app


def test_the_dashboard_needs_an_editor(db, use_embedder):
    app = _app(db, use_embedder)
    found = operations(app, ("/api/v1/dashboard",))
    assert found == [("GET", "/api/v1/dashboard")]
    assert_guarded(app, found, denied="agent1", allowed="editor1")
    assert login(app, "boss").get("/api/v1/dashboard").status_code == 200, "admins may do what editors may"


def test_every_figure_comes_from_the_seeded_rows(db, use_embedder):
    app = _app(db, use_embedder)
    ids = seed_dashboard(db)
    db.commit()
    editor = login(app, "editor1")

    response = editor.get("/api/v1/dashboard")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["days"] == 30 and data["timezone"] == "Asia/Shanghai"
    conv = data["conversations"]
    assert (conv["started"], conv["active"]) == (EXPECTED["started"], EXPECTED["active"])
    for key in ("answered", "handed_off", "unanswered", "ticket"):
        assert conv[key]["count"] == EXPECTED[key], key
        assert conv[key]["share"] == pytest.approx(EXPECTED[key] / EXPECTED["active"]), key
    assert conv["outcomes"] == EXPECTED["outcomes"]
    assert sum(conv["outcomes"].values()) == conv["active"]
    assert conv["outcome_labels"]["handed_off"] == "转人工"

    per_day = conv["per_day"]
    assert len(per_day) == 30 and per_day[-1]["day"] == data["until"] and per_day[0]["day"] == data["since"]
    assert sum(d["started"] for d in per_day) == 6 and sum(d["active"] for d in per_day) == 5
    assert (per_day[-1]["started"], per_day[-1]["active"]) == (3, 2), "today: two answered and one idle"
    assert per_day[-2]["started"] == 2 and per_day[-3]["started"] == 1

    assert [(m["name"], m["department"], m["conversations"]) for m in data["top_matters"]] == [
        ("居民身份证换领", "防城港市公安局", 2),
        ("住房公积金提取", "防城港市住房公积金中心", 1),
    ], "the old conversation is outside the window"

    assert data["unanswered_questions"] == 3, "every reason counts; the 40-day-old question does not"
    groups = data["top_unanswered"]
    assert groups[0]["count"] == 2 and groups[0]["representative"].startswith("我家猫走丢了")
    assert groups[0]["reasons"] == {"not_found": 1, "low_rating": 1}
    assert [g["representative"] for g in groups[1:]] == ["公园里可以烧烤吗"]

    assert data["ratings"] == {"count": 3, "average": EXPECTED["average"], "distribution": EXPECTED["ratings"]}

    tickets = data["tickets"]
    assert tickets["total"] == EXPECTED["tickets"]
    assert tickets["by_type"] == {"咨询": 1, "求助": 0, "投诉": 1, "举报": 1, "建议": 1}
    assert tickets["by_status"]["待受理"] == 3 and tickets["by_status"]["已办结"] == 1
    assert tickets["by_type_and_status"]["举报"]["已办结"] == 1
    assert list(tickets["by_status"]) == ["待受理", "已受理", "已派单", "办理中", "已办结", "已回访"]

    overdue = data["overdue"]
    assert overdue["count"] == 1
    (item,) = overdue["oldest"]
    assert item["number"] == ids["late_number"] and item["overdue"] and item["remaining_text"].startswith("已超时")
    assert item["phone"] == "138****1234" and "450***********1234" in item["preview"]
    assert PHONE not in response.text and ID_NUMBER not in response.text, "nothing listed shows a whole number"


def test_the_window_follows_days(db, use_embedder):
    app = _app(db, use_embedder)
    seed_dashboard(db)
    db.commit()
    editor = login(app, "editor1")

    week = editor.get("/api/v1/dashboard?days=1").json()
    assert len(week["conversations"]["per_day"]) == 1 and week["conversations"]["started"] == 3
    assert week["ratings"]["distribution"] == [0, 0, 0, 1, 1]

    quarter = editor.get("/api/v1/dashboard", params={"days": 90}).json()
    assert quarter["conversations"]["started"] == 7 and quarter["conversations"]["answered"]["count"] == 4
    assert quarter["top_matters"][0] == {"name": "居民身份证换领", "department": "防城港市公安局", "conversations": 3}
    assert quarter["unanswered_questions"] == 4
    assert quarter["ratings"]["average"] == 3.0

    for bad in ("0", "400", "abc"):
        assert editor.get(f"/api/v1/dashboard?days={bad}").status_code == 422


def test_an_empty_database_draws_zeros(db, use_embedder):
    data = login(_app(db, use_embedder), "editor1").get("/api/v1/dashboard?days=7").json()
    conv = data["conversations"]
    assert conv["started"] == 0 and conv["answered"] == {"count": 0, "share": None}
    assert [d["started"] for d in conv["per_day"]] == [0] * 7
    assert data["top_matters"] == [] and data["top_unanswered"] == []
    assert data["ratings"] == {"count": 0, "average": None, "distribution": [0, 0, 0, 0, 0]}
    assert data["overdue"] == {"count": 0, "oldest": []}


def rest_messages(dispatched: list[dict]) -> list[dict]:
    """What the action server's messages become in Rasa's REST channel: words, then each custom on its own."""
    out = []
    for message in dispatched:
        if message.get("text") or message.get("buttons"):
            out.append({"recipient_id": "x", "text": message.get("text"), "buttons": message.get("buttons") or []})
        if message.get("custom"):
            out.append({"recipient_id": "x", "custom": message["custom"]})
    return out


@pytest.mark.parametrize("reworded", [False, True], ids=["as-worded", "reworded"])
def test_rewording_the_replies_changes_neither_the_answered_share_nor_the_capture(chat, monkeypatch, reworded):  # noqa: F811
    """The dialogue's own present and decline, through the real relay: the figures come from what the
    turn did, so a new prefix for the guide (or a new not-found text) changes nothing."""
    from rasa_sdk.executor import CollectingDispatcher

    from banshi.db import session_scope
    from channels.dashboard import dashboard
    from dialogue.actions import guide, offers
    from knowledge.bundles import combine
    from knowledge.schema import MatterIn
    from knowledge.unanswered import UnansweredQuestion

    if reworded:
        monkeypatch.setattr(guide, "GUIDE_PREFIX", "您要办的事项是——")
        monkeypatch.setattr(offers, "NOT_FOUND_TEXT", "这个问题我暂时答不上来，您可以转人工或者留言。")
    matter = MatterIn.model_validate(
        {"external_id": "bs-1", "name": "居民身份证换领", "department": "防城港市公安局", "city": "防城港市"}
    )
    monkeypatch.setattr(guide.catalogue, "get_bundle", lambda _id: combine(matter, []))  # a plain matter

    def said(act) -> list[dict]:
        dispatcher = CollectingDispatcher()
        act(dispatcher)
        return rest_messages(dispatcher.messages)

    presented = said(lambda d: guide.present(d, SimpleNamespace(get_slot=lambda _name: None), "bs-1"))
    assert presented[0]["text"].startswith("您要办的事项是——" if reworded else "为您找到办事指南：")
    client, _rasa = chat({"换身份证": presented, "我家猫走丢了怎么办": said(offers.decline)})
    ids = []
    for question in ("换身份证", "我家猫走丢了怎么办"):
        ids.append(client.post("/api/v1/conversations", json={}).json()["id"])
        shown = client.post(f"/api/v1/conversations/{ids[-1]}/messages", json={"text": question}).json()
        assert all(m["kind"] != "outcome" and "outcome" not in str(m["text"]) for m in shown)

    with session_scope() as session:
        figures = dashboard(session, 30)
        captured = [(q.question, q.reason, q.conversation_id) for q in session.query(UnansweredQuestion)]
    assert figures.conversations.answered.count == 1 and figures.conversations.answered.share == 0.5
    assert [(m.name, m.conversations) for m in figures.top_matters] == [("居民身份证换领", 1)]
    assert captured == [("我家猫走丢了怎么办", "not_found", ids[1])]
