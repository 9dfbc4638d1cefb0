"""Keeping an index in step with the catalogue: the database is the truth, the index a cache.

``catch_up`` replays the change log since the index's own ``seq``; a rebuild reads every published
matter. Both are safe to call from any process that holds an index, and ``catch_up`` from many
threads at once (the gateway searches in a thread pool).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from knowledge import store
from knowledge.faqs import faq_questions
from retriever.embedders import Embedder
from retriever.index import HybridIndex, IndexMismatch


def rebuild(session: Session, index: HybridIndex, progress=None) -> None:
    seq = store.last_change_seq(session)
    index.build(store.published(session), seq=seq, progress=progress, faqs=faq_questions(session))


def catch_up(session: Session, index: HybridIndex) -> int:
    """Applies publishes and deletions newer than the index; returns how many matters changed.

    One catch-up per index at a time: two threads that read the log concurrently could otherwise
    apply out of order, the one holding older matter rows last, and leave a stale matter behind a
    ``seq`` that says it is current (no later catch-up would repair it). A thread that waited finds
    the log already applied, so this costs one small query.
    """
    with index.sync_lock:
        return _catch_up(session, index)


def _catch_up(session: Session, index: HybridIndex) -> int:
    changes = store.changes_since(session, index.seq)
    if not changes:
        return 0
    latest: dict[str, str] = {}
    for change in changes:
        latest[change.external_id] = change.op
    live = {m.external_id: m for m in store.published(session, latest)}
    upserts = [live[e] for e, op in latest.items() if op == "publish" and e in live]
    deletes = [e for e in latest if e not in live]
    faqs = faq_questions(session, [m.external_id for m in upserts])
    index.apply(upserts, deletes, seq=changes[-1].seq, faqs=faqs)
    return len(latest)


def open_index(session: Session, folder: Path, embedder: Embedder, **options) -> HybridIndex:
    """Loads the saved index and brings it up to date, or builds it when there is none or it is stale."""
    try:
        index = HybridIndex.load(folder, embedder, **options)
    except (FileNotFoundError, IndexMismatch):
        index = HybridIndex(embedder, **options)
        rebuild(session, index)
        index.save(folder)
        return index
    if catch_up(session, index):
        index.save(folder)
    return index
