"""Request dependencies: one database session per request and the process's shared index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from banshi.db import session_scope
from retriever import HybridIndex


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def get_index(request: Request) -> HybridIndex:
    return request.app.state.index


SessionDep = Annotated[Session, Depends(get_session)]
IndexDep = Annotated[HybridIndex, Depends(get_index)]
