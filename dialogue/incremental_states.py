"""A tracker's applied events and past states, worked out once per turn instead of at every call.

Every policy asks the domain for the states of the whole conversation (``Domain.states_for_tracker_history``),
and Rasa 3.6 answers by listing the applied events (``DialogueStateTracker.applied_events``: reverted
turns and a form's repeated executions taken out) and replaying them from the start, each time: seven
times a turn (two predictions, each asking for TED, the memoization and the rule policy), on the same
tracker, with at most the turn's own few events added between calls. Both are left-to-right folds over the
events, so here each fold is kept per tracker object and continued from where it stopped, as long as the
events it consumed are still, by identity, the start of the tracker's (for the states: of its applied
events); otherwise (a revert, a restart, a form's repeated execution that rewrites the applied history, a
form not named before) it starts again. The loop bodies are Rasa's own, step for step; each caller gets
its own copies, because the featurizers edit the last state they are given.

Installed by ``dialogue.rasa_server`` in the Rasa process. A new turn reads a new tracker from the store,
so the first call of each turn still replays the whole conversation: the cost that grows with its length
is paid once per turn and flags, not seven times.
"""

from __future__ import annotations

import operator
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

KEPT_TRACKERS = 256
"""Folds kept at once (trackers in flight in this process): a tracker's fold is only reused within its turn,
and is dropped as soon as the tracker is."""


@dataclass
class _Fold:
    """Rasa's loop variables after consuming some of a tracker's applied events."""

    replay: Any  # the tracker rebuilt from the consumed events (Rasa's ``tr``)
    consumed: list[Any] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False


_folds: OrderedDict[tuple[Any, ...], tuple[weakref.ref[Any], _Fold]] = OrderedDict()


def _dropping(kept: OrderedDict[Any, Any], key: Any) -> Any:
    """A weakref callback: the tracker is gone, so is what was kept for it (its events, a replayed copy)."""

    def drop(_ref: Any) -> None:
        entry = kept.get(key)
        if entry is not None and entry[0] is _ref:
            del kept[key]

    return drop


def _recall(kept: OrderedDict[Any, Any], key: Any, tracker: Any) -> Any:
    """What was kept under ``key`` for this very tracker object, or None (a tracker since gone whose id was
    reused is another tracker)."""
    entry = kept.get(key)
    if entry is None or entry[0]() is not tracker:
        return None
    kept.move_to_end(key)
    return entry[1]


def _remember(kept: OrderedDict[Any, Any], key: Any, tracker: Any, value: Any) -> Any:
    """Kept while the tracker lives, and among the ``KEPT_TRACKERS`` most recently used at most."""
    kept[key] = (weakref.ref(tracker, _dropping(kept, key)), value)
    while len(kept) > KEPT_TRACKERS:
        kept.popitem(last=False)
    return value


@dataclass
class _Applied:
    """``DialogueStateTracker.applied_events``'s loop variables after consuming some of a tracker's events."""

    consumed: list[Any]
    loop_names: set[str]
    applied: list[Any]


_applied: OrderedDict[int, tuple[weakref.ref[Any], _Applied]] = OrderedDict()


def _undo_or_apply(tracker: Any, event: Any, loop_names: set[str], applied: list[Any]) -> list[Any]:
    """The body of Rasa's loop in ``applied_events`` for one event; the list it goes on with."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    if isinstance(event, (Restarted, SessionStarted)):
        return []
    if isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)
    return applied


def applied_events(self: Any) -> list[Any]:
    """``DialogueStateTracker.applied_events``, continued from this tracker's last call.

    Rasa's loop treats a form's repeated execution by the names of all the conversation's forms, so a
    new event naming a form not seen before starts it again."""
    from rasa.shared.core.events import ActiveLoop

    events = self.events
    state = _recall(_applied, id(self), self)
    if state is not None and (len(events) < len(state.consumed) or not all(map(operator.is_, events, state.consumed))):
        state = None
    if state is not None:
        new = list(events)[len(state.consumed) :]
        if any(isinstance(event, ActiveLoop) and event.name and event.name not in state.loop_names for event in new):
            state = None
    if state is None:
        new = list(events)
        loop_names = {event.name for event in new if isinstance(event, ActiveLoop) and event.name}
        state = _remember(_applied, id(self), self, _Applied([], loop_names, []))
    for event in new:
        state.applied = _undo_or_apply(self, event, state.loop_names, state.applied)
        state.consumed.append(event)
    return list(state.applied)


def _rule_only_key(rule_only_data: dict[str, Any] | None) -> Any:
    if not rule_only_data:
        return None
    return tuple((name, tuple(values)) for name, values in sorted(rule_only_data.items()))


def _step(
    domain: Any,
    fold: _Fold,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> None:
    """The body of Rasa's loop in ``states_for_tracker_history`` for one prior tracker (``fold.replay``)."""
    from rasa.shared.core.constants import PREVIOUS_ACTION

    tr = fold.replay
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
        if not tr.followup_action and tr.latest_action_name != tr.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if fold.states:
            domain._substitute_rule_only_user_input(state, fold.states[-1])
        if fold.last_ml_action_sub_state:
            state[PREVIOUS_ACTION] = fold.last_ml_action_sub_state
    fold.states.append(domain._clean_state(state))


def _fold_for(domain: Any, tracker: Any, key: tuple[Any, ...], applied: list[Any]) -> _Fold:
    fold = _recall(_folds, key, tracker)
    if fold is not None:
        done = len(fold.consumed)
        if len(applied) >= done and all(map(operator.is_, applied[:done], fold.consumed)):
            return fold
    return _remember(_folds, key, tracker, _Fold(replay=tracker.init_copy()))


def states_for_tracker_history(
    self: Any,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """``Domain.states_for_tracker_history``, continued from the tracker's last call with the same flags."""
    from rasa.shared.core.events import ActionExecuted

    rule_only = _rule_only_key(rule_only_data) if ignore_rule_only_turns else None
    key = (id(self), id(tracker), omit_unset_slots, ignore_rule_only_turns, rule_only)
    applied = tracker.applied_events()
    fold = _fold_for(self, tracker, key, applied)
    for event in applied[len(fold.consumed) :]:
        if isinstance(event, ActionExecuted):
            _step(self, fold, event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        fold.replay.update(event)
        fold.consumed.append(event)
    # Rasa's last prior tracker is the tracker itself: its state is the caller's, not the fold's.
    last = _Fold(fold.replay, [], list(fold.states), fold.last_ml_action_sub_state, fold.turn_was_hidden)
    _step(self, last, False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return [{name: dict(sub_state) for name, sub_state in state.items()} for state in last.states]


def install() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    if getattr(Domain.states_for_tracker_history, "banshi_incremental", False):
        return
    states_for_tracker_history.banshi_incremental = True  # type: ignore[attr-defined]
    Domain.states_for_tracker_history = states_for_tracker_history
    DialogueStateTracker.applied_events = applied_events
