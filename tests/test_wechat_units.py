"""The WeChat channel's own parts against a real database, without Rasa: retries recognised by key,
one conversation per follower, each message sent once, numbered choices and message splitting.
The whole channel against the real dialogue is in test_wechat.py."""

from __future__ import annotations

import threading

from channels.conversations import add_message, set_mode
from channels.wechat import state
from channels.wechat.render import MAX_BYTES, chosen_button, split_for_wechat, wechat_texts

BUTTONS = {
    "buttons": [
        {"title": "有", "payload": "/affirm"},
        {"title": "办事大厅地图", "payload": "https://example.gov.cn/map"},
        {"title": "没有", "payload": "/deny"},
    ]
}


def test_a_retry_is_recognised_by_its_key(session):
    assert state.claim_inbound(session, "msg:1001", "o1")
    assert not state.claim_inbound(session, "msg:1001", "o1"), "the same MsgId again is a retry"
    assert state.claim_inbound(session, "event:o1:1700000000:click", "o1")
    state.settle_inbound(session, "msg:1001", "answered", "好的")
    assert state.inbound(session, "msg:1001").reply == "好的"


def test_one_conversation_per_follower_until_it_is_closed(session):
    first = state.conversation_for(session, "o1")
    assert state.conversation_for(session, "o1") == first
    assert state.conversation_for(session, "o2") != first
    set_mode(session, first, "closed")
    assert state.conversation_for(session, "o1") != first


def test_each_message_is_taken_for_sending_once(session):
    conversation_id = state.conversation_for(session, "o1")
    add_message(session, conversation_id, "citizen", "text", "你好")
    add_message(session, conversation_id, "bot", "text", "您好，请问要办什么事？")
    assert [m.text for m in state.take_undelivered(session, "o1")] == ["您好，请问要办什么事？"]
    assert state.take_undelivered(session, "o1") == []
    add_message(session, conversation_id, "agent", "text", "我是坐席")
    assert state.followers_with_undelivered(session) == ["o1"]
    state.start_turn(session, "o1")
    assert state.followers_with_undelivered(session) == [], "a running turn sends its own replies"
    assert [m.text for m in state.take_undelivered(session, "o1", ending_turn=True)] == ["我是坐席"]
    assert state.followers_with_undelivered(session) == []


def test_numbered_choices_and_links(session):
    conversation_id = state.conversation_for(session, "o1")
    add_message(session, conversation_id, "citizen", "text", "换身份证")
    offered = add_message(session, conversation_id, "bot", "buttons", "您有居民户口簿吗？", BUTTONS)
    [text] = wechat_texts([offered], lambda mid: f"https://x/checklist?t={mid}")
    assert text.splitlines() == [
        "您有居民户口簿吗？",
        "1. 有",
        "办事大厅地图：https://example.gov.cn/map",
        "2. 没有",
        "（回复数字即可选择）",
    ]
    assert chosen_button(session, conversation_id, "2") == ("/deny", "没有")
    assert chosen_button(session, conversation_id, "１。") == ("/affirm", "有"), "full-width digits count"
    assert chosen_button(session, conversation_id, "没有") == ("/deny", "没有")
    assert chosen_button(session, conversation_id, "3") is None
    add_message(session, conversation_id, "citizen", "text", "算了")
    assert chosen_button(session, conversation_id, "1") is None, "only the bot's last turn's buttons count"


def test_long_answers_are_split_within_wechats_limit():
    long = "\n".join(f"第{i}项材料：居民户口簿原件一份，复印件两份，需本人签字确认。" for i in range(80))
    pieces = split_for_wechat(["您好", long])
    assert len(pieces) > 1 and all(len(p.encode()) <= MAX_BYTES for p in pieces)
    assert "\n".join(pieces).replace("\n\n", "\n") == f"您好\n{long}"
    assert split_for_wechat(["一", "二"]) == ["一\n\n二"]
    assert all(len(p.encode()) <= MAX_BYTES for p in split_for_wechat(["长" * 3000]))


def test_two_senders_at_once_get_one_message_each_time(data_dir):
    from banshi.db import migrate, session_scope

    migrate()
    with session_scope() as session:
        conversation_id = state.conversation_for(session, "o1")
        for i in range(5):
            add_message(session, conversation_id, "agent", "text", f"回复{i}")

    got: list[list[str]] = []

    def take() -> None:
        with session_scope() as own:
            got.append([m.text for m in state.take_undelivered(own, "o1")])

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got, key=len)[-1] == [f"回复{i}" for i in range(5)]
    assert sum(len(g) for g in got) == 5


def test_dedup_keys_of_messages_and_events():
    from wechatpy import parse_message

    from channels.wechat import inbound_of
    from tests.wechat_standin import WeChatServer

    follower = WeChatServer(None, "o1")  # type: ignore[arg-type]  (only builds messages)
    xml, msg_id = follower.text_xml("你好")
    assert inbound_of(parse_message(xml)) == inbound_of(parse_message(xml))
    assert inbound_of(parse_message(xml)).key == f"msg:{msg_id}"
    click = inbound_of(parse_message(follower.click_xml("转人工", 1_700_000_000)))
    assert click.key == "event:o1:1700000000:click" and click.text == "转人工"
    assert inbound_of(parse_message(follower.click_xml("转人工", 1_700_000_001))).key != click.key
