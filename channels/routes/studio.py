"""The content staff's studio (编辑工作台): one page at ``/studio`` and its asset files, served from the repo.

Like the agent console it has no build step and loads nothing from outside: government intranets are
often offline. The page itself holds no data; every call it makes needs a login with the editor role.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from channels.commit_first import CommitFirstRoute

STUDIO = Path(__file__).resolve().parent.parent / "static" / "studio"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(route_class=CommitFirstRoute, include_in_schema=False)


@router.get("/studio")
def studio_page() -> FileResponse:
    return FileResponse(STUDIO / "index.html", media_type="text/html", headers=NO_CACHE)


@router.get("/studio/{name:path}")
def studio_asset(name: str) -> FileResponse:
    """Only files inside the studio folder, by a known suffix: no path can reach elsewhere."""
    path = (STUDIO / name).resolve()
    if not path.is_relative_to(STUDIO) or path.suffix not in MEDIA_TYPES or not path.is_file():
        raise HTTPException(404, detail="未找到")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=NO_CACHE)
