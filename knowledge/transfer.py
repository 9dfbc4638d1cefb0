"""Export of the catalogue (JSONL, XLSX) and import of an uploaded file in two steps.

An export re-imports unchanged: the spreadsheet uses the Chinese headers the tabular importer
accepts (``knowledge.importers.tabular``), materials on a second sheet. An upload is first read in
a dry run (new / changed / unchanged / invalid rows, nothing stored) and kept under
``BANSHI_DATA_DIR/uploads`` with an id, so the editor confirms exactly the file that was checked.

The dry run also notes each matter's latest version. Confirming re-checks the rows against the
catalogue as it is then: a row whose matter another editor changed in between is not imported but
reported as a conflict (the other rows import, as with invalid rows), so a newer version is never
silently overwritten; the editor re-uploads to see the new differences. A confirmed upload is deleted
at once; one never confirmed expires after ``upload_keep_hours`` and is deleted on the next upload.

Another platform's export is read through a mapping (``knowledge.importers.mapping_spec``): one shipped
with banshi, one an admin stored under ``BANSHI_DATA_DIR/mappings``, or one the editor uploads with the
file. It is checked before the file is, and kept beside the upload so the confirm maps exactly as the
dry run did.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from knowledge import audit, store
from knowledge.importers import import_path, read_source
from knowledge.importers.base import RowConflict
from knowledge.importers.mapping_read import recognised
from knowledge.importers.mapping_spec import ImportMapping, parse_mapping
from knowledge.importers.runner import SUFFIXES
from knowledge.importers.tabular import LIST_FIELDS, MATERIAL_COLUMNS, MATTER_COLUMNS, field_label
from knowledge.models import Matter
from knowledge.schema import MatterIn
from knowledge.versions import FieldChange, diff_data

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_CHECKED = ".checked.json"
"""Beside the uploaded file: each row's matter version at the dry run, which the confirm re-checks."""
_MAPPING = ".mapping.yml"
"""Beside the uploaded file: the mapping it is read through, when it is another platform's export."""
IMPORT_BATCH = 20
"""Rows an import's confirm stores per transaction: about a third of a second of the write lock."""


class CatalogueFilter(BaseModel):
    q: str | None = None
    department: str | None = None
    region: str | None = None
    type: str | None = None
    status: str | None = None
    """``published``, ``draft`` (never published) or ``deleted``; ``None`` means all but deleted."""


def filtered(session: Session, where: CatalogueFilter):
    """The ``matters`` query behind the list and the export."""
    shown = Matter.status == where.status if where.status else Matter.status != "deleted"
    query = select(Matter).where(shown).order_by(Matter.id)
    if where.q:
        query = query.where(or_(Matter.name.contains(where.q), Matter.external_id == where.q, Matter.code == where.q))
    if where.department:
        query = query.where(Matter.department.contains(where.department))
    if where.region:
        query = query.where(
            or_(
                Matter.province.contains(where.region),
                Matter.city.contains(where.region),
                Matter.county.contains(where.region),
            )
        )
    if where.type:
        query = query.where(Matter.type == where.type)
    return query


def export_items(session: Session, where: CatalogueFilter) -> list[MatterIn]:
    """What citizens see (or, for a never-published matter, its current draft)."""
    return [store.to_schema(m) for m in session.scalars(filtered(session, where))]


def to_jsonl(items: list[MatterIn]) -> bytes:
    return "".join(json.dumps(i.model_dump(mode="json"), ensure_ascii=False) + "\n" for i in items).encode()


def _steps_cell(item: MatterIn) -> str | None:
    if not item.process_steps:
        return None
    if any("\n" in (s.desc or "") or "：" in s.name or "\n" in s.name for s in item.process_steps):
        return json.dumps([s.model_dump() for s in item.process_steps], ensure_ascii=False)
    return "\n".join(f"{s.name}：{s.desc}" if s.desc else s.name for s in item.process_steps)


def _matter_cell(item: MatterIn, name: str) -> Any:
    value = getattr(item, name)
    if name in LIST_FIELDS:
        return "、".join(value) or None
    if name == "process_steps":
        return _steps_cell(item)
    return value


