"""The WeChat official account channel against the real dialogue (Rasa + action server over the sample
catalogue), with messages built, signed and encrypted by wechatpy as WeChat's servers send them, and a
stand-in for WeChat's API on loopback that records the customer-service messages the gateway sends."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.browser import LiveStack
from tests.staff_api import PASSWORD, login
from tests.wechat_standin import AES_KEY, APP_ID, APP_SECRET, TOKEN, WeChatApi, WeChatServer, signature

pytestmark = pytest.mark.slow
TICKET_NUMBER = re.compile(r"12345-\d{8}-\d{4,}")
COMPLAINT_ANSWERS = [
    ("什么地点", "港口区渔洲坪路口"),
    ("什么时候", "上个月开始"),
    ("怎么称呼", "匿名"),
    ("手机号码", "13800138000"),
]


@dataclass
class Stack:
    client: TestClient
    api: WeChatApi


@pytest.fixture(scope="module")
def stack(live_stack: LiveStack) -> Iterator[Stack]:
    """A gateway in this process, configured for WeChat, over the shared stack's Rasa and database."""
    from banshi.db import session_scope
    from channels.accounts import UserIn, create_user

    wechat = {
        "BANSHI_WECHAT_TOKEN": TOKEN,
        "BANSHI_WECHAT_APP_ID": APP_ID,
        "BANSHI_WECHAT_APP_SECRET": APP_SECRET,
        "BANSHI_WECHAT_ENCODING_AES_KEY": AES_KEY,
        "BANSHI_WECHAT_POLL_SECONDS": "0.2",
    }
    with WeChatApi() as api, live_stack.in_process(**wechat, BANSHI_WECHAT_API_BASE_URL=api.base_url):
        warm_up = {"sender": "warm-up", "message": "换身份证要带什么材料"}  # the action server's first turn is slow
        httpx.post(live_stack.webhook, json=warm_up, timeout=600).raise_for_status()
        with session_scope() as session:
            create_user(session, UserIn(username="wx-wang", display_name="王坐席", role="agent", password=PASSWORD))
        from channels.app import create_app

        with TestClient(create_app()) as client:
            yield Stack(client, api)


def choice(reply: str | None, title: str) -> str:
    """The number the follower sends back for the choice titled ``title``."""
    found = re.search(rf"^(\d+)\. {re.escape(title)}$", reply or "", re.MULTILINE)
    assert found, f"no choice {title!r} in: {reply}"
    return found.group(1)


def conversation_of(openid: str) -> str:
    from banshi.db import session_scope
    from channels.wechat import WechatFollower

    with session_scope() as session:
        return session.get(WechatFollower, openid).conversation_id


def transcript(client: TestClient, conversation_id: str) -> list[dict]:
    return client.get(f"/api/v1/conversations/{conversation_id}/transcript").json()["messages"]


def test_a_guide_question_in_the_encrypted_mode_ends_in_a_checklist_link(stack):
    follower = WeChatServer(stack.client, "o_guide_follower", encrypted=True, api=stack.api)
    reply = follower.say("换身份证要带什么材料")
    assert "居民身份证" in reply and "（回复数字即可选择）" in reply, reply

    reply = follower.say(choice(reply, "直接告诉我全部"))
    assert reply.startswith("【一次告知】居民身份证换领"), reply
    link = re.search(r"完整清单（材料、时限、收费）：(\S+)", reply).group(1)
    assert conversation_of("o_guide_follower") not in link, "the link does not reveal the conversation id"

    page = stack.client.get(link)
    assert page.status_code == 200 and "一次告知：居民身份证换领" in page.text
    assert "申请材料" in page.text and "办理地点" in page.text
    forged = stack.client.get(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))
    assert forged.status_code == 404 and "链接无效或已过期" in forged.text

    conversation = stack.client.get(f"/api/v1/conversations/{conversation_of('o_guide_follower')}").json()
    assert conversation["channel"] == "wechat" and conversation["mode"] == "bot"
    said = [m["text"] for m in transcript(stack.client, conversation["id"]) if m["sender"] == "citizen"]
    assert said == ["换身份证要带什么材料", "直接告诉我全部"], "the numbered answer is stored as the button's title"


