"""One turn of a conversation at a time, whichever gateway replica receives it.

Rasa's ``RedisLockStore`` does not hold this across Rasa servers (RasaHQ/rasa#9213): issuing a ticket
is a read-modify-write of one Redis key, so two servers can issue the same ticket and both go on. Its
SQL tracker store then saves only the events past the number already stored, so the first turn's
events are silently dropped. The gateway is Rasa's only client, so holding the conversation here
serializes what Rasa sees, and the transcript keeps each citizen message followed by its replies.

With ``BANSHI_REDIS_URL`` the lock lives in Redis and is shared by every gateway; it expires a few
seconds after a gateway dies holding it (a thread renews it while the turn runs). Without Redis (one
gateway) it is a lock in this process.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from channels import redis_client

log = logging.getLogger(__name__)


BUSY_TEXT = "上一条消息还在处理中，请稍候再试"
"""What the citizen is told when ``TurnBusy`` refuses a turn (HTTP 503 on the web, a message on WeChat)."""


class TurnBusy(RuntimeError):
    """Another turn of this conversation did not finish within the wait."""


class TurnLocks:
    """Per-conversation locks; thread-safe (the gateway's routes run in a thread pool)."""

    def __init__(self, redis_url: str | None = None, *, ttl: float = 6.0, wait: float = 40.0) -> None:
        self.ttl, self.wait = ttl, wait
        self._redis = redis_client.connect(redis_url) if redis_url else None
        self._local: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._local_guard = threading.Lock()

    @property
    def shared(self) -> bool:
        return self._redis is not None

    @contextmanager
    def hold(self, conversation_id: str) -> Iterator[None]:
        if self._redis is None:
            with self._local_lock(conversation_id):
                yield
            return
        yield from self._hold_in_redis(conversation_id)

    @contextmanager
    def _local_lock(self, conversation_id: str) -> Iterator[None]:
        with self._local_guard:
            lock = self._local.get(conversation_id)
            if lock is None:
                lock = self._local[conversation_id] = threading.Lock()
        if not lock.acquire(timeout=self.wait):
            raise TurnBusy(conversation_id)
        try:
            yield
        finally:
            lock.release()

    def _hold_in_redis(self, conversation_id: str) -> Iterator[None]:
        import redis

        lock = self._redis.lock(
            f"banshi:turn:{conversation_id}", timeout=self.ttl, blocking_timeout=self.wait, thread_local=False
        )
        try:
            acquired = lock.acquire()
        except redis.RedisError as exc:
            # Redis down: Rasa's own lock store is down too, so refusing helps no one; the turn goes on.
            log.error("turn lock unavailable, turn of %s goes on unlocked: %r", conversation_id, exc)
            yield
            return
        if not acquired:
            raise TurnBusy(conversation_id)
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(lock, done), daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()
            try:
                lock.release()
            except redis.RedisError as exc:  # expired or Redis gone: it frees itself after ttl
                log.warning("turn lock of %s not released: %r", conversation_id, exc)

    def _renew(self, lock, done: threading.Event) -> None:
        import redis

        while not done.wait(self.ttl / 3):
            try:
                lock.reacquire()
            except redis.RedisError as exc:
                log.warning("turn lock not renewed: %r", exc)
                return
