"""The action server runs each citizen's action call on a thread of its own (``dialogue.action_server``).

Under rasa-sdk's own executor, an action that is busy (a search, a database write) holds the server's one
event loop, and every other citizen's turn, and the health check, waits behind it. Here a first action
waits until a second one has started: on the event loop that can never happen, on threads it does.
"""

from __future__ import annotations

import asyncio
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from dialogue.action_server import ThreadedActionExecutor

SECOND_STARTED = threading.Event()


class WaitsForTheSecond(Action):
    def name(self) -> str:
        return "action_waits_for_the_second"

    async def run(self, dispatcher, tracker, domain):
        seen = SECOND_STARTED.wait(timeout=3)  # blocking, as a search or a commit is
        dispatcher.utter_message(json_message={"second_started_meanwhile": seen})
        return []


class Second(Action):
    def name(self) -> str:
        return "action_second"

    async def run(self, dispatcher, tracker, domain):
        SECOND_STARTED.set()
        return []


def _call(action: str, sender: str) -> dict:
    tracker = {"sender_id": sender, "slots": {}, "latest_message": {}, "events": [], "paused": False}
    return {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6.21"}


async def _two_citizens(executor: ActionExecutor) -> bool:
    SECOND_STARTED.clear()
    for action in (WaitsForTheSecond, Second):
        executor.register_action(action)
    first = asyncio.create_task(executor.run(_call("action_waits_for_the_second", "citizen-1")))
    await asyncio.sleep(0.05)
    second = await asyncio.wait_for(executor.run(_call("action_second", "citizen-2")), timeout=10)
    assert second is not None
    result = await first
    return result.model_dump()["responses"][0]["custom"]["second_started_meanwhile"]


def _on_a_thread_of_its_own(executor: ActionExecutor) -> bool:
    """Playwright's sync API keeps an event loop running on the main thread once a browser test ran."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _two_citizens(executor)).result()


def test_a_busy_action_does_not_hold_another_citizens_turn():
    assert _on_a_thread_of_its_own(ThreadedActionExecutor()) is True


def test_rasa_sdks_own_executor_would_hold_it():
    """The check above can fail: on the event loop, the second citizen waits until the first gives up."""
    assert _on_a_thread_of_its_own(ActionExecutor()) is False


def test_the_executor_travels_to_sanics_worker_by_its_name():
    """Sanic pickles the executor into the process that serves; a patched class would arrive unpatched."""
    assert type(pickle.loads(pickle.dumps(ThreadedActionExecutor()))) is ThreadedActionExecutor
