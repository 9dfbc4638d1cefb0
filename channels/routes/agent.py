"""The agent side of live conversations: the handoff queue, claiming, replying, transfer, 回到机器人, close.

The citizen's page reads the same ``chat_messages`` rows (its SSE stream polls the database), so an
agent reply stored here appears there live, on any replica; the console's own streams (the open
conversation, the queues) are in ``agent_live``. Claims go through ``hotline.claims``:
one conditional UPDATE decides which agent gets a conversation.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banshi.config import get_settings
from channels import conversations as conv
from channels.accounts import User, UserOut
from channels.deps import AgentUser, SessionDep, actor_of, require_role
from channels.handoff_tickets import TicketDraft, TicketFromChatIn, draft_ticket, file_ticket
from hotline import claims
from hotline.masking import mask_text
from hotline.models import Handoff
from hotline.slot_labels import SlotField, labelled_slots
from knowledge.models import utcnow

router = APIRouter(prefix="/api/v1/agent", tags=["agent"], dependencies=[Depends(require_role("agent"))])

JOINED = "人工客服{name}已接入，正在为您服务。"
TRANSFERRED = "已为您转接至人工客服{name}，请稍候。"
BACK_TO_BOT = "人工服务已结束，接下来由智能助手继续为您服务。如需人工，可随时点击“转人工”。"
CLOSED = "本次人工服务已结束，感谢您的耐心。欢迎对本次服务进行评价。"


class ConsoleMessage(BaseModel):
    id: int
    sender: str
    kind: str
    text: str
    author: str | None
    created_at: datetime


class HandoffItem(BaseModel):
    id: int
    conversation_id: str
    status: str
    mode: str | None
    """The conversation's mode (bot / waiting / agent / closed), None when the conversation row is gone."""
    agent_id: int | None
    agent_name: str | None
    reason: str | None
    slots: dict
    slot_fields: list[SlotField]
    """What the dialogue understood, under Chinese labels; internal slots left out."""
    created_at: datetime
    claimed_at: datetime | None
    wait_seconds: int
    """How long the citizen waited (still waits) for a person."""
    last_citizen_text: str | None


class HandoffsOut(BaseModel):
    now: datetime
    waiting: list[HandoffItem]
    mine: list[HandoffItem]


class HandoffDetail(HandoffItem):
    in_full: bool
    """True for the agent talking to the citizen: phone and ID numbers unmasked."""
    messages: list[ConsoleMessage]


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class TransferIn(BaseModel):
    agent_id: int


class AgentOut(BaseModel):
    id: int
    username: str
    display_name: str


def _mask(value: object, in_full: bool) -> object:
    if in_full:
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask(v, False) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, False) for v in value]
    return value


def _messages(session: Session, handoff: Handoff, in_full: bool, after: int = 0) -> list[ConsoleMessage]:
    """The stored conversation; a handoff whose conversation row is gone shows the transcript it was filed with."""
    if conv.get_conversation(session, handoff.conversation_id) is None:
        turns = [t for t in handoff.transcript if isinstance(t, dict)][after:]
        return [
            ConsoleMessage(
                id=after + i + 1,
                sender=str(t.get("sender", "citizen")),
                kind=str(t.get("kind", "text")),
                text=str(_mask(t.get("text") or "", in_full)),
                author=None,
                created_at=t.get("at") or handoff.created_at,
            )
            for i, t in enumerate(turns)
        ]
    return [console_message(m, in_full) for m in conv.messages_since(session, handoff.conversation_id, after)]


def console_message(message: conv.ChatMessage, in_full: bool) -> ConsoleMessage:
    """A stored message as the console shows it (also on its live stream): one line of text, with phone and
    ID numbers masked unless ``in_full``."""
    return ConsoleMessage(
        id=message.id,
        sender=message.sender,
        kind=message.kind,
        text=str(_mask(conv.summary_text(message), in_full)),
        author=message.author,
        created_at=message.created_at,
    )


