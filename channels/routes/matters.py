"""The editor's catalogue API: list and search, edit with versions, publish, roll back, diff, delete.

All rules (drafts, optimistic concurrency, the change log every index replays, the audit log) live in
``knowledge.versions``; this module maps them to HTTP. A matter is edited as a ``MatterIn`` JSON object
and validated here so the 422 names each field in Chinese, as the importers do for a file's rows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import CONFLICT, GUARDED, NOT_FOUND, SessionDep, require_role
from channels.params import MAX_INT, BodyCount, BodyId, Page
from knowledge import store, versions
from knowledge.importers.base import validate_row
from knowledge.importers.tabular import field_label
from knowledge.models import Matter
from knowledge.schema import MatterIn
from knowledge.transfer import CatalogueFilter, filtered
from knowledge.versions import BundleInvalid, FieldChange, VersionConflict, VersionError, VersionOut

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/matters",
    tags=["matters"],
    responses={**GUARDED, **NOT_FOUND, **CONFLICT},
    dependencies=[Depends(require_role("editor"))],
)
EditorUser = Annotated[UserOut, Depends(require_role("editor"))]


class MatterSummary(BaseModel):
    external_id: str
    name: str
    department: str
    region: str
    type: str | None
    status: str
    version: int
    """The newest version (a draft when it is above ``published_version``)."""
    published_version: int | None
    has_draft: bool


class MatterList(BaseModel):
    total: int
    page: int
    size: int
    items: list[MatterSummary]


class DraftOut(BaseModel):
    version: int
    matter: MatterIn


class MatterDetail(BaseModel):
    external_id: str
    status: str
    published_version: int | None
    latest_version: int
    live: MatterIn | None
    """What citizens see now; ``None`` for a matter never published (or deleted)."""
    draft: DraftOut | None
    versions: list[VersionOut]


class SaveIn(BaseModel):
    matter: dict[str, Any]
    """A ``MatterIn`` object; validated by the route so each bad field gets a Chinese message."""
    base_version: BodyCount | None = None
    """The newest version the editor loaded; a save on top of someone else's is refused with 409."""
    note: str | None = Field(default=None, max_length=500)


class VersionIn(BaseModel):
    version: BodyId


class RollbackIn(VersionIn):
    publish: bool = False


class SavedOut(BaseModel):
    external_id: str
    version: int
    published_version: int | None
    status: str


class DiffOut(BaseModel):
    external_id: str
    from_version: int
    to_version: int
    changes: list[FieldChange]


def validated(data: dict[str, Any]) -> MatterIn:
    """422 with one Chinese message per bad field, in FastAPI's shape: ``{"detail": [{loc, msg, type}]}``."""
    row = validate_row("matter", "-", data)
    if row.matter is not None:
        return row.matter
    detail = [
        {"loc": ["body", "matter", *e.field.split(".")], "msg": f"{field_label(e.field)}：{e.message}", "type": "value"}
        for e in row.errors
    ]
    raise HTTPException(422, detail=detail)


def _bundle_invalid(exc: BundleInvalid) -> HTTPException:
    """Shown beside the 一件事 field, as the other field errors are."""
    return HTTPException(422, detail=[{"loc": ["body", "matter", "bundle"], "msg": str(exc), "type": "value"}])


def _or_404(session: Session, external_id: str) -> Matter:
    matter = store.get_by_external_id(session, external_id)
    if matter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"未找到事项 {external_id}")
    return matter


def _conflict(exc: VersionConflict) -> JSONResponse:
    body = {
        "detail": str(exc),
        "base_version": exc.base,
        "latest_version": exc.latest.version,
        "latest_author": exc.latest.author,
        "latest_note": exc.latest.note,
        "latest": exc.latest.data,
        "changes": [c.model_dump(mode="json") for c in exc.changes],
    }
    return JSONResponse(status_code=status.HTTP_409_CONFLICT, content=body)


def _saved(matter: Matter) -> SavedOut:
    return SavedOut(
        external_id=matter.external_id,
        version=matter.version,
        published_version=matter.published_version,
        status=matter.status,
    )


def detail(session: Session, matter: Matter) -> MatterDetail:
    latest = store.latest_version(session, matter)
    draft = None
    if latest is not None and latest.version > (matter.published_version or 0):
        draft = DraftOut(version=latest.version, matter=MatterIn.model_validate(latest.data))
    return MatterDetail(
        external_id=matter.external_id,
        status=matter.status,
        published_version=matter.published_version,
        latest_version=matter.version,
        live=store.to_schema(matter) if matter.status == "published" else None,
        draft=draft,
        versions=versions.history(session, matter),
    )