def test_a_walk_through_with_numbered_choices(stack):
    follower = WeChatServer(stack.client, "o_walk_follower", api=stack.api)
    reply = follower.say("换身份证要带什么材料")
    answered = []
    for _turn in range(15):
        if reply.startswith("【一次告知】"):
            break
        yes_no = re.search(r"^\d+\. 有$", reply, re.MULTILINE)
        title = ("有" if len(answered) % 2 == 0 else "没有") if yes_no else "否"
        answered.append(title)
        reply = follower.say(choice(reply, title))
    assert reply.startswith("【一次告知】居民身份证换领"), reply
    assert "没有" not in answered or "您还缺：" in reply
    page = stack.client.get(re.search(r"：(http\S+/checklist\?t=\S+)", reply).group(1))
    assert "已备齐" in page.text
    if "没有" in answered:
        assert "还缺" in page.text
    said = [m["text"] for m in transcript(stack.client, conversation_of("o_walk_follower")) if m["sender"] == "citizen"]
    assert said[1:] == answered


def test_a_complaint_confirmed_and_retried_three_times_files_one_ticket(stack):
    from banshi.db import session_scope
    from hotline.models import Ticket

    follower = WeChatServer(stack.client, "o_complaint_follower", api=stack.api)
    reply = follower.say("我要投诉港口区渔洲坪路口的路灯坏了一个月没人修")
    for _turn in range(8):
        if "确认提交" in reply:
            break
        answer = next((a for cue, a in COMPLAINT_ANSWERS if cue in reply), None)
        assert answer, f"unexpected question: {reply}"
        reply = follower.say(answer)
    confirm, _ = follower.text_xml(choice(reply, "确认提交"))

    replies: list[str | None] = []

    def deliver() -> None:
        replies.append(follower.reply_of(follower.post(confirm)))

    threads = [threading.Thread(target=deliver) for _ in range(4)]  # the message and WeChat's three retries
    for thread in threads:
        thread.start()
        time.sleep(0.3)
    for thread in threads:
        thread.join()

    answers = {r for r in replies if r is not None}
    assert len(answers) <= 1, "every retry gets the same answer"
    if not answers:  # the turn outlasted the limit: its answer comes through the customer-service API
        stack.api.wait_for("o_complaint_follower", lambda texts: any(TICKET_NUMBER.search(t) for t in texts), 120)
    time.sleep(1.0)
    conversation_id = conversation_of("o_complaint_follower")
    with session_scope() as session:
        tickets = session.query(Ticket).filter(Ticket.conversation_id == conversation_id).all()
    assert len(tickets) == 1, "a retried confirmation files one ticket"
    said = [m["text"] for m in transcript(stack.client, conversation_id) if m["sender"] == "citizen"]
    assert said.count("确认提交") == 1, "a retry starts no second turn"
    sent_later = [t for t in stack.api.texts_to("o_complaint_follower") if tickets[0].number in t]
    assert len(answers) + len(sent_later) == 1, (answers, sent_later)
    assert tickets[0].number in (answers or set(sent_later)).pop()


def test_a_person_asked_for_from_the_menu_answers_through_the_customer_service_api(stack):
    follower = WeChatServer(stack.client, "o_handoff_follower", encrypted=True, api=stack.api)
    follower.say("办身份证要带什么")
    reply = follower.click("转人工")  # a menu button whose key is the words it shows
    assert "人工客服排队" in reply, reply
    conversation_id = conversation_of("o_handoff_follower")
    assert stack.client.get(f"/api/v1/conversations/{conversation_id}").json()["mode"] == "waiting"

    agent = login(stack.client.app, "wx-wang")
    [waiting] = [
        h for h in agent.get("/api/v1/agent/handoffs").json()["waiting"] if h["conversation_id"] == conversation_id
    ]
    assert agent.post(f"/api/v1/agent/handoffs/{waiting['id']}/claim").status_code == 200
    answer = "您好，我是王坐席。换领身份证请带户口簿到派出所办理。"
    assert agent.post(f"/api/v1/agent/handoffs/{waiting['id']}/reply", json={"text": answer}).status_code == 200
    # The notice and the reply may go out as one customer-service message when both wait for the same poll.
    texts = stack.api.wait_for("o_handoff_follower", lambda t: any(answer in x for x in t))
    assert any("王坐席已接入" in t for t in texts), texts
    assert sum(x.count(answer) for x in texts) == 1
    assert stack.api.token_requests and stack.api.token_requests[0]["appid"] == APP_ID

    thanks, _ = follower.text_xml("好的，谢谢")
    assert follower.reply_of(follower.post(thanks)) is None, "while an agent serves, the bot stays silent"
    seen = agent.get(f"/api/v1/agent/handoffs/{waiting['id']}").json()["messages"]
    assert seen[-1]["sender"] == "citizen" and seen[-1]["text"] == "好的，谢谢"

    assert agent.post(f"/api/v1/agent/handoffs/{waiting['id']}/close").status_code == 200
    stack.api.wait_for("o_handoff_follower", lambda t: any("本次人工服务已结束" in x for x in t))
    time.sleep(1.0)  # a few listener rounds: nothing goes out twice
    texts = stack.api.texts_to("o_handoff_follower")
    assert sum(x.count(answer) for x in texts) == 1 and sum("本次人工服务已结束" in t for t in texts) == 1

    assert follower.say("公积金怎么提取"), "after the close the bot answers again"
    assert conversation_of("o_handoff_follower") != conversation_id, "a closed conversation is not re-used"


