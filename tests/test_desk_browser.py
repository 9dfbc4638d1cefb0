"""The desk in Debian's Chromium, on the gateway alone (Rasa is not needed: 转人工 goes on without it).

A citizen presses 转人工 and is promised a reply within the desk's minutes; an agent switches to 在线 and
the citizen is theirs at once (the citizen's page says so live); the supervisor's board shows the
conversation and the agent's load; the agent stays silent, so the desk's clock gives the citizen back
to the queue, sets the agent 离开 (未应答), and the board shows both. The answer clock is shortened to
a few seconds here (``BANSHI_DESK_ANSWER_MINUTES``). Screenshot: tests/artifacts/desk_board.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from banshi.stack import Ports, running, services
from tests.a11y import blocking_violations
from tests.browser import DESKTOP, LiveStack, add_staff, screenshot, seed, sign_in
from tests.rasa_stack import stack_environment
from tests.services import free_port

pytestmark = pytest.mark.slow
PASSWORD = "desk pass 123"
ANSWER_SECONDS = 6


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[LiveStack]:
    data_dir = tmp_path_factory.mktemp("desk") / "var"
    data_dir.mkdir(parents=True)
    ports = Ports(gateway=free_port(), rasa=free_port(), actions=free_port())
    env = {
        **stack_environment(data_dir, ports),
        "BANSHI_DESK_TICK_SECONDS": "1",
        "BANSHI_DESK_ANSWER_MINUTES": str(ANSWER_SECONDS / 60),
        "BANSHI_DESK_HOURS": "[]",
    }
    seed(env["DATABASE_URL"], lambda session: None)
    only_gateway = [s for s in services(ports=ports) if s.name == "gateway"]
    with running(only_gateway, env, data_dir / "logs"):
        yield LiveStack(f"http://127.0.0.1:{ports.gateway}", data_dir, env)


def test_the_desk_assigns_takes_back_an_unanswered_citizen_and_the_board_shows_it(gateway, browser, page):
    add_staff(gateway.database_url, "qian", "钱坐席", "agent", PASSWORD)
    add_staff(gateway.database_url, "sun", "孙班长", "supervisor", PASSWORD)

    page.goto(gateway.url("/"))
    page.click("#human-btn")
    page.get_by_text("坐席将在5分钟内在这里回复您").wait_for()

    agent_context, lead_context = browser.new_context(**DESKTOP), browser.new_context(**DESKTOP)
    try:
        agent, lead = agent_context.new_page(), lead_context.new_page()
        for staff_page in (agent, lead):
            staff_page.set_default_timeout(20_000)
        sign_in(agent, gateway.base_url, "qian", PASSWORD, at="/console")
        assert agent.locator("#board-open").is_hidden(), "the board is for supervisors"
        assert agent.get_attribute("#desk-status", "aria-pressed") == "false"
        agent.click("#desk-status")
        agent.wait_for_selector("#desk-status[aria-pressed=true]")
        agent.locator("#my-handoff-list li[data-kind=handoff]").wait_for()
        assert "会话 1/5" in agent.inner_text("#desk-load")
        assert blocking_violations(agent) == [], "the console with the switch on"
        page.get_by_text("人工客服钱坐席已接入").wait_for()  # the citizen's page, live

        sign_in(lead, gateway.base_url, "sun", PASSWORD, at="/console")
        lead.click("#board-open")
        lead.wait_for_selector("#board-talking tr[data-id]")
        assert "钱坐席" in lead.inner_text("#board-talking")
        qian = lead.locator("#board-agents tr", has_text="钱坐席")
        assert "在线" in qian.inner_text() and "1/5" in qian.inner_text()
        assert blocking_violations(lead, "#board-pane") == []

        # Nobody answers: back in the queue within the clock and a tick, the agent set away, the board says so.
        lead.locator("#board-waiting tr.risk", has_text="钱坐席未应答").wait_for(timeout=(ANSWER_SECONDS + 15) * 1000)
        lead.locator("#board-agents tr.risk", has_text="未应答").wait_for()
        agent.wait_for_selector("#desk-status[aria-pressed=false]")
        assert "未应答" in agent.inner_text("#desk-load")
        page.get_by_text("正在为您转接其他人工客服").wait_for()
        screenshot(lead, "desk_board.png")
    finally:
        agent_context.close()
        lead_context.close()
