"""Browser tests' shared fixtures: the whole stack (action server, Rasa, gateway) as `banshi up` starts it,
over a fresh data dir holding the imported sample catalogue, and Debian's Chromium driven by Playwright.

    from tests.browser import browser, live_stack, page, screenshot  # noqa: F401  (fixtures)

    def test_something(live_stack, page):
        page.goto(live_stack.url("/"))

`live_stack` and `browser` are session-scoped: one stack and one browser serve every test that uses them
through tests/conftest.py (which imports them); the chat API, WeChat and dialogue tests use the same
stack without a browser (``LiveStack.webhook``, ``LiveStack.in_process``). The browser skips cleanly
without /usr/bin/chromium or Playwright, the stack without the trained dialogue model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from banshi.stack import ROOT, Ports, running, services
from tests.rasa_stack import import_catalogue, stack_environment, trained_model
from tests.services import free_port

CHROMIUM = Path(os.environ.get("BANSHI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts"
DESKTOP = {
    "viewport": {"width": 1366, "height": 900},
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
    "device_scale_factor": 1,
}
"""Staff work at a desk: the agent console and the studio are desktop pages."""
STAFF_PASSWORD = "staff pass 123"


@dataclass(frozen=True)
class LiveStack:
    """Where the running stack is: its gateway's base URL and the environment of its processes.

    ``env`` holds BANSHI_DATA_DIR / DATABASE_URL, so a test can seed the same database in-process
    (e.g. an agent account) with ``pytest.MonkeyPatch`` + ``get_settings.cache_clear()``.
    """

    base_url: str
    data_dir: Path
    env: dict[str, str]
    ports: Ports | None = None
    processes: dict = field(default_factory=dict)
    """Service name -> its ``subprocess.Popen`` (the process-safety tests look at what each one listens on)."""

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @property
    def webhook(self) -> str:
        """Rasa's REST channel, for tests that talk to the dialogue without the gateway."""
        return self.env["BANSHI_RASA_URL"] + "/webhooks/rest/webhook"

    @contextmanager
    def in_process(self, **settings: str) -> Iterator[None]:
        """This process's settings point at the stack (its data dir, database and Rasa) while inside:
        a ``TestClient(create_app())`` made there is one more gateway replica of the same stack."""
        from banshi.config import get_settings
        from banshi.db import get_engine

        wanted = {k: self.env[k] for k in ("BANSHI_DATA_DIR", "DATABASE_URL", "BANSHI_RASA_URL")} | settings
        with pytest.MonkeyPatch.context() as patch:
            for name, value in wanted.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            get_engine.cache_clear()
            try:
                yield
            finally:
                get_settings.cache_clear()
                get_engine.cache_clear()


def _skip_unless_ready() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright is not installed in .venv")
    model = trained_model()
    return model


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """One stack for the whole run: the browser tests, the chat API, WeChat and the dialogue tests share it
    (each Rasa start costs a minute on 2 cores). Tests on it use their own conversations and accounts."""
    model = trained_model()
    data_dir = tmp_path_factory.mktemp("browser-stack") / "var"
    data_dir.mkdir(parents=True)
    import_catalogue(data_dir)
    ports = Ports(gateway=free_port(), rasa=free_port(), actions=free_port())
    env = stack_environment(data_dir, ports)
    # A 2-core box running several stacks at once may need longer: BANSHI_STARTUP_TIMEOUT (banshi.stack).
    with running(services(model.resolve(), ports), env, data_dir / "logs") as started:
        yield LiveStack(f"http://127.0.0.1:{ports.gateway}", data_dir, env, ports, started)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    _skip_unless_ready()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh context (no cookies, no localStorage) with a phone-sized viewport and Chinese locale."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(30_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture
def desk(browser) -> Iterator:
    """A fresh desktop-sized context for a staff member (no cookies: they sign in themselves)."""
    context = browser.new_context(**DESKTOP)
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def seed(database_url: str, work) -> object:
    """Runs ``work(session)`` against a running stack's own database, as another process would."""
    from banshi.db import make_engine, migrate, session_scope

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            return work(session)
    finally:
        engine.dispose()


def add_staff(database_url: str, username: str, name: str, role: str, password: str = STAFF_PASSWORD) -> None:
    """A staff account in the stack's database (kept if it exists: the stack is shared between tests)."""
    from channels.accounts import UserIn, create_user, get_user

    def work(session):
        if get_user(session, username) is None:
            create_user(session, UserIn(username=username, display_name=name, role=role, password=password))

    seed(database_url, work)


@contextmanager
def staff_api(
    stack: LiveStack,
    username: str,
    name: str,
    role: str = "editor",
    password: str = STAFF_PASSWORD,
    *,
    timeout: float = 30,
) -> Iterator:
    """An ``httpx.Client`` signed in as this staff member (created if new): another desk, through the API."""
    import httpx

    add_staff(stack.database_url, username, name, role, password)
    with httpx.Client(base_url=stack.base_url, timeout=timeout) as client:
        client.post("/api/v1/auth/login", json={"username": username, "password": password}).raise_for_status()
        yield client


def sign_in(page, base_url: str, username: str, password: str = STAFF_PASSWORD, *, at: str = "/studio") -> None:
    """Signs in on a staff page (``/studio`` or ``/console``) through its form, as a person does."""
    page.goto(base_url + at)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#studio-view:not([hidden])" if at == "/studio" else "#console-view:not([hidden])")


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Saves ``tests/artifacts/<name>`` (git-ignored) and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path
