"""The citizen page for elders and keyboard users: 关怀模式, 200 % zoom on a 360-px phone, and a whole
journey with the keyboard alone, focus landing on the next useful control after each bot reply."""

from __future__ import annotations

import pytest

from tests.a11y import blocking_violations
from tests.browser import screenshot
from tests.chat_page import REPLY_TIMEOUT_MS, open_chat, type_message

pytestmark = pytest.mark.slow


def _focused(page) -> dict:
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return { id: e.id, tag: e.tagName, text: (e.textContent || '').trim(), cls: e.className }; }"
    )


def _tab_to(page, wanted, limit: int = 40) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the control; last: {_focused(page)}")


def _wait_reply(page, before: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.row.bot, .row.system').length > n && !document.querySelector('.typing')",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )
    page.wait_for_timeout(200)


def test_a_whole_journey_with_the_keyboard_alone(live_stack, page):
    open_chat(page, live_stack)
    _tab_to(page, lambda f: f["id"] == "input")
    before = page.locator(".row.bot, .row.system").count()
    page.keyboard.type("身份证丢了怎么补办")
    page.keyboard.press("Enter")
    _wait_reply(page, before)
    for _turn in range(6):
        if page.locator(".checklist").count():
            break
        focused = _focused(page)
        assert focused["tag"] == "BUTTON" and "choice" in focused["cls"], f"focus after the reply: {focused}"
        _tab_to(page, lambda f: f["text"] == "直接告诉我全部", limit=6)
        before = page.locator(".row.bot, .row.system").count()
        page.keyboard.press("Enter")
        _wait_reply(page, before)
    assert page.locator(".checklist").count(), "the keyboard journey never reached the checklist"
    assert _focused(page)["id"] == "input", "after the checklist the keyboard is back in the input box"

    page.locator(".rating-card").wait_for()
    _tab_to(page, lambda f: "star" in f["cls"])
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.locator(".star[aria-checked='true']").get_attribute("data-score") == "4"
    _tab_to(page, lambda f: f["text"] == "提交评价", limit=4)
    page.keyboard.press("Enter")
    page.get_by_text("感谢您的评价").wait_for()


def test_elder_mode_is_larger_calmer_and_passes_axe(live_stack, page):
    open_chat(page, live_stack)
    page.click("#care-btn")
    assert page.get_attribute("#care-btn", "aria-pressed") == "true"
    type_message(page, "身份证丢了怎么补办")
    bubble = page.locator(".row.bot .bubble").last
    size = float(bubble.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
    assert size >= 18, f"elder mode body text is {size}px"
    choice = page.locator(".choices button:not([disabled])").last
    assert choice.bounding_box()["height"] >= 48, "tap targets are at least 48 px high"
    assert not blocking_violations(page)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.get_attribute("#care-btn", "aria-pressed") == "true", "the choice is kept on this device"
    screenshot(page, "citizen_elder_mode.png", full_page=False)


def test_200_percent_zoom_on_a_360_px_phone(live_stack, browser):
    """200 % zoom on a 360-px-wide phone is a 180-CSS-px viewport at twice the pixel density."""
    context = browser.new_context(viewport={"width": 180, "height": 400}, device_scale_factor=4, locale="zh-CN")
    page = context.new_page()
    try:
        open_chat(page, live_stack)
        type_message(page, "身份证丢了怎么补办")
        page.locator("#rate-btn").click()
        page.locator(".rating-card").wait_for()
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"), "no sideways scroll"
        title = page.locator(".bar h1").bounding_box()
        for button in ("#care-btn", "#rate-btn", "#human-btn"):
            box = page.locator(button).bounding_box()
            overlap = not (
                box["x"] >= title["x"] + title["width"]
                or box["x"] + box["width"] <= title["x"]
                or box["y"] >= title["y"] + title["height"]
                or box["y"] + box["height"] <= title["y"]
            )
            assert not overlap, f"{button} overlaps the title"
        for star in page.locator(".rating-card .star").all():
            box = star.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 181, "every star is on screen"
        screenshot(page, "citizen_zoom_200_360px.png", full_page=False)
    finally:
        context.close()
