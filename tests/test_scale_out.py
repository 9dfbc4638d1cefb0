"""The scale-out setting, chosen by configuration alone: catalogue and tickets in PostgreSQL, Rasa's
trackers in PostgreSQL and its lock store in Redis (endpoints.scale.yml). A conversation goes on
where it was after the Rasa server restarts, because no replica keeps it in memory."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from banshi.stack import ROOT, Ports, running, services, stack_env
from tests.rasa_stack import SAMPLE_CATALOGUE, say, trained_model
from tests.services import free_port, postgres, postgres_bindir, redis

pytestmark = pytest.mark.slow


def _texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


@pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL is not installed")
def test_a_conversation_survives_a_rasa_restart_on_postgres_and_redis(tmp_path: Path) -> None:
    model = trained_model()
    with postgres() as database_url, redis() as redis_port:
        server = urlsplit(database_url)
        ports = Ports(gateway=0, rasa=free_port(), actions=free_port())
        env = {
            **stack_env(tmp_path / "var", ports, database_url=database_url),
            "BANSHI_TRACKER_DB_HOST": server.hostname or "127.0.0.1",
            "BANSHI_TRACKER_DB_PORT": str(server.port),
            "BANSHI_TRACKER_DB_NAME": "rasa_trackers",
            "BANSHI_TRACKER_DB_USER": server.username or "banshi",
            "BANSHI_TRACKER_DB_PASSWORD": "",
            "BANSHI_TRACKER_LOGIN_DB": server.path.lstrip("/"),
            "BANSHI_REDIS_HOST": "127.0.0.1",
            "BANSHI_REDIS_PORT": redis_port,
            "BANSHI_REDIS_PASSWORD": "",
            "BANSHI_REDIS_DB": "0",
        }
        banshi = Path(sys.executable).with_name("banshi")
        subprocess.run(
            [str(banshi), "import", str(SAMPLE_CATALOGUE)],
            env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        actions, rasa = services(model.resolve(), ports, gateway=False, endpoints="endpoints.scale.yml")
        webhook = f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook"
        sender = f"scale-{uuid.uuid4().hex[:10]}"
        with running([actions], env, tmp_path / "logs"):
            with running([rasa], env, tmp_path / "logs"):
                assert "第1项（共3项）" in _texts(say(webhook, sender, "办身份证要带什么"))
            with running([rasa], env, tmp_path / "logs"):
                assert "第2项（共3项）" in _texts(say(webhook, sender, "/affirm"))
