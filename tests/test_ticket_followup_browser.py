"""The hotline closes the loop, in Debian's Chromium against the whole stack (real Rasa, action server, gateway):

A citizen asks the chat page about a ticket the department has finished (已办结), with its number and the
phone it was filed with; the card's title says it is finished, and it shows the 办理结果 and the handling
department. The citizen rates it (回访 满意度) with the card's stars; an agent in the console then finds the
ticket and reads the rating and that the citizen gave it in the chat. Along the way the console keeps the
open ticket in the list after a search for another one and folds the long complaint. Screenshots go to
tests/artifacts/followup-*.png.
"""

from __future__ import annotations

import pytest

from tests.a11y import blocking_violations
from tests.browser import add_staff, screenshot, seed, sign_in
from tests.chat_page import open_chat, type_message

pytestmark = pytest.mark.slow
PASSWORD = "agent pass 123"
PHONE = "13766005511"
RESOLUTION = "经港口区城管局现场核查，已责令施工单位晚上十点后停止施工，并安排夜间巡查两周。"
DEPARTMENT = "港口区城市管理局"
LONG_CONTENT = "小区旁边的工地每天晚上十一点以后还在打桩，" * 12


def _file_and_finish(database_url: str) -> tuple[str, str]:
    """A ticket filed, dispatched and finished by 孙坐席 (as the desk would), and another one still open."""
    from channels.accounts import get_user
    from hotline import lifecycle
    from hotline.lifecycle import Actor
    from hotline.tickets import TicketIn, create_ticket

    def work(session):
        actor = Actor.model_validate(get_user(session, "sun"))
        item = create_ticket(session, TicketIn(type="投诉", content=LONG_CONTENT, location="港口区渔洲坪", phone=PHONE))
        lifecycle.accept(session, item, actor)
        lifecycle.dispatch(session, item, actor, DEPARTMENT)
        lifecycle.start(session, item, actor)
        lifecycle.resolve(session, item, actor, RESOLUTION)
        other = create_ticket(session, TicketIn(type="求助", content="路灯不亮已经一周", phone="13766005522"))
        return item.number, other.number

    return seed(database_url, work)


def test_a_citizen_hears_the_result_rates_it_and_the_agent_sees_the_rating(live_stack, page, desk):
    add_staff(live_stack.database_url, "sun", "孙坐席", "agent", PASSWORD)
    number, other = _file_and_finish(live_stack.database_url)

    # The citizen asks with the number, then gives the phone the ticket was filed with.
    open_chat(page, live_stack)
    type_message(page, f"查询工单 {number}")
    type_message(page, PHONE)
    card = page.locator(f".ticket-card[data-number='{number}']").last
    card.wait_for()
    assert card.locator(".card-kicker").inner_text() == "12345 工单已办结", "the title follows the status"
    assert "已登记" not in card.inner_text()
    assert RESOLUTION in card.inner_text() and DEPARTMENT in card.inner_text()
    said = page.locator(".row.bot .bubble").all_inner_texts()
    assert any(RESOLUTION in text and DEPARTMENT in text for text in said), "the reply says it in words too"
    assert blocking_violations(page, ".ticket-card") == []

    card.locator(".star[data-score='4']").click()
    card.locator(".ticket-rated", has_text="已提交").wait_for()
    assert "4 分（满意）" in card.locator(".ticket-rated").inner_text()
    assert card.locator(".card-kicker").inner_text() == "12345 工单已回访" and "当前状态：已回访" in card.inner_text()
    page.locator(".row.system", has_text=f"工单 {number} 的满意度").wait_for()
    screenshot(page, "followup-citizen.png")

    # The agent finds the ticket and reads the rating the citizen gave.
    sign_in(desk, live_stack.base_url, "sun", PASSWORD, at="/console")
    desk.locator(f"#ticket-list li[data-number='{other}']").wait_for()  # the queue has loaded
    desk.fill("#search-text", number)
    desk.click("#search-form button[type=submit]")
    desk.locator(f"#ticket-list li[data-number='{number}']").click()
    desk.wait_for_selector(f"#t-number:text('{number}')")
    fields = desk.locator("#t-fields")
    assert "4 分（满意），市民在对话中评价" in fields.inner_text()
    assert RESOLUTION in fields.inner_text()
    assert desk.locator("#t-status").inner_text() == "已回访"
    last = desk.locator("#t-events li").last
    assert "回访" in last.inner_text() and "市民" in last.inner_text() and "满意度 4 分" in last.inner_text()

    # The long complaint folds and unfolds.
    content = fields.locator(".foldable").first
    assert LONG_CONTENT not in content.inner_text() and "…" in content.inner_text()
    content.locator("button.fold").click()
    assert LONG_CONTENT in content.inner_text() and content.locator("button.fold").inner_text() == "收起"

    # A search for another ticket keeps the open one in the list.
    desk.fill("#search-text", other)
    desk.click("#search-form button[type=submit]")
    desk.locator(f"#ticket-list li[data-number='{other}']").wait_for()
    pinned = desk.locator(f"#ticket-list li[data-number='{number}']")
    assert pinned.is_visible() and "当前打开" in pinned.inner_text()
    screenshot(desk, "followup-console.png", full_page=False)
