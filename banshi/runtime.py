"""Wiring shared by the console command, the search API and (later) the action server."""

from __future__ import annotations

from banshi.config import Settings, get_settings
from banshi.db import get_engine, migrate, session_scope
from retriever import HybridIndex, make_embedder, open_index


def index_options(settings: Settings) -> dict:
    return {
        "candidates": settings.candidates,
        "rrf_k": settings.rrf_k,
        "keyword_weight": settings.keyword_weight,
        "threshold": settings.confidence_threshold,
    }


def load_index(settings: Settings | None = None) -> HybridIndex:
    """The published catalogue's index, loaded from disk and caught up with the database."""
    settings = settings or get_settings()
    migrate(settings.resolved_database_url)
    with session_scope(get_engine()) as session:
        return open_index(session, settings.index_dir, make_embedder(settings.embedder), **index_options(settings))
