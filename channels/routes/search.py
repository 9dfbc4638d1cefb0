"""Matter search and guide lookup for apps, until the chat API lands.

The gateway holds its own index, so every search first replays the catalogue change log
(``catch_up``, one small query when nothing changed): a publish is found by the very next search,
as it is by the action servers' searches.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from channels.commit_first import CommitFirstRoute
from channels.deps import IndexDep, SessionDep
from knowledge import store
from knowledge.schema import MatterIn
from retriever import catch_up

router = APIRouter(route_class=CommitFirstRoute, prefix="/api/v1", tags=["search"])


class HitOut(BaseModel):
    external_id: str
    name: str
    department: str
    region: str
    parent_name: str | None
    score: float


class SearchOut(BaseModel):
    query: str
    confident: bool
    confidence: float
    hits: list[HitOut]


@router.get("/search", response_model=SearchOut)
def search(
    index: IndexDep,
    session: SessionDep,
    q: str = Query(min_length=1, max_length=200, description="市民的问题"),
    k: int = Query(5, ge=1, le=50),
    region: str | None = None,
    department: str | None = None,
) -> SearchOut:
    catch_up(session, index)
    result = index.search(q, k, region=region, department=department)
    return SearchOut(
        query=result.query,
        confident=result.confident,
        confidence=result.confidence,
        hits=[HitOut(**{f: getattr(h, f) for f in HitOut.model_fields}) for h in result.hits],
    )


@router.get(
    "/guides/{external_id}", response_model=MatterIn, responses={404: {"description": "未找到该事项，或该事项尚未发布"}}
)
def get_guide(external_id: str, session: SessionDep) -> MatterIn:
    """A published 办事指南 as citizens see it (``/api/v1/matters`` is the editors' resource, drafts and all)."""
    matter = store.get_by_external_id(session, external_id)
    if matter is None or matter.status != "published":
        raise HTTPException(404, detail="未找到该事项，或该事项尚未发布")
    return store.to_schema(matter)
