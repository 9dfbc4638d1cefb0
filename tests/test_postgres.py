"""The same catalogue code on PostgreSQL, chosen only by DATABASE_URL."""

from __future__ import annotations

import json

import pytest

from tests.services import postgres, postgres_bindir
from tests.test_importer import matter, write_jsonl

pytestmark = pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL is not installed")


@pytest.fixture(scope="module")
def postgres_url():
    with postgres() as url:
        yield url


@pytest.fixture
def pg_settings(postgres_url, data_dir, monkeypatch):
    from tests.conftest import _clear_caches

    monkeypatch.setenv("DATABASE_URL", postgres_url)
    _clear_caches()
    return postgres_url


def test_import_publish_and_catch_up_on_postgres(pg_settings, tmp_path, use_embedder):
    from banshi.db import get_engine, migrate, session_scope
    from knowledge import store
    from knowledge.importers import import_path
    from retriever import HybridIndex, catch_up, rebuild

    migrate()
    assert get_engine().dialect.name == "postgresql"
    source = write_jsonl(tmp_path / "c.jsonl", [matter("a"), matter("b", name="城乡居民养老保险参保登记")])
    with session_scope() as session:
        assert len(import_path(session, source).created) == 2
    with session_scope() as session:
        assert len(import_path(session, source).unchanged) == 2
        index = HybridIndex(use_embedder)
        rebuild(session, index)
    assert len(index) == 2

    changed = matter("c", name="失业保险金申领", aliases=["领失业金"])
    with session_scope() as session:
        import_path(session, write_jsonl(tmp_path / "d.jsonl", [changed]))
        assert store.delete_matter(session, "a", author="editor")
    with session_scope() as session:
        assert catch_up(session, index) == 2
        assert index.search("失业了怎么领钱").hits[0].external_id == "c"
        assert "a" not in index.external_ids()
        snapshot = json.dumps(store.published(session)[0].model_dump(mode="json"), ensure_ascii=False)
    assert "防城港" in snapshot


def test_a_publish_waits_for_an_earlier_one_so_the_change_log_commits_in_order(pg_settings, tmp_path):
    """Without the wait, the later publish would commit first and an index catching up in between would
    move past the earlier entry's ``seq`` and never apply it."""
    import threading

    from banshi.db import migrate, session_scope
    from knowledge import store
    from knowledge.importers import import_path
    from knowledge.models import CatalogueChange
    from knowledge.schema import MatterIn

    migrate()
    pension = "城乡居民养老保险参保登记"
    with session_scope() as session:
        import_path(session, write_jsonl(tmp_path / "c.jsonl", [matter("x"), matter("y", name=pension)]))

    second_done = threading.Event()

    def publish_second() -> None:
        with session_scope() as other:
            store.save_matter(other, MatterIn(**matter("y", name=pension, aliases=["养老保险"])), author="li")
        second_done.set()

    with session_scope() as first:
        store.save_matter(first, MatterIn(**matter("x", aliases=["首次改动"])), author="wang")
        first.flush()  # its change-log row has its seq now, uncommitted
        worker = threading.Thread(target=publish_second)
        worker.start()
        assert not second_done.wait(1.0), "the second publish committed before the first"
    worker.join(10)
    assert second_done.is_set()
    with session_scope() as session:
        order = [c.external_id for c in session.query(CatalogueChange).order_by(CatalogueChange.seq)]
    assert order[-2:] == ["x", "y"]