def to_xlsx(items: list[MatterIn]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "事项"
    fields = [f for f in MATTER_COLUMNS if f != "materials"]
    sheet.append([MATTER_COLUMNS[f] for f in fields])
    materials = book.create_sheet("申请材料")
    material_fields = list(MATERIAL_COLUMNS)
    materials.append([MATERIAL_COLUMNS[f] for f in material_fields])
    for item in items:
        sheet.append([_matter_cell(item, f) for f in fields])
        for material in item.materials:
            row = {"external_id": item.external_id, **material.model_dump()}
            row["required"] = "是" if material.required else "否"
            materials.append([row.get(f) for f in material_fields])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- import from an upload ------------------------------------------------------------------------


class RowReport(BaseModel):
    row: str
    external_id: str | None = None
    name: str | None = None
    outcome: str
    """``new``, ``changed``, ``unchanged`` or ``invalid``."""
    became: str | None = None
    """What a valid row became, in a line an editor checks a mapping by (地区 · 部门 · 办件类型 · 材料 …)."""
    errors: list[str] = Field(default_factory=list)
    changes: list[FieldChange] = Field(default_factory=list)


class DryRun(BaseModel):
    id: str
    filename: str
    mapping: str | None = None
    """The mapping the file was read through (its title): chosen, uploaded, or recognised (the 广西 export)."""
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0
    rows: list[RowReport] = Field(default_factory=list)


class UploadError(ValueError):
    """The upload is unknown, already imported or expired; the message tells the editor to re-upload."""


class ConflictOut(BaseModel):
    row: str
    external_id: str
    name: str
    checked_version: int
    """The matter's latest version at the dry run (0: it did not exist yet)."""
    current_version: int
    author: str | None
    message: str

    @classmethod
    def of(cls, conflict: RowConflict) -> ConflictOut:
        fields = ("row", "external_id", "name", "checked_version", "current_version", "author")
        return cls(**{f: getattr(conflict, f) for f in fields}, message=str(conflict))


def uploads_dir(data_dir: Path) -> Path:
    folder = Path(data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _expired(folder: Path, keep_hours: float, now: float) -> bool:
    return folder.stat().st_mtime < now - keep_hours * 3600


def purge_expired(data_dir: Path, keep_hours: float) -> int:
    """Deletes uploads older than ``keep_hours`` (never confirmed); returns how many went."""
    now, removed = time.time(), 0
    for folder in uploads_dir(data_dir).iterdir():
        try:
            if _expired(folder, keep_hours, now):
                shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
                removed += 1
        except FileNotFoundError:  # another gateway replica cleaned it first
            continue
    return removed


def upload_mapping(path: Path) -> ImportMapping | None:
    """The mapping kept with an upload, if it has one."""
    file = path.parent / _MAPPING
    return parse_mapping(file.read_text(encoding="utf-8"), "映射") if file.exists() else None


def _promise(days: int | None) -> str | None:
    return None if days is None else "当场办结" if days == 0 else f"承诺 {days} 个工作日"


def became(item: MatterIn) -> str:
    """A valid row in one line, so that an editor sees at a glance whether the mapping read it right."""
    kept = [m for m in item.materials if not m.must_bring]
    parts = [
        item.region or "未注明地区",
        item.department,
        item.processing_type,
        _promise(item.time_limit_promised_days),
        f"材料 {len(item.materials)} 项" + (f"（其中 {len(kept)} 项无需提交）" if kept else ""),
        "可全程网办" if item.fully_online else None,
    ]
    return " · ".join(p for p in parts if p)


def store_upload(
    data_dir: Path, filename: str, content: bytes, *, keep_hours: float = 24, mapping: str | None = None
) -> str:
    """Keeps the file (and the text of its mapping) under a new id, after deleting expired uploads."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(f"不支持的文件类型：{suffix or filename}（支持 json/jsonl/csv/xlsx）")
    purge_expired(data_dir, keep_hours)
    upload_id = uuid.uuid4().hex
    folder = uploads_dir(data_dir) / upload_id
    folder.mkdir()
    # Kept under its own name inside a folder named by the id: row errors then name the editor's file.
    name = Path(filename).name
    (folder / (name if name not in (_CHECKED, _MAPPING) else name.lstrip("."))).write_bytes(content)
    if mapping is not None:
        (folder / _MAPPING).write_text(mapping, encoding="utf-8")
    return upload_id


def discard_upload(data_dir: Path, upload_id: str) -> None:
    if _UPLOAD_ID.match(upload_id or ""):
        shutil.rmtree(uploads_dir(data_dir) / upload_id, ignore_errors=True)


def upload_path(data_dir: Path, upload_id: str, *, keep_hours: float | None = None) -> Path:
    """The uploaded file; an expired upload is deleted and reported like an unknown one."""
    folder = uploads_dir(data_dir) / upload_id
    known = _UPLOAD_ID.match(upload_id or "") and folder.is_dir()
    if known and keep_hours is not None and _expired(folder, keep_hours, time.time()):
        discard_upload(data_dir, upload_id)
        raise UploadError(f"上传文件 {upload_id} 超过 {keep_hours:g} 小时未确认，已失效，请重新上传")
    files = sorted(f for f in folder.iterdir() if f.name not in (_CHECKED, _MAPPING)) if known else []
    if not files:
        raise UploadError(f"找不到上传文件 {upload_id}（可能已经导入或已过期），请重新上传")
    return files[0]


def _current(session: Session, external_id: str) -> tuple[int, MatterIn | None]:
    """The matter's latest version number (0: unknown) and its content (None: unknown or deleted)."""
    matter = store.get_by_external_id(session, external_id)
    if matter is None:
        return 0, None
    if matter.status == "deleted":
        return matter.version, None
    latest = store.latest_version(session, matter)
    return matter.version, MatterIn.model_validate(latest.data) if latest is not None else store.to_schema(matter)


def dry_run(session: Session, data_dir: Path, upload_id: str) -> DryRun:
    """Reads the upload like the import would, compares with the newest version, stores nothing."""
    path = upload_path(data_dir, upload_id)
    mapping = upload_mapping(path)
    shown = mapping or recognised(path)
    report = DryRun(id=upload_id, filename=path.name, mapping=shown and (shown.title or shown.name))
    checked: dict[str, int] = {}
    for source in read_source(path, mapping):
        if source.matter is None:
            errors = [f"{field_label(e.field)}：{e.message}" for e in source.errors]
            report.rows.append(
                RowReport(
                    row=source.row,
                    external_id=source.external_id,
                    name=source.name,
                    outcome="invalid",
                    errors=errors,
                )
            )
            continue
        item = source.matter
        row = RowReport(
            row=source.row, external_id=item.external_id, name=item.name, outcome="new", became=became(item)
        )
        if item.external_id in checked:
            row.outcome, row.errors = "invalid", [f"外部编号：{item.external_id} 在本次导入中重复"]
        else:
            checked[item.external_id], current = _current(session, item.external_id)
            if current is not None:
                row.changes = diff_data(current, item)
                row.outcome = "changed" if row.changes else "unchanged"
        report.rows.append(row)
    for row in report.rows:
        setattr(report, row.outcome, getattr(report, row.outcome) + 1)
    (path.parent / _CHECKED).write_text(json.dumps(checked, ensure_ascii=False), encoding="utf-8")
    return report


def _checked_versions(path: Path, upload_id: str) -> dict[str, int]:
    try:
        return json.loads((path.parent / _CHECKED).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise UploadError(f"上传文件 {upload_id} 没有预检记录，请重新上传") from exc


def confirm(
    session: Session, data_dir: Path, upload_id: str, *, author: str, publish: bool, keep_hours: float | None = None
) -> dict[str, Any]:
    """Stores the valid rows whose matters did not change since the dry run, then deletes the upload.

    ``session`` is a ``banshi.db.job_session``: the rows are committed in batches of ``IMPORT_BATCH``,
    so a bulk import never holds the database's write lock for long (a failure keeps the batches
    already stored; confirming again finds them unchanged)."""
    path = upload_path(data_dir, upload_id, keep_hours=keep_hours)
    checked = _checked_versions(path, upload_id)
    mapping = upload_mapping(path)
    result = import_path(session, path, author=author, publish=publish, checked_versions=checked, mapping=mapping,
                         commit_every=IMPORT_BATCH)  # fmt: skip
    summary = {
        "file": path.name,
        "publish": publish,
        "created": result.created,
        "updated": result.updated,
        "unchanged": len(result.unchanged),
        "errors": [str(e) for e in result.errors],
        "conflicts": [ConflictOut.of(c).model_dump() for c in result.conflicts],
    }
    audit.record(session, actor=author, action="import", target=path.name, details=summary)
    session.flush()
    discard_upload(data_dir, upload_id)
    return summary
