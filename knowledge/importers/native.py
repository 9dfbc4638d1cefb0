"""The project's own formats: JSON (a list, or ``{"matters": [...]}``), JSONL, CSV and XLSX."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from knowledge.importers.base import RowError, SourceRow, validate_row
from knowledge.importers.tabular import (
    MATERIAL_COLUMNS,
    MATTER_COLUMNS,
    header_to_field,
    material_from_cells,
    matter_from_cells,
)


def read_jsonl(path: Path, convert: Callable[[Any], Any] | None = None) -> Iterator[SourceRow]:
    """``convert`` maps another platform's record onto our fields before validation."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if convert is not None:
                    data = convert(data)
            except json.JSONDecodeError as exc:
                yield _broken(path, str(number), f"不是合法的 JSON（{exc.msg}，第{exc.colno}列）")
                continue
            except ValueError as exc:
                yield _broken(path, str(number), str(exc))
                continue
            yield validate_row(path.name, str(number), data)


def read_json(path: Path, data: Any) -> Iterator[SourceRow]:
    items = data.get("matters") if isinstance(data, dict) else data
    if not isinstance(items, list):
        yield _broken(path, "1", "JSON 文件应为事项列表，或含 matters 列表的对象")
        return
    for number, item in enumerate(items, start=1):
        yield validate_row(path.name, str(number), item)


def read_csv(path: Path) -> Iterator[SourceRow]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        fields, unknown = _map_header(header, MATTER_COLUMNS)
        if unknown:
            yield _broken(path, "1", f"未知的列：{'、'.join(unknown)}", field="表头")
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            yield _tabular_row(path, str(number), dict(zip(fields, values, strict=False)))


def read_xlsx(path: Path) -> Iterator[SourceRow]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    sheets = book.worksheets
    materials: dict[str, list[dict[str, Any]]] = {}
    material_errors: list[SourceRow] = []
    if len(sheets) > 1:
        materials, material_errors = _read_material_sheet(path, sheets[1])
    yield from material_errors
    rows = sheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    fields, unknown = _map_header([str(h or "") for h in header], MATTER_COLUMNS)
    if unknown:
        yield _broken(path, "1", f"未知的列：{'、'.join(unknown)}", field="表头")
    for number, values in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in values):
            continue
        cells = dict(zip(fields, values, strict=False))
        external_id = str(cells.get("external_id") or "").strip()
        if external_id in materials and not cells.get("materials"):
            cells["materials"] = materials[external_id]
        yield _tabular_row(path, f"{sheets[0].title}!{number}", cells)


def _read_material_sheet(path: Path, sheet) -> tuple[dict[str, list[dict]], list[SourceRow]]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None) or ()
    fields, unknown = _map_header([str(h or "") for h in header], MATERIAL_COLUMNS)
    errors = []
    if unknown:
        errors.append(_broken(path, f"{sheet.title}!1", f"未知的列：{'、'.join(unknown)}", "表头"))
    grouped: dict[str, list[dict]] = {}
    for values in rows:
        cells = dict(zip(fields, values, strict=False))
        external_id = str(cells.get("external_id") or "").strip()
        if external_id:
            grouped.setdefault(external_id, []).append(material_from_cells(cells))
    return grouped, errors


def _map_header(header: list[str], columns: dict[str, str]) -> tuple[list[str], list[str]]:
    fields, unknown = [], []
    for title in header:
        name = header_to_field(title, columns)
        fields.append(name or f"?{title}")
        if name is None and title.strip():
            unknown.append(title.strip())
    return fields, unknown


def _tabular_row(path: Path, row: str, cells: dict[str, Any]) -> SourceRow:
    cells = {k: v for k, v in cells.items() if not k.startswith("?")}
    try:
        data = matter_from_cells(cells)
    except json.JSONDecodeError:
        return _broken(path, row, "申请材料列应为 JSON 数组", field="materials")
    return validate_row(path.name, row, data)


def _broken(path: Path, row: str, message: str, field: str = "-") -> SourceRow:
    return SourceRow(path.name, row, errors=[RowError(path.name, row, field, message)])
