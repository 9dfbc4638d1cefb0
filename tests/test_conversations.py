"""Whole conversations through the REST channel of a real Rasa server and action server, over the
sample catalogue: what a citizen would see (texts, buttons, structured payloads), nothing internal."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tests.browser import LiveStack
from tests.rasa_stack import rasa_stack, say, trained_model

pytestmark = [pytest.mark.slow, pytest.mark.model]
TICKET_NUMBER = re.compile(r"12345-\d{8}-\d{4,}")


@pytest.fixture(scope="module")
def webhook(live_stack: LiveStack) -> str:
    """The shared stack's Rasa (each test is a citizen of its own)."""
    return live_stack.webhook


class Chat:
    """One citizen: a fresh sender id, and the bot's replies to each message."""

    def __init__(self, webhook: str) -> None:
        self.webhook = webhook
        self.sender = f"test-{uuid.uuid4().hex[:10]}"

    def __call__(self, message: str) -> list[dict]:
        return say(self.webhook, self.sender, message)


def texts(replies: list[dict]) -> str:
    return "\n".join(r["text"] for r in replies if "text" in r)


def buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons", [])]


def payloads(replies: list[dict], kind: str) -> list[dict]:
    return [r["custom"] for r in replies if isinstance(r.get("custom"), dict) and r["custom"].get("type") == kind]


def outcomes(replies: list[dict]) -> list[dict]:
    """What the turn did, as the dialogue states it for the gateway (the outcome contract)."""
    return [{k: v for k, v in p.items() if k != "type"} for p in payloads(replies, "outcome")]


def kinds(replies: list[dict]) -> list[str]:
    return [o["kind"] for o in outcomes(replies)]


def offers_hotline(replies: list[dict]) -> bool:
    offered = {b["payload"] for b in buttons(replies)}
    return "/request_human" in offered and any(p.startswith("/seek_help") and "咨询" in p for p in offered)


def test_guide_with_clarification_walk_and_summary(webhook):
    chat = Chat(webhook)
    replies = chat("公积金怎么提取")
    choices = [b for b in buttons(replies) if b["payload"].startswith("/choose_matter")]
    assert len(choices) >= 2, texts(replies)
    assert any(b["title"] == "都不是" and b["payload"] == "/deny" for b in buttons(replies))
    ids = [json.loads(c["payload"].removeprefix("/choose_matter"))["matter_id"] for c in choices]
    [offered] = outcomes(replies)
    assert offered["kind"] == "clarification_offered" and offered["matter_ids"] == ids
    chosen = ids[0]

    replies = chat(choices[0]["payload"])
    assert choices[0]["title"] in texts(replies) and "办理部门" in texts(replies)
    assert kinds(replies)[:2] == ["guide_presented", "walk_started"]
    assert outcomes(replies)[0]["matter_id"] == chosen
    lacked = None
    for _turn in range(20):
        if payloads(replies, "checklist"):
            break
        titles = [b["title"] for b in buttons(replies)]
        assert "直接告诉我全部" in titles, texts(replies)
        if "有" in titles and lacked is None:
            lacked = re.search(r"第\d+项（共\d+项）：(\S+)", texts(replies))[1]
            replies = chat("/deny")
            assert "clarification_rejected" not in kinds(replies), "没有 answers the walk; it rejects nothing"
        else:
            replies = chat("/affirm")
    checklist = payloads(replies, "checklist")
    assert checklist, "the walk-through never ended in a checklist"
    assert {"kind": "checklist_shown", "matter_id": chosen} in outcomes(replies)
    assert checklist[0]["matter"]["external_id"] == chosen
    missing = [m["name"] for m in checklist[0]["materials"] if m["status"] == "missing"]
    assert missing == [lacked]
    summary = texts(replies)
    assert "一次告知" in summary and f"您还需要准备：{lacked}" in summary and "办理地点" in summary


def test_skipping_the_walk_gives_the_full_checklist(webhook):
    chat = Chat(webhook)
    chat("换身份证要带什么材料")
    replies = chat("直接告诉我全部")
    checklist = payloads(replies, "checklist")
    assert checklist and checklist[0]["matter"]["name"] == "居民身份证换领"
    assert {m["status"] for m in checklist[0]["materials"]} == {"unknown"}


def test_follow_up_question_about_the_current_matter(webhook):
    chat = Chat(webhook)
    replies = chat("办身份证要带什么")
    assert "居民身份证首次申领" in texts(replies)
    replies = chat("那要多久")
    answer = texts(replies)
    assert "居民身份证首次申领" in answer and "承诺20个工作日" in answer
    replies = chat("在哪办")
    assert "派出所" in texts(replies)


