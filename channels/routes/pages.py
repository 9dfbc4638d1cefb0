"""The citizen's pages: the chat page at ``/`` and the embeddable ``/widget.js``, both plain files in the repo."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from channels.commit_first import CommitFirstRoute

STATIC = Path(__file__).resolve().parent.parent / "static"
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(route_class=CommitFirstRoute, include_in_schema=False)


@router.get("/")
def chat_page() -> FileResponse:
    return FileResponse(STATIC / "chat.html", media_type="text/html", headers=NO_CACHE)


@router.get("/widget.js")
def widget() -> FileResponse:
    """Any site embeds the chat with one script tag; the script finds the gateway from its own src."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript",
        headers={**NO_CACHE, "Access-Control-Allow-Origin": "*"},
    )
