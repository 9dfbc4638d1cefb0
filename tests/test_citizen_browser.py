"""The citizen's chat page in Debian's Chromium against the whole stack (action server, Rasa, gateway),
as a person uses it: typing, clicking the bot's buttons, reading the checklist and the ticket card."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser import screenshot
from tests.chat_page import click_choice, offered, open_chat, type_message, whole_conversation

pytestmark = pytest.mark.slow
TICKET_NUMBER = re.compile(r"12345-\d{8}-\d{4,}")


def test_a_citizen_asks_for_a_guide_and_sees_the_checklist(live_stack, page):
    open_chat(page, live_stack)
    type_message(page, "办身份证要带什么")
    answered_have = False
    for _turn in range(10):
        if page.locator(".checklist").count():
            break
        choices = offered(page)
        assert "直接告诉我全部" in choices, choices
        if "有" in choices and not answered_have:
            click_choice(page, "有")
            answered_have = True
        else:
            click_choice(page, "直接告诉我全部")
    card = page.locator(".checklist").last
    card.wait_for()
    assert "一次告知清单" in card.inner_text()
    assert card.locator(".card-title").inner_text() == "居民身份证首次申领"
    assert card.locator(".material").count() >= 2
    assert card.locator(".material[data-status='have'] .m-state").first.inner_text() == "已备齐"
    assert card.locator(".material[data-status='unknown']").count() >= 1
    facts = card.locator(".facts").inner_text()
    assert "办理地点" in facts and "办理时限" in facts
    assert "{" not in card.inner_text(), "the checklist is drawn, not dumped as JSON"
    # The citizen's bubbles show the buttons' titles, never their payloads.
    citizen_said = page.locator(".row.citizen .bubble").all_inner_texts()
    assert "有" in citizen_said and not any(t.startswith("/") for t in citizen_said)

    rating = page.locator(".rating-card")
    rating.wait_for()
    rating.locator(".star[data-score='5']").click()
    rating.locator("textarea").fill("说得很清楚")
    rating.locator("button.primary").click()
    page.get_by_text("感谢您的评价").wait_for()
    page.locator(".row.citizen[data-kind='rating']").wait_for()
    whole_conversation(page)
    screenshot(page, "citizen_chat.png")


def test_a_citizen_files_a_complaint_and_sees_the_ticket_number(live_stack, page):
    open_chat(page, live_stack)
    type_message(page, "我要投诉港口区渔洲坪路口的路灯坏了一个月没人修")
    answers = [
        ("什么地点", "港口区渔洲坪路口"),
        ("什么时候", "上个月开始"),
        ("怎么称呼", "匿名"),
        ("手机号码", "13800138000"),
    ]
    for _turn in range(8):
        if "确认提交" in offered(page):
            break
        question = page.locator(".row.bot").last.inner_text()
        answer = next((a for cue, a in answers if cue in question), None)
        assert answer, f"unexpected question: {question}"
        type_message(page, answer)
    click_choice(page, "确认提交")
    number = page.locator(".ticket-card .ticket-number").last
    number.wait_for()
    assert TICKET_NUMBER.fullmatch(number.inner_text())
    assert "待受理" in page.locator(".ticket-card").last.inner_text()
    page.locator(".rating-card").wait_for()
    page.locator(".ticket-card").last.scroll_into_view_if_needed()
    screenshot(page, "citizen_ticket.png", full_page=False)


def test_an_agents_reply_appears_live_without_a_reload(live_stack, page):
    from sqlalchemy import update

    from banshi.db import make_engine, session_scope
    from common.conversations import add_message
    from hotline import handoffs
    from hotline.models import Handoff
    from tests.hotline_helpers import ADMIN

    open_chat(page, live_stack)
    page.click("#human-btn")
    page.get_by_text("您已进入人工客服排队").wait_for()
    assert page.locator("#status").get_attribute("data-mode") == "waiting"
    conversation_id = page.evaluate("localStorage.getItem('banshi.conversation.web')")
    engine = make_engine(live_stack.database_url)
    try:
        with session_scope(engine) as session:  # what the agent console does on claim and reply
            held = handoffs.claim_handoff(session, handoffs.request_handoff(session, conversation_id).id, ADMIN)
            add_message(
                session,
                conversation_id,
                "agent",
                "text",
                "您好，我是12345客服小王，请问有什么可以帮您？",
                author="小王",
            )
        page.get_by_text("我是12345客服小王").wait_for(timeout=15_000)
        page.wait_for_function("document.querySelector('#status').dataset.mode === 'agent'")
        assert "小王" in page.locator(".row.agent .author").last.inner_text()

        with session_scope(engine) as session:  # the agent closes: the page offers a new conversation
            handoffs.close_handoff(session, held.id, ADMIN)
        page.locator("#restart-btn").wait_for(timeout=15_000)
        assert page.locator("#composer").is_hidden()
    finally:
        with session_scope(engine) as session:  # leave the shared stack's queue as it was for other tests
            session.execute(update(Handoff).where(Handoff.conversation_id == conversation_id).values(status="closed"))
        engine.dispose()


@contextmanager
def host_site(html: str) -> Iterator[str]:
    """Another site (another origin, on loopback like the gateway) serving one page."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_one_script_tag_embeds_the_chat(live_stack, page):
    """A site on another origin adds one script tag: a floating button opens the chat in an iframe."""
    html = f'<html><body><h1>防城港市人民政府</h1><script src="{live_stack.url("/widget.js")}"></script></body></html>'
    with host_site(html) as host:
        page.goto(host)
        page.locator(".banshi-widget-btn").click()
        frame = page.frame_locator("iframe.banshi-widget-panel")
        frame.locator("#status", has_text="智能助手在线").wait_for()
        assert "政务服务智能助手" in frame.locator("h1").inner_text()
        frame.locator("#close-btn").click()
        page.wait_for_function("!document.querySelector('iframe.banshi-widget-panel').classList.contains('open')")
