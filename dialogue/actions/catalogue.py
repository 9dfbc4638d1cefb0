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
    from sqlalchemy.orm import Session

    from knowledge.bundles import Combined
    from knowledge.schema import MatterIn
    from retriever import HybridIndex
    from retriever.answering import Answer

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


def answer(
    question: str,
    *,
    named: str | None = None,
    region: str | None = None,
    with_faq: bool = True,
    said: str | None = None,
) -> Answer:
    """The assistant's answer (``retriever.answering``) on the published catalogue, after replaying changes;
    ``said`` is the citizen's own words for ``named`` (``dialogue.actions.session.entity_said``)."""
    from retriever import catch_up
    from retriever.answering import answer as answer_question

    index = get_index()
    with session() as db:
        catch_up(db, index)
        return answer_question(db, index, question, named=named, region=region or None, with_faq=with_faq, said=said)


def ruled_out(question: str) -> bool:
    """Whether editors ruled the question out of scope: step 1 of every answer (``retriever.answering``),
    asked on its own by a caller that skips the search."""
    from knowledge.unanswered import is_out_of_scope

    with session() as db:
        return is_out_of_scope(db, question)


def get_bundle(external_id: str | None) -> Combined | None:
    """A published matter read as a bundle (its matters and their combined materials); a plain matter
    is a bundle of itself alone, so every caller reads one shape."""
    if not external_id:
        return None
    from knowledge.bundles import combine, resolve
    from knowledge.store import get_by_external_id, to_schema

    with session() as db:
        matter = get_by_external_id(db, external_id)
        if matter is None or matter.status != "published":
            return None
        item = to_schema(matter)
        return resolve(db, item) if item.bundle else combine(item, [])


def get_matter(external_id: str | None) -> MatterIn | None:
    """A published matter by external id, or None when it is unknown, a draft or withdrawn.

    A 一件事 comes with its matters' materials combined (``knowledge.bundles``), so the walk-through
    and the checklist go over one list whatever the guide is.
    """
    found = get_bundle(external_id)
    return found.guide if found is not None else None


def has_namesakes(matter: MatterIn) -> bool:
    """Whether another published matter of the same name belongs to another region (the same matter
    done in several places): then the guide says where this one is done."""
    from sqlalchemy import select

    from knowledge.models import Matter

    with session() as db:
        regions = db.execute(
            select(Matter.province, Matter.city, Matter.county).where(
                Matter.name == matter.name, Matter.status == "published", Matter.external_id != matter.external_id
            )
        ).all()
    return any(tuple(row) != (matter.province, matter.city, matter.county) for row in regions)
