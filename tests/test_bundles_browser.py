"""一件事 in Chromium against the whole stack: a citizen describes a life event in their own words and
gets its matters in order and one checklist with no paper listed twice; an editor composes a bundle
in the studio, publishes it, and a citizen's question then finds it."""

from __future__ import annotations

import pytest

from tests.browser import add_staff, screenshot, sign_in
from tests.chat_page import checklist_for, click_choice, offered, open_chat, type_message, whole_conversation

pytestmark = pytest.mark.slow
NEWBORN_MATTERS = ["出生医学证明首次签发", "出生登记（新生儿落户）", "新生儿参加城乡居民医保", "社会保障卡申领"]
RESTAURANT = {
    "bs-gtgsh-sl": "个体工商户设立登记",
    "bs-sp-jyxk": "食品经营许可（新办）",
    "bs-yc-lsxk": "烟草专卖零售许可证新办",
}
NOTE = "开饭店、开餐馆要办的手续：先办个体工商户设立登记，再办食品经营许可；卖烟的还要办烟草专卖零售许可证。"


def _card_lists(card) -> tuple[list[str], list[str]]:
    order = card.locator(".bundle-order li").all_inner_texts()
    names = card.locator(".materials .m-name").evaluate_all("els => els.map(e => e.firstChild.textContent.trim())")
    return order, names


def test_a_citizen_asking_about_a_newborn_gets_the_bundle_and_one_checklist(live_stack, page):
    open_chat(page, live_stack)
    type_message(page, "宝宝出生后要跑哪些手续")
    said = "\n".join(page.locator(".row.bot").all_inner_texts())
    assert "新生儿出生“一件事”" in said and "请按顺序办理" in said, said
    assert [said.index(name) for name in NEWBORN_MATTERS] == sorted(said.index(name) for name in NEWBORN_MATTERS)
    # The same walk-through as for one matter: 有, 没有, then 直接告诉我全部.
    for answer in ("有", "没有", "直接告诉我全部"):
        assert answer in offered(page), (offered(page), page.locator(".row.bot").last.inner_text())
        click_choice(page, answer)
    card = page.locator(".checklist").last
    card.wait_for()
    order, names = _card_lists(card)
    assert len(order) == len(NEWBORN_MATTERS) and all(map(str.startswith, order, NEWBORN_MATTERS)), order
    assert len(names) == len(set(names)) > 10, names  # one combined list: every paper once
    statuses = card.locator(".materials:not(.no-need) li").evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses[:2] == ["have", "missing"], statuses
    shared = card.locator(".shared-by").all_inner_texts()
    assert any("出生登记" in s and "社会保障卡申领" in s for s in shared), shared
    whole_conversation(page)
    screenshot(page, "citizen_bundle_newborn.png")


def test_an_editor_composes_a_bundle_of_three_matters_and_a_citizen_then_finds_it(live_stack, desk, page):
    add_staff(live_stack.database_url, "li", "李编辑", "editor")
    sign_in(desk, live_stack.base_url, "li")
    desk.goto(desk.url.split("#")[0] + "#/matters/new")
    desk.wait_for_selector("#matter-form")
    desk.fill("[data-field='external_id']", "ed-kfd")
    desk.fill("[aria-label='事项名称']", "开饭店“一件事”")
    desk.fill("[aria-label='别名']", "开饭店\n开餐馆")
    desk.fill("[aria-label='实施部门']", "防城港市市场监督管理局")
    desk.fill("[aria-label='一件事包含的事项']", "bs-gtgsh-sl\nbs-nope\nbs-yc-lsxk")
    desk.fill("[aria-label='一件事说明']", NOTE)
    desk.click("#save-publish")
    # A matter that is not in the catalogue is refused beside the field, in Chinese.
    error = desk.locator("[data-field='bundle'] + .field-error")
    error.wait_for()
    assert "bs-nope 不存在" in error.inner_text()
    desk.fill("[aria-label='一件事包含的事项']", "\n".join(RESTAURANT))
    desk.click("#save-publish")
    desk.locator("#toast", has_text="已发布").wait_for()
    desk.locator("#history tr[data-version]").first.wait_for()  # on to the new bundle's own page
    assert desk.locator("[aria-label='一件事包含的事项']").input_value().split() == list(RESTAURANT)
    screenshot(desk, "studio-bundle.png")

    text = checklist_for(page, live_stack, "我要开个饭店，要办哪些手续")
    card = page.locator(".checklist").last
    order, names = _card_lists(card)
    assert "开饭店“一件事”" in text
    assert len(order) == len(RESTAURANT) and all(map(str.startswith, order, RESTAURANT.values())), order
    assert len(names) == len(set(names)), names
    assert names.count("授权委托书") == 1  # needed by all three matters, listed once
