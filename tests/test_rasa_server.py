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


STATES = """
import random, sys
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, BotUttered, Restarted, SlotSet,
    UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker
rasa_states = Domain.states_for_tracker_history
rasa_applied = DialogueStateTracker.applied_events
import dialogue.rasa_server as server
server.install()
server.install()
import dialogue.incremental_states as incremental
assert Domain.states_for_tracker_history is incremental.states_for_tracker_history
continued = [0]
fold_for = incremental._fold_for
def counting(*args):
    fold = fold_for(*args)
    continued[0] += bool(fold.consumed)
    return fold
incremental._fold_for = counting
domain = Domain.load("dialogue/domain.yml")
rng = random.Random(int(sys.argv[1]))
forms = list(domain.form_names)
actions = [a for a in domain.action_names_or_texts if not a.startswith("utter_")] + ["utter_ok"]
slots = [s for s in domain.slots if s.type_name in ("text", "bool", "categorical")]
rule_only = {"slots": [slots[0].name], "loops": [forms[0]]}
def value(slot):
    if slot.type_name == "bool":
        return rng.choice([True, False])
    return rng.choice(slot.values) if slot.type_name == "categorical" else rng.choice(["a", "b", None])
def events():
    r = rng.random()
    if r < .25:
        intent = {"name": rng.choice(domain.intents), "confidence": 1.0}
        return [ActionExecuted("action_listen"), UserUttered("x", intent)]
    if r < .50:
        return [ActionExecuted(rng.choice(actions + forms), hide_rule_turn=rng.random() < .3)]
    if r < .60:
        loop = rng.choice(forms + [None])
        return [ActiveLoop(loop)] + ([ActionExecuted(loop)] if loop else [])
    if r < .75:
        slot = rng.choice(slots)
        return [SlotSet(slot.name, value(slot))]
    if r < .82:
        return [BotUttered("好的")]
    return [rng.choice([UserUtteranceReverted(), ActionReverted(), Restarted(), ActionExecuted(rng.choice(forms))])]
flags = [{}, {"ignore_rule_only_turns": True, "rule_only_data": rule_only}, {"omit_unset_slots": True}]
checked = 0
for conversation in range(60):
    tracker = DialogueStateTracker.from_events(f"c{conversation}", [], slots=domain.slots)
    for turn in range(rng.randint(5, 40)):
        for event in events():
            tracker.update(event)
        for kwargs in rng.sample(flags, len(flags)) * rng.randint(1, 2):
            ours, ours_applied = domain.states_for_tracker_history(tracker, **kwargs), tracker.applied_events()
            DialogueStateTracker.applied_events = rasa_applied  # Rasa's own, all the way down
            theirs, theirs_applied = rasa_states(domain, tracker, **kwargs), tracker.applied_events()
            DialogueStateTracker.applied_events = incremental.applied_events
            assert ours == theirs, (conversation, turn, kwargs)
            assert list(map(id, ours_applied)) == list(map(id, theirs_applied)), (conversation, turn)
            if ours and "user" in ours[-1]:
                ours[-1]["user"].clear()  # as a featurizer edits the last state it is given
            checked += 1
del tracker
assert not incremental._folds and not incremental._applied  # nothing kept for a tracker gone
print(checked, "calls alike,", continued[0], "continued")
"""


def test_past_states_continued_within_a_turn_are_rasas_own():
    """Random conversations (forms, reverts, restarts, rule-only turns): at every step and with every flag,
    the continued folds (``dialogue.incremental_states``) give Rasa's applied events and states, and editing
    one answer does not change the next."""
    checked, continued = (int(word) for word in _in_rasa(STATES, "7").split()[::3][-2:])
    assert checked > 3000
    assert continued > checked / 2  # most calls were continued, not replayed from the start


