"""The one clock every table and deadline uses: naive UTC, as the database stores it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no offset, so every stored time is UTC without one, and compares with this."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(value: datetime) -> datetime:
    """A stored (naive UTC) time with its offset said, for anything that leaves the process."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""The type of every time an API sends: ``2026-11-30T21:05:34+00:00``, never a bare local-looking time
(JSON Schema's ``date-time`` and a browser's ``Date`` both need the offset)."""
