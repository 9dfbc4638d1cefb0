"""Spotting unanswered questions in the gateway's traffic, for the editors' 未解决问题 list.

The gateway sees every turn of every channel, so the capture lives here rather than in the dialogue:
it works the same for the chat page, the app and (later) the phone line, and needs no Rasa change.
It recognises four signs that the assistant failed a citizen: the not-found reply offering the hotline
buttons, a handoff to a person, a rating of 2 or less, and 都不是 (``/deny``) right after a choice of
matters. A capture failure is logged and never breaks the citizen's turn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.conversations import ChatMessage
from knowledge.unanswered import Reason, record

log = logging.getLogger(__name__)

HOTLINE_PAYLOAD = "/request_human"
"""The 转人工 button the dialogue offers with its not-found and 都不是 replies (dialogue.actions.guide)."""
NOT_FOUND_MARKERS = ("没有在办事指南库里找到", "没能找到")
DENY_PAYLOAD = "/deny"
LOW_RATING = 2
_HANDOFF_ONLY = re.compile(r"^(我要|我想|请|帮我)?(转|找|接)?(人工|客服|真人|坐席)(客服|服务|坐席)?(吧|啊|呢)?$")
"""A turn that only asks for a person says nothing about what the citizen needed: not a question."""
_SMALL_TALK = re.compile(
    r"^(你好|您好|哈喽|嗨|hello|hi|在吗|在不在|有人吗|谢谢|多谢|感谢|好的|好|嗯+|哦+|ok|行|是的|对)+(啊|呀|呢|吧)?$",
    re.IGNORECASE,
)
"""Greetings and acknowledgements: 你好 before 转人工 is not the question editors should answer."""

Sessions = Callable[[], AbstractContextManager[Session]]


def _payloads(message: ChatMessage) -> list[str]:
    return [str(b.get("payload")) for b in (message.payload or {}).get("buttons", []) if isinstance(b, dict)]


def _is_not_found(message: ChatMessage) -> bool:
    return (
        message.kind == "buttons"
        and HOTLINE_PAYLOAD in _payloads(message)
        and any(marker in (message.text or "") for marker in NOT_FOUND_MARKERS)
    )


def _typed(message: ChatMessage) -> bool:
    """A question the citizen wrote, not a button they clicked (a click stores its payload)."""
    return (
        message.sender == "citizen"
        and message.kind == "text"
        and not (message.payload or {}).get("payload")
        and not (message.text or "").startswith("/")
        and not _HANDOFF_ONLY.match(bare := re.sub(r"[\s，。！!？?~～]", "", message.text or ""))
        and not _SMALL_TALK.match(bare)
    )


def last_question(session: Session, conversation_id: str, before_id: int | None = None) -> ChatMessage | None:
    query = select(ChatMessage).where(ChatMessage.conversation_id == conversation_id).order_by(ChatMessage.id.desc())
    if before_id is not None:
        query = query.where(ChatMessage.id < before_id)
    for message in session.scalars(query.limit(50)):
        if _typed(message):
            return message
    return None


def after_bot_turn(
    session: Session, conversation_id: str, sent: str, citizen: ChatMessage, replies: Sequence[ChatMessage]
) -> Reason | None:
    """Records the question a bot turn failed to answer; returns the reason, or None when it was answered."""
    if sent.strip() == DENY_PAYLOAD:
        previous = session.scalars(
            select(ChatMessage)
            .where(
                ChatMessage.conversation_id == conversation_id, ChatMessage.id < citizen.id, ChatMessage.sender == "bot"
            )
            .order_by(ChatMessage.id.desc())
            .limit(1)
        ).first()
        if previous is not None and previous.kind == "buttons" and DENY_PAYLOAD in _payloads(previous):
            question = last_question(session, conversation_id, previous.id)
            if question is not None:
                record(session, question.text, "rejected_clarification", conversation_id)
                return "rejected_clarification"
            return None
    if any(_is_not_found(m) for m in replies):
        question = citizen if _typed(citizen) else last_question(session, conversation_id, citizen.id)
        if question is not None:
            record(session, question.text, "not_found", conversation_id)
            return "not_found"
    return None


def on_handoff(session: Session, conversation_id: str) -> Reason | None:
    question = last_question(session, conversation_id)
    if question is None:
        return None
    record(session, question.text, "handoff", conversation_id)
    return "handoff"


def on_rating(session: Session, conversation_id: str, score: int) -> Reason | None:
    if score > LOW_RATING:
        return None
    question = last_question(session, conversation_id)
    if question is None:
        return None
    record(session, question.text, "low_rating", conversation_id)
    return "low_rating"


def safely(sessions: Sessions, capture: Callable[..., Reason | None], *args) -> Reason | None:
    """Runs one capture in its own short transaction; an error is logged, the citizen's turn goes on."""
    try:
        with sessions() as session:
            return capture(session, *args)
    except Exception:  # the capture is a side record, never worth failing a turn for
        log.exception("unanswered question not recorded (%s)", getattr(capture, "__name__", capture))
        return None
