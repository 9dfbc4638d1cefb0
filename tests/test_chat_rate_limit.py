"""Rate limits on the citizen chat API, per client address and per conversation, in one gateway and
shared by two gateways through a real Redis. Rasa is a FakeRasa (see test_chat_relay.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from banshi.config import Settings, parse_rate
from channels.relay import Relay
from tests.services import redis
from tests.test_chat_relay import FakeRasa

Gateway = Callable[..., tuple[TestClient, FakeRasa]]


@pytest.fixture
def gateway(session, monkeypatch) -> Iterator[Callable[..., Gateway]]:
    """``gateway(per_address=..., per_conversation=..., redis_url=...)`` sets the limits and returns a
    factory of gateways (each its own create_app) whose relay talks to a FakeRasa; ``open(address)``
    on one gives a client from that address."""
    from banshi.config import get_settings
    from channels.app import create_app

    session.commit()
    entered: list[TestClient] = []

    def configure(per_address: str = "0", per_conversation: str = "0", redis_url: str | None = None) -> Gateway:
        monkeypatch.setenv("BANSHI_RATE_PER_ADDRESS", per_address)
        monkeypatch.setenv("BANSHI_RATE_PER_CONVERSATION", per_conversation)
        if redis_url:
            monkeypatch.setenv("BANSHI_REDIS_URL", redis_url)
        get_settings.cache_clear()

        def make(address: str = "198.51.100.7") -> tuple[TestClient, FakeRasa]:
            fake = FakeRasa({})
            app = create_app()
            client = TestClient(app, client=(address, 40000))
            client.__enter__()
            entered.append(client)
            app.state.relay.close()
            app.state.relay = Relay("http://rasa.test", transport=httpx.MockTransport(fake))
            return client, fake

        return make

    yield configure
    for client in entered:
        client.__exit__(None, None, None)
    get_settings.cache_clear()


def other_address(client: TestClient, address: str) -> TestClient:
    """Another citizen on the same gateway (same app, same limits), from another address."""
    return TestClient(client.app, client=(address, 40001))


def start(client: TestClient) -> str:
    response = client.post("/api/v1/conversations", json={"channel": "web"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def say(client: TestClient, conversation_id: str, text: str = "身份证换领要什么材料") -> httpx.Response:
    return client.post(f"/api/v1/conversations/{conversation_id}/messages", json={"text": text})


def assert_refused_in_chinese(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= window
    detail = response.json()["detail"]
    assert "频繁" in detail and f"{response.headers['Retry-After']} 秒后再试" in detail


def test_one_address_over_its_limit_is_refused_while_another_still_chats(gateway):
    mine, fake = gateway(per_address="3 per 60 seconds")()
    conversation = start(mine)
    assert say(mine, conversation, "第一条").status_code == 200
    assert say(mine, conversation, "第二条").status_code == 200

    refused = say(mine, conversation, "第三条")
    assert_refused_in_chinese(refused, 60)
    assert [sent["message"] for sent in fake.sent] == ["第一条", "第二条"]  # the refused one never reached Rasa
    assert mine.post("/api/v1/conversations").status_code == 429
    assert mine.post(f"/api/v1/conversations/{conversation}/handoff").status_code == 429
    # reading is not limited: the page still shows the conversation and what came after
    transcript = mine.get(f"/api/v1/conversations/{conversation}/transcript")
    assert [m["text"] for m in transcript.json()["messages"] if m["sender"] == "citizen"] == ["第一条", "第二条"]

    neighbour = other_address(mine, "203.0.113.9")
    theirs = start(neighbour)
    assert say(neighbour, theirs, "我也想问").status_code == 200


def test_one_conversation_over_its_limit_is_refused_while_another_from_the_same_address_is_not(gateway):
    client, _ = gateway(per_address="600 per 60 seconds", per_conversation="2 per 60 seconds")()
    busy, calm = start(client), start(client)
    assert say(client, busy).status_code == 200
    assert say(client, busy).status_code == 200
    assert_refused_in_chinese(say(client, busy), 60)
    assert client.post(f"/api/v1/conversations/{busy}/rating", json={"score": 5}).status_code == 429

    assert say(client, calm).status_code == 200
    assert client.post(f"/api/v1/conversations/{calm}/handoff").status_code == 200


def test_the_citizen_may_send_again_once_the_window_has_passed(gateway):
    client, _ = gateway(per_conversation="1 per 1 seconds")()
    conversation = start(client)
    assert say(client, conversation).status_code == 200
    refused = say(client, conversation)
    assert_refused_in_chinese(refused, 1)
    time.sleep(1.1)
    assert say(client, conversation).status_code == 200


def test_zero_means_no_limit(gateway):
    client, _ = gateway(per_address="0", per_conversation="0")()
    conversation = start(client)
    assert all(say(client, conversation).status_code == 200 for _ in range(40))


def test_the_setting_reads_n_per_m_seconds_and_refuses_nonsense():
    assert parse_rate("120 per 60 seconds") == (120, 60)
    assert parse_rate("30/60") == (30, 60)
    assert parse_rate("0") is None
    with pytest.raises(ValueError):
        Settings(rate_per_address="many")
    with pytest.raises(ValueError):
        Settings(rate_per_conversation="5 per 0 seconds")


def test_two_gateways_sharing_redis_share_the_count(gateway):
    with redis() as port:
        make = gateway(per_address="4 per 60 seconds", redis_url=f"redis://127.0.0.1:{port}/0")
        first, _ = make("198.51.100.20")
        second, _ = make("198.51.100.20")
        assert first.app.state.rate_limits.shared and first.app is not second.app

        conversation = start(first)  # 1
        assert say(second, conversation).status_code == 200  # 2: the other replica, same conversation
        assert say(first, conversation).status_code == 200  # 3
        assert say(second, conversation).status_code == 200  # 4
        assert_refused_in_chinese(say(first, conversation), 60)  # 5th, on either replica
        assert_refused_in_chinese(second.post("/api/v1/conversations"), 60)

        assert start(other_address(second, "198.51.100.21"))  # another address is not held back
