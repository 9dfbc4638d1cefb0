"""PostgreSQL restarting under a citizen's turn: a polite 503 with ``Retry-After``, never a 500, and the
conversation goes on once it is back (bench/faults.py counted 500s here before)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.services import postgres, postgres_bindir, postgres_down

pytestmark = pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL is not installed")


def test_a_turn_while_postgresql_is_down_is_refused_politely_and_the_next_one_goes_on(data_dir, monkeypatch):
    from banshi.db import migrate
    from channels.app import create_app
    from channels.errors import DATABASE_UNAVAILABLE
    from channels.relay import UNAVAILABLE_TEXT
    from tests.conftest import _clear_caches

    with postgres() as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("BANSHI_RASA_URL", "http://127.0.0.1:9")  # no dialogue: the bot's part is not tested
        _clear_caches()
        migrate()
        with TestClient(create_app()) as client:
            conversation = client.post("/api/v1/conversations").json()["id"]
            turn = f"/api/v1/conversations/{conversation}/messages"
            assert client.post(turn, json={"text": "你好"}).status_code == 200  # the pool holds a connection now
            with postgres_down(url):
                refused = client.post(turn, json={"text": "办身份证要带什么"})
                opened = client.post("/api/v1/conversations")
            assert refused.status_code == 503 and opened.status_code == 503
            assert refused.json()["detail"] == DATABASE_UNAVAILABLE and refused.headers["Retry-After"] == "3"
            again = client.post(turn, json={"text": "办身份证要带什么"})
            assert again.status_code == 200
            assert [(m["sender"], m["text"]) for m in again.json()] == [
                ("citizen", "办身份证要带什么"),
                ("system", UNAVAILABLE_TEXT),
            ]
        _clear_caches()
