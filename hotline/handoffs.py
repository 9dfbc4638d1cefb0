"""A live handoff's every move, each one function: request, claim, transfer, reply, back to the bot, close.

A handoff (``hotline.models.Handoff``: waiting → claimed → closed, its agent, the slots and transcript
it was filed with) and its conversation's mode (``common.conversations.Conversation``: bot → waiting →
agent → bot or closed, and the agent talking) describe one state from two sides. Only the functions here
change either, and each changes both in the caller's transaction, so a reader never sees a conversation
in agent mode whose handoff waits, or two agents holding one citizen.

Each move starts by locking its row: the handoff (or, for a request, the conversation) is read
``FOR UPDATE`` on PostgreSQL, and on SQLite the database's write lock is taken first (``BEGIN
IMMEDIATE``). A second agent acting on the same conversation at the same moment waits, then sees the
first one's result and is refused with the reason, in Chinese, for the console.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from banshi.db import hold_write_lock
from common.clock import UtcDateTime, utcnow
from common.conversations import ChatMessage, Conversation, Mode, add_message
from common.conversations import transcript as conversation_transcript
from common.masking import mask_text
from common.tickets import CONTENT_SLOT
from common.users import DESK_ROLES, User
from hotline import classifier
from hotline.lifecycle import Actor
from hotline.models import Handoff

log = logging.getLogger(__name__)

JOINED = "人工客服{name}已接入，正在为您服务。"
TRANSFERRED = "已为您转接至人工客服{name}，请稍候。"
BACK_TO_BOT = "人工服务已结束，接下来由智能助手继续为您服务。如需人工，可随时点击“转人工”。"
CLOSED = "本次人工服务已结束，感谢您的耐心。欢迎对本次服务进行评价。"
RETURNED = "正在为您转接其他人工客服，请稍候。"
SUBJECT_CHARS = 8
"""A citizen's message this long or longer says what they want; shorter ones (转人工, 你好) say nothing."""


class HandoffError(Exception):
    """A move the handoff cannot make; ``detail`` is shown to the agent as it is."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class HandoffNotFound(HandoffError, LookupError):
    def __init__(self, handoff_id: int) -> None:
        super().__init__("未找到该会话")
        self.handoff_id = handoff_id


class HandoffConflict(HandoffError):
    """The handoff is not in a state that allows the move (someone else holds or ended it)."""


class HandoffInvalid(HandoffError, ValueError):
    """The request itself is wrong (an empty reply, a transfer to nobody)."""


def holds(handoff: Handoff, user: object) -> bool:
    """The agent talking to the citizen right now: the only one who sees phone and ID numbers in full."""
    return handoff.status == "claimed" and handoff.agent_id == getattr(user, "id", None)


def require_holder(handoff: Handoff, actor: Actor, *, admin_ok: bool = False) -> None:
    """Refuses anyone but the holder (and, where ``admin_ok``, an admin while the handoff is open)."""
    if holds(handoff, actor) or (admin_ok and actor.role == "admin" and handoff.status != "closed"):
        return
    if handoff.status == "closed":
        raise HandoffConflict("该会话已结束")
    if handoff.status == "waiting":
        raise HandoffConflict("请先接入该会话")
    raise HandoffConflict("该会话正由其他坐席接待")


def _locked(session: Session, handoff_id: int) -> Handoff:
    hold_write_lock(session)
    handoff = session.scalar(
        select(Handoff).where(Handoff.id == handoff_id).with_for_update().execution_options(populate_existing=True)
    )
    if handoff is None:
        raise HandoffNotFound(handoff_id)
    return handoff


def _conversation(session: Session, conversation_id: str) -> Conversation | None:
    """The conversation, None when its row is gone (a handoff outlives a deleted conversation)."""
    return session.get(Conversation, conversation_id, with_for_update=True, populate_existing=True)


def _move(
    session: Session,
    conversation: Conversation | None,
    mode: Mode,
    agent_id: int | None,
    now: datetime,
    tell: str | None = None,
) -> None:
    if conversation is None:
        return
    conversation.mode, conversation.agent_id, conversation.updated_at = mode, agent_id, now
    session.flush()
    if tell:
        add_message(session, conversation.id, "system", "text", tell)


def open_handoff(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's waiting or claimed handoff, if it has one."""
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status != "closed")
        .order_by(Handoff.id.desc())
        .limit(1)
    )


