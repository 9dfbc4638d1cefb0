"""How often a citizen may call the chat API, per client address and per conversation.

The chat API has no sign-in, so a script could flood Rasa, the database and the agents' queue. Each
citizen write (a new conversation, a message, 转人工, a rating) counts against the client address, and
those on a conversation also against the conversation, in fixed windows: the first request of a key
starts its window of ``M`` seconds, and past ``N`` requests in it the caller is refused with the
seconds left (the route's 429 ``Retry-After``). A refused request counts too, so hammering does not help,
but the window does not move: it ends when it ends.

With ``BANSHI_REDIS_URL`` the counts live in Redis (``SET NX EX`` + ``INCR`` + ``TTL`` in one
transaction, so a key always expires and the window does not depend on the replicas' clocks), shared by
every gateway. Without Redis (one gateway) they are in this process. If Redis is down the request goes on:
the turn lock and Rasa's lock store are down too, and refusing every citizen helps no one.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from banshi.config import Settings, parse_rate
from channels import redis_client

log = logging.getLogger(__name__)

ADDRESS_MESSAGE = "您的网络发送过于频繁，请 {seconds} 秒后再试"
CONVERSATION_MESSAGE = "发送过于频繁，请 {seconds} 秒后再试"


class RateLimited(Exception):
    """Refused for now; ``retry_after`` seconds until the window ends, ``message`` for the citizen."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def _rate(text: str) -> Rate | None:
    parsed = parse_rate(text)
    return Rate(*parsed) if parsed else None


class _LocalWindows:
    """The in-process counts: key → (count, when the window ends on the monotonic clock)."""

    SWEEP_AT = 10_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._guard = threading.Lock()

    def hit(self, key: str, seconds: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._guard:
            if len(self._counts) >= self.SWEEP_AT:  # addresses and conversations come and go: drop ended windows
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + seconds
            self._counts[key] = (count + 1, ends)
        return count + 1, ends - now


class RateLimits:
    """The citizen API's limits; thread-safe (the routes run in a thread pool). One per gateway process."""

    def __init__(self, per_address: Rate | None, per_conversation: Rate | None, redis_url: str | None = None) -> None:
        self.per_address, self.per_conversation = per_address, per_conversation
        self._local = _LocalWindows()
        self._redis = redis_client.connect(redis_url) if redis_url and (per_address or per_conversation) else None

    @classmethod
    def of(cls, settings: Settings) -> RateLimits:
        return cls(_rate(settings.rate_per_address), _rate(settings.rate_per_conversation), settings.redis_url)

    @property
    def shared(self) -> bool:
        return self._redis is not None

    def check(self, address: str, conversation_id: str | None = None) -> None:
        """Counts one request; raises ``RateLimited`` when the address or the conversation is over its limit."""
        if self.per_address is not None:
            self._check(f"address:{address}", self.per_address, ADDRESS_MESSAGE)
        if conversation_id is not None and self.per_conversation is not None:
            self._check(f"conversation:{conversation_id}", self.per_conversation, CONVERSATION_MESSAGE)

    def _check(self, key: str, rate: Rate, message: str) -> None:
        count, left = self._hit(f"banshi:rate:{key}:{rate.seconds}", rate.seconds)
        if count > rate.count:
            seconds = max(1, math.ceil(left))
            raise RateLimited(message.format(seconds=seconds), seconds)

    def _hit(self, key: str, seconds: int) -> tuple[int, float]:
        """This key's count in its window, this request included, and the seconds until the window ends."""
        if self._redis is None:
            return self._local.hit(key, seconds)
        import redis

        try:
            with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, ex=seconds, nx=True)
                pipe.incr(key)
                pipe.pttl(key)
                _, count, left_ms = pipe.execute()
        except redis.RedisError as exc:
            log.error("rate limits unavailable, request goes on uncounted: %r", exc)
            return 0, 0.0
        return int(count), max(int(left_ms), 0) / 1000