def test_unsigned_and_forged_requests_are_refused(stack):
    client = stack.client
    timestamp, nonce = str(int(time.time())), "n0nce"
    good = {"timestamp": timestamp, "nonce": nonce, "signature": signature(TOKEN, timestamp, nonce)}
    verified = client.get("/wechat", params={**good, "echostr": "4711"})
    assert verified.status_code == 200 and verified.text == "4711"
    forged = {**good, "signature": signature("not-the-token", timestamp, nonce)}
    assert client.get("/wechat", params={**forged, "echostr": "4711"}).status_code == 403
    assert client.get("/wechat", params={"echostr": "4711"}).status_code == 403

    follower = WeChatServer(client, "o_forger")
    xml, _ = follower.text_xml("我要投诉")
    refused = follower.post(xml, token="not-the-token")
    assert refused.status_code == 403 and refused.json()["detail"] == "签名校验失败"
    encrypted = WeChatServer(client, "o_forger", encrypted=True)
    assert encrypted.post(xml, msg_token="not-the-token").status_code == 403, "the encrypted body's signature too"
    encrypted.crypto = type(encrypted.crypto)(TOKEN, "B" * 43, APP_ID)  # encrypted with another key
    unreadable = encrypted.post(xml)
    assert unreadable.status_code == 400 and unreadable.json()["detail"] == "无法解析的微信消息"

    from banshi.db import session_scope
    from channels.wechat import WechatFollower, WechatInbound

    with session_scope() as session:
        assert session.get(WechatFollower, "o_forger") is None
        assert session.query(WechatInbound).filter(WechatInbound.openid == "o_forger").count() == 0


def test_a_turn_slower_than_the_limit_is_answered_through_the_customer_service_api(stack, monkeypatch):
    from banshi.config import get_settings

    monkeypatch.setenv("BANSHI_WECHAT_REPLY_SECONDS", "0.05")
    get_settings.cache_clear()
    try:
        follower = WeChatServer(stack.client, "o_slow_follower")
        xml, _ = follower.text_xml("公积金怎么提取")
        assert follower.reply_of(follower.post(xml)) is None, "WeChat gets the empty reply in time"
        assert "公积金" in stack.api.wait_for("o_slow_follower", bool)[0]
        assert follower.reply_of(follower.post(xml)) is None, "WeChat's retry starts no second turn"
    finally:
        monkeypatch.delenv("BANSHI_WECHAT_REPLY_SECONDS")
        get_settings.cache_clear()
    time.sleep(1.0)
    said = [m for m in transcript(stack.client, conversation_of("o_slow_follower")) if m["sender"] == "citizen"]
    assert len(said) == 1
    bot = [m for m in transcript(stack.client, conversation_of("o_slow_follower")) if m["sender"] == "bot"]
    texts = stack.api.texts_to("o_slow_follower")
    assert bot and len(texts) <= len(bot) and len(set(texts)) == len(texts), "the late answer goes out once"


def test_a_message_sent_while_the_last_is_still_answered_is_told_to_wait(stack):
    from channels.turn_lock import BUSY_TEXT

    follower = WeChatServer(stack.client, "o_busy_follower")
    assert follower.say("你好")
    conversation_id = conversation_of("o_busy_follower")
    locks = stack.client.app.state.relay.turn_locks
    patience, locks.wait = locks.wait, 0.2
    try:
        with locks.hold(conversation_id):  # as if an earlier turn of this follower were still running
            reply = follower.say("办身份证要带什么")
    finally:
        locks.wait = patience
    assert reply == BUSY_TEXT, "told to wait, not left in silence"
    said = [m["text"] for m in transcript(stack.client, conversation_id) if m["sender"] == "citizen"]
    assert "办身份证要带什么" not in said, "the refused message was not taken as a turn"
