"""The citizen's chat API, used by the chat page, the embeddable widget and apps.

A conversation id is an unguessable uuid and is all a citizen holds: there is no login. The bot's
replies come back in the POST's response; anything later (an agent's reply, a mode change) comes
through the live stream or by asking for the messages after the last id seen.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sse_starlette import EventSourceResponse

from banshi.db import session_scope
from channels import capture, outcomes
from channels.admission import OVERLOADED, admit_turn
from channels.commit_first import CommitFirstRoute
from channels.conversations import DeskOut, MessageOut, TicketCardOut, message_out
from channels.deps import RelayDep, SessionDep
from channels.live import stream_response
from channels.params import AfterId
from channels.rate_limit import RateLimited
from channels.relay import ConversationClosed
from channels.routes.auth import client_address
from channels.turn_lock import BUSY_TEXT, TurnBusy
from common import conversations as conv
from common.conversations import ConversationNotFound, Mode
from hotline import followup

router = APIRouter(route_class=CommitFirstRoute, prefix="/api/v1/conversations", tags=["chat"])

NOT_FOUND = "未找到该会话，请刷新页面开始新的会话"
CLOSED = "本次会话已结束，请开始新的会话"
BUSY = BUSY_TEXT
ConversationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="会话编号（32位十六进制）")]
ERRORS = {404: {"description": NOT_FOUND}, 409: {"description": CLOSED}}
OVERLOADED_RESPONSE = {503: {"description": f"{OVERLOADED}（超出容量）或{BUSY}；Retry-After 秒后再试"}}
LIMITED = {429: {"description": "该地址或会话发送过于频繁，Retry-After 秒后再试"}}


def _limit(request: Request, conversation_id: str | None) -> None:
    try:
        request.app.state.rate_limits.check(client_address(request), conversation_id)
    except RateLimited as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, detail=exc.message, headers={"Retry-After": str(exc.retry_after)}
        ) from exc


def limit_address(request: Request) -> None:
    """Counts a citizen's request against their client address (``channels.rate_limit``)."""
    _limit(request, None)


def limit_conversation(request: Request, conversation_id: ConversationId) -> None:
    """Counts a citizen's request against their client address and the conversation."""
    _limit(request, conversation_id)


class ConversationIn(BaseModel):
    channel: Literal["web", "widget", "app"] = Field("web", description="会话来源：网页、嵌入式挂件或移动应用")


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    channel: str
    mode: Mode = Field(description="bot 智能助手；waiting 等待人工；agent 人工服务中；closed 已结束")
    created_at: datetime
    rating: int | None = None
    rating_comment: str | None = None


class TextIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=1000, description="市民输入的文字，或所点按钮的标题")
    payload: str | None = Field(
        None, max_length=1000, description="所点按钮的 payload（如 /affirm）；有它时机器人收到它，记录里显示 text"
    )

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not re.sub(r"\s", "", value):
            raise ValueError("消息不能为空")
        return value


class RatingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    score: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意")
    comment: str | None = Field(None, max_length=500)


class TicketRatingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    number: str = Field(pattern=r"^12345-\d{8}-\d{4,}$", description="工单编号，如 12345-20260101-0001")
    score: int = Field(ge=1, le=5, description="回访满意度：1 非常不满意 … 5 非常满意")


class TranscriptOut(ConversationOut):
    messages: list[MessageOut]


class HandoffOut(BaseModel):
    mode: Mode
    messages: list[MessageOut]
    desk: DeskOut | None = None
    """Whether a person can answer now: open (queued, ``reply_within_minutes``) or closed (留言 offered);
    None when the citizen was already waiting or talking to an agent."""


def _conversation(session, conversation_id: str) -> conv.Conversation:
    found = conv.get_conversation(session, conversation_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return found


def _messages_out(session, messages: list[conv.ChatMessage]) -> list[MessageOut]:
    """The messages as the API shows them, each citizen's message with its turn's outcomes."""
    stated = outcomes.of_messages(session, [m.id for m in messages if m.sender == "citizen"])
    return [message_out(m, stated.get(m.id)) for m in messages]


def _out(conversation: conv.Conversation) -> ConversationOut:
    out = ConversationOut.model_validate(conversation)
    out.created_at = conversation.created_at.replace(tzinfo=UTC)
    return out


@router.post(
    "",
    response_model=ConversationOut,
    status_code=status.HTTP_201_CREATED,
    responses=LIMITED,
    dependencies=[Depends(limit_address)],
    summary="开始一个会话",
)
def start(session: SessionDep, body: ConversationIn | None = None) -> ConversationOut:
    return _out(conv.start_conversation(session, (body or ConversationIn()).channel))


@router.get("/{conversation_id}", response_model=ConversationOut, responses=ERRORS, summary="会话状态")
def show(conversation_id: ConversationId, session: SessionDep) -> ConversationOut:
    return _out(_conversation(session, conversation_id))


@router.post(
    "/{conversation_id}/messages",
    response_model=list[MessageOut],
    responses={**ERRORS, **LIMITED, **OVERLOADED_RESPONSE},
    dependencies=[Depends(limit_conversation), Depends(admit_turn, scope="function")],
    summary="发送一条消息",
)
def send(conversation_id: ConversationId, body: TextIn, relay: RelayDep) -> list[MessageOut]:
    """Returns the citizen's message and the bot's replies; in waiting or agent mode only the citizen's."""
    try:
        if body.payload:
            stored = relay.citizen_turn(conversation_id, body.payload, shown=body.text)
        else:
            stored = relay.citizen_turn(conversation_id, body.text)
    except ConversationNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND) from exc
    except ConversationClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=CLOSED) from exc
    except TurnBusy as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=BUSY, headers={"Retry-After": "2"}) from exc
    with relay.sessions() as session:
        return _messages_out(session, stored)


