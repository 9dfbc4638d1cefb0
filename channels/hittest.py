"""Hit testing (命中测试): what the assistant would do with a question, before a citizen asks it.

An editor sees the NLU parse, the ranked matters with their BM25, dense and fused scores, the
confidence against the threshold and the assistant's decision (``retriever.answering.answer``, the
very function the find-guide action calls, out-of-scope check and FAQ included), so a bad answer is
found and fixed in the catalogue instead of in a complaint. With drafts the search runs on a preview
of the index (``HybridIndex.preview``: the live snapshot plus the latest drafts); the process's live
index is never touched, because citizens are searching it at the same time.

Every test is kept (``hit_tests``), and named test sets re-run a list of questions and flag
regressions against their previous run, so an edit that fixes one answer and breaks another shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import JSON, ForeignKey, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base
from common.clock import utcnow
from common.users import User  # noqa: F401  (registers the users table user_id points at)
from knowledge import drafts as knowledge_drafts
from knowledge.faqs import faq_questions
from knowledge.schema import MatterIn
from retriever import HybridIndex, SearchResult
from retriever.answering import Answer, Decision, answer

log = logging.getLogger(__name__)

PARSE_TIMEOUT = 5.0
"""Seconds to wait for Rasa's parse: the retrieval part is worth showing even when NLU is slow."""
DECISION_LABELS = {
    "present": "直接给出办事指南",
    "clarify": "列出几个事项请市民选择",
    "ask_region": "询问市民在哪里办理",
    "none": "未找到可信答案：致歉并提供转人工、留言咨询",
    "out_of_scope": "编辑已判定超出服务范围：致歉并提供转人工、留言咨询",
}


class HitTest(Base):
    """One question tested, by whom and with what outcome (single tests and each question of a set run)."""

    __tablename__ = "hit_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    """The tester's display name as it was at the time."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    drafts: Mapped[bool] = mapped_column(default=False)
    top_external_id: Mapped[str | None] = mapped_column(String(100))
    top_name: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(default=0.0)
    confident: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[str] = mapped_column(String(12))
    intent: Mapped[str | None] = mapped_column(String(100))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("hit_test_runs.id", ondelete="CASCADE"), index=True)
    """Set when the question was tested as part of a test set's run."""


class HitTestSet(Base):
    """A named list of questions, each with the matter it should find (optional)."""

    __tablename__ = "hit_test_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    questions: Mapped[list[dict]] = mapped_column(JSON, default=list)
    """[{"question": ..., "expected_external_id": ... or null}], in the editor's order."""
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HitTestRun(Base):
    """One re-run of a set: per-question results compared with the set's previous run."""

    __tablename__ = "hit_test_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("hit_test_sets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    drafts: Mapped[bool] = mapped_column(default=False)
    previous_run_id: Mapped[int | None] = mapped_column()
    total: Mapped[int] = mapped_column(default=0)
    regressions: Mapped[int] = mapped_column(default=0)
    results: Mapped[list[dict]] = mapped_column(JSON, default=list)


# ---- NLU ----


@dataclass
class NluParse:
    available: bool
    intent: str | None = None
    intent_confidence: float | None = None
    intent_ranking: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    """Why there is no parse, in Chinese, for the editor."""

    def _found(self, name: str) -> dict[str, Any] | None:
        found = sorted(
            (e for e in self.entities if e.get("entity") == name), key=lambda e: e.get("extractor") != "SpacyGazetteer"
        )
        return next((e for e in found if isinstance(e.get("value"), str) and e["value"].strip()), None)

    def entity(self, name: str) -> str | None:
        """Like ``dialogue.actions.session.entity_value``: the gazetteer's canonical value first."""
        item = self._found(name)
        return item["value"].strip() if item else None

    def said(self, name: str, text: str) -> str | None:
        """Like ``dialogue.actions.session.entity_said``: the words of ``text`` the value was read from."""
        item = self._found(name)
        start, end = (item.get("start"), item.get("end")) if item else (None, None)
        if not isinstance(start, int) or not isinstance(end, int):
            return None
        return text[start:end].strip() or None


def parse(client: httpx.Client, text: str) -> NluParse:
    """Rasa's ``/model/parse``; an unreachable or broken Rasa is reported, not raised."""
    try:
        response = client.post("/model/parse", json={"text": text}, timeout=PARSE_TIMEOUT)
        response.raise_for_status()
        body = response.json()
        intent = body.get("intent") or {}
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        log.warning("NLU parse unavailable at %s: %r", client.base_url, exc)
        return NluParse(False, error=f"NLU 服务（Rasa）暂时无法连接，只显示检索结果：{type(exc).__name__}")
    entities = [
        {k: e.get(k) for k in ("entity", "value", "start", "end", "extractor", "confidence_entity") if k in e}
        for e in body.get("entities") or []
        if isinstance(e, dict)
    ]
    ranking = [
        {"name": r.get("name"), "confidence": r.get("confidence")}
        for r in (body.get("intent_ranking") or [])[:5]
        if isinstance(r, dict)
    ]
    return NluParse(True, intent.get("name"), intent.get("confidence"), ranking, entities)


