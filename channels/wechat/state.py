"""What the WeChat channel keeps in the database: one conversation per follower, what they have been sent,
and every message WeChat delivered (so its retries are recognised).

WeChat retries a message it got no answer to within 5 seconds, up to three times, on whichever gateway
replica it reaches, and a replica may restart in between: deduplication and "what has this citizen
received" therefore live in tables, and every change to them is one conditional statement the
database decides, not a lock in one process.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ForeignKey, String, Text, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.db import Base, hold_write_lock
from channels.conversations import ChatMessage, get_conversation, start_conversation
from knowledge.models import utcnow

CHANNEL = "wechat"
InboundStatus = Literal["working", "answered", "deferred"]
STALE_TURN = timedelta(seconds=60)
"""A turn older than this is taken to have died with its process: agent messages flow again."""


class WechatFollower(Base):
    """A citizen as WeChat names them (the openid, per 公众号) and the conversation they are in."""

    __tablename__ = "wechat_followers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    delivered_id: Mapped[int] = mapped_column(default=0)
    """The last message of the conversation the citizen has been sent (or that needs no sending)."""
    turn_started_at: Mapped[datetime | None] = mapped_column()
    """Set while a citizen's turn is being answered: its replies go out with the turn, not separately."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WechatInbound(Base):
    """One message or event WeChat delivered, by its dedup key; a retry finds the row and starts no turn."""

    __tablename__ = "wechat_inbound"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    """``msg:<MsgId>`` for messages; ``event:<openid>:<CreateTime>:<Event>`` for events, which have no MsgId."""
    openid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="working")
    """working: the turn runs; answered: the reply went back in the HTTP response (``reply``);
    deferred: the reply goes out through the customer-service API."""
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# ---- deduplication ----


def claim_inbound(session: Session, key: str, openid: str) -> bool:
    """True for the first delivery of ``key``; False for WeChat's retries (the primary key decides)."""
    try:
        with session.begin_nested():
            session.add(WechatInbound(key=key, openid=openid, status="working", received_at=utcnow()))
    except IntegrityError:
        return False
    return True


def settle_inbound(session: Session, key: str, status: InboundStatus, reply: str | None = None) -> None:
    session.execute(update(WechatInbound).where(WechatInbound.key == key).values(status=status, reply=reply))


def inbound(session: Session, key: str) -> WechatInbound | None:
    return session.get(WechatInbound, key, populate_existing=True)


def forget_inbound_before(session: Session, before: datetime) -> int:
    """WeChat stops retrying after about 15 seconds: older keys only take room."""
    return session.execute(delete(WechatInbound).where(WechatInbound.received_at < before)).rowcount or 0


# ---- the follower's conversation ----


def conversation_for(session: Session, openid: str) -> str:
    """The follower's open conversation, or a new one: one conversation per openid until it is closed.

    Call in a transaction of its own; two messages of one follower arriving together on two replicas
    get the same conversation (the follower row is locked, on SQLite the database write lock is taken).
    """
    hold_write_lock(session)
    follower = session.scalar(select(WechatFollower).where(WechatFollower.openid == openid).with_for_update())
    if follower is None:
        try:
            with session.begin_nested():
                follower = WechatFollower(openid=openid, delivered_id=0, created_at=utcnow())
                session.add(follower)
        except IntegrityError:  # another replica added it first (PostgreSQL); lock theirs
            follower = session.scalar(select(WechatFollower).where(WechatFollower.openid == openid).with_for_update())
    current = get_conversation(session, follower.conversation_id) if follower.conversation_id else None
    if current is not None and current.mode != "closed":
        return current.id
    conversation = start_conversation(session, CHANNEL)
    follower.conversation_id = conversation.id
    follower.delivered_id = 0
    session.flush()
    return conversation.id


def openid_of(session: Session, conversation_id: str) -> str | None:
    return session.scalar(select(WechatFollower.openid).where(WechatFollower.conversation_id == conversation_id))


def start_turn(session: Session, openid: str) -> None:
    session.execute(update(WechatFollower).where(WechatFollower.openid == openid).values(turn_started_at=utcnow()))


def take_undelivered(session: Session, openid: str, *, ending_turn: bool = False) -> list[ChatMessage]:
    """The follower's messages not yet sent to them (all but their own), now counted as sent.

    Whoever moves ``delivered_id`` past a message sends it: the turn that produced it, or the outbound
    listener for an agent's reply. The move is a compare-and-set, so of two callers at once only one
    gets the messages and the other gets nothing.
    """
    follower = session.get(WechatFollower, openid, populate_existing=True)
    if follower is None or follower.conversation_id is None:
        return []
    cursor = follower.delivered_id
    pending = list(
        session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == follower.conversation_id, ChatMessage.id > cursor)
            .order_by(ChatMessage.id)
        )
    )
    values: dict = {"turn_started_at": None} if ending_turn else {}
    if pending:
        values["delivered_id"] = pending[-1].id
    if not values:
        return []
    moved = session.execute(
        update(WechatFollower)
        .where(WechatFollower.openid == openid, WechatFollower.delivered_id == cursor)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        if ending_turn:
            start_over = update(WechatFollower).where(WechatFollower.openid == openid).values(turn_started_at=None)
            session.execute(start_over)
        return []
    return [m for m in pending if m.sender != "citizen"]


def followers_with_undelivered(session: Session) -> list[str]:
    """Followers with messages waiting that no running turn will send: agent replies, console notices."""
    stale = utcnow() - STALE_TURN
    return list(
        session.scalars(
            select(WechatFollower.openid)
            .join(ChatMessage, ChatMessage.conversation_id == WechatFollower.conversation_id)
            .where(
                ChatMessage.id > WechatFollower.delivered_id,
                ChatMessage.sender != "citizen",
                or_(WechatFollower.turn_started_at.is_(None), WechatFollower.turn_started_at < stale),
            )
            .distinct()
        )
    )
