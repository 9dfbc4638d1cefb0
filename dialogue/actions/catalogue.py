"""Process-wide access to the catalogue and the database from the action server.

The index is loaded once per process, on first use, because loading the embedder is the slow part;
before every search it replays the catalogue change log (``catch_up``), which is cheap when nothing
changed, so a matter published by an editor is found by the very next question.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from knowledge.faqs import FaqMatch
    from knowledge.schema import MatterIn
    from retriever import HybridIndex, SearchResult

_lock = threading.Lock()
_index: HybridIndex | None = None
_migrated = False


def get_index() -> HybridIndex:
    """The process's index, loaded (and the schema migrated) on first call."""
    global _index, _migrated
    with _lock:
        if _index is None:
            from banshi.runtime import load_index

            _index = load_index()
            _migrated = True
        return _index


def ensure_schema() -> None:
    """Ticket actions may run before any search: make sure the tables exist."""
    global _migrated
    with _lock:
        if not _migrated:
            from banshi.db import migrate

            migrate()
            _migrated = True


@contextmanager
def session() -> Iterator[Session]:
    from banshi.db import session_scope

    ensure_schema()
    with session_scope() as db:
        yield db


def search(query: str, k: int = 5, *, region: str | None = None, keyword_only: bool = False) -> SearchResult:
    """Searches the published catalogue after replaying changes; keyword-only skips the slow embedding."""
    from retriever import catch_up

    index = get_index()
    with session() as db:
        catch_up(db, index)
    return index.search(query, k, region=region or None, mode="bm25" if keyword_only else "hybrid")


def get_matter(external_id: str | None) -> MatterIn | None:
    """A published matter by external id, or None when it is unknown, a draft or withdrawn."""
    if not external_id:
        return None
    from knowledge.store import get_by_external_id, to_schema

    with session() as db:
        matter = get_by_external_id(db, external_id)
        if matter is None or matter.status != "published":
            return None
        return to_schema(matter)


def ruled_out_of_scope(question: str) -> bool:
    """Editors marked this question as outside the catalogue: answer with the hotline, never a guide."""
    from knowledge.unanswered import is_out_of_scope

    with session() as db:
        return is_out_of_scope(db, question)


def faq_answer(question: str, external_ids: Sequence[str]) -> FaqMatch | None:
    """A published FAQ of one of the found (published) matters asking what the citizen asked, if any."""
    from knowledge.faqs import matching_faq

    if not external_ids:
        return None
    with session() as db:
        return matching_faq(db, question, external_ids)
