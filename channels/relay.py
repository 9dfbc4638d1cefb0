"""The gateway's relay: a citizen's turn goes to the bot or to a person, depending on the conversation's mode.

Bot mode forwards the turn to Rasa's REST channel (sender = conversation id) and stores Rasa's replies
as structured messages, and the turn's outcomes (``channels.outcomes``) against the citizen's message.
Waiting and agent modes only store the turn: the agent console reads it from the database. Each
database write is its own short transaction and no transaction is open while Rasa thinks, because the
action server writes tickets to the same database (on SQLite one writer at a time).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from banshi.config import get_settings
from banshi.db import session_scope
from channels import capture, outcomes
from channels.turn_lock import TurnBusy, TurnLocks
from common.clock import utcnow
from common.conversations import ChatMessage, ConversationNotFound, Kind, add_message, get_conversation
from common.tickets import LEAVE_MESSAGE_BUTTON
from hotline import sla
from hotline.assignment import run_desk
from hotline.handoffs import request_handoff
from hotline.hours import DeskHours, desk_hours

log = logging.getLogger(__name__)

UNAVAILABLE_TEXT = (
    "抱歉，智能助手暂时无法回复，请稍后再试。您也可以点击“转人工”联系人工客服，或直接拨打12345政务服务便民热线。"
)
WAITING_TEXT = (
    "您已进入人工客服排队，坐席将在{minutes}分钟内在这里回复您，请不要关闭页面。您也可以继续输入要说明的情况。"
)
AFTER_HOURS_TEXT = (
    "现在不是人工客服的服务时间（工作日 {hours}），下次服务从{opens}开始。"
    "您可以点击“留言咨询”留下问题和联系电话，工作人员上班后会尽快答复您。"
)
ALREADY_WAITING_TEXT = "您已在人工客服排队中，请稍候，坐席接入后会马上回复您。"
ALREADY_WITH_AGENT_TEXT = "人工客服正在为您服务，请直接在这里留言。"
STRUCTURED = ("checklist", "ticket", "handoff")
CONVERSATION_HEADER = "X-Banshi-Conversation"
"""Sent with every request to Rasa, so a load balancer can keep one conversation on one Rasa replica."""
HANDOFF_PAYLOAD = "/request_human"
"""What the page's 转人工 button says to the dialogue, so that it hands off (and reports its slots)."""

Sessions = Callable[[], AbstractContextManager[Session]]


class ConversationClosed(RuntimeError):
    """The conversation was closed; the citizen should start a new one."""


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, or answered with something that is not its REST reply."""


@dataclass
class Outgoing:
    """One message the bot sends, before it is stored."""

    kind: Kind
    text: str | None
    payload: dict[str, Any] | None = None


@dataclass
class BotTurn:
    """Rasa's answer to one turn: the messages to show, and what the turn did (``channels.outcomes``)."""

    messages: list[Outgoing]
    outcomes: list[dict[str, Any]]

    def handoff(self) -> dict[str, Any] | None:
        """The handoff the dialogue asked for, with its reason and slots, or None."""
        stated = next((o for o in self.outcomes if o["kind"] == "handoff"), None)
        if stated is not None:
            return stated
        shown = next((o for o in self.messages if o.kind == "handoff"), None)
        return {"kind": "handoff", **(shown.payload or {})} if shown is not None else None


