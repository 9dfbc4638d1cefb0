"""Every page works on a machine with no way out: a government intranet, or a laptop offline.

Chromium is given the whole stack on 127.0.0.1 and nothing else: any request to another host is
aborted and recorded. Each page (the citizen chat, the widget on a host page, the agent console, each
studio section, the API docs) must load, draw itself, log no console error and have no failed request.
``/docs`` loaded Swagger UI from a CDN and stayed blank offline; it must now show the operations.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import DESKTOP, STAFF_PASSWORD, add_staff, screenshot
from tests.test_citizen_browser import host_site

pytestmark = pytest.mark.slow
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
STUDIO_SECTIONS = ("matters", "import", "hittest", "unanswered", "faqs", "dashboard", "audit")


class Offline:
    """A browser context cut off from everything but loopback, recording what went wrong on its pages."""

    def __init__(self, browser, **options):
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(30_000)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    def _route(self, route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location.get('url')}")

    def _request_failed(self, request) -> None:
        # A live stream (server-sent events) is cut when the page moves on: that is not a failure.
        if request.failure == "net::ERR_ABORTED" and request.resource_type == "eventsource":
            return
        self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def sign_in(self, base_url: str, username: str) -> None:
        """Through the API (cookie shared with the pages), so no page starts with a 401 from /auth/me."""
        response = self.context.request.post(
            base_url + "/api/v1/auth/login", data={"username": username, "password": STAFF_PASSWORD}
        )
        assert response.ok, response.text()

    def settle(self, ms: int = 1200) -> None:
        self.page.wait_for_timeout(ms)

    def assert_clean(self, where: str) -> None:
        problems = [f"blocked: {u}" for u in self.blocked] + self.errors + self.failed
        assert not problems, f"{where}:\n" + "\n".join(problems)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def offline(browser):
    made = []

    def make(**options) -> Offline:
        made.append(Offline(browser, **options))
        return made[-1]

    yield make
    for context in made:
        context.close()


def test_the_citizen_pages_need_nothing_from_outside(live_stack, offline):
    phone = offline(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.page.goto(live_stack.url("/"))
    phone.page.wait_for_selector("body[data-ready='1']")
    assert phone.page.locator("#status").inner_text() == "智能助手在线"
    phone.settle()
    phone.assert_clean("/")


def test_the_widget_needs_nothing_from_outside(live_stack, offline):
    # The widget on a host page: the host site is whatever it is, the widget's files come from the gateway.
    host = offline(**DESKTOP)
    html = f"<html><body><h1>某市政务服务网</h1><script src='{live_stack.url('/widget.js')}'></script></body></html>"
    with host_site(html) as site:
        host.page.goto(site)
        host.page.locator(".banshi-widget-btn").click()
        frame = host.page.frame_locator("iframe.banshi-widget-panel")
        frame.locator("#status", has_text="智能助手在线").wait_for()
        host.settle()
    host.assert_clean("the widget")


def test_the_staff_pages_need_nothing_from_outside(live_stack, offline):
    add_staff(live_stack.database_url, "offline_admin", "离线管理员", "admin")
    desk = offline(**DESKTOP)
    desk.sign_in(live_stack.base_url, "offline_admin")

    desk.page.goto(live_stack.url("/console"))
    desk.page.wait_for_selector("#console-view:not([hidden])")
    desk.settle()
    desk.assert_clean("/console")

    desk.page.goto(live_stack.url("/studio"))
    desk.page.wait_for_selector("#studio-view:not([hidden])")
    for section in STUDIO_SECTIONS:
        desk.page.locator(f"#nav a[data-view='{section}']").click()
        desk.page.wait_for_selector(f"#nav a.active[data-view='{section}']")
        desk.page.wait_for_function("document.querySelector('#view').children.length > 0")
        desk.settle()
        desk.assert_clean(f"/studio#/{section}")


def test_the_api_docs_render_offline(live_stack, offline):
    desk = offline(**DESKTOP)
    desk.page.goto(live_stack.url("/docs"))
    operations = desk.page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() >= 40, "Swagger UI lists the API's operations"
    assert desk.page.get_by_text("开始一个会话").first.is_visible()
    desk.settle()
    screenshot(desk.page, "docs-offline.png", full_page=False)
    desk.assert_clean("/docs")
