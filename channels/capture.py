"""Spotting unanswered questions in the gateway's traffic, for the editors' 未解决问题 list.

The gateway sees every turn of every channel, so the capture lives here rather than in the dialogue:
it works the same for the chat page, the app and (later) the phone line. It records four signs that
the assistant failed a citizen, all stated as data, never read from the bot's wording: a turn whose
outcome is ``not_found`` or ``clarification_rejected`` (都不是 to offered matters; ``channels.outcomes``),
a handoff to a person, and a rating of 2 or less. A 没有 in the materials walk-through is an answer,
not a rejection, so it records nothing. A capture failure is logged and never breaks the citizen's turn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.conversations import ChatMessage
from knowledge.unanswered import Reason, record

log = logging.getLogger(__name__)

LOW_RATING = 2
_HANDOFF_ONLY = re.compile(r"^(我要|我想|请|帮我)?(转|找|接)?(人工|客服|真人|坐席)(客服|服务|坐席)?(吧|啊|呢)?$")
"""A turn that only asks for a person says nothing about what the citizen needed: not a question."""
_SMALL_TALK = re.compile(
    r"^(你好|您好|哈喽|嗨|hello|hi|在吗|在不在|有人吗|谢谢|多谢|感谢|好的|好|嗯+|哦+|ok|行|是的|对)+(啊|呀|呢|吧)?$",
    re.IGNORECASE,
)
"""Greetings and acknowledgements: 你好 before 转人工 is not the question editors should answer."""

Sessions = Callable[[], AbstractContextManager[Session]]


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
    session: Session, conversation_id: str, citizen: ChatMessage, outcomes: Sequence[dict[str, Any]]
) -> Reason | None:
    """Records the question a bot turn failed to answer, from the turn's outcomes; returns the reason, or
    None when it was answered."""
    kinds = {outcome.get("kind") for outcome in outcomes}
    if "clarification_rejected" in kinds:
        question = last_question(session, conversation_id, citizen.id)
        if question is None:
            return None
        record(session, question.text, "rejected_clarification", conversation_id)
        return "rejected_clarification"
    if "not_found" in kinds:
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