def _item(session: Session, handoff: Handoff, names: dict[int, str], now: datetime, in_full: bool) -> dict:
    conversation = conv.get_conversation(session, handoff.conversation_id)
    slots = {**(conversation.slots if conversation and conversation.slots else {}), **(handoff.slots or {})}
    last = None
    if conversation is not None:
        last = session.scalar(
            select(conv.ChatMessage.text)
            .where(conv.ChatMessage.conversation_id == handoff.conversation_id, conv.ChatMessage.sender == "citizen")
            .order_by(conv.ChatMessage.id.desc())
            .limit(1)
        )
    else:
        said = [t.get("text") for t in handoff.transcript if isinstance(t, dict) and t.get("sender") == "citizen"]
        last = said[-1] if said else None
    end = handoff.claimed_at if handoff.status != "waiting" and handoff.claimed_at else now
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "mode": conversation.mode if conversation else None,
        "agent_id": handoff.agent_id,
        "agent_name": names.get(handoff.agent_id or 0),
        "reason": handoff.reason,
        "slots": _mask(slots, in_full),
        "slot_fields": labelled_slots(_mask(slots, in_full)),
        "created_at": handoff.created_at,
        "claimed_at": handoff.claimed_at,
        "wait_seconds": max(0, int((end - handoff.created_at).total_seconds())),
        "last_citizen_text": _mask(last, in_full) if last else None,
    }


def _names(session: Session) -> dict[int, str]:
    return {user_id: name for user_id, name in session.execute(select(User.id, User.display_name))}


def handoff_or_404(session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="未找到该会话")
    return handoff


def holds(handoff: Handoff, user: UserOut) -> bool:
    """The agent talking to the citizen right now: the only one who sees phone and ID numbers in full."""
    return handoff.status == "claimed" and handoff.agent_id == user.id


def _require_holder(handoff: Handoff, user: UserOut, *, admin_ok: bool = False) -> None:
    if holds(handoff, user) or (admin_ok and user.role == "admin" and handoff.status != "closed"):
        return
    if handoff.status == "closed":
        raise HTTPException(status.HTTP_409_CONFLICT, detail="该会话已结束")
    if handoff.status == "waiting":
        raise HTTPException(status.HTTP_409_CONFLICT, detail="请先接入该会话")
    raise HTTPException(status.HTTP_409_CONFLICT, detail="该会话正由其他坐席接待")


def _tell_citizen(session: Session, handoff: Handoff, text: str) -> None:
    if conv.get_conversation(session, handoff.conversation_id) is not None:
        conv.add_message(session, handoff.conversation_id, "system", "text", text)


def _detail(session: Session, handoff: Handoff, user: UserOut) -> HandoffDetail:
    in_full = holds(handoff, user)
    item = _item(session, handoff, _names(session), utcnow(), in_full)
    return HandoffDetail(**item, in_full=in_full, messages=_messages(session, handoff, in_full))


@router.get("/handoffs", response_model=HandoffsOut)
def handoff_queue(session: SessionDep, user: AgentUser) -> HandoffsOut:
    """Waiting conversations, longest wait first, and the ones this agent is talking to."""
    now = utcnow()
    names = _names(session)
    waiting = session.scalars(
        select(Handoff).where(Handoff.status == "waiting").order_by(Handoff.created_at, Handoff.id)
    )
    mine = session.scalars(
        select(Handoff).where(Handoff.status == "claimed", Handoff.agent_id == user.id).order_by(Handoff.claimed_at)
    )
    return HandoffsOut(
        now=now,
        waiting=[HandoffItem(**_item(session, h, names, now, False)) for h in waiting],
        mine=[HandoffItem(**_item(session, h, names, now, True)) for h in mine],
    )


@router.get("/canned-replies", response_model=list[str])
def canned_replies() -> list[str]:
    return get_settings().canned_replies


@router.get("/agents", response_model=list[AgentOut])
def agents(session: SessionDep, user: AgentUser) -> list[AgentOut]:
    """Who a conversation can be transferred to: the other active agents and admins."""
    rows = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(("agent", "admin")), User.id != user.id)
        .order_by(User.display_name)
    )
    return [AgentOut(id=u.id, username=u.username, display_name=u.display_name) for u in rows]


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail)
def get_handoff(handoff_id: int, session: SessionDep, user: AgentUser) -> HandoffDetail:
    return _detail(session, handoff_or_404(session, handoff_id), user)


@router.get("/handoffs/{handoff_id}/messages", response_model=list[ConsoleMessage])
def new_messages(
    handoff_id: int, session: SessionDep, user: AgentUser, after: int = Query(0, ge=0)
) -> list[ConsoleMessage]:
    """The messages after the last one a client has: a catch-up for clients without the live stream
    (``/stream`` in ``agent_live``), which is what the console listens to."""
    handoff = handoff_or_404(session, handoff_id)
    return _messages(session, handoff, holds(handoff, user), after)


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffDetail)
def claim(handoff_id: int, session: SessionDep, user: AgentUser) -> HandoffDetail:
    if not claims.claim_handoff(session, handoff_id, actor_of(user)):
        handoff = handoff_or_404(session, handoff_id)
        if holds(handoff, user):
            return _detail(session, handoff, user)
        why = "该会话已结束" if handoff.status == "closed" else "该会话已被其他坐席接入"
        raise HTTPException(status.HTTP_409_CONFLICT, detail=why)
    handoff = handoff_or_404(session, handoff_id)
    if conv.get_conversation(session, handoff.conversation_id) is not None:
        conv.set_mode(session, handoff.conversation_id, "agent", user.id)
        _tell_citizen(session, handoff, JOINED.format(name=user.display_name))
    return _detail(session, handoff, user)