@router.get("", response_model=MatterList)
def list_matters(
    session: SessionDep,
    q: str | None = Query(default=None, max_length=100),
    department: str | None = Query(default=None, max_length=100),
    region: str | None = Query(default=None, max_length=50),
    type: str | None = Query(default=None, max_length=30),
    status_filter: str | None = Query(default=None, alias="status", pattern="^(published|draft|deleted)$"),
    has_draft: bool | None = None,
    page: Page = 1,
    size: int = Query(default=50, ge=1, le=500),
) -> MatterList:
    """Searchable, filterable and paged; ``has_draft`` finds matters with unpublished edits."""
    where = CatalogueFilter(q=q, department=department, region=region, type=type, status=status_filter)
    query = filtered(session, where)
    pending = Matter.version > func.coalesce(Matter.published_version, 0)
    if has_draft is not None:
        query = query.where(pending if has_draft else ~pending)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(query.limit(size).offset((page - 1) * size))
    items = [
        MatterSummary(
            external_id=m.external_id,
            name=m.name,
            department=m.department,
            region="".join(p for p in (m.province, m.city, m.county) if p),
            type=m.type,
            status=m.status,
            version=m.version,
            published_version=m.published_version,
            has_draft=m.version > (m.published_version or 0),
        )
        for m in rows
    ]
    return MatterList(total=total, page=page, size=size, items=items)


@router.get("/{external_id}", response_model=MatterDetail)
def get_matter(external_id: str, session: SessionDep) -> MatterDetail:
    return detail(session, _or_404(session, external_id))


@router.post("", response_model=SavedOut, status_code=status.HTTP_201_CREATED)
def create_matter(body: SaveIn, session: SessionDep, user: EditorUser):
    """A new matter starts as a draft: citizens see it only once it is published."""
    item = validated(body.matter)
    if store.get_by_external_id(session, item.external_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"外部编号 {item.external_id} 已存在")
    try:
        versions.save_draft(session, item, author=user.username, note=body.note, base_version=None)
    except BundleInvalid as exc:
        raise _bundle_invalid(exc) from exc
    return _saved(_or_404(session, item.external_id))


@router.put("/{external_id}", response_model=SavedOut)
def save_matter(external_id: str, body: SaveIn, session: SessionDep, user: EditorUser):
    """Saves a draft version; 409 with the other editor's version and the diff when ``base_version`` is stale."""
    _or_404(session, external_id)
    item = validated({**body.matter, "external_id": body.matter.get("external_id") or external_id})
    if item.external_id != external_id:
        raise HTTPException(422, detail="外部编号不能修改")
    try:
        versions.save_draft(session, item, author=user.username, note=body.note, base_version=body.base_version)
    except VersionConflict as exc:
        return _conflict(exc)
    except BundleInvalid as exc:
        raise _bundle_invalid(exc) from exc
    return _saved(_or_404(session, external_id))


@router.post("/{external_id}/publish", response_model=SavedOut)
def publish(external_id: str, body: VersionIn, session: SessionDep, user: EditorUser) -> SavedOut:
    _or_404(session, external_id)
    try:
        matter = versions.publish(session, external_id, body.version, author=user.username)
    except versions.VersionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    except VersionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return _saved(matter)


@router.post("/{external_id}/rollback", response_model=SavedOut)
def rollback(external_id: str, body: RollbackIn, session: SessionDep, user: EditorUser) -> SavedOut:
    """A new version equal to an old one: a draft, or live at once with ``publish``."""
    _or_404(session, external_id)
    try:
        versions.rollback(session, external_id, body.version, author=user.username, publish_now=body.publish)
    except versions.VersionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    return _saved(_or_404(session, external_id))


@router.get("/{external_id}/diff", response_model=DiffOut)
def diff(
    external_id: str,
    session: SessionDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_INT)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_INT)],
) -> DiffOut:
    _or_404(session, external_id)
    try:
        changes = versions.diff(session, external_id, from_version, to_version)
    except versions.VersionNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    return DiffOut(external_id=external_id, from_version=from_version, to_version=to_version, changes=changes)


@router.delete("/{external_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(external_id: str, session: SessionDep, user: EditorUser) -> None:
    """Soft delete: citizens and every index stop seeing it; its history stays."""
    matter = _or_404(session, external_id)
    if matter.status == "deleted":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"事项 {external_id} 已删除")
    versions.delete(session, external_id, author=user.username)
