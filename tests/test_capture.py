"""The unanswered-question capture reads what each turn did (channels.outcomes), not the bot's words: a
没有 in the materials walk-through is an answer, while a real not-found and a 都不是 are captured.

Rasa is faked (httpx MockTransport, as in test_chat_relay.py) with the dialogue's own buttons.
"""

from __future__ import annotations

from sqlalchemy import select

from dialogue.actions.materials import YES_NO_BUTTONS
from tests.test_chat_relay import chat, outcome  # noqa: F401  (fixture)
from tests.test_unanswered import NOT_FOUND_REPLY

CHOICES = [{"title": "居民身份证换领", "payload": '/choose_matter{"matter_id":"bs-sfz-hl"}'},
           {"title": "都不是", "payload": "/deny"}]  # fmt: skip


def _captured() -> list[tuple[str, str]]:
    from banshi.db import session_scope
    from knowledge.unanswered import UnansweredQuestion

    with session_scope() as db:
        return [(q.question, q.reason) for q in db.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id))]


def _say(client, cid: str, text: str, payload: str | None = None) -> list[dict]:
    body = {"text": text, "payload": payload} if payload else {"text": text}
    return client.post(f"/api/v1/conversations/{cid}/messages", json=body).json()


def test_answering_no_in_the_walk_through_captures_nothing(chat):  # noqa: F811
    client, _rasa = chat({
        "办身份证要带什么": [
            {"text": "为您找到办事指南：居民身份证首次申领"},
            outcome("guide_presented", matter_id="bs-sfz-sc", matter_name="居民身份证首次申领"),
            outcome("walk_started", matter_id="bs-sfz-sc"),
            {"text": "第1项（共3项）：居民户口簿\n请问您已经准备好了吗？", "buttons": YES_NO_BUTTONS},
        ],
        "/deny": [{"text": "第2项（共3项）：近期照片\n请问您已经准备好了吗？", "buttons": YES_NO_BUTTONS}],
    })  # fmt: skip
    cid = client.post("/api/v1/conversations", json={}).json()["id"]
    _say(client, cid, "办身份证要带什么")
    replies = _say(client, cid, "没有", "/deny")
    assert "第2项" in replies[-1]["text"] and replies[0]["outcomes"] == []
    assert _captured() == [], "没有 answers the walk's question: it rejects no suggestion"


def test_a_real_not_found_and_a_none_of_these_are_captured(chat):  # noqa: F811
    client, _rasa = chat({
        "我家猫走丢了怎么办": [NOT_FOUND_REPLY, outcome("not_found")],
        "办证": [{"text": "您问的可能是下面几个事项之一，请问您要办理的是哪一个？", "buttons": CHOICES},
                 outcome("clarification_offered", matter_ids=["bs-sfz-hl"], reason="close")],
        "/deny": [{**NOT_FOUND_REPLY, "text": "好的。很抱歉没能找到您要办的事项。"}, outcome("clarification_rejected")],
    })  # fmt: skip
    lost = client.post("/api/v1/conversations", json={}).json()["id"]
    assert _say(client, lost, "我家猫走丢了怎么办")[0]["outcomes"] == [{"kind": "not_found", "matter_id": None}]
    offered = client.post("/api/v1/conversations", json={}).json()["id"]
    _say(client, offered, "办证")
    _say(client, offered, "都不是", "/deny")
    assert _captured() == [("我家猫走丢了怎么办", "not_found"), ("办证", "rejected_clarification")]
