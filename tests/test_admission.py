"""Beyond capacity a citizen is refused politely and at once, and nothing of the refused turn is kept.

A second gateway joins the browser tests' running stack (its Rasa, action server and database) with
room for one turn at a time and no waiting: eight citizens who press 发送 together cannot all get in.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from banshi.stack import Ports, running, services
from channels.admission import OVERLOADED
from tests.browser import LiveStack
from tests.services import free_port

pytestmark = pytest.mark.slow
CITIZENS = 8
QUESTION = "社保卡丢了怎么补办"


@pytest.fixture(scope="module")
def narrow_gateway(live_stack: LiveStack):
    port = free_port()
    env = {**live_stack.env, "BANSHI_TURNS_IN_FLIGHT": "1", "BANSHI_ADMISSION_WAIT_SECONDS": "0"}
    [gateway] = [s for s in services(ports=Ports(gateway=port, rasa=0, actions=0)) if s.name == "gateway"]
    with running([gateway], env, live_stack.data_dir / "logs-narrow"):
        yield f"http://127.0.0.1:{port}"


def test_a_crowd_beyond_capacity_hears_please_wait_and_is_served_once_the_crowd_is_gone(narrow_gateway):
    with httpx.Client(base_url=narrow_gateway, timeout=120) as client:
        conversations = [client.post("/api/v1/conversations").json()["id"] for _ in range(CITIZENS)]
        start = threading.Barrier(CITIZENS)
        results: dict[str, tuple[httpx.Response, float]] = {}

        def press_send(conversation_id: str) -> None:
            start.wait()
            began = time.monotonic()
            response = client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": QUESTION})
            results[conversation_id] = (response, time.monotonic() - began)

        threads = [threading.Thread(target=press_send, args=(c,)) for c in conversations]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        statuses = sorted(response.status_code for response, _ in results.values())
        assert set(statuses) <= {200, 503}, f"never a server error: {statuses}"
        served = [c for c, (response, _) in results.items() if response.status_code == 200]
        refused = [c for c, (response, _) in results.items() if response.status_code == 503]
        assert served and refused, statuses
        for conversation_id in refused:
            response, seconds = results[conversation_id]
            assert response.json()["detail"] == OVERLOADED
            assert int(response.headers["Retry-After"]) > 0
            assert seconds < 5, f"a refusal comes at once, not after a hang ({seconds:.1f} s)"
            kept = client.get(f"/api/v1/conversations/{conversation_id}/messages").json()
            assert kept == [], "a refused turn leaves nothing behind: the citizen sends it again"
        for conversation_id in served:
            senders = [m["sender"] for m in results[conversation_id][0].json()]
            assert senders[0] == "citizen" and "bot" in senders

        # The crowd has gone: those refused send again, one after another, and are answered.
        for conversation_id in refused:
            again = client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": QUESTION})
            assert again.status_code == 200
            assert any(m["sender"] == "bot" for m in again.json())
