"""The WeChat official account (公众号) channel: a WeChat message becomes a turn of the follower's conversation.

A turn goes through the gateway's relay like a web chat turn (same modes, same handoff), so only three
things are WeChat's own:

- **The 5-second limit.** WeChat waits 5 seconds for the reply and asks again (three times in all).
  The turn runs on a worker thread; what is ready within ``wechat_reply_seconds`` goes back in the
  HTTP response, anything later goes out through the customer-service message API, and the reply is
  empty ("success") meanwhile. A retry finds the message's key in ``wechat_inbound`` and starts no
  second turn (so a confirmation retried three times files one ticket); it gets the same reply back.
- **No buttons.** Buttons become numbered choices; a digit (or the title) the citizen sends back is
  mapped to the button's payload (``render.chosen_button``).
- **Agent replies.** An agent's reply or a console notice is sent by the outbound listener here, a
  thread that looks for messages of WeChat conversations the follower has not been sent
  (``state.followers_with_undelivered``). The agent console needs no WeChat code: whatever it stores
  in a WeChat conversation reaches the follower within ``wechat_poll_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from wechatpy.messages import BaseMessage

from banshi.config import get_settings
from channels.checklist_links import checklist_url
from channels.relay import ConversationClosed, Relay
from channels.turn_lock import BUSY_TEXT, TurnBusy
from channels.wechat import state
from channels.wechat.api import CustomerService
from channels.wechat.render import NON_TEXT, chosen_button, split_for_wechat, wechat_texts
from common.clock import utcnow
from common.conversations import add_message, get_conversation

log = logging.getLogger(__name__)

GREETING = "你好"
"""What a new follower "says" to the bot when they subscribe, so they are greeted."""
KEEP_INBOUND = timedelta(days=1)


@dataclass(frozen=True)
class Inbound:
    """A WeChat delivery reduced to what a turn needs."""

    key: str
    """The dedup key: ``msg:<MsgId>``, or ``event:<openid>:<CreateTime>:<Event>`` (events have no MsgId)."""
    openid: str
    text: str | None
    """What the bot gets; None when there is nothing to ask it."""
    notice: str | None = None
    """A fixed answer instead of a turn (a picture or a voice message)."""


def inbound_of(message: BaseMessage) -> Inbound:
    openid = str(message.source)
    if message.type == "event":
        event = str(getattr(message, "event", "") or "")
        key = f"event:{openid}:{message.time}:{event}"
        if event == "click":
            return Inbound(key, openid, str(message.key or "").strip() or None)
        if event in ("subscribe", "subscribe_scan"):
            return Inbound(key, openid, GREETING)
        return Inbound(key, openid, None)  # unsubscribe, menu links, location reports: nothing to say
    key = f"msg:{message.id}"
    if message.type == "text":
        return Inbound(key, openid, str(message.content or "").strip() or None)
    return Inbound(key, openid, None, NON_TEXT)


@dataclass
class _Pending:
    """One turn's hand-over between its worker and the request waiting for it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)
    texts: list[str] = field(default_factory=list)
    deferred: bool = False