def request_handoff(
    session: Session,
    conversation_id: str,
    *,
    slots: dict | None = None,
    reason: str | None = None,
    transcript: list | None = None,
    now: datetime | None = None,
) -> Handoff:
    """The citizen asked for a person: the conversation waits, once, however often they ask.

    ``slots`` are what the dialogue knew (the ticket form's answers among them), kept with the handoff
    for the agent and the ticket draft; the transcript is taken from the stored conversation unless
    given (a conversation kept elsewhere).
    """
    now = now or utcnow()
    if transcript is None:  # read before the lock, with the subject: the classifier may take seconds to load
        transcript = conversation_transcript(session, conversation_id)
    category = _subject_category(slots or {}, transcript)
    hold_write_lock(session)
    conversation = _conversation(session, conversation_id)
    existing = open_handoff(session, conversation_id)
    if existing is not None:
        return existing
    if conversation is not None and conversation.mode == "closed":
        raise HandoffConflict("该会话已结束")
    handoff = Handoff(
        conversation_id=conversation_id,
        status="waiting",
        transcript=transcript,
        slots=dict(slots or {}),
        reason=reason,
        created_at=now,
        category=category,
    )
    session.add(handoff)
    session.flush()
    _move(session, conversation, "waiting", None, now)
    return handoff


def _subject_category(slots: dict, transcript: list) -> str | None:
    """What the citizen is asking about, as the ticket classifier reads it: the skill the desk assigns by.

    The ticket form's content when the dialogue collected it, else the citizen's last few messages of
    some length: the classifier learnt from whole complaints, and reads a bare 转人工 as 劳动和社会保障
    with confidence. Nothing to read: None, and any agent may take it."""
    said = [
        t["text"]
        for t in transcript
        if isinstance(t, dict) and t.get("sender") == "citizen" and len(str(t.get("text") or "")) >= SUBJECT_CHARS
    ]
    content = slots.get(CONTENT_SLOT)
    text = " ".join([content] if isinstance(content, str) and content else said[-5:]).strip()
    return classifier.classify(text).category if text else None


def claim_handoff(session: Session, handoff_id: int, actor: Actor, *, now: datetime | None = None) -> Handoff:
    """``actor`` now talks to this citizen; refused when another agent took the conversation first."""
    now = now or utcnow()
    handoff = _locked(session, handoff_id)
    if holds(handoff, actor):
        return handoff  # a second click on 接入
    if handoff.status != "waiting":
        raise HandoffConflict("该会话已结束" if handoff.status == "closed" else "该会话已被其他坐席接入")
    handoff.status, handoff.agent_id, handoff.claimed_at, handoff.assigned_at = "claimed", actor.id, now, None
    session.flush()
    _move(
        session,
        _conversation(session, handoff.conversation_id),
        "agent",
        actor.id,
        now,
        JOINED.format(name=actor.display_name),
    )
    log.info("handoff %s claimed by %s", handoff_id, actor.username)
    return handoff


def assign_handoff(session: Session, handoff_id: int, agent: User, *, now: datetime | None = None) -> Handoff:
    """The desk gives a waiting conversation to an online agent (``hotline.assignment`` chooses whom): a
    claim made for them, and the answer clock starts. Refused, like a claim, when it no longer waits."""
    now = now or utcnow()
    handoff = claim_handoff(session, handoff_id, Actor.model_validate(agent), now=now)
    handoff.assigned_at = now
    session.flush()
    return handoff


def return_unanswered(
    session: Session, handoff_id: int, assigned_before: datetime, *, now: datetime | None = None
) -> Handoff:
    """The agent the desk gave it to before ``assigned_before`` has not answered: the conversation waits
    again, first in line as before (its request time is kept), and remembers who missed it for the
    supervisors' board. Refused when the agent answered, or the handoff moved on, before the lock."""
    now = now or utcnow()
    handoff = _locked(session, handoff_id)
    clock = handoff.assigned_at
    if handoff.status != "claimed" or clock is None or clock > assigned_before:
        raise HandoffConflict("该会话已有坐席应答")
    missed_by = handoff.agent_id
    handoff.status, handoff.agent_id, handoff.claimed_at, handoff.assigned_at = "waiting", None, None, None
    handoff.returned_count, handoff.returned_from, handoff.returned_at = handoff.returned_count + 1, missed_by, now
    session.flush()
    _move(session, _conversation(session, handoff.conversation_id), "waiting", None, now, RETURNED)
    log.warning("handoff %s back in the queue: user %s did not answer", handoff_id, missed_by)
    return handoff


