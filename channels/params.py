"""The integers a request may carry in its path, query or body, bounded to what a database column holds.

Python's ints have no limit, but SQLite's INTEGER and PostgreSQL's BIGINT stop at 2^63-1: a larger id
in ``/tickets/{id}`` or ``?after=`` reached the driver and raised ``OverflowError``, a 500. Every route
takes its ids, cursors, pages and versions through these types instead, so such a request is refused
at the edge with a 422 in Chinese (``channels.errors``) and a negative id is never looked up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_INT = 2**63 - 1
"""The largest value of a signed 64-bit column: SQLite INTEGER, PostgreSQL BIGINT."""

Id = Annotated[int, Path(ge=1, le=MAX_INT, description="编号（正整数）")]
"""A row's id in a path: ``/handoffs/{handoff_id}``, ``/tickets/{ticket_id}``, ``/faqs/{faq_id}``…"""

AfterId = Annotated[int, Query(ge=0, le=MAX_INT, description="已收到的最后一条消息的 id")]
"""A cursor: the last message id a client already has (0: from the start)."""

Offset = Annotated[int, Query(ge=0, le=MAX_INT, description="跳过前多少条")]
Page = Annotated[int, Query(ge=1, le=MAX_INT, description="页码，从 1 开始")]

BodyId = Annotated[int, Field(ge=1, le=MAX_INT)]
"""A row's id or a version number inside a JSON body."""
BodyCount = Annotated[int, Field(ge=0, le=MAX_INT)]
"""A non-negative number inside a JSON body that is compared with a column (a base version)."""