class WechatChannel:
    """One per gateway process: the turn workers, the customer-service client and the outbound listener."""

    def __init__(self, relay: Relay) -> None:
        settings = get_settings()
        self.relay = relay
        self.sessions = relay.sessions
        self.service = CustomerService(settings.wechat_api_base_url, settings.wechat_app_id, settings.wechat_app_secret)
        self.public_url = settings.wechat_public_url
        self.link_base = settings.wechat_public_url or "http://127.0.0.1:8000"
        self.workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="wechat-turn")
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    # ---- a delivery from WeChat ----

    def answer(self, inbound: Inbound, base_url: str, deadline: float) -> str | None:
        """The text of the passive reply, or None for the empty one; ``deadline`` is a ``time.monotonic()``."""
        if not self.public_url:
            self.link_base = base_url
        with self.sessions() as session:
            first = state.claim_inbound(session, inbound.key, inbound.openid)
        if not first:
            return self._repeat(inbound.key, deadline)
        if inbound.text is None:
            with self.sessions() as session:
                state.settle_inbound(session, inbound.key, "answered", inbound.notice)
            return inbound.notice
        pending = _Pending()
        self.workers.submit(self._turn, inbound, pending)
        pending.done.wait(max(0.0, deadline - time.monotonic()))
        with pending.lock:
            if not pending.done.is_set():
                pending.deferred = True
            texts = None if pending.deferred else pending.texts
        if texts is None:
            with self.sessions() as session:
                state.settle_inbound(session, inbound.key, "deferred")
            log.info("WeChat turn %s slower than the limit: its answer goes out later", inbound.key)
            return None
        reply, rest = (texts[0], texts[1:]) if texts else (None, [])
        with self.sessions() as session:
            state.settle_inbound(session, inbound.key, "answered", reply)
        if rest:
            self.workers.submit(self._send, inbound.openid, rest)
        return reply

    def _repeat(self, key: str, deadline: float) -> str | None:
        """A retry: the first delivery's reply once it is settled, else empty (its answer comes later)."""
        while True:
            with self.sessions() as session:
                row = state.inbound(session, key)
                status, reply = (row.status, row.reply) if row else ("deferred", None)
            if status != "working" or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        log.info("WeChat retry of %s (%s) started no turn", key, status)
        return reply if status == "answered" else None

    def _turn(self, inbound: Inbound, pending: _Pending) -> None:
        try:
            self._ask(inbound)
        except Exception:
            log.exception("WeChat turn %s failed", inbound.key)
        finally:
            with self.sessions() as session:
                messages = state.take_undelivered(session, inbound.openid, ending_turn=True)
            texts = split_for_wechat(wechat_texts(messages, self._link))
            with pending.lock:
                deferred = pending.deferred
                pending.texts = texts
                pending.done.set()
            if deferred:
                self._send(inbound.openid, texts)

    def _ask(self, inbound: Inbound) -> None:
        text = str(inbound.text)
        for _attempt in range(2):  # a second time when the conversation closed in between
            with self.sessions() as session:
                conversation_id = state.conversation_for(session, inbound.openid)
                state.start_turn(session, inbound.openid)
                mode = get_conversation(session, conversation_id).mode
                choice = chosen_button(session, conversation_id, text) if mode == "bot" else None
            try:
                if choice is not None:
                    self.relay.citizen_turn(conversation_id, choice[0], shown=choice[1])
                else:
                    self.relay.citizen_turn(conversation_id, text)
                return
            except ConversationClosed:
                continue
            except TurnBusy:
                # An earlier message of this follower is still being answered: say so rather than stay silent.
                with self.sessions() as session:
                    add_message(session, conversation_id, "system", "text", BUSY_TEXT)
                return

    # ---- sending outside a reply ----

    def _link(self, message_id: int) -> str:
        return checklist_url(self.link_base, message_id)

    def _send(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            self.service.send_text(openid, text)

    def deliver_pending(self) -> int:
        """Sends agent replies and console notices the followers have not had; returns how many followers."""
        with self.sessions() as session:
            openids = state.followers_with_undelivered(session)
        for openid in openids:
            with self.sessions() as session:
                messages = state.take_undelivered(session, openid)
            self._send(openid, split_for_wechat(wechat_texts(messages, self._link)))
        return len(openids)

    def start(self) -> None:
        if self._listener is None:
            self._listener = threading.Thread(target=self._listen, name="wechat-outbound", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        poll = get_settings().wechat_poll_seconds
        last_prune = 0.0
        while not self._stop.wait(poll):
            try:
                self.deliver_pending()
                if time.monotonic() - last_prune > 3600:
                    with self.sessions() as session:
                        state.forget_inbound_before(session, utcnow() - KEEP_INBOUND)
                    last_prune = time.monotonic()
            except Exception:
                log.exception("WeChat outbound delivery failed; trying again")

    def close(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        self.workers.shutdown(wait=True, cancel_futures=False)
