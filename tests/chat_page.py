"""Driving the citizen's chat page as a person does: open it, type, click the bot's buttons, wait for replies.

Shared by every browser test that has a citizen in it (the chat page's own tests and the studio's
scenarios, where a citizen checks what an editor just published).
"""

from __future__ import annotations

import re

REPLY_TIMEOUT_MS = 120_000


def open_chat(page, live_stack) -> None:
    page.goto(live_stack.url("/"))
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#status").inner_text() == "智能助手在线"


def wait_for_reply(page, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.row.bot, .row.system').length > n && !document.querySelector('.typing')",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )


def type_message(page, text: str) -> None:
    before = page.locator(".row.bot, .row.system").count()
    page.fill("#input", text)
    page.press("#input", "Enter")
    wait_for_reply(page, before)


def click_choice(page, title: str) -> None:
    before = page.locator(".row.bot, .row.system").count()
    page.locator(".choices button:not([disabled])", has_text=re.compile(f"^{re.escape(title)}$")).last.click()
    wait_for_reply(page, before)


def offered(page) -> list[str]:
    return page.locator(".choices button:not([disabled])").all_inner_texts()


def whole_conversation(page) -> None:
    """The log scrolls inside a phone-high page: make the phone tall enough to show all of it at once."""
    height = page.evaluate("document.getElementById('log').scrollHeight + 140")
    page.set_viewport_size({"width": 390, "height": min(int(height), 6000)})
    page.wait_for_timeout(100)


def checklist_for(page, live_stack, question: str) -> str:
    """Asks (in this browser's conversation) and skips to the 一次告知 checklist; returns the checklist card's text."""
    open_chat(page, live_stack)
    earlier = page.locator(".checklist").count()  # the page restores this browser's last conversation
    type_message(page, question)
    for _turn in range(10):
        if page.locator(".checklist").count() > earlier:
            break
        choices = offered(page)
        assert "直接告诉我全部" in choices, (choices, page.locator(".row.bot").last.inner_text())
        click_choice(page, "直接告诉我全部")
    card = page.locator(".checklist").last
    card.wait_for()
    return card.inner_text()
