"""What a 12345 ticket is made of, in words every package shares: its types and the ticket form's slots.

The dialogue's form fills the slots (``dialogue/domain.yml`` declares them under these names), the
assistant files a ticket from them, and an agent's ticket draft reads them back from a handoff. One
list here keeps the three in step: a slot renamed in one place and not the others would silently
leave the agent's draft empty.
"""

from __future__ import annotations

from typing import Literal, get_args

TicketType = Literal["咨询", "求助", "投诉", "举报", "建议"]
TICKET_TYPES: tuple[str, ...] = get_args(TicketType)

TYPE_SLOT = "ticket_type"
CONTENT_SLOT = "ticket_content"
LOCATION_SLOT = "ticket_location"
TIME_SLOT = "ticket_time"
NAME_SLOT = "ticket_name"
PHONE_SLOT = "ticket_phone"

FORM_SLOTS: tuple[str, ...] = (CONTENT_SLOT, LOCATION_SLOT, TIME_SLOT, NAME_SLOT, PHONE_SLOT)
"""The ticket's fields, in the order the form asks for them (``ticket_form`` in the domain)."""
CONFIRMED_SLOT = "ticket_confirmed"
"""The form's last question, the summary: ``yes`` files, ``no`` cancels (not a field of the ticket)."""

NOT_GIVEN = "未提供"
"""What the form stores when the citizen skips the place or the time: not something to put in a draft."""
ANONYMOUS = "匿名"
"""What the form stores for a citizen who gives no name."""

LEAVE_MESSAGE_BUTTON: dict[str, str] = {"title": "留言咨询", "payload": '/seek_help{"ticket_type":"咨询"}'}
"""留言: starts the dialogue's ticket form as a 咨询; the dialogue offers it beside 转人工, and the gateway
offers it instead of 转人工 outside the desk's hours."""
