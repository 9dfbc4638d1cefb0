"""Nobody outside can lock a staff member out: failed sign-ins are throttled by the address they come from.

Each TestClient below is one machine (its ``client`` address): the agent's desk, an outside guesser,
and the many machines of a distributed attack.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.staff_api import PASSWORD

DESK = ("10.20.0.15", 51000)
OUTSIDE = ("203.0.113.9", 40000)


@pytest.fixture
def app(session):
    from channels.accounts import UserIn, create_user
    from channels.app import create_app

    for username, name in (("agent1", "李坐席"), ("agent2", "张坐席")):
        create_user(session, UserIn(username=username, display_name=name, role="agent", password=PASSWORD))
    session.commit()
    return create_app()


def _login(client: TestClient, username: str, password: str, **kwargs):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}, **kwargs)


def test_an_outside_client_cannot_lock_an_agent_out(app):
    outside, desk = TestClient(app, client=OUTSIDE), TestClient(app, client=DESK)
    refused = []
    for _attempt in range(30):
        response = _login(outside, "agent1", "guess guess")
        assert response.status_code in (401, 429)
        if response.status_code == 429:
            refused.append(response)
    assert len(refused) == 25, "after 5 wrong passwords the address may not try the account again"
    assert "锁定" in refused[0].json()["detail"] and "15 分钟" in refused[0].json()["detail"]
    assert 14 * 60 < int(refused[0].headers["Retry-After"]) <= 15 * 60
    # The right password from the guesser's address is refused too: the lock is not a hint.
    assert _login(outside, "agent1", PASSWORD).status_code == 429

    # The agent at their own desk signs in as usual, and signing in does not lift the guesser's lock.
    assert _login(desk, "agent1", PASSWORD).status_code == 200
    assert _login(outside, "agent1", "guess guess").status_code == 429


def test_spraying_many_accounts_from_one_address_is_refused(app, monkeypatch):
    from banshi.config import get_settings

    monkeypatch.setenv("BANSHI_LOGIN_ADDRESS_MAX_FAILURES", "8")
    get_settings.cache_clear()
    outside, desk = TestClient(app, client=OUTSIDE), TestClient(app, client=DESK)
    statuses = [_login(outside, f"user{i}", "guess guess").status_code for i in range(10)]
    assert statuses == [401] * 8 + [429] * 2
    refused = _login(outside, "agent2", PASSWORD)
    assert refused.status_code == 429 and "过于频繁" in refused.json()["detail"] and "Retry-After" in refused.headers
    # A forged X-Forwarded-For does not make the guesser someone else: the app trusts only the peer
    # (uvicorn rewrites the peer from the header only for --forwarded-allow-ips, the load balancer).
    forged = _login(outside, "agent2", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"})
    assert forged.status_code == 429
    assert _login(desk, "agent2", PASSWORD).status_code == 200
    get_settings.cache_clear()


def test_an_account_guessed_from_many_addresses_is_locked_for_everyone(app, monkeypatch):
    from banshi.config import get_settings

    monkeypatch.setenv("BANSHI_LOGIN_ACCOUNT_MAX_FAILURES", "12")
    get_settings.cache_clear()
    for machine in range(3):
        botnet = TestClient(app, client=(f"198.51.100.{machine + 1}", 40000))
        for _attempt in range(5):
            _login(botnet, "agent2", "guess guess")
    # 15 failures from 3 addresses (each capped at 5): past 12, the account waits for everyone.
    locked = _login(TestClient(app, client=DESK), "agent2", PASSWORD)
    assert locked.status_code == 429 and "锁定" in locked.json()["detail"]
    assert _login(TestClient(app, client=DESK), "agent1", PASSWORD).status_code == 200
    get_settings.cache_clear()
