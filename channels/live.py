"""Live updates of one conversation as server-sent events, read from the database.

An agent's reply may be written by another gateway replica, so the stream does not wait for an
in-process signal: it polls for messages with an id above the last one sent (cheap: an indexed
query). On PostgreSQL ids are handed out before commit, so a message can become visible after a higher
id was already sent; the poll therefore also re-reads the last few seconds and skips what it sent.
Each event carries the message id, so a browser that reconnects (EventSource sends ``Last-Event-ID``)
resumes where it stopped. A stream ends after ``live_stream_seconds``;
EventSource then reconnects by itself, so no connection lives forever behind a proxy.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import or_, select
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from banshi.config import get_settings
from banshi.db import session_scope
from channels.conversations import ChatMessage, get_conversation, message_out
from knowledge.models import utcnow

RETRY_MS = 2000
"""How long a browser waits before reconnecting after the stream ends or breaks."""


LATE_COMMIT_SECONDS = 5.0
"""How far back a poll looks again for messages committed after a higher id was already sent."""


def _poll(
    conversation_id: str, after_id: int, floor: int, sent: set[int]
) -> tuple[str | None, list[dict[str, Any]]]:
    """The mode and the messages not sent yet: above ``after_id``, or recent, but never at or below ``floor``
    (what the reader had when it connected)."""
    with session_scope() as session:
        conversation = get_conversation(session, conversation_id)
        if conversation is None:
            return None, []
        recent = utcnow() - timedelta(seconds=LATE_COMMIT_SECONDS)
        found = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id == conversation_id,
                or_(ChatMessage.id > after_id, ChatMessage.created_at >= recent),
            )
            .order_by(ChatMessage.id)
        )
        fresh = [m for m in found if m.id > floor and m.id not in sent]
        return conversation.mode, [message_out(m).model_dump(mode="json") for m in fresh]


async def conversation_events(
    request: Request, conversation_id: str, after_id: int, *, seconds: float | None = None
) -> AsyncIterator[ServerSentEvent]:
    """``message`` events for new messages and a ``mode`` event whenever the mode changes (first one at once)."""
    settings = get_settings()
    deadline = time.monotonic() + (seconds if seconds is not None else settings.live_stream_seconds)
    last_mode: str | None = None
    sent: set[int] = set()
    floor = after_id
    while True:
        mode, messages = await anyio.to_thread.run_sync(_poll, conversation_id, after_id, floor, sent)
        if mode is None:
            yield ServerSentEvent(data=json.dumps({"detail": "会话不存在"}, ensure_ascii=False), event="gone")
            return
        for message in messages:
            after_id = max(after_id, message["id"])
            sent.add(message["id"])
            yield ServerSentEvent(data=json.dumps(message, ensure_ascii=False), event="message", id=str(after_id))
        if mode != last_mode:
            last_mode = mode
            yield ServerSentEvent(data=json.dumps({"mode": mode}), event="mode", retry=RETRY_MS)
        if time.monotonic() >= deadline or await request.is_disconnected():
            return
        await anyio.sleep(settings.live_poll_seconds)


def stream_response(
    request: Request, conversation_id: str, after_id: int, seconds: float | None
) -> EventSourceResponse:
    resumed = request.headers.get("last-event-id", "")
    if resumed.isdigit():
        after_id = max(after_id, int(resumed))
    return EventSourceResponse(
        conversation_events(request, conversation_id, after_id, seconds=seconds),
        ping=15,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
