"""Rasa as banshi starts it (``dialogue.rasa_server``) still checks every action-server response."""

from __future__ import annotations

import subprocess

import pytest

from banshi.stack import RASA_PYTHON, ROOT

CHECK = """
from rasa.core.actions.action import RemoteAction
from jsonschema import ValidationError
import dialogue.rasa_server as server
server.install()
action = RemoteAction.__new__(RemoteAction)
good = {"events": [{"event": "slot", "name": "matter_id", "value": "x"}], "responses": [{"text": "好的"}]}
assert action._validate_action_result(good)
for bad in ({"events": "not a list"}, {"events": [{"no_event_name": 1}]}):
    try:
        action._validate_action_result(bad)
    except ValidationError as error:
        assert "Failed to validate Action server response" in error.message
    else:
        raise SystemExit(f"accepted {bad}")
print("checked")
"""


def test_the_action_response_check_still_refuses_a_malformed_response():
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is not installed")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("checked")
