"""Every page passes axe-core with no serious or critical violation, in the states a user sees them in.

The citizen page before and after a checklist and a ticket; the widget on a host page; the agent
console with a conversation and a ticket open; every studio section. Needs the live stack (the
trained model), Chromium and axe-core; skips cleanly without them.
"""

from __future__ import annotations

import pytest

from tests.a11y import blocking_violations
from tests.browser import add_staff, sign_in
from tests.chat_page import checklist_for, click_choice, offered, open_chat, type_message

pytestmark = pytest.mark.slow
STUDIO_SECTIONS = ["matters", "import", "hittest", "unanswered", "faqs", "dashboard", "audit"]


def assert_accessible(page, where: str) -> None:
    found = blocking_violations(page)
    assert not found, f"{where}:\n" + "\n".join(found)


def test_the_citizen_page_before_and_after_a_checklist_and_a_ticket(live_stack, page):
    open_chat(page, live_stack)
    assert_accessible(page, "citizen page, new conversation")

    checklist_for(page, live_stack, "身份证丢了怎么补办")
    page.locator(".rating-card").wait_for()
    assert_accessible(page, "citizen page after a checklist (with the rating card)")

    type_message(page, "我要投诉港口区渔洲坪路口的路灯坏了一个月没人修")
    answers = {"什么地点": "港口区渔洲坪路口", "什么时候": "上个月开始", "怎么称呼": "匿名", "手机号码": "13800138000"}
    for _turn in range(8):
        if "确认提交" in offered(page):
            break
        question = page.locator(".row.bot").last.inner_text()
        type_message(page, next(a for cue, a in answers.items() if cue in question))
    click_choice(page, "确认提交")
    page.locator(".ticket-card .ticket-number").last.wait_for()
    assert_accessible(page, "citizen page after a ticket")


def test_the_agent_console_with_a_conversation_and_a_ticket_open(live_stack, page, desk):
    open_chat(page, live_stack)
    type_message(page, "社保卡丢了怎么办")
    page.click("#human-btn")
    page.get_by_text("您已进入人工客服排队").wait_for()

    add_staff(live_stack.database_url, "a11y-agent", "无障碍坐席", "agent")
    sign_in(desk, live_stack.base_url, "a11y-agent", at="/console")
    assert_accessible(desk, "console, queues")
    desk.locator("#handoff-list li").first.click()
    desk.locator("#conv-messages > li").first.wait_for()
    assert_accessible(desk, "console, a conversation open")
    tickets = desk.locator("#ticket-list li")
    if tickets.count():
        tickets.first.click()
        desk.wait_for_timeout(500)
        assert_accessible(desk, "console, a ticket open")


def test_every_studio_section(live_stack, desk):
    add_staff(live_stack.database_url, "a11y-admin", "无障碍管理员", "admin")
    sign_in(desk, live_stack.base_url, "a11y-admin")
    for section in STUDIO_SECTIONS:
        desk.goto(f"{live_stack.base_url}/studio#/{section}")
        desk.wait_for_load_state("networkidle")
        desk.wait_for_timeout(300)
        assert_accessible(desk, f"studio #/{section}")
    desk.goto(f"{live_stack.base_url}/studio#/matters/bs-bdc-cx")
    desk.wait_for_selector("#matter-form")
    assert_accessible(desk, "studio, a matter's editor")
