"""Export of the catalogue (JSONL, XLSX) and import of an uploaded file in two steps.

An export re-imports unchanged: the spreadsheet uses the Chinese headers the tabular importer
accepts (``knowledge.importers.tabular``), materials on a second sheet. An upload is first read in
a dry run (new / changed / unchanged / invalid rows, nothing stored) and kept under
``BANSHI_DATA_DIR/uploads`` with an id, so the editor confirms exactly the file that was checked.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from knowledge import audit, store
from knowledge.importers import import_path, read_source
from knowledge.importers.runner import SUFFIXES
from knowledge.importers.tabular import MATERIAL_COLUMNS, MATTER_COLUMNS
from knowledge.models import Matter
from knowledge.schema import MatterIn
from knowledge.versions import FieldChange, diff_data

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_LIST_FIELDS = ("aliases", "applicant_types", "handle_forms")


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
        query = query.where(
            or_(Matter.name.contains(where.q), Matter.external_id == where.q, Matter.code == where.q)
        )
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
    if name in _LIST_FIELDS:
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
    errors: list[str] = Field(default_factory=list)
    changes: list[FieldChange] = Field(default_factory=list)


class DryRun(BaseModel):
    id: str
    filename: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invalid: int = 0
    rows: list[RowReport] = Field(default_factory=list)


class UploadError(ValueError):
    pass


def uploads_dir(data_dir: Path) -> Path:
    folder = Path(data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(data_dir: Path, filename: str, content: bytes) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(f"不支持的文件类型：{suffix or filename}（支持 json/jsonl/csv/xlsx）")
    upload_id = uuid.uuid4().hex
    folder = uploads_dir(data_dir) / upload_id
    folder.mkdir()
    # Kept under its own name inside a folder named by the id: row errors then name the editor's file.
    (folder / Path(filename).name).write_bytes(content)
    return upload_id


def upload_path(data_dir: Path, upload_id: str) -> Path:
    folder = uploads_dir(data_dir) / upload_id
    files = sorted(folder.iterdir()) if _UPLOAD_ID.match(upload_id or "") and folder.is_dir() else []
    if not files:
        raise UploadError(f"找不到上传文件 {upload_id}，请重新上传")
    return files[0]


def _current(session: Session, external_id: str) -> MatterIn | None:
    matter = store.get_by_external_id(session, external_id)
    if matter is None or matter.status == "deleted":
        return None
    latest = store.latest_version(session, matter)
    return MatterIn.model_validate(latest.data) if latest is not None else store.to_schema(matter)


def dry_run(session: Session, data_dir: Path, upload_id: str) -> DryRun:
    """Reads the upload like the import would, compares with the newest version, stores nothing."""
    path = upload_path(data_dir, upload_id)
    report = DryRun(id=upload_id, filename=path.name)
    seen: set[str] = set()
    for source in read_source(path):
        if source.matter is None:
            errors = [f"{e.field}：{e.message}" for e in source.errors]
            report.rows.append(RowReport(row=source.row, outcome="invalid", errors=errors))
            continue
        item = source.matter
        row = RowReport(row=source.row, external_id=item.external_id, name=item.name, outcome="new")
        if item.external_id in seen:
            row.outcome, row.errors = "invalid", [f"external_id：外部编号 {item.external_id} 在本次导入中重复"]
        else:
            seen.add(item.external_id)
            current = _current(session, item.external_id)
            if current is not None:
                row.changes = diff_data(current, item)
                row.outcome = "changed" if row.changes else "unchanged"
        report.rows.append(row)
    for row in report.rows:
        setattr(report, row.outcome, getattr(report, row.outcome) + 1)
    return report


def confirm(session: Session, data_dir: Path, upload_id: str, *, author: str, publish: bool) -> dict[str, Any]:
    """Stores the valid rows (as drafts or published) and removes the upload."""
    path = upload_path(data_dir, upload_id)
    result = import_path(session, path, author=author, publish=publish)
    summary = {
        "file": path.name,
        "publish": publish,
        "created": result.created,
        "updated": result.updated,
        "unchanged": len(result.unchanged),
        "errors": [str(e) for e in result.errors],
    }
    audit.record(session, actor=author, action="import", target=path.name, details=summary)
    for file in path.parent.iterdir():
        file.unlink()
    path.parent.rmdir()
    return summary
