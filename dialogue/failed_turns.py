"""A turn in which the action server or the tracker store failed is not stored: the conversation stays
where it was.

When the action server is down (or dies mid-call), Rasa 3.6 logs the failed action on the tracker with
no events and predicts on: the form's validation is skipped, the policies guess the next action, and
the stored conversation has lost its form (a 确认提交 then meets 「请问您想办理什么事项？」). Here a turn
in which any call to the action server failed is not stored at all and answers nothing: the gateway
shows its unavailable message (``channels.relay.UNAVAILABLE_TEXT``) and, once the action server is back,
the citizen's next message meets the tracker exactly as it was before the failed turn.

The tracker store the same way (PostgreSQL restarting under endpoints.scale.yml): Rasa wraps it in a
``FailSafeTrackerStore`` that, when a read fails, answers the turn from a *blank* conversation, and when a
write fails keeps the turn in the process's memory, which no later turn reads. A complainant's 确认提交
then met a conversation without its form (bench/faults.py counted them as "could not go on"). Inside a
turn, a tracker store that fails now fails the turn: nothing said, nothing kept, the unavailable message,
and the citizen's message sent again meets the stored conversation. (Filing a ticket is idempotent, so a
确认提交 whose write failed and is sent again shows the same ticket.)

The cost: a turn whose action fails for any other reason (a bug, a time-out) is not stored either, and the
citizen sees the same unavailable message. Installed by ``dialogue.rasa_server`` in the Rasa process.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

log = logging.getLogger("rasa.banshi")

_failed: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("banshi_failed_parts", default=None)
"""What failed during the message being handled (custom actions, the tracker store), else None outside one."""
TRACKER_STORE = "the tracker store"


def _recording_failures(run: Any) -> Any:
    """``RemoteAction.run`` that notes a failure in ``_failed``; a rejection (HTTP 400, e.g. a form's
    validation refusing) is the action server answering, not failing, and is left to Rasa."""
    from rasa.core.actions.action import ActionExecutionRejection

    async def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception:
            failed = _failed.get()
            if failed is not None:
                failed.append(self.name())
            raise

    return recording


def _discarding_failed_turns(handle: Any) -> Any:
    """``MessageProcessor.handle_message`` that forgets a turn in which the action server failed."""

    async def handling(self: Any, message: Any) -> Any:
        failed: list[str] = []
        token = _failed.set(failed)
        try:
            replies = await handle(self, message)
        except Exception:
            if not failed:
                raise
            replies = []  # a tracker store's failure raised: answered like any failed turn, below
        finally:
            _failed.reset(token)
        if not failed:
            return replies
        log.error("turn of %s not stored: %s failed", message.sender_id, ", ".join(failed))
        messages = getattr(message.output_channel, "messages", None)
        if isinstance(messages, list):
            messages.clear()  # what was said before the failure belongs to a turn that did not happen
        return []

    return handling


def _saving_unless_failed(save: Any) -> Any:
    async def saving(self: Any, tracker: Any) -> None:
        if _failed.get():
            return
        await save(self, tracker)

    return saving


def _failing_the_turn(name: str, fallback: Any) -> Any:
    """``FailSafeTrackerStore.retrieve`` / ``save``: inside a turn, the real store's error fails the turn
    (noted, raised); outside one (Rasa's HTTP API), Rasa's own fail-safe behaviour."""

    async def calling(self: Any, *args: Any) -> Any:
        failed = _failed.get()
        if failed is None:
            return await fallback(self, *args)
        try:
            return await getattr(self._tracker_store, name)(*args)
        except Exception:
            failed.append(TRACKER_STORE)
            raise

    return calling


def install() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import FailSafeTrackerStore

    RemoteAction.run = _recording_failures(RemoteAction.run)
    MessageProcessor.handle_message = _discarding_failed_turns(MessageProcessor.handle_message)
    MessageProcessor.save_tracker = _saving_unless_failed(MessageProcessor.save_tracker)
    for name in ("retrieve", "save"):
        setattr(FailSafeTrackerStore, name, _failing_the_turn(name, getattr(FailSafeTrackerStore, name)))
