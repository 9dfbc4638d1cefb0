"""The one clock every table and deadline uses: naive UTC, as the database stores it."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no offset, so every stored time is UTC without one, and compares with this."""
    return datetime.now(UTC).replace(tzinfo=None)
