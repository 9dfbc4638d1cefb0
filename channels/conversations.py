"""What the API shows of a conversation's messages, shared by the citizen API and the agent console.

The tables and the storage of turns are ``common.conversations``; this is only their outward shape.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from channels.outcomes import OutcomeOut
from common.clock import UtcDateTime
from common.conversations import ChatMessage, Kind, Sender


class ButtonOut(BaseModel):
    title: str
    payload: str


class MaterialOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    required: bool | None = None
    condition: str | None = None
    original_or_copy: str | None = None
    original_count: int | None = None
    copy_count: int | None = None
    medium: str | None = None
    source: str | None = None
    note: str | None = None
    must_bring: bool = True
    """False when the citizen need not bring it: 免提交, or the department gets it by data sharing."""
    exempt: bool = False
    exempt_by: str | None = None
    data_shared: bool = False
    e_licence: bool = False
    no_need: str | None = Field(default=None, description="为什么无需提交，例如“部门通过数据共享获取”")
    status: Literal["have", "missing", "unknown", "not_applicable", "not_needed"] = "unknown"
    matters: list[str] = Field(default_factory=list, description="一件事中需要这份材料的事项（只列一次）")


class ChecklistOut(BaseModel):
    """The 一次告知 list: every material with its status, and where, how long, how much, how often."""

    model_config = ConfigDict(extra="allow")

    matter: dict[str, Any] = Field(description="external_id, name, department, code, source_url, updated_at")
    fully_online: bool = Field(default=False, description="可全程网办：网上办理、有链接、无需跑动")
    counts: dict[str, int] | None = Field(default=None, description="must_bring, saved, e_licence")
    materials: list[MaterialOut] = []
    bundle: dict[str, Any] | None = Field(
        default=None, description="一件事：matters（按办理顺序，external_id、name、department）、note、withdrawn"
    )
    location: str | None = None
    hours: str | None = None
    online_url: str | None = None
    time_limit: dict[str, Any] | None = Field(default=None, description="legal_days, promised_days")
    fee: str | None = None
    visits: int | str | None = None
    phone: str | None = None


class TicketCardOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    number: str
    ticket_type: str | None = None
    status: str | None = None


class HandoffInfoOut(BaseModel):
    reason: str | None = None
    matter: str | None = None


class DeskOut(BaseModel):
    """The desk's state a 转人工 notice was given under (``hotline.hours``): open, with the promised reply
    time, or closed, with 留言 offered and the next opening."""

    open: bool
    reply_within_minutes: int | None = None
    opens_at: UtcDateTime | None = None


class RatingOut(BaseModel):
    score: int
    comment: str | None = None


class MessageOut(BaseModel):
    """One message as a page or app draws it; only the field of its kind is filled."""

    id: int
    sender: Sender
    kind: Kind
    text: str | None = None
    author: str | None = None
    buttons: list[ButtonOut] | None = None
    checklist: ChecklistOut | None = None
    ticket: TicketCardOut | None = None
    handoff: HandoffInfoOut | None = None
    rating: RatingOut | None = None
    desk: DeskOut | None = None
    """On the gateway's 转人工 notice only."""
    outcomes: list[OutcomeOut] = Field(
        default_factory=list,
        description="机器人对这条市民消息做了什么（给出指南、请市民选择、未找到、转人工……），仅市民消息有",
    )
    created_at: UtcDateTime


def message_out(message: ChatMessage, outcomes: list[OutcomeOut] | None = None) -> MessageOut:
    """``outcomes``: the turn's, for a citizen's message (``channels.outcomes.of_messages``)."""
    payload = message.payload or {}
    out = MessageOut(
        id=message.id,
        sender=message.sender,
        kind=message.kind,
        text=message.text,
        author=message.author,
        outcomes=outcomes or [],
        created_at=message.created_at.replace(tzinfo=UTC),  # stored naive UTC; apps get an explicit offset
    )
    if isinstance(payload.get("desk"), dict):
        out.desk = DeskOut.model_validate(payload["desk"])
        if out.desk.opens_at is not None:
            out.desk.opens_at = out.desk.opens_at.replace(tzinfo=UTC)
    if message.kind == "buttons":
        out.buttons = [ButtonOut(**b) for b in payload.get("buttons") or []]
    elif message.kind == "checklist":
        out.checklist = ChecklistOut.model_validate(payload)
    elif message.kind == "ticket":
        out.ticket = TicketCardOut.model_validate(payload)
    elif message.kind == "handoff":
        out.handoff = HandoffInfoOut(reason=payload.get("reason"), matter=payload.get("matter"))
    elif message.kind == "rating":
        out.rating = RatingOut.model_validate(payload)
    return out
