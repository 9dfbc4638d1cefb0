"""The agent console in Debian's Chromium: the ticket desk, and a live conversation taken over from the bot.

1. An agent signs in, finds a ticket a citizen filed in the queue (masked phone, live SLA countdown,
   overdue highlighting; one filed later appears at once, pushed by the queue stream), claims it and
   moves it to 已派单. Needs only the gateway: the ticket is filed the way the action server files it
   (``hotline.tickets.create_ticket``).
2. A citizen presses 转人工 on the chat page; an agent in a second browser context takes the
   conversation and replies. The citizen page shows the reply live, without a reload, and the bot
   stays silent while the agent is on; the citizen's next message reaches the console over its
   server-sent-event stream, not by polling. Needs the whole stack (``live_stack``, the trained model).

Screenshots go to tests/artifacts/. Everything skips cleanly without /usr/bin/chromium or the model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from banshi.stack import Ports, running, services
from tests.browser import DESKTOP, LiveStack, add_staff, screenshot, seed, sign_in
from tests.rasa_stack import stack_environment
from tests.services import free_port

pytestmark = pytest.mark.slow
PASSWORD = "agent pass 123"


def _add_agent(database_url: str, username: str, name: str) -> None:
    add_staff(database_url, username, name, "agent", PASSWORD)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[LiveStack]:
    """The gateway alone over a fresh database: the ticket desk needs neither Rasa nor the action server."""
    data_dir = tmp_path_factory.mktemp("console") / "var"
    data_dir.mkdir(parents=True)
    ports = Ports(gateway=free_port(), rasa=free_port(), actions=free_port())
    env = stack_environment(data_dir, ports)
    seed(env["DATABASE_URL"], lambda session: None)
    only_gateway = [s for s in services(ports=ports) if s.name == "gateway"]
    with running(only_gateway, env, data_dir / "logs"):
        yield LiveStack(f"http://127.0.0.1:{ports.gateway}", data_dir, env)


def _login(page, base_url: str, username: str) -> None:
    sign_in(page, base_url, username, PASSWORD, at="/console")


def test_agent_claims_a_citizen_ticket_and_dispatches_it(gateway, desk):
    from common.clock import utcnow
    from hotline.models import Ticket
    from hotline.tickets import TicketIn, create_ticket

    _add_agent(gateway.database_url, "zhao", "赵坐席")

    def file(session):
        old = utcnow() - timedelta(days=3)  # a 咨询 filed three days ago is past its one working day
        create_ticket(session, TicketIn(type="咨询", content="社保卡补办需要多久？", phone="13600001111"), now=old)
        create_ticket(session, TicketIn(type="举报", content="河边工厂夜里偷排废水", phone="13900002222",
                                        priority="urgent"))  # fmt: skip
        item = create_ticket(session, TicketIn(
            type="投诉", content="小区门口夜间施工噪音扰民，联系电话13877001234", location="港口区渔洲坪",
            phone="13877001234", conversation_id="c-browser", category="城乡建设", category_confidence=0.91,
        ))  # fmt: skip
        return item.id, item.number

    ticket_id, number = seed(gateway.database_url, file)
    page = desk
    _login(page, gateway.base_url, "zhao")
    row = page.locator(f"#ticket-list li[data-number='{number}']")
    row.wait_for()
    assert "138****1234" in row.inner_text() and "13877001234" not in page.inner_text("#ticket-list")
    assert re.search(r"剩余 (\d+天 )?\d\d:\d\d:\d\d", row.inner_text())
    overdue = page.locator("#ticket-list li.overdue")
    assert overdue.count() == 1 and "已超时" in overdue.inner_text()
    first = page.locator("#ticket-list li[data-kind=ticket]").first
    assert "紧急" in first.inner_text()  # urgent tickets lead the queue
    screenshot(page, "agent_console.png", full_page=False)

    def file_later(session):
        return create_ticket(session, TicketIn(type="求助", content="独居老人家中停电", phone="13700003333")).number

    later = seed(gateway.database_url, file_later)  # pushed by the queue stream; the fallback reload is every 30 s
    page.locator(f"#ticket-list li[data-number='{later}']").wait_for(timeout=10_000)

    row.click()
    page.wait_for_selector(f"#t-number:text('{number}')")
    assert "仅认领人可见" in page.inner_text("#t-fields")
    page.click("#t-actions button[data-action='认领']")
    page.wait_for_selector("#t-actions button[data-action='释放']")
    assert "13877001234" in page.inner_text("#t-fields")
    page.click("#t-actions button[data-action='受理']")
    page.wait_for_selector("#t-status:text('已受理')")
    page.click("#t-actions button[data-action='派单']")
    department = page.locator("#t-action-form input[name=department]")
    assert department.input_value() == "住房和城乡建设局"  # suggested from the category
    page.click("#t-action-form button[data-confirm='派单']")
    page.wait_for_selector("#t-status:text('已派单')")
    assert page.locator("#t-events li strong").all_inner_texts() == ["登记", "认领", "受理", "派单"]
    prediction = page.inner_text("#t-prediction")
    assert "当前分类置信度 91%" in prediction and "模型预测" in prediction
    screenshot(page, "ticket_view.png")

    def check(session):
        stored = session.get(Ticket, ticket_id)
        return stored.status, stored.department, stored.assigned_agent is not None

    assert seed(gateway.database_url, check) == ("已派单", "住房和城乡建设局", True)


def _bot_messages_after(database_url: str, conversation_id: str, text: str) -> list[str]:
    from common.conversations import ChatMessage

    def work(session):
        rows = list(session.scalars(
            select(ChatMessage).where(ChatMessage.conversation_id == conversation_id).order_by(ChatMessage.id)
        ))  # fmt: skip
        said = [m.id for m in rows if m.sender == "citizen" and m.text == text]
        assert said, f"the citizen's message {text!r} was not stored"
        return [m.text or m.kind for m in rows if m.id > said[-1] and m.sender == "bot"]

    return seed(database_url, work)


def _handoff_of(database_url: str, conversation_id: str) -> int:
    from hotline.models import Handoff

    def work(session):
        return session.scalar(select(Handoff.id).where(Handoff.conversation_id == conversation_id))

    return seed(database_url, work)


def test_agent_takes_over_a_conversation_and_the_citizen_sees_the_reply_live(live_stack, browser, page):
    _add_agent(live_stack.database_url, "qian", "钱坐席")
    citizen = page
    citizen.goto(live_stack.url("/"))
    citizen.fill("#input", "你好")
    citizen.click("#send-btn")
    citizen.wait_for_selector("#log .row.bot")
    citizen.evaluate("window.__noReload = true")
    citizen.click("#human-btn")
    citizen.wait_for_selector("#status[data-mode='waiting']")
    conversation_id = citizen.evaluate("localStorage.getItem('banshi.conversation.web')")

    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    try:
        agent = context.new_page()
        requested: list[str] = []
        agent.on("request", lambda request: requested.append(request.url))
        _login(agent, live_stack.base_url, "qian")
        # Other tests on this stack may have left handoffs waiting: take this citizen's.
        handoff_id = _handoff_of(live_stack.database_url, conversation_id)
        agent.locator(f"#handoff-list li[data-kind=handoff][data-id='{handoff_id}']").click()
        agent.click("#conv-claim")
        agent.wait_for_selector("#reply-form:not([hidden])")
        assert "你好" in agent.inner_text("#conv-messages")
        citizen.wait_for_selector("#status[data-mode='agent']")

        reply = "您好，我是12345热线钱坐席，请问有什么可以帮您？"
        agent.fill("#reply-text", reply)
        agent.click("#reply-send")
        citizen.locator("#log .row.agent", has_text=reply).wait_for(timeout=15_000)
        assert citizen.evaluate("window.__noReload === true"), "the citizen page reloaded"

        bots_before = citizen.locator("#log .row.bot").count()
        question = "我家楼下工地晚上施工太吵了"
        citizen.fill("#input", question)
        citizen.click("#send-btn")
        agent.locator("#conv-messages li.citizen", has_text=question).wait_for(timeout=15_000)
        streams = [url for url in requested if re.search(r"/api/v1/agent/handoffs/\d+/stream\?after=\d+$", url)]
        assert streams, "the console listens to the open conversation's stream"
        assert any(url.endswith("/api/v1/agent/events") for url in requested), "and to the queues' stream"
        polled = [url for url in requested if "/messages?after=" in url]
        assert polled == [], f"the message came over the stream, yet the console polled: {polled}"
        time.sleep(3)  # long enough for a bot answer to arrive, were the relay to forward the message
        assert citizen.locator("#log .row.bot").count() == bots_before
        assert _bot_messages_after(live_stack.database_url, conversation_id, question) == []
        screenshot(agent, "agent_conversation.png", full_page=False)
        screenshot(citizen, "citizen_agent_reply.png")
    finally:
        context.close()
