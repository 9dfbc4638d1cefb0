"""The agent console's page and its asset files, served from the repo: the console works offline."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from channels.commit_first import CommitFirstRoute

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "console.js": "text/javascript",
    "console-ticket.js": "text/javascript",
    "console-desk.js": "text/javascript",
    "console.css": "text/css",
}

router = APIRouter(route_class=CommitFirstRoute, include_in_schema=False)


@router.get("/console")
def console_page() -> FileResponse:
    """Public: the page itself holds no data; every call it makes needs a login."""
    return FileResponse(STATIC / "console.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/console/{name}")
def console_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, detail="未找到")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
