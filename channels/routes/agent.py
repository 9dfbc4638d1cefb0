"""The agent side of live conversations: the handoff queue, claiming, replying, transfer, 回到机器人, close.

The citizen's page reads the same ``chat_messages`` rows (its SSE stream polls the database), so an
agent reply stored here appears there live, on any replica; the console's own streams (the open
conversation, the queues) are in ``agent_live``. Every move of a handoff (claim, reply, transfer,
back to the bot, close) is one call to ``hotline.handoffs``, which changes the handoff and the
conversation's mode together; these routes only check the caller and shape the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from banshi.config import get_settings
from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import BAD_VALUE, CONFLICT, GUARDED, NOT_FOUND, AgentUser, SessionDep, actor_of, require_role
from channels.handoff_tickets import TicketDraft, TicketFromChatIn, draft_ticket, file_ticket
from channels.params import AfterId, BodyId, Id
from common import conversations as conv
from common.clock import UtcDateTime, utcnow
from common.masking import mask_text
from common.users import DESK_ROLES, User
from hotline import handoffs
from hotline.handoffs import holds
from hotline.models import Handoff
from hotline.slot_labels import SlotField, labelled_slots

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/agent",
    tags=["agent"],
    responses={**GUARDED, **NOT_FOUND, **CONFLICT, **BAD_VALUE},
    dependencies=[Depends(require_role("agent"))],
)


@contextmanager
def refused_as_http() -> Iterator[None]:
    """A move ``hotline.handoffs`` refuses, as the console's error: 404 gone, 400 wrong request, 409 too late."""
    try:
        yield
    except handoffs.HandoffNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=exc.detail) from exc
    except handoffs.HandoffInvalid as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=exc.detail) from exc
    except handoffs.HandoffError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.detail) from exc


class ConsoleMessage(BaseModel):
    id: int
    sender: str
    kind: str
    text: str
    author: str | None
    created_at: UtcDateTime


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
    created_at: UtcDateTime
    claimed_at: UtcDateTime | None
    wait_seconds: int
    """How long the citizen waited (still waits) for a person."""
    last_citizen_text: str | None


class HandoffsOut(BaseModel):
    now: UtcDateTime
    waiting: list[HandoffItem]
    mine: list[HandoffItem]


class HandoffDetail(HandoffItem):
    in_full: bool
    """True for the agent talking to the citizen: phone and ID numbers unmasked."""
    messages: list[ConsoleMessage]


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class TransferIn(BaseModel):
    agent_id: BodyId


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
        "slots": _mask(handoff.slots or {}, in_full),
        "slot_fields": labelled_slots(_mask(handoff.slots or {}, in_full)),
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
        .where(User.active.is_(True), User.role.in_(DESK_ROLES), User.id != user.id)
        .order_by(User.display_name)
    )
    return [AgentOut(id=u.id, username=u.username, display_name=u.display_name) for u in rows]


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail)
def get_handoff(handoff_id: Id, session: SessionDep, user: AgentUser) -> HandoffDetail:
    return _detail(session, handoff_or_404(session, handoff_id), user)


@router.get("/handoffs/{handoff_id}/messages", response_model=list[ConsoleMessage])
def new_messages(handoff_id: Id, session: SessionDep, user: AgentUser, after: AfterId = 0) -> list[ConsoleMessage]:
    """The messages after the last one a client has: a catch-up for clients without the live stream
    (``/stream`` in ``agent_live``), which is what the console listens to."""
    handoff = handoff_or_404(session, handoff_id)
    return _messages(session, handoff, holds(handoff, user), after)


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffDetail)
def claim(handoff_id: Id, session: SessionDep, user: AgentUser) -> HandoffDetail:
    with refused_as_http():
        handoff = handoffs.claim_handoff(session, handoff_id, actor_of(user))
    return _detail(session, handoff, user)


@router.post("/handoffs/{handoff_id}/reply", response_model=ConsoleMessage)
def reply(handoff_id: Id, body: ReplyIn, session: SessionDep, user: AgentUser) -> ConsoleMessage:
    with refused_as_http():
        message = handoffs.reply_to_handoff(session, handoff_id, actor_of(user), body.text)
    return ConsoleMessage(
        id=message.id,
        sender="agent",
        kind="text",
        text=message.text or "",
        author=message.author,
        created_at=message.created_at,
    )


@router.post("/handoffs/{handoff_id}/transfer", response_model=HandoffDetail)
def transfer(handoff_id: Id, body: TransferIn, session: SessionDep, user: AgentUser) -> HandoffDetail:
    with refused_as_http():
        handoff = handoffs.transfer_handoff(session, handoff_id, actor_of(user), body.agent_id)
    return _detail(session, handoff, user)


@router.post("/handoffs/{handoff_id}/bot", response_model=HandoffDetail)
def back_to_bot(handoff_id: Id, session: SessionDep, user: AgentUser) -> HandoffDetail:
    """回到机器人: the agent is done, the assistant answers the citizen's next message again."""
    with refused_as_http():
        handoff = handoffs.hand_back_to_bot(session, handoff_id, actor_of(user))
    return _detail(session, handoff, user)


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffDetail)
def close(handoff_id: Id, session: SessionDep, user: AgentUser) -> HandoffDetail:
    with refused_as_http():
        handoff = handoffs.close_handoff(session, handoff_id, actor_of(user))
    return _detail(session, handoff, user)


@router.get("/handoffs/{handoff_id}/ticket-draft", response_model=TicketDraft)
def ticket_draft(handoff_id: Id, session: SessionDep, user: AgentUser) -> TicketDraft:
    """The ticket the conversation suggests (content, phone, type, category), for the agent to check and edit."""
    handoff = handoff_or_404(session, handoff_id)
    with refused_as_http():
        handoffs.require_holder(handoff, actor_of(user), admin_ok=True)
    return draft_ticket(session, handoff)


@router.post("/handoffs/{handoff_id}/ticket", status_code=status.HTTP_201_CREATED)
def create_ticket(handoff_id: Id, body: TicketFromChatIn, session: SessionDep, user: AgentUser) -> dict:
    """Files a 12345 ticket from the conversation; the citizen sees its number in the chat."""
    handoff = handoff_or_404(session, handoff_id)
    with refused_as_http():
        handoffs.require_holder(handoff, actor_of(user), admin_ok=True)
    ticket = file_ticket(session, handoff, body, user)
    return {"id": ticket.id, "number": ticket.number, "status": ticket.status, "type": ticket.type}