def map_rasa_reply(replies: list[dict[str, Any]]) -> BotTurn:
    """Rasa's REST messages (``text``, ``buttons``, ``custom``) as the gateway's message kinds and outcomes.

    Outcome payloads (``{"type": "outcome", ...}``) are never shown: they are the turn's outcomes. A
    checklist takes the text sent just before it as its plain-text form when that text names the
    matter (the dialogue renders the same checklist as text for channels that cannot draw it), so the
    page shows the list once. Images, attachments and unknown custom payloads are dropped.
    """
    out: list[Outgoing] = []
    stated: list[dict[str, Any]] = []
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        custom = reply.get("custom")
        text = reply.get("text") if isinstance(reply.get("text"), str) else None
        outcome = outcomes.parse(custom)
        if outcome is not None:
            stated.append(outcome)
            custom = None
            if not text and not reply.get("buttons"):
                continue
        if isinstance(custom, dict) and custom.get("type") in STRUCTURED:
            kind = custom["type"]
            if kind == "checklist" and text is None and out and out[-1].kind == "text":
                name = str((custom.get("matter") or {}).get("name") or "")
                if name and name in (out[-1].text or ""):
                    text = out.pop().text
            if kind == "ticket" and not custom.get("number"):
                log.warning("ticket payload without a number dropped: %s", custom)
                continue
            out.append(Outgoing(kind, text, dict(custom)))
        elif reply.get("buttons"):
            buttons = [
                {"title": str(b.get("title") or b.get("payload")), "payload": str(b["payload"])}
                for b in reply["buttons"]
                if isinstance(b, dict) and b.get("payload")
            ]
            out.append(Outgoing("buttons", text, {"buttons": buttons}) if buttons else Outgoing("text", text))
        elif text:
            out.append(Outgoing("text", text))
        elif custom is not None:
            log.info("unknown custom payload dropped: %s", custom)
    return BotTurn([o for o in out if o.text or o.payload], stated)


