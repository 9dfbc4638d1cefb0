"""Live updates as server-sent events, read from the database: a conversation's messages and state for the
citizen's page and the agent console, and "something changed" signals such as the console's queues.

An agent's reply may be written by another gateway replica, so a stream does not wait for an
in-process signal: it polls the database (cheap, indexed queries). For a conversation it asks for
messages with an id above the last one sent. On PostgreSQL ids are handed out before commit, so a
message can become visible after a higher id was already sent; the poll therefore also re-reads the
last few seconds and skips what it sent. Each event carries the message id, so a browser that
reconnects (EventSource sends ``Last-Event-ID``) resumes where it stopped. What a reader sees of a
message and of the conversation's state is a ``Feed``: the citizen and the agent console share this loop
and differ only there. A stream ends after ``live_stream_seconds``; EventSource then reconnects by
itself, so no connection lives forever behind a proxy. Each poll opens its own short session: a
stream never holds a pooled connection while it waits.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request

from banshi.config import get_settings
from banshi.db import session_scope
from channels.conversations import message_out
from common.clock import utcnow
from common.conversations import ChatMessage, Conversation, get_conversation

RETRY_MS = 2000
"""How long a browser waits before reconnecting after the stream ends or breaks."""

LATE_COMMIT_SECONDS = 5.0
"""How far back a poll looks again for messages committed after a higher id was already sent."""

PING_SECONDS = 15
"""A comment line this often keeps proxies from closing a quiet stream."""

Render = Callable[[Session, ChatMessage], dict[str, Any]]
"""A stored message as one reader's event data (JSON-ready)."""
States = Callable[[Session, Conversation], dict[str, dict[str, Any]]]
"""The conversation's state as named events, e.g. ``{"mode": {"mode": "agent"}}``."""


def citizen_message(_session: Session, message: ChatMessage) -> dict[str, Any]:
    return message_out(message).model_dump(mode="json")


def conversation_mode(_session: Session, conversation: Conversation) -> dict[str, dict[str, Any]]:
    return {"mode": {"mode": conversation.mode}}


@dataclass(frozen=True)
class Feed:
    """What one reader is sent: each new message through ``render``, and each state event of ``states``
    whenever its data differs from what this stream last sent (all of them once at the start).
    Both run inside the poll's session, once per poll, so they may look up who is reading (the
    agent console masks phone numbers unless the agent holds the conversation *now*)."""

    render: Render = citizen_message
    states: States = conversation_mode


CITIZEN = Feed()


@dataclass
class _Cursor:
    after_id: int
    floor: int
    """What the reader had when it connected: never sent again, even when re-read as recent."""
    sent: set[int] = field(default_factory=set)


def _poll(
    conversation_id: str, cursor: _Cursor, feed: Feed
) -> tuple[dict[str, dict] | None, list[tuple[int, dict[str, Any]]]]:
    """The state events and the (id, rendered) messages not sent yet: above ``after_id``, or recent;
    None when the conversation is gone."""
    with session_scope() as session:
        conversation = get_conversation(session, conversation_id)
        if conversation is None:
            return None, []
        recent = utcnow() - timedelta(seconds=LATE_COMMIT_SECONDS)
        found = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id == conversation_id,
                or_(ChatMessage.id > cursor.after_id, ChatMessage.created_at >= recent),
            )
            .order_by(ChatMessage.id)
        )
        fresh = [m for m in found if m.id > cursor.floor and m.id not in cursor.sent]
        return feed.states(session, conversation), [(m.id, feed.render(session, m)) for m in fresh]


def _deadline(seconds: float | None) -> float:
    return time.monotonic() + (seconds if seconds is not None else get_settings().live_stream_seconds)


async def conversation_events(
    request: Request, conversation_id: str, after_id: int, *, feed: Feed = CITIZEN, seconds: float | None = None
) -> AsyncIterator[ServerSentEvent]:
    """``message`` events for new messages (``id:`` = the message id) and the feed's state events."""
    deadline = _deadline(seconds)
    cursor = _Cursor(after_id=after_id, floor=after_id)
    last: dict[str, dict] = {}
    while True:
        states, messages = await anyio.to_thread.run_sync(_poll, conversation_id, cursor, feed)
        if states is None:
            yield ServerSentEvent(data=json.dumps({"detail": "会话不存在"}, ensure_ascii=False), event="gone")
            return
        for message_id, message in messages:
            cursor.after_id = max(cursor.after_id, message_id)
            cursor.sent.add(message_id)
            data = json.dumps(message, ensure_ascii=False)
            yield ServerSentEvent(data=data, event="message", id=str(cursor.after_id))
        for name, data in states.items():
            if last.get(name) != data:
                last[name] = data
                yield ServerSentEvent(data=json.dumps(data, ensure_ascii=False), event=name, retry=RETRY_MS)
        if time.monotonic() >= deadline or await request.is_disconnected():
            return
        await anyio.sleep(get_settings().live_poll_seconds)


async def change_events(
    request: Request,
    fingerprint: Callable[[], str],
    event: str,
    *,
    every: float,
    seconds: float | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """One ``event`` whenever ``fingerprint()`` (a blocking database read, run in a thread) changes.

    The event's id is the fingerprint, so a reconnecting browser that already saw this state (its
    ``Last-Event-ID``) is not told again; a fresh one is told at once, which covers anything that
    changed while it was away."""
    deadline = _deadline(seconds)
    seen = request.headers.get("last-event-id") or None
    while True:
        current = await anyio.to_thread.run_sync(fingerprint)
        if current != seen:
            seen = current
            yield ServerSentEvent(data=json.dumps({"version": current}), event=event, id=current, retry=RETRY_MS)
        if time.monotonic() >= deadline or await request.is_disconnected():
            return
        await anyio.sleep(every)


def event_response(events: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    """A stream with keep-alive pings, never cached nor buffered by a proxy."""
    return EventSourceResponse(
        events, ping=PING_SECONDS, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def resume_after(request: Request, after_id: int) -> int:
    """The last message id the reader has: the larger of ``?after=`` and a reconnect's ``Last-Event-ID``."""
    resumed = request.headers.get("last-event-id", "")
    return max(after_id, int(resumed)) if resumed.isdigit() else after_id


def stream_response(
    request: Request, conversation_id: str, after_id: int, seconds: float | None, *, feed: Feed = CITIZEN
) -> EventSourceResponse:
    events = conversation_events(request, conversation_id, resume_after(request, after_id), feed=feed, seconds=seconds)
    return event_response(events)
