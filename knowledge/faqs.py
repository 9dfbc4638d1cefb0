"""FAQ entries: a question citizens ask, its answer, and the matter the answer cites.

An FAQ is searched as part of its matter (the retriever adds published FAQ questions to the matter's
texts), so asking the FAQ's question finds the matter and the answer can cite it. Every change to a
published FAQ of a published matter logs a ``publish`` of that matter in the catalogue change log,
which is how every process's index picks up the new question within a second, like any other publish.
Every change is also written to the audit log (who, what, when), as matter edits are.

When a citizen asks (nearly) an FAQ's own question, the dialogue speaks the FAQ's answer rather than
the generic guide (``matching_faq``); only published FAQs of published matters are ever spoken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base
from common.clock import utcnow
from knowledge import audit
from knowledge.models import CatalogueChange, Matter
from knowledge.store import get_by_external_id
from knowledge.unanswered import normalize

FaqStatus = Literal["published", "draft"]


class Faq(Base):
    __tablename__ = "faqs"

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str] = mapped_column(Text)
    matter_external_id: Mapped[str] = mapped_column(String(100), index=True)
    """Not a foreign key: matters are never removed (deletion is a status), and imports may re-create them."""
    status: Mapped[str] = mapped_column(String(12), default="published", index=True)
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaqIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=2, max_length=300, description="市民的问法")
    answer: str = Field(min_length=1, max_length=5000, description="答复内容")
    matter_external_id: str = Field(min_length=1, max_length=100, description="答复引用的事项编号")
    status: FaqStatus = Field("published", description="published 已发布（检索可见）；draft 草稿")


class FaqOut(FaqIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author: str
    created_at: datetime
    updated_at: datetime
    matter_name: str | None = None
    """The cited matter, so a list shows what each answer points to."""


class UnknownMatter(LookupError):
    """The FAQ names a matter that is not in the catalogue."""


def _touch_matter(session: Session, external_id: str) -> None:
    """Re-publishes the matter to the indexes (same version) when its searchable FAQ text changed."""
    matter = get_by_external_id(session, external_id)
    if matter is not None and matter.status == "published":
        session.add(CatalogueChange(external_id=external_id, op="publish", version=matter.version))


def _check_matter(session: Session, external_id: str) -> None:
    matter = get_by_external_id(session, external_id)
    if matter is None or matter.status == "deleted":
        raise UnknownMatter(external_id)


def out(session: Session, faq: Faq) -> FaqOut:
    matter = get_by_external_id(session, faq.matter_external_id)
    return FaqOut.model_validate(faq).model_copy(update={"matter_name": matter.name if matter else None})


def _content(faq: Faq) -> dict[str, str]:
    return {name: getattr(faq, name) for name in FaqIn.model_fields}


def create_faq(session: Session, item: FaqIn, *, author: str) -> Faq:
    _check_matter(session, item.matter_external_id)
    faq = Faq(**item.model_dump(), author=author)
    session.add(faq)
    session.flush()
    if faq.status == "published":
        _touch_matter(session, faq.matter_external_id)
    audit.record(
        session, actor=author, action="faq_create", target=faq.matter_external_id,
        details={"faq_id": faq.id, **_content(faq)},
    )  # fmt: skip
    return faq


def update_faq(session: Session, faq: Faq, item: FaqIn, *, author: str) -> Faq:
    _check_matter(session, item.matter_external_id)
    touched = {faq.matter_external_id} if faq.status == "published" else set()
    before = _content(faq)
    for name, value in item.model_dump().items():
        setattr(faq, name, value)
    faq.author, faq.updated_at = author, utcnow()
    session.flush()
    if faq.status == "published":
        touched.add(faq.matter_external_id)
    for external_id in sorted(touched):
        _touch_matter(session, external_id)
    after = _content(faq)
    changes = {name: {"before": before[name], "after": after[name]} for name in after if before[name] != after[name]}
    audit.record(
        session, actor=author, action="faq_update", target=faq.matter_external_id,
        details={"faq_id": faq.id, "question": faq.question, "changes": changes},
    )  # fmt: skip
    return faq


def delete_faq(session: Session, faq: Faq, *, author: str) -> None:
    if faq.status == "published":
        _touch_matter(session, faq.matter_external_id)
    details = {"faq_id": faq.id, **_content(faq)}
    session.delete(faq)
    session.flush()
    audit.record(session, actor=author, action="faq_delete", target=details["matter_external_id"], details=details)


def get_faq(session: Session, faq_id: int) -> Faq | None:
    return session.get(Faq, faq_id)


def list_faqs(session: Session, *, matter: str | None = None, status: str | None = None) -> list[Faq]:
    query = select(Faq).order_by(Faq.id)
    if matter:
        query = query.where(Faq.matter_external_id == matter)
    if status:
        query = query.where(Faq.status == status)
    return list(session.scalars(query))


def faq_questions(session: Session, external_ids: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Published FAQ questions per matter, in a stable order: what the indexes add to each matter's text."""
    query = select(Faq.matter_external_id, Faq.question).where(Faq.status == "published").order_by(Faq.id)
    if external_ids is not None:
        query = query.where(Faq.matter_external_id.in_(list(external_ids)))
    found: dict[str, list[str]] = defaultdict(list)
    for external_id, question in session.execute(query):
        found[external_id].append(question)
    return dict(found)


