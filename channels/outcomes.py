"""What each bot turn did, as data: the one owner of the ``turn_outcomes`` table.

The dialogue states every turn's outcome as a custom payload ``{"type": "outcome", "kind": ...}``
(docs/architecture.md, "The outcome contract"); the relay takes those out of the displayed messages
and stores them here against the citizen's message of the turn. The dashboard, the unanswered-question
capture and the chat API read them from here, so a reworded reply changes no figure: nothing in the
gateway reads the bot's wording.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base
from common.clock import utcnow

OUTCOME_TYPE = "outcome"
"""The ``type`` of a custom payload that is an outcome, not something to show."""
OutcomeKind = Literal[
    "guide_presented",
    "bundle_presented",
    "clarification_offered",
    "facet_answered",
    "faq_answered",
    "not_found",
    "out_of_scope",
    "clarification_rejected",
    "misunderstood",
    "small_talk",
    "walk_started",
    "checklist_shown",
    "intake_started",
    "slot_requested",
    "ticket_filed",
    "ticket_not_filed",
    "ticket_cancelled",
    "ticket_not_found",
    "resume_offered",
    "resumed",
    "handoff",
]
KINDS: frozenset[str] = frozenset(get_args(OutcomeKind))
ANSWERED: tuple[OutcomeKind, ...] = ("guide_presented", "facet_answered", "faq_answered", "checklist_shown")
"""A matter of the catalogue was shown to the citizen (the dashboard's 已解答)."""
KEPT_ASIDE = ("type", "kind", "matter_id", "slots")
"""Not copied into ``detail``: the first three have their own columns, and the handoff's slots belong
to the handoff row (``hotline``), which the relay gives them to."""


class TurnOutcome(Base):
    __tablename__ = "turn_outcomes"
    __table_args__ = (Index("ix_turn_outcomes_kind_conversation", "kind", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    """The citizen's message of the turn."""
    kind: Mapped[str] = mapped_column(String(40))
    matter_id: Mapped[str | None] = mapped_column(String(100), index=True)
    """The catalogue's external id of the matter concerned, when there is one."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutcomeOut(BaseModel):
    """One outcome of a turn as the chat API shows it: ``kind``, ``matter_id`` when any, and the kind's fields."""

    model_config = ConfigDict(extra="allow")

    kind: OutcomeKind
    matter_id: str | None = None


def parse(custom: Any) -> dict[str, Any] | None:
    """The outcome in a custom payload, or None when the payload is not one (or names an unknown kind)."""
    if not isinstance(custom, dict) or custom.get("type") != OUTCOME_TYPE or custom.get("kind") not in KINDS:
        return None
    return {k: v for k, v in custom.items() if k != "type"}


def store(
    session: Session, conversation_id: str, message_id: int | None, outcomes: Sequence[dict[str, Any]]
) -> list[TurnOutcome]:
    rows = []
    for outcome in outcomes:
        matter = outcome.get("matter_id")
        rows.append(
            TurnOutcome(
                conversation_id=conversation_id,
                message_id=message_id,
                kind=outcome["kind"],
                matter_id=str(matter) if matter not in (None, "") else None,
                detail={k: v for k, v in outcome.items() if k not in KEPT_ASIDE},
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def as_out(row: TurnOutcome) -> OutcomeOut:
    fields = {k: v for k, v in (row.detail or {}).items() if k not in ("kind", "matter_id")}
    return OutcomeOut(kind=row.kind, matter_id=row.matter_id, **fields)


def of_messages(session: Session, message_ids: Iterable[int]) -> dict[int, list[OutcomeOut]]:
    """The outcomes of each of these (citizen) messages, in the order the dialogue stated them."""
    ids = sorted(set(message_ids))
    found: dict[int, list[OutcomeOut]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        query = select(TurnOutcome).where(TurnOutcome.message_id.in_(ids[start : start + 500])).order_by(TurnOutcome.id)
        for row in session.scalars(query):
            found[row.message_id].append(as_out(row))
    return found


def conversations_with(session: Session, conversation_ids: Sequence[str], kinds: Iterable[str]) -> set[str]:
    """The conversations among ``conversation_ids`` with an outcome of one of ``kinds``."""
    kinds = list(kinds)
    found: set[str] = set()
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start : start + 500]
        query = select(TurnOutcome.conversation_id).where(
            TurnOutcome.conversation_id.in_(chunk), TurnOutcome.kind.in_(kinds)
        )
        found.update(session.scalars(query.distinct()))
    return found


def matters_shown(session: Session, conversation_ids: Sequence[str]) -> dict[str, set[str]]:
    """matter id → the conversations among ``conversation_ids`` in which it was shown (``ANSWERED``)."""
    shown: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start : start + 500]
        query = select(TurnOutcome.matter_id, TurnOutcome.conversation_id).where(
            TurnOutcome.conversation_id.in_(chunk),
            TurnOutcome.kind.in_(ANSWERED),
            TurnOutcome.matter_id.is_not(None),
        )
        for matter_id, conversation_id in session.execute(query.distinct()):
            shown[matter_id].add(conversation_id)
    return shown


def matter_names(session: Session, matter_ids: Iterable[str]) -> dict[str, str]:
    """The name the dialogue gave each matter when it presented it (``guide_presented``), newest first."""
    ids = list(set(matter_ids))
    if not ids:
        return {}
    names: dict[str, str] = {}
    query = (
        select(TurnOutcome.matter_id, TurnOutcome.detail)
        .where(TurnOutcome.matter_id.in_(ids), TurnOutcome.kind == "guide_presented")
        .order_by(TurnOutcome.id.desc())
    )
    for matter_id, detail in session.execute(query):
        name = (detail or {}).get("matter_name")
        if name and matter_id not in names:
            names[matter_id] = str(name)
    return names