# ---- searching like the dialogue ----


@dataclass
class Outcome:
    result: SearchResult
    """The ranked list shown: the full hybrid search of the question, so every retriever's scores show."""
    answer: Answer

    @property
    def decision(self) -> Decision:
        return self.answer.decision

    @property
    def named(self) -> str | None:
        return self.answer.named

    @property
    def region(self) -> str | None:
        return self.answer.region


def find(
    session: Session, index: HybridIndex, text: str, *, named: str | None, region: str | None, said: str | None = None
) -> Outcome:
    """What the dialogue would answer on ``index`` (``retriever.answering.answer``), with the ranked list."""
    found = answer(session, index, text, named=named, region=region, said=said)
    return Outcome(found.searched or index.search(text, 5, region=region or None), found)


def delete_set(session: Session, item: HitTestSet) -> None:
    """The set, its runs and the tests those runs recorded (SQLite does not enforce the cascade)."""
    runs = select(HitTestRun.id).where(HitTestRun.set_id == item.id)
    session.execute(delete(HitTest).where(HitTest.run_id.in_(runs)))
    session.execute(delete(HitTestRun).where(HitTestRun.set_id == item.id))
    session.delete(item)
    session.flush()


# ---- drafts preview ----


def latest_drafts(session: Session) -> tuple[list[MatterIn], dict[str, list[str]]]:
    """The newest draft of every matter that has one, with the published FAQ questions of those matters
    (the live index searches a matter together with its FAQs, so the preview must too)."""
    drafts = knowledge_drafts.latest_drafts(session)
    return drafts, faq_questions(session, [m.external_id for m in drafts]) if drafts else {}


# ---- history and sets ----


def record(
    session: Session,
    question: str,
    outcome: Outcome,
    nlu: NluParse,
    *,
    user_id: int | None,
    author: str,
    drafts: bool,
    run_id: int | None = None,
    flush: bool = True,
) -> HitTest:
    top = outcome.result.hits[0] if outcome.result.hits else None
    row = HitTest(
        question=question, user_id=user_id, author=author, drafts=drafts,
        top_external_id=top.external_id if top else None, top_name=top.name if top else None,
        confidence=round(outcome.result.confidence, 4), confident=outcome.result.confident,
        decision=outcome.decision.kind, intent=nlu.intent, run_id=run_id,
    )  # fmt: skip
    session.add(row)
    if flush:  # a set's run flushes its questions together
        session.flush()
    return row


def history(session: Session, *, limit: int, offset: int, user_id: int | None = None) -> tuple[int, list[HitTest]]:
    """Single tests, newest first (questions of set runs are read with their run)."""
    from sqlalchemy import func

    where = [HitTest.run_id.is_(None)]
    if user_id is not None:
        where.append(HitTest.user_id == user_id)
    total = session.scalar(select(func.count()).select_from(HitTest).where(*where)) or 0
    rows = session.scalars(select(HitTest).where(*where).order_by(HitTest.id.desc()).limit(limit).offset(offset)).all()
    return total, list(rows)


def previous_run(session: Session, set_id: int, before: int | None = None) -> HitTestRun | None:
    query = select(HitTestRun).where(HitTestRun.set_id == set_id)
    if before is not None:
        query = query.where(HitTestRun.id < before)
    return session.scalar(query.order_by(HitTestRun.id.desc()).limit(1))


def compare(question: str, expected: str | None, outcome: Outcome, before: dict | None) -> dict[str, Any]:
    """One question's result with its regression flags.

    Found means the expected matter is among what the assistant would show (the guide it presents
    or the choices it offers). A regression is a question that no longer finds its expected matter,
    whose top result changed (unless it changed to the expected one: that is a fix), or that had an
    answer in the previous run and now gets "not found".
    """
    result, decision = outcome.result, outcome.decision
    top = result.hits[0] if result.hits else None
    top_id = top.external_id if top else None
    shown = [hit.external_id for hit in decision.hits]
    found = None if not expected else expected in shown
    previous_top = before.get("top_external_id") if before else None
    top_changed = before is not None and previous_top != top_id
    reasons = []
    if found is False:
        reasons.append(f"未找到预期事项 {expected}")
    if top_changed and not found:
        reasons.append(f"首位结果变化：{previous_top or '无'} → {top_id or '无'}")
    unanswered = ("none", "out_of_scope")
    if before is not None and before.get("decision") not in unanswered and decision.kind in unanswered:
        reasons.append("上次能回答，这次未找到可信答案")
    return {
        "question": question, "expected_external_id": expected,
        "top_external_id": top_id, "top_name": top.name if top else None,
        "confidence": round(result.confidence, 4), "confident": result.confident,
        "decision": decision.kind, "shown_external_ids": shown,
        "expected_found": found, "previous_top_external_id": previous_top, "top_changed": top_changed,
        "regression": bool(reasons), "reasons": reasons,
    }  # fmt: skip


def previous_results(run: HitTestRun | None) -> dict[str, dict]:
    """The previous run's results by question, so a reordered or extended set compares the same words."""
    return {r["question"]: r for r in run.results} if run else {}
