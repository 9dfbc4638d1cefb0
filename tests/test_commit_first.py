"""No request holds SQLite's write lock while it waits for a worker thread (``channels.commit_first``).

Found by the open-loop load (issue 14): at 10 turns/s citizens got 500 "database is locked" after 10 s
while the CPU idled. A route that wrote (a new conversation) returned with its transaction still open;
FastAPI then wanted another worker thread to build the reply, and every thread was taken by requests
waiting for that very lock. Here the gateway has two worker threads and a crowd of citizens opens
conversations at once: each one is served, none is refused (before: 503 after SQLite's busy timeout).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from anyio import to_thread
from fastapi.routing import APIRoute

from channels.commit_first import CommitFirstRoute

CITIZENS = 24


@pytest.fixture
def app(data_dir, monkeypatch):
    from banshi.db import migrate
    from channels.app import create_app

    monkeypatch.setenv("BANSHI_RATE_PER_ADDRESS", "0")
    migrate()
    return create_app()


def _uses_session(dependant) -> bool:
    from channels.deps import get_session

    return any(d.call is get_session or _uses_session(d) for d in dependant.dependencies)


def _routes(routes) -> list[APIRoute]:
    """Every API route, inside the routers the app includes too."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _routes(route.original_router.routes)
    return found


def test_every_route_with_a_session_commits_before_its_reply_is_built(app):
    with_session = [r for r in _routes(app.routes) if _uses_session(r.dependant)]
    assert len(with_session) > 50
    assert [r.path for r in with_session if not isinstance(r, CommitFirstRoute)] == []


def test_a_crowd_opening_conversations_with_two_worker_threads_is_served_at_once(app):
    async def crowd() -> list[tuple[int, float]]:
        to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", timeout=60) as client:

            async def open_one() -> tuple[int, float]:
                began = time.monotonic()
                response = await client.post("/api/v1/conversations", json={"channel": "web"})
                return response.status_code, time.monotonic() - began

            return await asyncio.gather(*(open_one() for _ in range(CITIZENS)))

    # On a thread of its own: the browser tests' Playwright keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        results = pool.submit(asyncio.run, crowd()).result()
    assert [status for status, _ in results] == [201] * CITIZENS
    assert max(seconds for _, seconds in results) < 10.0, "no long hang"
