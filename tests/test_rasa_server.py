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


def _in_rasa(script: str, *args: str) -> str:
    """What a script prints, run in Rasa's own interpreter as banshi starts Rasa (``install()`` in it)."""
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is not installed")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_action_response_check_still_refuses_a_malformed_response():
    assert _in_rasa(CHECK).endswith("checked")


TRACKERS = """
import asyncio, sys
import dialogue.rasa_server as server
server.install()
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=sys.argv[1])
tracker = DialogueStateTracker.from_events("citizen", [UserUttered("办身份证要带什么")])
asyncio.run(store.save(tracker))
with store.engine.connect() as connection:
    mode, sync = (connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "synchronous"))
    print(mode, sync)
print([e.text for e in asyncio.run(store.retrieve("citizen")).events if isinstance(e, UserUttered)])
"""


def test_rasa_keeps_sqlite_trackers_in_wal_without_a_full_sync_per_turn(tmp_path):
    """A saved turn reads back, from a database in WAL mode with ``synchronous=NORMAL`` (1), not FULL (2)."""
    printed = _in_rasa(TRACKERS, str(tmp_path / "tracker.db"))
    assert printed.splitlines()[-2:] == ["wal 1", "['办身份证要带什么']"]


EVENTS = """
import rasa.shared.utils.common
from rasa.shared.core.events import Event
names = sorted({cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)})
before = {name: Event.resolve_by_type(name) for name in names}
import dialogue.rasa_server as server
server.install()
server.install()  # twice, as a restarted worker may: still one layer
assert {name: Event.resolve_by_type(name) for name in names} == before
assert Event.resolve_by_type("topic") is None
assert Event.resolve_by_type("nonsense", default=Event) is Event
try:
    Event.resolve_by_type("nonsense")
except ValueError:
    pass
else:
    raise SystemExit("an unknown event was accepted")
print(len(names), "events")
"""


def test_stored_events_still_read_back_as_their_own_classes():
    """The kept look-up (``_event_classes_kept``) answers as Rasa's own walk does, unknown names included."""
    assert _in_rasa(EVENTS).endswith("events")