@router.get("/{conversation_id}/messages", response_model=list[MessageOut], responses=ERRORS, summary="新消息")
def since(
    conversation_id: ConversationId,
    session: SessionDep,
    after: AfterId = 0,
) -> list[MessageOut]:
    _conversation(session, conversation_id)
    return _messages_out(session, conv.messages_since(session, conversation_id, after))


@router.get(
    "/{conversation_id}/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": 'text/event-stream：message 事件（数据同 MessageOut）、mode 事件（{"mode"}）',
            "content": {"text/event-stream": {}},
        },
        **ERRORS,
    },
    summary="实时消息流（SSE）",
)
def stream(
    conversation_id: ConversationId,
    request: Request,
    after: AfterId = 0,
    seconds: Annotated[float | None, Query(gt=0, le=3600, description="流的最长时间（秒），到时浏览器自动重连")] = None,
) -> EventSourceResponse:
    with session_scope() as session:  # not SessionDep: that would hold a pooled connection for the whole stream
        _conversation(session, conversation_id)
    return stream_response(request, conversation_id, after, seconds)


@router.get("/{conversation_id}/transcript", response_model=TranscriptOut, responses=ERRORS, summary="完整对话记录")
def show_transcript(conversation_id: ConversationId, session: SessionDep) -> TranscriptOut:
    found = _conversation(session, conversation_id)
    messages = _messages_out(session, conv.messages_since(session, conversation_id))
    return TranscriptOut(**_out(found).model_dump(), messages=messages)


@router.post(
    "/{conversation_id}/rating",
    response_model=ConversationOut,
    responses={**ERRORS, **LIMITED},
    dependencies=[Depends(limit_conversation)],
    summary="好差评",
)
def rate(conversation_id: ConversationId, body: RatingIn, session: SessionDep) -> ConversationOut:
    found = _conversation(session, conversation_id)
    conv.set_rating(session, conversation_id, body.score, body.comment or None)
    capture.on_rating(session, conversation_id, body.score)
    return _out(found)


@router.post(
    "/{conversation_id}/handoff",
    response_model=HandoffOut,
    responses={**ERRORS, **LIMITED, **OVERLOADED_RESPONSE},
    dependencies=[Depends(limit_conversation), Depends(admit_turn, scope="function")],
    summary="转人工",
)
def hand_off(conversation_id: ConversationId, relay: RelayDep) -> HandoffOut:
    try:
        stored = relay.hand_off(conversation_id, reason="request_human")
    except ConversationNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND) from exc
    except ConversationClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=CLOSED) from exc
    with relay.sessions() as session:
        mode = _conversation(session, conversation_id).mode
    shown = [message_out(m) for m in stored]
    return HandoffOut(mode=mode, messages=shown, desk=next((m.desk for m in shown if m.desk), None))


TICKET_NOT_SHOWN = "本次会话中没有查询过这个工单，请先凭工单编号和手机号码查询，再进行评价"


@router.post(
    "/{conversation_id}/ticket-rating",
    response_model=TicketCardOut,
    responses={**ERRORS, 403: {"description": TICKET_NOT_SHOWN}},
    summary="为工单办理结果评分（回访满意度）",
)
def rate_ticket(conversation_id: ConversationId, body: TicketRatingIn, session: SessionDep) -> TicketCardOut:
    """Only a ticket this conversation filed or looked up (with its phone) can be rated from it; the rating
    is the ticket's 回访 and the agent reads it on the ticket. Returns the card as it now stands."""
    _conversation(session, conversation_id)
    ticket = followup.ticket_by_number(session, body.number)
    if ticket is None or not conv.shown_ticket(session, conversation_id, ticket.number):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=TICKET_NOT_SHOWN)
    try:
        followup.rate(session, ticket, body.score)
    except followup.RatingRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    thanks = (
        f"感谢您的评价！工单 {ticket.number} 的满意度（{body.score} 分，{followup.RATING_WORDS[body.score]}）已记录。"
    )
    conv.add_message(session, conversation_id, "system", "text", thanks)
    return TicketCardOut.model_validate(followup.card(ticket))
