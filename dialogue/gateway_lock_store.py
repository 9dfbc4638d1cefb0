"""Rasa's lock store on one box: Rasa's own in-process locks, declared so that Rasa runs several workers.

Rasa refuses ``SANIC_WORKERS`` > 1 with its in-memory lock store, because two workers could then process
two messages of one conversation at once. On one box the gateway is Rasa's only client, and it holds each
conversation's turn lock (``channels.turn_lock``) from storing the citizen's message until the bot's
replies are stored, so a conversation never has two turns in Rasa at a time, whichever worker takes them.
That lets Rasa use more than one core (``BANSHI_RASA_WORKERS``); a client that posts to Rasa directly,
around the gateway, would need Redis's lock store instead (``endpoints.scale.yml``).
"""

from __future__ import annotations

from typing import Any

from rasa.core.lock_store import InMemoryLockStore


class GatewaySerializedLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:  # Rasa passes its endpoint config to custom stores
        super().__init__()
