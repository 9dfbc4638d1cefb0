"""Conversations and their messages, kept in the database.

The gateway may run as several replicas and restart at any time, so a conversation's mode (bot,
waiting, agent, closed) and every message live here rather than in a process: the citizen's page,
the agent console and the live stream all read the same rows. Message ids only grow, so a reader
asks for the messages after the last id it has seen.

The tables sit below both the gateway (``channels``), which stores every turn, and the hotline, whose
handoff transitions (``hotline.handoffs``) are the only writers of a conversation's mode and agent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base
from common.clock import utcnow
from common.users import User  # noqa: F401  (registers the users table agent_id points at)

Sender = Literal["citizen", "bot", "agent", "system"]
Kind = Literal["text", "buttons", "checklist", "ticket", "handoff", "rating"]
Mode = Literal["bot", "waiting", "agent", "closed"]
SENDERS: tuple[str, ...] = get_args(Sender)
KINDS: tuple[str, ...] = get_args(Kind)
MODES: tuple[str, ...] = get_args(Mode)


class ConversationNotFound(LookupError):
    """No conversation has this id."""


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """uuid4 hex: also the Rasa sender id, and unguessable, since it is all a citizen needs to read it."""
    channel: Mapped[str] = mapped_column(String(20), default="web")
    mode: Mapped[str] = mapped_column(String(8), default="bot", index=True)
    """Who answers the citizen's next turn; changed only by ``hotline.handoffs`` (with the handoff's status)."""
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """The agent talking to the citizen in agent mode (and who closed it, when closed by an agent)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    """The last message or change of mode: lets a console sort and expire idle conversations."""
    rating: Mapped[int | None] = mapped_column()
    """The citizen's 好差评, 1 (very dissatisfied) to 5 (very satisfied)."""
    rating_comment: Mapped[str | None] = mapped_column(Text)


class ChatMessage(Base):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(12), default="text")
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSON)
    """buttons: {"buttons": [...]}; checklist / ticket / handoff: the dialogue's custom payload;
    rating: {"score", "comment"}."""
    author: Mapped[str | None] = mapped_column(String(50))
    """The agent's display name for agent messages, kept as it was at the time."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def start_conversation(session: Session, channel: str = "web") -> Conversation:
    conversation = Conversation(id=uuid.uuid4().hex, channel=channel, mode="bot")
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, conversation_id: str) -> Conversation | None:
    return session.get(Conversation, conversation_id)


def _require(session: Session, conversation_id: str) -> Conversation:
    conversation = get_conversation(session, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def add_message(
    session: Session,
    conversation_id: str,
    sender: Sender,
    kind: Kind,
    text: str | None,
    payload: dict | None = None,
    author: str | None = None,
) -> ChatMessage:
    if sender not in SENDERS or kind not in KINDS:
        raise ValueError(f"unknown sender {sender!r} or kind {kind!r}")
    conversation = _require(session, conversation_id)
    now = utcnow()
    message = ChatMessage(
        conversation_id=conversation_id,
        sender=sender,
        kind=kind,
        text=text,
        payload=payload,
        author=author,
        created_at=now,
    )
    conversation.updated_at = now
    session.add(message)
    session.flush()
    return message


def messages_since(session: Session, conversation_id: str, after_id: int = 0) -> list[ChatMessage]:
    """Oldest first; ``after_id`` is the last id the reader already has (0 for the whole transcript)."""
    return list(
        session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id, ChatMessage.id > after_id)
            .order_by(ChatMessage.id)
        )
    )


def set_rating(session: Session, conversation_id: str, score: int, comment: str | None = None) -> ChatMessage:
    """The citizen's 好差评; a second rating replaces the first, and both stay in the transcript."""
    if not 1 <= score <= 5:
        raise ValueError("score must be 1 to 5")
    conversation = _require(session, conversation_id)
    conversation.rating, conversation.rating_comment = score, comment
    text = f"评价：{score} 分" + (f"，{comment}" if comment else "")
    return add_message(session, conversation_id, "citizen", "rating", text, {"score": score, "comment": comment})


def shown_ticket(session: Session, conversation_id: str, number: str) -> bool:
    """Whether this conversation was shown ticket ``number``'s card: it was filed here, or looked up here
    with the phone it was filed with (the dialogue shows the card only then). What a citizen may rate."""
    payloads = session.scalars(
        select(ChatMessage.payload).where(ChatMessage.conversation_id == conversation_id, ChatMessage.kind == "ticket")
    )
    return any(isinstance(p, dict) and p.get("number") == number for p in payloads)


def summary_text(message: ChatMessage) -> str:
    """One line for a structured message, for transcripts an agent reads and for search."""
    payload = message.payload or {}
    if message.kind == "checklist":
        name = (payload.get("matter") or {}).get("name") or "办事事项"
        missing = [m.get("name") for m in payload.get("materials") or [] if m.get("status") == "missing"]
        extra = f"，还缺：{'、'.join(missing)}" if missing else ""
        return f"[一次告知清单] {name}{extra}"
    if message.kind == "ticket":
        return f"[工单] {payload.get('ticket_type') or ''} {payload.get('number') or ''}".strip()
    if message.kind == "buttons":
        titles = "／".join(b.get("title", "") for b in payload.get("buttons") or [])
        return f"{message.text or ''} [选项：{titles}]".strip()
    if message.kind == "handoff":
        return message.text or "[转人工]"
    return message.text or ""


def transcript(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation as plain turns ({sender, kind, text, at}) for a handoff request."""
    return [
        {"sender": m.sender, "kind": m.kind, "text": summary_text(m), "at": m.created_at.isoformat()}
        for m in messages_since(session, conversation_id)
    ]