@pytest.fixture(scope="module")
def filed_ticket(webhook) -> dict:
    """A complaint filed through the dialogue, answering whatever the form asks, with a wrong phone first."""
    chat = Chat(webhook)
    transcript = {"opening": chat("我要投诉港口区渔洲坪路口的路灯坏了一个月没人修")}
    answers = [("什么地点", "港口区渔洲坪路口"), ("什么时候", "上个月开始"), ("怎么称呼", "匿名")]
    replies = transcript["opening"]
    for _turn in range(6):
        question = texts(replies)
        if "手机号码" in question:
            break
        answer = next((a for cue, a in answers if cue in question), None)
        assert answer, f"unexpected question: {question}"
        transcript.setdefault("asked", []).append(question)
        replies = chat(answer)
    transcript["bad_phone"] = chat("1380013800")
    transcript["phone"] = chat("138-0013-8000")
    transcript["confirm"] = chat("/affirm")
    return transcript


def test_complaint_re_asks_a_wrong_phone_and_files_a_ticket(filed_ticket):
    # The first message already said what happened: the content is not asked again.
    assert not any("具体说说" in q for q in filed_ticket["asked"])
    assert any("称呼" in q and "匿名" in q for q in filed_ticket["asked"])
    assert "11位" in texts(filed_ticket["bad_phone"]) and "手机号码" in texts(filed_ticket["bad_phone"])
    summary = filed_ticket["phone"]
    assert "路灯坏了" in texts(summary) and "13800138000" in texts(summary)
    assert [b["title"] for b in buttons(summary)] == ["确认提交", "取消"]
    reply = filed_ticket["confirm"]
    number = TICKET_NUMBER.search(texts(reply))
    assert number, texts(reply)
    ticket = payloads(reply, "ticket")
    assert ticket == [{"type": "ticket", "number": number[0], "ticket_type": "投诉", "status": "待受理"}]
    assert {"kind": "intake_started", "ticket_type": "投诉"} in outcomes(filed_ticket["opening"])
    assert {"kind": "slot_requested", "slot": "ticket_phone"} in outcomes(filed_ticket["bad_phone"])
    assert outcomes(reply) == [{"kind": "ticket_filed", "number": number[0], "ticket_type": "投诉"}]


def test_ticket_status_with_number_and_phone(webhook, filed_ticket):
    number = payloads(filed_ticket["confirm"], "ticket")[0]["number"]
    chat = Chat(webhook)
    assert "工单编号" in texts(chat("我想查一下工单进度"))
    assert "手机" in texts(chat(number))
    replies = chat("13800138000")
    assert number in texts(replies) and "待受理" in texts(replies)

    stranger = Chat(webhook)
    stranger(f"查询工单 {number}")
    replies = stranger("13900139000")
    assert "没有查到" in texts(replies) and "待受理" not in texts(replies)


def test_out_of_catalogue_question_is_declined_with_the_hotline(webhook):
    chat = Chat(webhook)
    replies = chat("怎么申请去月球旅游的签证")
    assert "为您找到办事指南" not in texts(replies)
    assert "抱歉" in texts(replies)
    assert offers_hotline(replies)
    assert kinds(replies) in (["not_found"], ["out_of_scope"])


def test_request_human_hands_over(webhook):
    chat = Chat(webhook)
    chat("办身份证要带什么")
    replies = chat("转人工")
    assert "人工客服" in texts(replies)  # the wait it promises depends on the desk's hours: the gateway says it
    assert payloads(replies, "handoff") == [{"type": "handoff", "reason": "request_human", "matter": "bs-sfz-sc"}]
    [handoff] = outcomes(replies)
    assert handoff["kind"] == "handoff" and handoff["reason"] == "request_human"
    assert handoff["slots"]["matter_id"] == "bs-sfz-sc" and "requested_slot" not in handoff["slots"]


def test_two_misunderstandings_in_a_row_hand_over(webhook):
    chat = Chat(webhook)
    first = chat("/nlu_fallback")
    assert "没太理解" in texts(first) and not payloads(first, "handoff") and kinds(first) == ["misunderstood"]
    second = chat("/nlu_fallback")
    assert payloads(second, "handoff") == [{"type": "handoff", "reason": "fallback", "matter": None}]


def test_a_walk_through_survives_a_restart_of_both_servers(live_stack: LiveStack):
    """Conversations live in the SQLite tracker store: fresh servers over the same data dir (as after a
    restart: nothing in memory) go on with the walk where the running ones left it."""
    sender = f"test-{uuid.uuid4().hex[:10]}"
    assert "第1项（共3项）" in texts(say(live_stack.webhook, sender, "办身份证要带什么"))
    with rasa_stack(trained_model(), live_stack.data_dir, live_stack.data_dir / "logs-restarted") as url:
        assert "第2项（共3项）" in texts(say(url, sender, "/affirm"))


def test_a_suggestion_can_be_picked_in_words(webhook):
    chat = Chat(webhook)
    offered = [b["title"] for b in buttons(chat("公积金怎么提取")) if b["payload"].startswith("/choose_matter")]
    assert len(offered) >= 2
    assert f"为您找到办事指南：{offered[1]}" in texts(chat("第二个"))
