"""Shared fixtures: a fresh data directory per test, and the real data in ../shared when present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
GUIDES_RAW = SHARED_DATA / "guides" / "gxzwfw-fangchenggang-raw"
GUIDES_JSONL = SHARED_DATA / "guides" / "gxzwfw_fangchenggang.jsonl"
SAMPLE_CATALOGUE = ROOT / "knowledge" / "sample" / "catalogue.jsonl"

needs_shared = pytest.mark.skipif(not GUIDES_RAW.is_dir(), reason="../shared/data is absent")


MODEL_FIXTURES = {"live_stack", "browser"}
"""Fixtures that start Rasa with the trained model: a test that uses one is marked ``model``. ``make test``
runs the tests without that mark while Rasa trains, and those with it afterwards (see the Makefile); a test
that starts Rasa by itself carries the mark in its module."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


def _clear_caches() -> None:
    from banshi.config import get_settings
    from banshi.db import get_engine

    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Points every setting at a fresh directory, as a second catalogue beside the first would."""
    monkeypatch.setenv("BANSHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _clear_caches()
    yield tmp_path / "var"
    _clear_caches()


@pytest.fixture
def session(data_dir: Path):
    from banshi.db import migrate, session_scope

    migrate()
    with session_scope() as session:
        yield session


@pytest.fixture(scope="session")
def default_embedder():
    """The backend a deployment gets without settings: the one that scores best on the real catalogue."""
    from banshi.config import Settings
    from retriever import make_embedder

    return make_embedder(Settings().embedder)


@pytest.fixture(scope="session")
def real_catalogue(tmp_path_factory, default_embedder):
    """The real 防城港 platform export imported into a database of its own and indexed: (engine, index)."""
    from banshi.db import make_engine, migrate, session_scope
    from knowledge.importers import import_path
    from retriever import open_index

    if not GUIDES_RAW.is_dir():
        pytest.skip("../shared/data is absent")
    folder = tmp_path_factory.mktemp("real")
    url = f"sqlite:///{folder / 'banshi.db'}"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        report = import_path(session, GUIDES_RAW)
        assert len(report.created) == 781
        index = open_index(session, folder / "index", default_embedder)
    return engine, index


@pytest.fixture(scope="session")
def use_embedder():
    from retriever import make_embedder

    return make_embedder("use")


# The browser tests' fixtures (one stack, one Chromium for all of them); Playwright is imported lazily.
from tests.browser import browser, desk, live_stack, page  # noqa: E402, F401
