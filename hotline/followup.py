"""Closing the loop with the citizen: what they are told when they ask about their ticket, and their rating.

The dialogue's status lookup and the chat's rating button both read the ticket through here, so the card a
citizen sees, the words the bot says and the rating an agent reads at the desk come from one record: the
ticket (``status``, ``department``, ``resolution``, ``rating``) and its ``ticket_events``. The functions
that shape the answer are pure: they take a ticket and return data, and know nothing of Rasa or HTTP.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import lifecycle
from hotline.models import CLOSED_STATUSES, Ticket, TicketEvent

RATING_WORDS = {1: "非常不满意", 2: "不满意", 3: "一般", 4: "满意", 5: "非常满意"}


class RatingRefused(ValueError):
    """The citizen's rating cannot be taken; the message says why, in words for the citizen."""


def card(ticket: Ticket) -> dict[str, Any]:
    """The ``ticket`` payload of the chat's ticket card; a closed ticket carries its result and can be rated."""
    payload: dict[str, Any] = {
        "type": "ticket",
        "number": ticket.number,
        "ticket_type": ticket.type,
        "status": ticket.status,
    }
    if ticket.status in CLOSED_STATUSES:
        payload.update(
            department=ticket.department,
            resolution=ticket.resolution,
            rating=ticket.rating,
            rateable=True,
        )
    return payload


def status_reply(ticket: Ticket) -> str:
    """What the bot says to the citizen who asked: the status, and once closed who handled it and how."""
    filed = f"{ticket.created_at:%Y-%m-%d %H:%M}"
    head = f"工单 {ticket.number}（{ticket.type}）当前状态：{ticket.status}。\n提交时间：{filed}。"
    if ticket.status not in CLOSED_STATUSES:
        return head + "工作人员办理后会通过您留下的手机号码联系您。"
    lines = [
        head,
        f"承办部门：{ticket.department or '12345热线'}",
        f"办理结果：{ticket.resolution or '（暂无文字说明）'}",
    ]
    if ticket.rating:
        lines.append(f"您的满意度评价：{ticket.rating} 分（{RATING_WORDS[ticket.rating]}），如需修改可在下方重新评分。")
    else:
        lines.append("请在下方为本次办理结果评分（1–5 分），您的评价会反馈给承办部门。")
    return "\n".join(lines)


def ticket_by_number(session: Session, number: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.number == number.strip().upper()))


def rate(session: Session, ticket: Ticket, score: int, *, now: datetime | None = None) -> TicketEvent:
    """The citizen's 回访 满意度 from the chat; the lifecycle owns the move and its event."""
    try:
        return lifecycle.rate_by_citizen(session, ticket, score, now=now)
    except lifecycle.TicketError as exc:
        if ticket.status not in CLOSED_STATUSES:
            raise RatingRefused(f"工单 {ticket.number} 目前{ticket.status}，办结后才能评价办理结果") from exc
        raise RatingRefused(str(exc)) from exc
