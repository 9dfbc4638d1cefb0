"""``action_warm_up``: what the action server loads lazily, loaded before a citizen needs it.

The search index (and its embedder) and the hotline classifier load on first use, inside a call: the
first guide question after a start took over 3 s and the first complaint another 1.4 s. ``banshi up``
and ``banshi cluster`` call this action once the server answers its health check
(``banshi.stack.warm_up_actions``), before anyone is let in. Rasa never predicts it: it is not in the
domain, and it says nothing.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions import catalogue

WARM_UP_QUESTION = "身份证"
WARM_UP_COMPLAINT = "小区门口的路灯坏了"


class ActionWarmUp(Action):
    def name(self) -> str:
        return "action_warm_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        from hotline.classifier import classify

        catalogue.answer(WARM_UP_QUESTION)
        classify(WARM_UP_COMPLAINT)
        return []
