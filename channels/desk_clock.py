"""The desk's clock: each gateway runs ``hotline.assignment.run_desk`` every ``desk_tick_seconds``.

The clock is what returns unanswered conversations to the queue (nothing else happens when an agent
stays silent) and assigns tickets the action server filed; waiting conversations are also assigned at
once when they arrive and when an agent comes online. Every replica runs one: a run locks the desk
first, so two replicas' runs follow each other rather than assign twice.
"""

from __future__ import annotations

import logging
import threading

from banshi.config import get_settings
from banshi.db import session_scope
from hotline.assignment import run_desk
from hotline.classifier import classify

log = logging.getLogger(__name__)


class DeskClock:
    def __init__(self, every: float | None = None) -> None:
        self.every = every or get_settings().desk_tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="desk-clock", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        try:  # the first 转人工 classifies what the citizen said: load the model now, not then
            classify("预热")
        except Exception:
            log.exception("the hotline classifier could not be loaded")
        while not self._stop.wait(self.every):
            try:
                with session_scope() as session:
                    run_desk(session)
            except Exception:  # a database hiccup must not stop the clock for good
                log.exception("desk run failed")
