"""The studio's 数据看板 in Debian's Chromium: an editor signs in, opens #/dashboard and sees real charts.

Needs only the gateway over a fresh database seeded like tests/test_dashboard.py: the charts must hold
the seeded figures, the headline cards must say them, the overdue list must mask phone and ID numbers,
the 7/30/90-day selector must redraw, and nothing may be fetched from outside the gateway (the studio
runs on offline intranets; Chart.js is vendored). Screenshot: tests/artifacts/studio-dashboard.png.
Skips cleanly without /usr/bin/chromium or Playwright (see tests/browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from banshi.stack import Ports, running, services
from tests.browser import LiveStack, add_staff, screenshot, seed, sign_in
from tests.rasa_stack import stack_environment
from tests.services import free_port
from tests.test_dashboard import EXPECTED, ID_NUMBER, PHONE, seed_dashboard

pytestmark = pytest.mark.slow
PASSWORD = "editor pass 123"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[tuple[LiveStack, dict]]:
    """The gateway alone over a fresh database holding the dashboard's seed: no Rasa is needed to read figures."""
    data_dir = tmp_path_factory.mktemp("dashboard") / "var"
    data_dir.mkdir(parents=True)
    ports = Ports(gateway=free_port(), rasa=free_port(), actions=free_port())
    env = stack_environment(data_dir, ports)
    ids = seed(env["DATABASE_URL"], seed_dashboard)
    add_staff(env["DATABASE_URL"], "wang", "王编辑", "editor", PASSWORD)
    only_gateway = [s for s in services(ports=ports) if s.name == "gateway"]
    with running(only_gateway, env, data_dir / "logs"):
        yield LiveStack(f"http://127.0.0.1:{ports.gateway}", data_dir, env), ids


def _chart(page, canvas_id: str) -> dict:
    """What the Chart.js instance on that canvas holds (labels and every dataset's numbers)."""
    return page.evaluate(
        """(id) => {
            const chart = Chart.getChart(document.getElementById(id));
            if (!chart) return null;
            return { type: chart.config.type, labels: chart.data.labels,
                     datasets: chart.data.datasets.map((d) => ({ label: d.label ?? null, data: d.data })) };
        }""",
        canvas_id,
    )


def _figure(page, key: str) -> str:
    return page.inner_text(f"[data-figure={key}] .figure-value").strip()


def test_editor_sees_the_dashboard_charts(gateway, desk):
    stack, ids = gateway
    page = desk
    outside: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(stack.base_url) else outside.append(request.url))

    sign_in(page, stack.base_url, "wang", PASSWORD)
    page.click("#nav a[data-view=dashboard]")
    page.wait_for_selector("#dash-charts canvas")
    page.wait_for_function("['chart-per-day', 'chart-tickets'].every((id) => Chart.getChart(id))")

    canvases = page.eval_on_selector_all("#dash-charts canvas", "els => els.map((e) => e.id)")
    assert canvases == ["chart-per-day", "chart-outcomes", "chart-matters", "chart-unanswered", "chart-ratings",
                        "chart-tickets"]  # fmt: skip
    assert page.evaluate("[...document.querySelectorAll('#dash-charts canvas')].every((c) => c.width > 100)")

    per_day = _chart(page, "chart-per-day")
    assert per_day["type"] == "line" and len(per_day["labels"]) == 30
    active, started = per_day["datasets"]
    assert sum(active["data"]) == EXPECTED["active"] and sum(started["data"]) == EXPECTED["started"]
    assert active["data"][-1] == 2 and started["data"][-1] == 3, "today's point"

    outcomes = _chart(page, "chart-outcomes")
    assert outcomes["type"] == "doughnut"
    assert outcomes["labels"][:4] == ["转人工", "已解答", "已登记工单", "未解答"]
    assert outcomes["datasets"][0]["data"] == list(EXPECTED["outcomes"].values())

    matters = _chart(page, "chart-matters")
    assert matters["labels"] == ["居民身份证换领", "住房公积金提取"] and matters["datasets"][0]["data"] == [2, 1]

    unanswered = _chart(page, "chart-unanswered")
    # the gateway groups with its default embedder, which may or may not join the park question to the cat
    assert sum(unanswered["datasets"][0]["data"]) == 3 and unanswered["datasets"][0]["data"][0] >= 2
    assert unanswered["labels"][0].startswith("我家猫走丢了")

    assert _chart(page, "chart-ratings")["datasets"][0]["data"] == EXPECTED["ratings"]

    tickets = _chart(page, "chart-tickets")
    assert tickets["labels"] == ["咨询", "求助", "投诉", "举报", "建议"]
    assert tickets["datasets"][0]["label"] == "待受理"
    assert sum(sum(d["data"]) for d in tickets["datasets"]) == EXPECTED["tickets"]

    assert _figure(page, "active") == str(EXPECTED["active"])
    assert _figure(page, "answered") == "60.0%" and _figure(page, "handed_off") == "20.0%"
    assert _figure(page, "rating") == str(EXPECTED["average"])
    assert _figure(page, "overdue") == str(EXPECTED["overdue"])
    row = page.locator(f"#dash-overdue tr[data-number='{ids['late_number']}']")
    assert "138****1234" in row.inner_text() and "已超时" in row.inner_text()
    text = page.inner_text("#view")
    assert PHONE not in text and ID_NUMBER not in text, "nothing listed shows a whole phone or ID number"

    page.wait_for_timeout(500)  # let the 300 ms draw animation finish for the screenshot
    screenshot(page, "studio-dashboard.png")

    page.select_option("#dash-days", "7")
    page.wait_for_function("location.hash === '#/dashboard/7'")
    page.wait_for_function("Chart.getChart('chart-per-day')?.data.labels.length === 7")
    assert sum(_chart(page, "chart-per-day")["datasets"][0]["data"]) == EXPECTED["active"], "all seeded in 3 days"
    assert page.evaluate("Object.keys(Chart.instances).length") == 6, "the previous charts were destroyed"
    assert outside == [], f"the studio fetched from outside the gateway: {outside}"