# -- answering a citizen with an FAQ ----------------------------------------------------------------

FAQ_MATCH_THRESHOLD = 0.75
"""Dice similarity of character bigrams above which a citizen's question is the FAQ's own question.

High on purpose: an FAQ answer is specific (公司地址变了 is not 公司名称变了, which scores 0.67), so a
merely related question gets the matter's full guide instead. A reworded question with a few extra
words (公司地址变了需要办什么手续 against 公司地址变了要办什么) still scores about 0.76.
"""
_OPENERS = ("请问一下", "请问", "你好", "您好", "我想问一下", "我想问", "想问一下", "想问下", "问一下", "麻烦问一下")


def _key(text: str) -> str:
    """Punctuation, spaces, case and a polite opening do not change which question was asked."""
    key = normalize(text)
    stripped = True
    while stripped:
        stripped = False
        for opener in _OPENERS:
            if key.startswith(opener) and len(key) > len(opener):
                key, stripped = key[len(opener) :], True
    return key


def _bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)} or ({key} if key else set())


def question_similarity(a: str, b: str) -> float:
    """1.0 for the same question however punctuated; character bigrams need no tokenizer or model."""
    first, second = _key(a), _key(b)
    if not first or not second:
        return 0.0
    if first == second:
        return 1.0
    x, y = _bigrams(first), _bigrams(second)
    return 2 * len(x & y) / (len(x) + len(y))


@dataclass(frozen=True)
class FaqMatch:
    faq_id: int
    question: str
    answer: str
    matter_external_id: str
    matter_name: str
    similarity: float


def matching_faq(
    session: Session, question: str, external_ids: Sequence[str], *, threshold: float = FAQ_MATCH_THRESHOLD
) -> FaqMatch | None:
    """The published FAQ of one of these (published) matters whose question is the citizen's, if any.

    ``external_ids`` are the matters the retriever found, best first: the FAQ must belong to one of them,
    so a region filter or a withdrawn matter is respected. Ties go to the better-ranked matter.
    """
    if not external_ids:
        return None
    rank = {external_id: i for i, external_id in enumerate(external_ids)}
    rows = session.execute(
        select(Faq, Matter.name)
        .join(Matter, Matter.external_id == Faq.matter_external_id)
        .where(Faq.status == "published", Matter.status == "published", Faq.matter_external_id.in_(list(rank)))
        .order_by(Faq.id)
    )
    best: tuple[float, int, FaqMatch] | None = None
    for faq, matter_name in rows:
        score = question_similarity(question, faq.question)
        if score < threshold:
            continue
        found = FaqMatch(faq.id, faq.question, faq.answer, faq.matter_external_id, matter_name, score)
        if best is None or (score, -rank[faq.matter_external_id]) > (best[0], best[1]):
            best = (score, -rank[faq.matter_external_id], found)
    return best[2] if best else None
