"""A route's transaction ends when the route returns, in the route's own thread, before its reply is built.

FastAPI runs a sync route in a worker thread, then builds its JSON reply in *another* worker thread,
and only after that closes the request's dependencies (``channels.deps.get_session``'s commit). A
route that wrote holds SQLite's write lock all that time; when every worker thread is busy (say, the
other requests, waiting for that very lock), the reply waits for a thread that never comes free until
SQLite's busy timeout fails them: the lock convoy behind the 500 "database is locked" under load.
Committing inside the route's thread means no request holds the write lock while it waits for a
thread (PostgreSQL gains too: row locks are released earlier).

Every router of the gateway uses ``CommitFirstRoute`` (``tests/test_commit_first.py`` checks).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy.orm import Session


def commit_first(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint``, committing the request's session (if it was given one) as soon as it returns.

    An exception skips the commit: the dependency rolls back as before. Async routes are left alone:
    their reply is built on the event loop at once, with no thread to wait for.
    """
    if inspect.iscoroutinefunction(endpoint) or getattr(endpoint, "commits_first", False):
        return endpoint

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in kwargs.values():
            if isinstance(value, Session) and value.in_transaction():
                value.commit()
        return result

    wrapper.commits_first = True  # type: ignore[attr-defined]
    return wrapper


class CommitFirstRoute(APIRoute):
    """An ``APIRoute`` whose sync endpoint commits its session before FastAPI builds the reply."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, commit_first(endpoint), **kwargs)
