"""Catalogue export and import for editors, and the audit log for admins.

Export streams the filtered catalogue as JSONL or XLSX (Chinese headers, so the file re-imports).
Import is two requests: the upload returns a dry-run report and an id; the confirm stores the same
file's valid rows as drafts or published, as the editor chose. Rows whose matter another editor changed
after the dry run are not imported but listed in ``conflicts`` (see ``knowledge.transfer``); the upload
is deleted once confirmed, and expires unconfirmed after ``BANSHI_UPLOAD_KEEP_HOURS``. Another
platform's export comes with a mapping: one of ``GET /import-mappings`` by name, or a YAML file uploaded
beside it (``docs/import_mappings.md``); a mapping with a mistake is refused before the file is read.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel

from banshi.config import get_settings
from banshi.db import job_session
from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import GUARDED, SessionDep, require_role
from channels.errors import unprocessable
from channels.params import Offset
from knowledge import audit, transfer
from knowledge.audit import AuditOut
from knowledge.importers import mapping_spec
from knowledge.importers.mapping_spec import MappingChoice, MappingError
from knowledge.transfer import CatalogueFilter, ConflictOut, DryRun, UploadError

editor = require_role("editor")
router = APIRouter(route_class=CommitFirstRoute, prefix="/api/v1", tags=["catalogue"], responses=GUARDED)
EditorUser = Annotated[UserOut, Depends(editor)]
AdminUser = Annotated[UserOut, Depends(require_role("admin"))]

_MEDIA = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ConfirmIn(BaseModel):
    publish: bool = False
    """False keeps every imported change as a draft for review; True publishes at once."""


class ImportResult(BaseModel):
    file: str
    publish: bool
    created: list[str]
    updated: list[str]
    unchanged: int
    errors: list[str]
    conflicts: list[ConflictOut]
    """Rows left out because their matter changed after the dry run; re-upload the file to review them."""


@router.get(
    "/export",
    dependencies=[Depends(editor)],
    response_class=Response,
    responses={200: {"content": {media.split(";")[0]: {} for media in _MEDIA.values()}, "description": "目录文件"}},
)
def export(
    session: SessionDep,
    format: Literal["jsonl", "xlsx"] = "jsonl",
    q: str | None = Query(default=None, max_length=100),
    department: str | None = Query(default=None, max_length=100),
    region: str | None = Query(default=None, max_length=50),
    type: str | None = Query(default=None, max_length=30),
    status_filter: str | None = Query(default=None, alias="status", pattern="^(published|draft|deleted)$"),
) -> Response:
    where = CatalogueFilter(q=q, department=department, region=region, type=type, status=status_filter)
    items = transfer.export_items(session, where)
    content = transfer.to_jsonl(items) if format == "jsonl" else transfer.to_xlsx(items)
    headers = {"Content-Disposition": f'attachment; filename="catalogue.{format}"'}
    return Response(content, media_type=_MEDIA[format], headers=headers)


@router.get("/import-mappings", response_model=list[MappingChoice])
def import_mappings(_user: EditorUser) -> list[MappingChoice]:
    """The mappings an upload may be read through: shipped ones, and those stored under the data dir."""
    return mapping_spec.available_mappings(get_settings().data_dir)


async def _mapping(mapping: UploadFile | None, mapping_name: str | None) -> str | None:
    if mapping is not None and mapping.filename:
        content = await mapping.read(mapping_spec.MAPPING_MAX_BYTES + 1)
        return mapping_spec.mapping_text(get_settings().data_dir, uploaded=content, filename=mapping.filename)
    if mapping_name:
        return mapping_spec.mapping_text(get_settings().data_dir, name=mapping_name)
    return None


@router.post("/imports", response_model=DryRun, status_code=status.HTTP_201_CREATED)
async def upload(
    file: UploadFile,
    session: SessionDep,
    user: EditorUser,
    mapping: UploadFile | None = None,
    mapping_name: Annotated[str | None, Form(max_length=60)] = None,
) -> DryRun:
    """Keeps the file under ``uploads/`` and reports what an import would do; nothing is stored yet.

    ``mapping`` (a YAML file) or ``mapping_name`` (see ``/import-mappings``) reads another platform's export.
    """
    settings = get_settings()
    try:
        rules = await _mapping(mapping, mapping_name)
    except MappingError as exc:
        raise unprocessable(str(exc), "body", "mapping") from exc
    limit = settings.upload_max_mb * 1024 * 1024
    content = await file.read(limit + 1)
    if len(content) > limit:
        too_big = f"文件不能超过 {settings.upload_max_mb} MB"
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail=too_big)
    if not content:
        raise unprocessable("上传的文件是空的", "body", "file")
    try:
        upload_id = transfer.store_upload(
            settings.data_dir, file.filename or "", content, keep_hours=settings.upload_keep_hours, mapping=rules
        )
    except UploadError as exc:
        raise unprocessable(str(exc), "body", "file") from exc
    try:
        return transfer.dry_run(session, settings.data_dir, upload_id)
    except Exception as exc:  # an unreadable file (broken XLSX, wrong encoding) is the editor's to fix
        transfer.discard_upload(settings.data_dir, upload_id)
        raise unprocessable(f"无法读取文件：{exc}", "body", "file") from exc


@router.post(
    "/imports/{upload_id}/confirm",
    response_model=ImportResult,
    responses={404: {"description": "上传文件不存在、已导入或已过期，请重新上传"}},
)
def confirm(upload_id: str, body: ConfirmIn, user: EditorUser) -> ImportResult:
    """Imports in batches, each its own short transaction, so citizens' turns are not held up meanwhile."""
    settings = get_settings()
    try:
        with job_session() as session:
            summary = transfer.confirm(
                session, settings.data_dir, upload_id, author=user.username, publish=body.publish,
                keep_hours=settings.upload_keep_hours,
            )  # fmt: skip
    except UploadError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    return ImportResult(**summary)


@router.get("/audit/actions", response_model=dict[str, str])
def audit_actions(_admin: AdminUser) -> dict[str, str]:
    """Every audited action with its Chinese label, for the admin's filter."""
    return audit.ACTION_LABELS


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    session: SessionDep,
    _admin: AdminUser,
    target: str | None = Query(default=None, max_length=200),
    actor: str | None = Query(default=None, max_length=100),
    action: audit.AuditAction | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
) -> list[AuditOut]:
    """Admins only: who changed what in the catalogue, newest first."""
    return audit.entries(session, target=target, actor=actor, action=action, limit=limit, offset=offset)
