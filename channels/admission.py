"""Admission of citizens' turns: beyond capacity, a quick polite refusal instead of a long hang.

A turn holds a worker thread for as long as Rasa takes. When more turns arrive than Rasa can answer,
they would queue for threads and the citizen would wait a minute before anything happened. Instead
each gateway admits at most ``turns_in_flight`` turns at once; a turn waits at most
``admission_wait_seconds`` for a place, then is refused with 503, ``Retry-After`` and
「当前咨询人数较多，请稍候再试」. Nothing is stored for a refused turn, so the citizen's text stays in the
input box and sending again works as soon as the load drops.

The counter lives on the event loop (an ``asyncio.Semaphore`` taken in an async dependency), before
the route is handed to the thread pool: refusing costs no thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from banshi.config import Settings

log = logging.getLogger(__name__)

OVERLOADED = "当前咨询人数较多，请稍候再试"


class Admission:
    """One per gateway process; created with the app, used only from its event loop."""

    def __init__(self, limit: int, wait: float, retry_after: int) -> None:
        self.limit = limit
        self.wait = wait
        self.retry_after = retry_after
        self._places: asyncio.Semaphore | None = None

    @classmethod
    def of(cls, settings: Settings) -> Admission:
        return cls(settings.turns_in_flight, settings.admission_wait_seconds, settings.admission_retry_after)

    async def enter(self) -> bool:
        """Takes a place, waiting at most ``wait`` seconds; False when none came free."""
        if self.limit <= 0:
            return True
        if self._places is None:  # made on the loop that uses it
            self._places = asyncio.Semaphore(self.limit)
        if not self._places.locked():  # a free place: taken at once (``wait_for`` with 0 s would not even try)
            await self._places.acquire()
            return True
        if self.wait <= 0:
            return False
        try:
            await asyncio.wait_for(self._places.acquire(), timeout=self.wait)
        except TimeoutError:
            return False
        return True

    def leave(self) -> None:
        if self.limit > 0 and self._places is not None:
            self._places.release()


async def admit_turn(request: Request) -> AsyncIterator[None]:
    """A dependency for routes that cost a dialogue turn: 503 with ``Retry-After`` beyond capacity."""
    admission: Admission = request.app.state.admission
    if not await admission.enter():
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=OVERLOADED, headers={"Retry-After": str(admission.retry_after)}
        )
    try:
        yield
    finally:
        admission.leave()


def database_busy(exc: BaseException) -> bool:
    """SQLite's write lock stayed taken for its whole busy timeout (``banshi.db.SQLITE_BUSY_MS``)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def refuse_busy_database(request: Request) -> JSONResponse:
    """The polite refusal, not a 500, when the database's write lock is not free in time: a request
    that wrote nothing is refused whole (its transaction rolled back), and sending again works."""
    log.warning("%s %s refused: database busy", request.method, request.url.path)
    retry_after = request.app.state.admission.retry_after
    return JSONResponse({"detail": OVERLOADED}, status_code=503, headers={"Retry-After": str(retry_after)})
