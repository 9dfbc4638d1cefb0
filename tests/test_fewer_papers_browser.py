"""最多跑一次 on the citizen page: what the citizen need not bring is set apart, with the papers saved."""

from __future__ import annotations

import pytest

from tests.browser import screenshot
from tests.chat_page import click_choice, offered, open_chat, type_message, whole_conversation

pytestmark = pytest.mark.slow
MATTER = "个体工商户注销登记"


def test_shared_and_exempt_materials_are_set_apart_with_the_papers_saved(live_stack, page):
    open_chat(page, live_stack)
    type_message(page, "个体工商户注销登记要带什么材料")
    for _turn in range(8):
        if page.locator(".checklist").count():
            break
        choices = offered(page)
        assert MATTER in choices or "直接告诉我全部" in choices, (choices, page.locator(".row.bot").last.inner_text())
        click_choice(page, MATTER if MATTER in choices else "直接告诉我全部")
    card = page.locator(".checklist").last
    card.wait_for()
    text = card.inner_text()
    assert "为您省去 2 份材料" in text
    spared = card.locator(".no-need li").all_inner_texts()
    assert len(spared) == 2
    assert any("经营者居民身份证" in s and "部门通过数据共享获取" in s for s in spared), spared
    assert any("清税证明" in s and "免提交" in s for s in spared), spared
    to_bring = card.locator(".materials:not(.no-need) li").all_inner_texts()
    assert len(to_bring) == 4 and any("营业执照" in m and "可用电子证照" in m for m in to_bring), to_bring
    for name in ("营业执照正、副本", "经营者居民身份证", "清税证明", "授权委托书"):
        assert text.count(name) == 1, f"{name} is listed once"
    whole_conversation(page)
    screenshot(page, "citizen_fewer_papers.png")
