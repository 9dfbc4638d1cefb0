"""How banshi starts Rasa: ``python -m dialogue.rasa_server run …`` in ``.venv-rasa``, the same CLI as ``rasa``.

Two costs of a turn are cut here, at start-up, so Rasa's installed files are never edited and ``rasa``
itself is unchanged:

- Rasa 3.6 checks every action-server response against its JSON schema with ``jsonschema.validate``,
  which re-checks the schema itself and builds a new validator on every call: measured at over half of
  the Rasa main thread's time per turn. The check stays; only its validator is built once.
- Rasa's SQLite tracker store (``endpoints.yml``) saves each turn in its own transaction, on Rasa's event
  loop, in SQLite's default rollback-journal mode with a full sync: 31 ms per commit on this machine's
  disk (``bench/sqlite_commit.py``), during which Rasa serves no one. Its connections use WAL with
  ``synchronous=NORMAL`` instead (0.01 ms): a process crash still loses nothing committed; only a
  power cut can lose the last turns of dialogue state (the gateway keeps the transcript).
- SQLAlchemy 1.4 (Rasa's) gives a SQLite file a ``NullPool``: a connection opened and closed for every
  session, two or more a turn, and closing the last connection to a WAL database checkpoints it and
  deletes the WAL file. The tracker store's engine keeps its connections in a pool instead: 9.2 ms per
  transaction reopened against 0.01 ms pooled (``bench/sqlite_commit.py``).

And its start: Rasa answers ``/status`` as soon as the model is loaded, but TensorFlow builds DIET's and
TED's graphs on their first call, so the first citizen after a (re)start paid for it, and a load balancer
had already sent them there. The model is now run once on a throwaway message and tracker (nothing is
stored, no action is run) before the server accepts anyone (``BANSHI_RASA_WARM_UP=0`` skips it).

Loading the model itself skips Rasa's one-example training step (``dialogue.fast_model_load``): most of
the start's time.

Reading a tracker back turns every stored event into its class with ``Event.resolve_by_type``, which
walks all of ``Event``'s subclasses (``all_subclasses``, recursive, with an ``isabstract`` check each)
for each event: 8 % of Rasa's busy time under load (py-spy, 24 turns/s), growing with the conversation.
The classes are fixed once Rasa is imported, so the look-up is kept per type name.

Each turn read the whole conversation back from the tracker store and replayed all of it seven times,
once for each policy's question: the two costs that grow with a conversation's length. The rows already
read are kept (``dialogue.tracker_reads``) and the replay is continued within a turn
(``dialogue.incremental_states``); TED's outputs are kept per input (``dialogue.ted_answers``).
``BANSHI_RASA_INCREMENTAL=0`` turns all three off.

A turn in which the action server failed is not stored (``dialogue.failed_turns``), so a form survives an
action-server outage.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from dialogue import failed_turns, fast_model_load, incremental_states, ted_answers, tracker_reads

log = logging.getLogger("rasa.banshi")  # under "rasa": Rasa sets that logger's level (INFO), not the root's
WARM_UP_TEXT = "办身份证要带什么"


def _validate_once_built(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import ValidationError

    try:
        _validator(self.action_response_format_spec()).validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            "endpoint is valid."
        )
        raise


_built: dict[int, Any] = {}


def _validator(schema: dict[str, Any]) -> Any:
    """One validator per schema object, checked once (the schema is a constant of Rasa's)."""
    from jsonschema.validators import validator_for

    key = id(schema)
    if key not in _built:
        cls = validator_for(schema)
        cls.check_schema(schema)
        _built[key] = cls(schema)
    return _built[key]


SQLITE_TRACKER_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=3000")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):  # PostgreSQL trackers (endpoints.scale.yml) untouched
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_TRACKER_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()


def _pooled_for_sqlite(rasa_kwargs: Any) -> Any:
    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        kwargs = rasa_kwargs(url)
        if str(url).startswith("sqlite"):
            from sqlalchemy.pool import QueuePool

            # Rasa's event loop is its one thread; check_same_thread only guards a pool handing over.
            kwargs.update(poolclass=QueuePool, connect_args={"check_same_thread": False})
        else:  # a pooled connection that a PostgreSQL restart closed is replaced, not a failed turn
            kwargs["pool_pre_ping"] = True
        return kwargs

    return create_engine_kwargs


async def warm_up(agent: Any) -> None:
    """One parse and one action prediction on a tracker of its own, never stored: the graphs get built."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    started = time.perf_counter()
    parsed = await agent.parse_message(WARM_UP_TEXT)
    tracker = DialogueStateTracker.from_events(
        "banshi-warm-up",
        [ActionExecuted(ACTION_LISTEN_NAME), UserUttered(WARM_UP_TEXT, parsed["intent"], parsed["entities"], parsed)],
        slots=agent.domain.slots,
    )
    agent.processor.predict_next_with_tracker(tracker)
    log.info("model warmed up in %.1f s", time.perf_counter() - started)


_UNKNOWN = object()


def _event_classes_kept(resolve: Any) -> Any:
    kept: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        if type_name not in kept:
            found = resolve(type_name, _UNKNOWN)
            if found is None or found is _UNKNOWN:  # the old "topic", or unknown: Rasa's own answer
                return resolve(type_name, default)
            kept[type_name] = found
        return kept[type_name]

    resolve_by_type.banshi_kept = True  # type: ignore[attr-defined]
    return staticmethod(resolve_by_type)


def _loading_then_warming(load: Any) -> Any:
    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await load(*args, **kwargs)
        if agent is not None and agent.is_ready():
            try:
                await warm_up(agent)
            except Exception:  # a failed warm-up only leaves the first turn slow
                log.exception("warm-up failed")
        return agent

    return load_agent_on_start


def install() -> None:
    import rasa.core.run
    import rasa.core.tracker_store
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if os.environ.get("BANSHI_RASA_WARM_UP", "1") != "0":
        rasa.core.run.load_agent_on_start = _loading_then_warming(rasa.core.run.load_agent_on_start)

    rasa.core.tracker_store.create_engine_kwargs = _pooled_for_sqlite(rasa.core.tracker_store.create_engine_kwargs)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)

    if not getattr(Event.resolve_by_type, "banshi_kept", False):
        Event.resolve_by_type = _event_classes_kept(Event.resolve_by_type)
    spec = RemoteAction.action_response_format_spec()
    RemoteAction.action_response_format_spec = staticmethod(lambda: spec)  # one object, so one validator
    RemoteAction._validate_action_result = _validate_once_built
    failed_turns.install()
    fast_model_load.install()
    if os.environ.get("BANSHI_RASA_INCREMENTAL", "1") != "0":  # "0": Rasa's own reads and replays, a baseline
        tracker_reads.install()
        incremental_states.install()
        ted_answers.install()


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
