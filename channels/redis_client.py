"""The gateway's one Redis client per server (``BANSHI_REDIS_URL``), which the replicas coordinate through.

The chat API's rate limits and the turn locks both talk to the same Redis; each used to open its own
connection pool with its own timeouts. Here is the one pool, with one rule for a Redis that is gone: no
call waits more than ``TIMEOUT`` seconds, and the callers go on without it (see each of them for why).
The gateway's lifespan closes it.
"""

from __future__ import annotations

import threading

import redis

TIMEOUT = 2.0

_clients: dict[str, redis.Redis] = {}
_guard = threading.Lock()


def connect(url: str) -> redis.Redis:
    """This process's client for ``url``; made on first use (the routes run in a thread pool)."""
    with _guard:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        return client


def close() -> None:
    with _guard:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