class Relay:
    """One per gateway process: holds the pooled HTTP client to Rasa (thread-safe; routes run in threads)."""

    def __init__(
        self,
        rasa_url: str | None = None,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        sessions: Sessions = session_scope,
        turn_locks: TurnLocks | None = None,
    ) -> None:
        settings = get_settings()
        self.rasa_url = (rasa_url or settings.rasa_url).rstrip("/")
        self.client = httpx.Client(
            base_url=self.rasa_url,
            timeout=timeout or settings.rasa_timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self.sessions = sessions
        self.turn_locks = turn_locks or TurnLocks(settings.redis_url, wait=settings.turn_wait_seconds)

    def close(self) -> None:
        self.client.close()

    # ---- Rasa ----

    def ask_rasa(self, conversation_id: str, text: str) -> list[dict[str, Any]]:
        try:
            response = self.client.post(
                "/webhooks/rest/webhook",
                json={"sender": conversation_id, "message": text},
                headers={CONVERSATION_HEADER: conversation_id},
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa at {self.rasa_url}: {exc!r}") from exc
        if not isinstance(replies, list):
            raise RasaUnavailable(f"Rasa at {self.rasa_url} answered {replies!r}")
        return replies

    # ---- turns ----

    def citizen_turn(self, conversation_id: str, text: str, *, shown: str | None = None) -> list[ChatMessage]:
        """Stores the citizen's turn and, in bot mode, the bot's answer; returns the new messages, oldest first.

        ``text`` is what the bot gets (a button's payload such as ``/affirm``); ``shown`` is what the
        transcript shows for it (the button's title). One turn of a conversation at a time, across
        gateway replicas (``channels.turn_lock``): raises ``TurnBusy`` when an earlier one never ends.
        """
        with self.turn_locks.hold(conversation_id):
            return self._citizen_turn(conversation_id, text, shown)

    def _citizen_turn(self, conversation_id: str, text: str, shown: str | None) -> list[ChatMessage]:
        with self.sessions() as session:
            conversation = get_conversation(session, conversation_id)
            if conversation is None:
                raise ConversationNotFound(conversation_id)
            if conversation.mode == "closed":
                raise ConversationClosed(conversation_id)
            mode = conversation.mode
            payload = {"payload": text} if shown and shown != text else None
            citizen = add_message(session, conversation_id, "citizen", "text", shown or text, payload)
        if mode != "bot":
            return [citizen]
        try:
            turn = map_rasa_reply(self.ask_rasa(conversation_id, text))
            if not turn.messages and not turn.outcomes:
                # Rasa answers [] when its action server is down: silence would leave the citizen waiting.
                raise RasaUnavailable("Rasa answered nothing (is the action server down?)")
        except RasaUnavailable as exc:
            log.error("turn of %s not answered: %s", conversation_id, exc)
            with self.sessions() as session:
                return [citizen, add_message(session, conversation_id, "system", "text", UNAVAILABLE_TEXT)]
        with self.sessions() as session:
            stored = [add_message(session, conversation_id, "bot", o.kind, o.text, o.payload) for o in turn.messages]
            outcomes.store(session, conversation_id, citizen.id, turn.outcomes)
        capture.safely(self.sessions, capture.after_bot_turn, conversation_id, citizen, turn.outcomes)
        handoff = turn.handoff()
        if handoff is not None:
            slots = handoff.get("slots") if isinstance(handoff.get("slots"), dict) else {}
            stored += self.hand_off(conversation_id, reason=str(handoff.get("reason") or "bot"), slots=slots)
        return [citizen, *stored]

    def dialogue_slots(self, conversation_id: str) -> dict[str, Any]:
        """The dialogue's filled slots for a handoff the citizen asked for with the page's 转人工 button.

        The button does not go through the dialogue, so the relay says 转人工 to it and keeps only the
        handoff outcome, whose slots the agent needs (the ticket form's answers, the matter); the bot's
        words are not shown, the gateway's own notice is. Empty when Rasa cannot say: the handoff goes on.
        """
        try:
            with self.turn_locks.hold(conversation_id):  # a dialogue turn too: never beside another one
                turn = map_rasa_reply(self.ask_rasa(conversation_id, HANDOFF_PAYLOAD))
        except (RasaUnavailable, TurnBusy) as exc:
            log.warning("no slots for %s from the dialogue: %s", conversation_id, exc)
            return {}
        slots = (turn.handoff() or {}).get("slots")
        return slots if isinstance(slots, dict) else {}

    def hand_off(
        self, conversation_id: str, *, reason: str = "request_human", slots: dict[str, Any] | None = None
    ) -> list[ChatMessage]:
        """Puts the conversation in the agents' queue with its transcript and slots; tells the citizen to wait.

        ``slots`` are the dialogue's, from its handoff outcome; without them (the page's button) the
        dialogue is asked. Idempotent: asking again while waiting or talking to an agent only says so.
        Outside the desk's hours (``hotline.hours``) nothing is queued: the citizen is offered 留言. Either
        notice carries the desk's state as data (``payload["desk"]``), for the page and the chat API.
        """
        with self.sessions() as session:
            conversation = get_conversation(session, conversation_id)
            if conversation is None:
                raise ConversationNotFound(conversation_id)
            mode = conversation.mode
        if mode == "closed":
            raise ConversationClosed(conversation_id)
        if mode in ("waiting", "agent"):
            text = ALREADY_WAITING_TEXT if mode == "waiting" else ALREADY_WITH_AGENT_TEXT
            with self.sessions() as session:
                return [add_message(session, conversation_id, "system", "text", text)]
        hours = desk_hours(utcnow())
        desk = hours.model_dump(mode="json")
        if not hours.open:
            payload = {"buttons": [LEAVE_MESSAGE_BUTTON], "desk": desk}
            with self.sessions() as session:
                return [add_message(session, conversation_id, "system", "buttons", after_hours_text(hours), payload)]
        if slots is None:
            slots = self.dialogue_slots(conversation_id)  # outside any transaction: Rasa may be slow
        with self.sessions() as session:
            request_handoff(session, conversation_id, slots=slots, reason=reason)
            text = WAITING_TEXT.format(minutes=hours.reply_within_minutes)
            waiting = add_message(session, conversation_id, "system", "text", text, {"mode": "waiting", "desk": desk})
        capture.safely(self.sessions, capture.on_handoff, conversation_id)
        try:  # the desk assigns it now rather than at its next tick; a failure leaves it to the tick
            with self.sessions() as session:
                run_desk(session)
        except Exception:
            log.exception("desk run after the handoff of %s failed", conversation_id)
        return [waiting]


def after_hours_text(hours: DeskHours) -> str:
    opens = sla.to_local(hours.opens_at) if hours.opens_at else None
    when = f"{opens.month}月{opens.day}日 {opens:%H:%M}" if opens else "下一个工作日"
    return AFTER_HOURS_TEXT.format(hours="、".join(hours.hours), opens=when)
