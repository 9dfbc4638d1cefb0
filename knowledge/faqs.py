"""FAQ entries: a question citizens ask, its answer, and the matter the answer cites.

An FAQ is searched as part of its matter (the retriever adds published FAQ questions to the matter's
texts), so asking the FAQ's question finds the matter and the answer can cite it. Every change to a
published FAQ of a published matter logs a ``publish`` of that matter in the catalogue change log,
which is how every process's index picks up the new question within a second, like any other publish.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base
from knowledge.models import CatalogueChange, utcnow
from knowledge.store import get_by_external_id

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


def create_faq(session: Session, item: FaqIn, *, author: str) -> Faq:
    _check_matter(session, item.matter_external_id)
    faq = Faq(**item.model_dump(), author=author)
    session.add(faq)
    session.flush()
    if faq.status == "published":
        _touch_matter(session, faq.matter_external_id)
    return faq


def update_faq(session: Session, faq: Faq, item: FaqIn, *, author: str) -> Faq:
    _check_matter(session, item.matter_external_id)
    touched = {faq.matter_external_id} if faq.status == "published" else set()
    for name, value in item.model_dump().items():
        setattr(faq, name, value)
    faq.author, faq.updated_at = author, utcnow()
    session.flush()
    if faq.status == "published":
        touched.add(faq.matter_external_id)
    for external_id in sorted(touched):
        _touch_matter(session, external_id)
    return faq


def delete_faq(session: Session, faq: Faq) -> None:
    if faq.status == "published":
        _touch_matter(session, faq.matter_external_id)
    session.delete(faq)
    session.flush()


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
