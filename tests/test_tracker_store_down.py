"""PostgreSQL down under a Rasa turn (endpoints.scale.yml: Rasa's trackers in PostgreSQL).

Rasa's own fail-safe answered such a turn from a blank conversation, so a complainant mid-form got an
answer that knew nothing of their complaint (bench/faults.py: "could not go on"). Now the turn answers
nothing (the gateway shows its unavailable message), and the same message sent once PostgreSQL is back
goes on with the form where it was (dialogue.failed_turns).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from banshi.cluster import scale_env
from banshi.stack import Ports, running, services, stack_env
from tests.rasa_stack import say, trained_model
from tests.services import free_port, postgres, postgres_bindir, postgres_down, redis

pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,
    pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL is not installed"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="Redis is not installed"),
]
COMPLAINT = "我要投诉港口区渔洲坪路口的路灯坏了一个月没人修"
ANSWERS = {
    "ticket_content": COMPLAINT,
    "ticket_location": "港口区渔洲坪路口",
    "ticket_time": "上个月开始",
    "ticket_name": "匿名",
    "ticket_phone": "13800138000",
}


def _asked(replies: list[dict]) -> str | None:
    outcomes = [r["custom"] for r in replies if (r.get("custom") or {}).get("type") == "outcome"]
    return next((o.get("slot") for o in outcomes if o["kind"] == "slot_requested"), None)


def test_a_turn_while_the_tracker_store_is_down_says_nothing_and_the_form_goes_on_after(tmp_path: Path) -> None:
    from banshi.db import migrate

    model = trained_model()
    # The trackers on a server of their own: the action server (on the other) answers while they are down.
    with postgres() as database_url, postgres() as trackers_url, redis() as redis_port:
        migrate(database_url)
        ports = Ports(gateway=0, rasa=free_port(), actions=free_port())
        env = {
            **stack_env(tmp_path, ports, database_url=database_url),
            **scale_env(trackers_url, f"redis://127.0.0.1:{redis_port}/0"),
        }
        wanted = services(model.resolve(), ports, gateway=False, endpoints="endpoints.scale.yml")
        with running(wanted, env, tmp_path / "logs"):
            webhook = f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook"
            asked = _asked(say(webhook, "c-pg", COMPLAINT))
            assert asked in ANSWERS, "the complaint starts the intake, which asks for a field"
            with postgres_down(trackers_url):
                during = say(webhook, "c-pg", ANSWERS[asked])
            assert during == [], "nothing is said from a conversation that could not be read"
            after = say(webhook, "c-pg", ANSWERS[asked])
            following = _asked(after)
            assert following in ANSWERS and following != asked, "the same answer again fills the field it was for"
