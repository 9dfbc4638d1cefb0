"""Reading a conversation back from Rasa's SQL tracker store: only the rows this process has not read yet.

Rasa 3.6's ``SQLTrackerStore`` reads every stored event of the conversation on every turn (a query with a
sub-query for the session's start, an ORM object per row): the cost of a turn that grows with the
conversation, 16 % of Rasa's busy time at 40 turns a citizen (py-spy). Here the process keeps each recent
conversation's rows (type, timestamp and the stored JSON text, in id order) and asks the database only for
the rows with a larger id, with a count of the older ones to notice rows gone. The tracker is then built
exactly as Rasa builds it: the latest session's events (timestamps at or after the last
``session_started``), decoded afresh from their JSON, through ``DialogueStateTracker.from_dict``.

Why a row with a larger id is all that can be new: the gateway lets one turn of a conversation run at a
time (``dialogue.gateway_lock_store``), so a turn's rows are committed before the next turn of that
conversation reads, on whichever Rasa process or replica; and Rasa's SQL store only ever appends.

Installed by ``dialogue.rasa_server`` (``BANSHI_RASA_INCREMENTAL=0`` keeps Rasa's own read, for a baseline).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

KEPT_CONVERSATIONS = 512
"""Conversations whose rows stay in memory (least recently read dropped first): about 100 kB each at ten
turns, so tens of MB at most; a conversation dropped is read whole again, as Rasa does."""


@dataclass
class _Rows:
    last_id: int = 0
    rows: list[tuple[str, float | None, str]] = field(default_factory=list)  # type_name, timestamp, data


_kept: OrderedDict[tuple[str, str], _Rows] = OrderedDict()
"""(database URL, sender id) → the rows read so far: whichever store object reads that database."""


def _read_rows(store: Any, session: Any, sender_id: str) -> list[tuple[str, float | None, str]]:
    """All the conversation's stored rows in id order: the kept ones and those added since."""
    from sqlalchemy import func

    event = store.SQLEvent
    key = (str(store.engine.url), sender_id)
    kept = _kept.pop(key, None)
    if kept is not None:
        still = session.query(func.count(event.id)).filter(event.sender_id == sender_id, event.id <= kept.last_id)
        if still.scalar() != len(kept.rows):  # rows removed behind our back: read the whole conversation again
            kept = None
    kept = kept or _Rows()
    added = (
        session.query(event.id, event.type_name, event.timestamp, event.data)
        .filter(event.sender_id == sender_id, event.id > kept.last_id)
        .order_by(event.id)
        .all()
    )
    for row_id, type_name, timestamp, data in added:
        kept.rows.append((type_name, timestamp, data))
        kept.last_id = row_id
    if kept.rows:
        _kept[key] = kept
        while len(_kept) > KEPT_CONVERSATIONS:
            _kept.popitem(last=False)
    return kept.rows


def latest_session(rows: list[tuple[str, float | None, str]]) -> list[tuple[str, float | None, str]]:
    """Rasa's ``_event_query`` filter: rows timestamped at or after the last session start, or all of them."""
    from rasa.shared.core.events import SessionStarted

    starts = [timestamp for type_name, timestamp, _ in rows if type_name == SessionStarted.type_name]
    starts = [timestamp for timestamp in starts if timestamp is not None]
    if not starts:
        return rows
    start = max(starts)
    return [row for row in rows if row[1] is not None and row[1] >= start]


async def _retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """``SQLTrackerStore._retrieve`` over the kept rows; the same tracker, or None, as Rasa's."""
    from rasa.shared.core.trackers import DialogueStateTracker

    with self.session_scope() as session:
        rows = _read_rows(self, session, sender_id)
    if not fetch_events_from_all_sessions:
        rows = latest_session(rows)
    events = [json.loads(data) for _, _, data in rows]
    if self.domain and events:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    return None


def install() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    if getattr(SQLTrackerStore._retrieve, "banshi_kept", False):
        return
    _retrieve.banshi_kept = True  # type: ignore[attr-defined]
    SQLTrackerStore._retrieve = _retrieve
