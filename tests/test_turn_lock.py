"""One turn of a conversation at a time across gateway replicas (a real Redis), and in one process."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from channels import redis_client
from channels.turn_lock import TurnBusy, TurnLocks
from tests.services import redis


def _overlaps(first: TurnLocks, second: TurnLocks, conversation: str, other: str, slow_seconds: float) -> list[str]:
    """Runs a slow turn on ``first`` and, meanwhile, one of the same conversation and one of another on
    ``second``; returns the order in which they ended."""
    ended: list[str] = []
    started = threading.Event()

    def slow() -> None:
        with first.hold(conversation):
            started.set()
            time.sleep(slow_seconds)
            ended.append("slow")

    def same() -> None:
        with second.hold(conversation):
            ended.append("same")

    def different() -> None:
        with second.hold(other):
            ended.append("other")

    threads = [threading.Thread(target=slow)]
    threads[0].start()
    assert started.wait(5)
    threads += [threading.Thread(target=same), threading.Thread(target=different)]
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(10)
    return ended


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="Redis is not installed")
def test_two_gateways_take_turns_on_one_conversation_but_not_on_others() -> None:
    with redis() as port:
        url = f"redis://127.0.0.1:{port}/0"
        first, second = TurnLocks(url, ttl=0.6), TurnLocks(url, ttl=0.6)
        try:
            # The slow turn outlives the lock's ttl: the renewal keeps the second gateway out.
            assert _overlaps(first, second, "c1", "c2", slow_seconds=1.5) == ["other", "slow", "same"]
        finally:
            redis_client.close()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="Redis is not installed")
def test_a_dead_gateways_lock_frees_itself_and_a_stuck_turn_is_refused() -> None:
    with redis() as port:
        url = f"redis://127.0.0.1:{port}/0"
        dead, alive = TurnLocks(url, ttl=1.0), TurnLocks(url, ttl=1.0, wait=0.3)
        try:
            # A gateway killed mid-turn never releases: acquire without the context manager's cleanup.
            dead._redis.lock("banshi:turn:c1", timeout=1.0).acquire()
            with pytest.raises(TurnBusy), alive.hold("c1"):
                pass
            time.sleep(1.1)
            with alive.hold("c1"):
                pass
        finally:
            redis_client.close()


def test_without_redis_one_gateway_still_takes_turns() -> None:
    locks = TurnLocks(None)
    assert not locks.shared
    assert _overlaps(locks, locks, "c1", "c2", slow_seconds=0.5) == ["other", "slow", "same"]
