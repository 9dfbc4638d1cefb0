"""The agent console's live streams (server-sent events): the open conversation, and "the queues changed".

Both read the database on every poll (``channels.live``), so they see a change whichever gateway
replica wrote it, and neither holds a pooled connection while it waits. The console appends the
conversation's ``message`` events as they come and reloads its lists when ``queues`` arrives, instead of
polling both every few seconds. Same login and role wall as the rest of ``/api/v1/agent``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse

from banshi.db import session_scope
from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import GUARDED, AgentUser, require_role
from channels.live import Feed, change_events, event_response, stream_response
from channels.params import AfterId, Id
from channels.routes.agent import console_message, handoff_or_404
from common.conversations import ChatMessage, Conversation
from hotline.handoffs import holds
from hotline.models import OPEN_STATUSES, AgentDesk, Handoff, Ticket, TicketEvent

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/agent",
    tags=["agent"],
    responses=GUARDED,
    dependencies=[Depends(require_role("agent"))],
)

QUEUE_POLL_SECONDS = 1.0
"""How often a queue stream reads the fingerprint: a new 转人工 shows within about a second."""

Seconds = Annotated[float | None, Query(gt=0, le=3600, description="流的最长时间（秒），到时浏览器自动重连")]


def agent_feed(handoff_id: int, user: UserOut) -> Feed:
    """The conversation as ``user`` sees it in the console. Whether numbers are shown in full is decided
    on every poll, so a transfer away (or a claim) takes effect on an open stream at once."""

    def in_full(session: Session) -> bool:
        handoff = session.get(Handoff, handoff_id)  # one query per poll: later calls hit the identity map
        return handoff is not None and holds(handoff, user)

    def render(session: Session, message: ChatMessage) -> dict[str, Any]:
        return console_message(message, in_full(session)).model_dump(mode="json")

    def states(session: Session, conversation: Conversation) -> dict[str, dict[str, Any]]:
        handoff = session.get(Handoff, handoff_id)
        held = {
            "status": handoff.status if handoff else None,
            "agent_id": handoff.agent_id if handoff else None,
            "in_full": in_full(session),
        }
        return {"mode": {"mode": conversation.mode}, "handoff": held}

    return Feed(render=render, states=states)


@router.get(
    "/handoffs/{handoff_id}/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "text/event-stream：message 事件（数据同 ConsoleMessage，id 为消息 id）、"
            'mode 事件（{"mode"}）、handoff 事件（{"status", "agent_id", "in_full"}）、gone 事件（会话已删除）',
            "content": {"text/event-stream": {}},
        },
        404: {"description": "未找到该会话"},
    },
    summary="会话实时消息流（SSE）",
)
def handoff_stream(
    handoff_id: Id, request: Request, user: AgentUser, after: AfterId = 0, seconds: Seconds = None
) -> EventSourceResponse:
    """Reconnecting with ``Last-Event-ID`` resumes after that message; the handoff's state is sent at once
    and again whenever it changes (claimed, transferred, closed), so the console can redraw its buttons."""
    with session_scope() as session:  # not SessionDep: the stream must not keep a pooled connection
        conversation_id = handoff_or_404(session, handoff_id).conversation_id
    return stream_response(request, conversation_id, after, seconds, feed=agent_feed(handoff_id, user))


def queue_fingerprint() -> str:
    """Changes whenever the waiting / my-conversations lists, the open tickets or the desk board would look
    different: the open handoffs (who holds them), the last thing a citizen said in one, the open tickets'
    count, newest id, last update and last lifecycle event, and who is online. A few small reads, not the lists."""
    with session_scope() as session:
        live = Handoff.status.in_(("waiting", "claimed"))
        handoffs = session.execute(
            select(Handoff.id, Handoff.status, Handoff.agent_id).where(live).order_by(Handoff.id)
        ).all()
        said = session.scalar(
            select(func.max(ChatMessage.id)).where(
                ChatMessage.sender == "citizen",
                ChatMessage.conversation_id.in_(select(Handoff.conversation_id).where(live)),
            )
        )
        tickets = session.execute(
            select(func.count(Ticket.id), func.max(Ticket.id), func.max(Ticket.updated_at)).where(
                Ticket.status.in_(OPEN_STATUSES)
            )
        ).one()
        event = session.scalar(select(func.max(TicketEvent.id)))
        places = session.execute(
            select(AgentDesk.user_id, AgentDesk.status, AgentDesk.changed_at).order_by(AgentDesk.user_id)
        ).all()
    state = repr(([tuple(h) for h in handoffs], said, tuple(tickets), event, [tuple(p) for p in places]))
    return hashlib.blake2b(state.encode(), digest_size=8).hexdigest()


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": 'text/event-stream：queues 事件（{"version"}，id 同 version），'
            "等待队列或待办工单有变化时发送；连接时先发一次（Last-Event-ID 与当前 version 相同则不发）",
            "content": {"text/event-stream": {}},
        }
    },
    summary="队列变化通知（SSE）",
)
def queue_events(request: Request, seconds: Seconds = None) -> EventSourceResponse:
    """Tells the console to reload its lists; the lists themselves still come from ``/handoffs`` and
    ``/api/v1/tickets``, which apply the agent's scope, filters and masking."""
    return event_response(
        change_events(request, queue_fingerprint, "queues", every=QUEUE_POLL_SECONDS, seconds=seconds)
    )