def transfer_handoff(
    session: Session, handoff_id: int, actor: Actor, target_id: int, *, now: datetime | None = None
) -> Handoff:
    """The holder (or an admin) passes the citizen to another agent on duty."""
    now = now or utcnow()
    handoff = _locked(session, handoff_id)
    require_holder(handoff, actor, admin_ok=True)
    target = session.get(User, target_id)
    if target is None or not target.active or target.role not in DESK_ROLES:
        raise HandoffInvalid("请选择一位在岗的坐席")
    if target.id == handoff.agent_id:
        raise HandoffInvalid("该会话已由这位坐席接待")
    handoff.agent_id, handoff.assigned_at = target.id, None
    session.flush()
    _move(
        session,
        _conversation(session, handoff.conversation_id),
        "agent",
        target.id,
        now,
        TRANSFERRED.format(name=target.display_name),
    )
    log.info("handoff %s transferred by %s to user %s", handoff_id, actor.username, target.id)
    return handoff


def reply_to_handoff(session: Session, handoff_id: int, actor: Actor, text: str) -> ChatMessage:
    """The holder's message to the citizen; the citizen's page shows it live."""
    handoff = _locked(session, handoff_id)
    require_holder(handoff, actor)
    if session.get(Conversation, handoff.conversation_id) is None:
        raise HandoffConflict("市民的会话已不存在，无法回复")
    text = text.strip()
    if not text:
        raise HandoffInvalid("回复内容不能为空")
    handoff.assigned_at = None  # answered: the desk's clock stops
    return add_message(session, handoff.conversation_id, "agent", "text", text, author=actor.display_name)


def _end(session: Session, handoff_id: int, actor: Actor, mode: Mode, tell: str, now: datetime | None) -> Handoff:
    now = now or utcnow()
    handoff = _locked(session, handoff_id)
    require_holder(handoff, actor, admin_ok=True)
    handoff.status, handoff.closed_at = "closed", now
    session.flush()
    agent_id = actor.id if mode == "closed" else None
    _move(session, _conversation(session, handoff.conversation_id), mode, agent_id, now, tell)
    return handoff


def hand_back_to_bot(session: Session, handoff_id: int, actor: Actor, *, now: datetime | None = None) -> Handoff:
    """回到机器人: the agent is done, the assistant answers the citizen's next message again."""
    return _end(session, handoff_id, actor, "bot", BACK_TO_BOT, now)


def close_handoff(session: Session, handoff_id: int, actor: Actor, *, now: datetime | None = None) -> Handoff:
    """Ends the live conversation for good; the citizen is asked for a rating and starts anew to talk again."""
    return _end(session, handoff_id, actor, "closed", CLOSED, now)


class HandoffOut(BaseModel):
    """A waiting conversation as the agent list shows it: phone and ID numbers masked in the transcript."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    status: str
    agent_id: int | None
    reason: str | None
    transcript: list
    created_at: UtcDateTime
    claimed_at: UtcDateTime | None


def waiting_handoffs(session: Session) -> list[HandoffOut]:
    """Oldest first: the citizen who has waited longest is served first."""
    rows = session.scalars(select(Handoff).where(Handoff.status == "waiting").order_by(Handoff.created_at, Handoff.id))
    out = []
    for row in rows:
        item = HandoffOut.model_validate(row)
        item.transcript = [_masked_turn(turn) for turn in row.transcript]
        out.append(item)
    return out


def _masked_turn(turn: object) -> object:
    if isinstance(turn, dict) and isinstance(turn.get("text"), str):
        return {**turn, "text": mask_text(turn["text"])}
    return mask_text(turn) if isinstance(turn, str) else turn