READS = """
import asyncio, sqlite3, sys
from rasa.core.tracker_store import SQLTrackerStore
rasa_retrieve = SQLTrackerStore._retrieve
import dialogue.rasa_server as server
server.install()
from dialogue import tracker_reads
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
domain = Domain.load("dialogue/domain.yml")
mine = SQLTrackerStore(domain, dialect="sqlite", db=sys.argv[1])
other = SQLTrackerStore(domain, dialect="sqlite", db=sys.argv[1])  # another Rasa process, same database

async def alike(sender):
    for whole in (False, True):
        ours, theirs = await mine._retrieve(sender, whole), await rasa_retrieve(mine, sender, whole)
        assert (ours and ours.current_state()) == (theirs and theirs.current_state()), (sender, whole)
    return ours

async def main():
    assert await alike("nobody") is None
    for sender in ("a", "b"):
        start = [ActionExecuted("action_session_start"), SessionStarted()]
        await mine.save(DialogueStateTracker.from_events(sender, start, slots=domain.slots))
        for turn in range(12):
            store = mine if turn % 3 else other
            tracker = await store.retrieve(sender)
            for event in [ActionExecuted("action_listen"), UserUttered(f"第{turn}句", {"name": "ask_materials"}),
                          SlotSet("matter", f"m{turn}"), BotUttered(f"答{turn}")]:
                tracker.update(event)
            if turn == 6:
                tracker.update(ActionExecuted("action_session_start"))
                tracker.update(SessionStarted())
            await store.save(tracker)
            assert (await alike(sender)).get_slot("matter") == (None if turn == 6 else f"m{turn}")
    assert (str(mine.engine.url), "a") in tracker_reads._kept
    with sqlite3.connect(sys.argv[1]) as db:
        db.execute("DELETE FROM events WHERE id IN (SELECT max(id) FROM events WHERE sender_id = 'a')")
    print(len((await alike("a")).events), "events")

asyncio.run(main())
"""


def test_conversations_read_back_from_kept_rows_are_rasas_own(tmp_path):
    """Reading only the rows added since (``dialogue.tracker_reads``) gives Rasa's tracker: turns stored by
    another process, a new session, and a row removed behind the process's back included."""
    # 2 session events + 12 turns × 4 + 2 for the new session, less the one removed
    assert _in_rasa(READS, str(tmp_path / "tracker.db")).splitlines()[-1] == "51 events"


TED = """
import asyncio, sys
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.core.policies.ted_policy import TEDPolicy
import dialogue.rasa_server as server
from dialogue import ted_answers

teds = []
predict = TEDPolicy.predict_action_probabilities
def recording(*args, **kwargs):
    prediction = predict(*args, **kwargs)
    teds.append(prediction.probabilities)
    return prediction
TEDPolicy.predict_action_probabilities = recording

async def conversation(agent):
    events, predictions = [ActionExecuted("action_listen")], []
    for text in ["办身份证要带什么", "有", "没有", "那要多久", "我要投诉路灯坏了一个月", "谢谢"] * 2:
        parsed = await agent.parse_message(text)
        tracker = DialogueStateTracker.from_events(
            "c", events + [UserUttered(text, parsed["intent"], parsed["entities"], parsed)], slots=agent.domain.slots
        )
        for _ in range(2):  # the action after the message, then what follows it
            prediction = agent.processor._predict_next_with_tracker(tracker)
            predictions.append((prediction.policy_name, prediction.probabilities))
            tracker.update(ActionExecuted(agent.domain.action_names_or_texts[prediction.max_confidence_index]))
        events = list(tracker.events) + [ActionExecuted("action_listen")]
    return predictions

async def main():
    agent = Agent.load(sys.argv[1])
    rasas = await conversation(agent)
    rasas_teds = teds[:]
    teds.clear()
    server.install()
    ours = await conversation(agent)
    assert ours == rasas
    assert teds == rasas_teds
    print(ted_answers._counts["kept"], "of", ted_answers._counts["asked"])

asyncio.run(main())
"""


@pytest.mark.model
def test_teds_kept_answers_are_the_models_own():
    """The same conversation predicted by Rasa as installed and with TED's answers kept
    (``dialogue.ted_answers``): TED's own probabilities, and the action and policy chosen, the same at
    every step; some of TED's inputs recur, so some answers come from the kept ones."""
    from tests.rasa_stack import trained_model

    kept, _, asked = _in_rasa(TED, str(trained_model())).splitlines()[-1].split()
    assert 0 < int(kept) < int(asked) == 24
