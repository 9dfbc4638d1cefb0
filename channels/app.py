"""The gateway's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from banshi.config import get_settings
from banshi.runtime import load_index
from channels import log_masking, redis_client
from channels.admission import Admission
from channels.desk_clock import DeskClock
from channels.errors import database_unavailable, validation_error_in_chinese
from channels.rate_limit import RateLimits
from channels.relay import Relay
from channels.routes import (
    agent,
    agent_live,
    auth,
    catalogue_io,
    chat,
    checklist,
    console,
    dashboard,
    desk,
    docs,
    faqs,
    hittest,
    matters,
    pages,
    search,
    studio,
    tickets,
    unanswered,
    wechat,
)
from channels.wechat import WechatChannel


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.index = load_index()
    app.state.relay = Relay()
    app.state.desk_clock = DeskClock()
    app.state.desk_clock.start()
    if get_settings().wechat_token:  # the outbound listener runs from the start, not from the first message
        app.state.wechat = WechatChannel(app.state.relay)
        app.state.wechat.start()
    try:
        yield
    finally:
        wechat_channel = getattr(app.state, "wechat", None)
        if wechat_channel is not None:
            wechat_channel.close()
        app.state.desk_clock.close()
        app.state.relay.close()
        redis_client.close()


def create_app() -> FastAPI:
    log_masking.install()
    # /docs comes from routes.docs, its scripts served here instead of from a CDN; no ReDoc (see there).
    app = FastAPI(title="banshi 办事", version="0.1.0", lifespan=_lifespan, docs_url=None, redoc_url=None)
    app.include_router(search.router)
    app.include_router(auth.router)
    app.include_router(agent.router)
    app.include_router(agent_live.router)
    app.include_router(desk.router)
    app.include_router(tickets.router)
    app.include_router(matters.router)
    app.include_router(catalogue_io.router)
    app.include_router(hittest.router)
    app.include_router(faqs.router)
    app.include_router(unanswered.router)
    app.include_router(dashboard.router)
    app.include_router(console.router)
    app.include_router(studio.router)
    app.include_router(chat.router)
    app.include_router(checklist.router)
    app.include_router(wechat.router)
    app.include_router(pages.router)
    app.include_router(docs.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.add_exception_handler(RequestValidationError, validation_error_in_chinese)
    app.add_exception_handler(OperationalError, database_unavailable)
    app.state.admission = Admission.of(get_settings())
    app.state.rate_limits = RateLimits.of(
        get_settings()
    )  # not in the lifespan: routes count before they validate, lifespan or not

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
