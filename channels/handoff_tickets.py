"""A 12345 ticket from a live conversation: what the citizen said becomes the content, the slots fill the rest.

The slots are the handoff's (the dialogue's, taken when the citizen asked for a person) and are read
under the ticket form's own names (``common.tickets``), so a place, time, name and phone the form
already collected reach the agent's draft even when the citizen asked for a person before filing.

The agent sees the draft first (content, phone, type, category with the classifier's confidence)
and may correct it (a corrected type is kept as a labelled example, ``hotline.corrections``); the
ticket is filed through ``hotline.tickets`` like one the assistant files, with the conversation id,
so the ticket and the chat can be read side by side later.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from channels.accounts import UserOut
from common import conversations as conv
from common import tickets as form
from common.phones import mobiles_in, normalise_phone
from common.tickets import TICKET_TYPES, TicketType
from hotline import classifier, corrections
from hotline.models import Handoff, Ticket
from hotline.tickets import Priority, TicketIn, create_ticket

MAX_CONTENT = 4000


class TicketDraft(BaseModel):
    type: str
    type_confidence: float
    content: str
    phone: str | None
    name: str | None
    location: str | None
    event_time: str | None
    category: str
    category_confidence: float
    suggested_department: str


class TicketFromChatIn(BaseModel):
    """Every field optional: what the agent leaves out comes from the draft."""

    type: TicketType | None = None
    content: str | None = Field(default=None, max_length=MAX_CONTENT)
    phone: str | None = Field(default=None, max_length=30)
    name: str | None = Field(default=None, max_length=50)
    location: str | None = Field(default=None, max_length=500)
    event_time: str | None = Field(default=None, max_length=100)
    priority: Priority = "normal"


def _citizen_texts(session: Session, handoff: Handoff) -> list[str]:
    if conv.get_conversation(session, handoff.conversation_id) is not None:
        return [
            m.text
            for m in conv.messages_since(session, handoff.conversation_id)
            if m.sender == "citizen" and m.kind == "text" and m.text and not m.text.startswith("/")
        ]
    return [
        str(t["text"])
        for t in handoff.transcript
        if isinstance(t, dict) and t.get("sender") == "citizen" and t.get("text")
    ]


def _text_slot(slots: dict, name: str) -> str | None:
    """The slot's text, None when empty or when the form recorded that the citizen skipped it (未提供)."""
    value = slots.get(name)
    if isinstance(value, str) and value.strip() and value.strip() != form.NOT_GIVEN:
        return value.strip()
    return None


def draft_ticket(session: Session, handoff: Handoff) -> TicketDraft:
    said = _citizen_texts(session, handoff)
    slots = handoff.slots or {}
    content = "\n".join(said)[:MAX_CONTENT]
    phone = normalise_phone(_text_slot(slots, form.PHONE_SLOT))
    if phone is None:
        found = [number for text in said for number in mobiles_in(text)]
        phone = found[-1] if found else None
    prediction = classifier.classify(content or "其他")
    declared = _text_slot(slots, form.TYPE_SLOT)
    ticket_type = declared if declared in TICKET_TYPES else prediction.type
    return TicketDraft(
        type=ticket_type,
        type_confidence=1.0 if declared in TICKET_TYPES else prediction.type_confidence,
        content=content,
        phone=phone,
        name=_text_slot(slots, form.NAME_SLOT),
        location=_text_slot(slots, form.LOCATION_SLOT),
        event_time=_text_slot(slots, form.TIME_SLOT),
        category=prediction.category,
        category_confidence=prediction.category_confidence,
        suggested_department=classifier.suggest_department(prediction.category),
    )


def file_ticket(session: Session, handoff: Handoff, body: TicketFromChatIn, user: UserOut) -> Ticket:
    draft = draft_ticket(session, handoff)
    content = (body.content if body.content is not None else draft.content).strip()
    phone = (body.phone if body.phone is not None else draft.phone) or ""
    if len(content) < 2:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="请填写工单内容（至少 2 个字）")
    if not phone.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="请填写市民的联系电话")
    prediction = classifier.classify(content) if content != draft.content else None
    category = prediction.category if prediction else draft.category
    confidence = prediction.category_confidence if prediction else draft.category_confidence
    try:
        item = TicketIn(
            type=body.type or draft.type,
            content=content,
            phone=phone,
            name=body.name if body.name is not None else draft.name,
            location=body.location if body.location is not None else draft.location,
            event_time=body.event_time if body.event_time is not None else draft.event_time,
            conversation_id=handoff.conversation_id,
            slots=dict(handoff.slots or {}),
            priority=body.priority,
            category=category,
            category_confidence=confidence,
        )
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=message) from exc
    ticket = create_ticket(session, item)
    if body.type and body.type != draft.type:  # the agent corrected the draft's type: a labelled example
        corrections.record_correction(
            session, content, type=body.type, predicted=draft.type, ticket_id=ticket.id, actor_id=user.id
        )
    if conv.get_conversation(session, handoff.conversation_id) is not None:
        conv.add_message(
            session,
            handoff.conversation_id,
            "system",
            "ticket",
            f"人工客服{user.display_name}已为您登记工单，编号 {ticket.number}。凭工单号和手机号可查询办理进度。",
            {"type": "ticket", "number": ticket.number, "ticket_type": ticket.type, "status": ticket.status},
        )
    return ticket
