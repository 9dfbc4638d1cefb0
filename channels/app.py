"""The gateway's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from banshi.runtime import load_index
from channels.routes import search


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.index = load_index()
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="banshi 办事", version="0.1.0", lifespan=_lifespan)
    app.include_router(search.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