@router.post("/handoffs/{handoff_id}/reply", response_model=ConsoleMessage)
def reply(handoff_id: int, body: ReplyIn, session: SessionDep, user: AgentUser) -> ConsoleMessage:
    handoff = handoff_or_404(session, handoff_id)
    _require_holder(handoff, user)
    if conv.get_conversation(session, handoff.conversation_id) is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="市民的会话已不存在，无法回复")
    text = body.text.strip()
    if not text:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="回复内容不能为空")
    message = conv.add_message(session, handoff.conversation_id, "agent", "text", text, author=user.display_name)
    return ConsoleMessage(
        id=message.id, sender="agent", kind="text", text=text, author=message.author, created_at=message.created_at
    )


@router.post("/handoffs/{handoff_id}/transfer", response_model=HandoffDetail)
def transfer(handoff_id: int, body: TransferIn, session: SessionDep, user: AgentUser) -> HandoffDetail:
    handoff = handoff_or_404(session, handoff_id)
    _require_holder(handoff, user, admin_ok=True)
    target = session.get(User, body.agent_id)
    if target is None or not target.active or target.role not in ("agent", "admin"):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="请选择一位在岗的坐席")
    if target.id == handoff.agent_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="该会话已由这位坐席接待")
    # Compare-and-set on the holder, like a claim: two transfers at once cannot both move it.
    result = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "claimed", Handoff.agent_id == handoff.agent_id)
        .values(agent_id=target.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="该会话刚被他人处理，请刷新后再试")
    session.refresh(handoff)
    if conv.get_conversation(session, handoff.conversation_id) is not None:
        conv.set_mode(session, handoff.conversation_id, "agent", target.id)
        _tell_citizen(session, handoff, TRANSFERRED.format(name=target.display_name))
    return _detail(session, handoff, user)


def _end(session: Session, handoff: Handoff, user: UserOut, mode: conv.Mode, text: str) -> HandoffDetail:
    _require_holder(handoff, user, admin_ok=True)
    if not claims.close_handoff(session, handoff.id, actor_of(user)):
        raise HTTPException(status.HTTP_409_CONFLICT, detail="该会话刚被他人处理，请刷新后再试")
    if conv.get_conversation(session, handoff.conversation_id) is not None:
        conv.set_mode(session, handoff.conversation_id, mode, user.id if mode == "closed" else None)
        _tell_citizen(session, handoff, text)
    return _detail(session, handoff, user)


@router.post("/handoffs/{handoff_id}/bot", response_model=HandoffDetail)
def back_to_bot(handoff_id: int, session: SessionDep, user: AgentUser) -> HandoffDetail:
    """回到机器人: the agent is done, the assistant answers the citizen's next message again."""
    return _end(session, handoff_or_404(session, handoff_id), user, "bot", BACK_TO_BOT)


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffDetail)
def close(handoff_id: int, session: SessionDep, user: AgentUser) -> HandoffDetail:
    return _end(session, handoff_or_404(session, handoff_id), user, "closed", CLOSED)


@router.get("/handoffs/{handoff_id}/ticket-draft", response_model=TicketDraft)
def ticket_draft(handoff_id: int, session: SessionDep, user: AgentUser) -> TicketDraft:
    """The ticket the conversation suggests (content, phone, type, category), for the agent to check and edit."""
    handoff = handoff_or_404(session, handoff_id)
    _require_holder(handoff, user, admin_ok=True)
    return draft_ticket(session, handoff)


@router.post("/handoffs/{handoff_id}/ticket", status_code=status.HTTP_201_CREATED)
def create_ticket(handoff_id: int, body: TicketFromChatIn, session: SessionDep, user: AgentUser) -> dict:
    """Files a 12345 ticket from the conversation; the citizen sees its number in the chat."""
    handoff = handoff_or_404(session, handoff_id)
    _require_holder(handoff, user, admin_ok=True)
    ticket = file_ticket(session, handoff, body, user)
    return {"id": ticket.id, "number": ticket.number, "status": ticket.status, "type": ticket.type}
