"""Reading a platform's export through a mapping: its records out of JSON, JSONL, CSV or XLSX, each
mapped (``mapping``) and validated, refused rows with their reasons, as the other importers report them.

Also how a file is recognised as a shipped mapping's platform (``detect``), so that the real 广西
export imports with a plain ``banshi import`` as before.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.importers.base import RowError, SourceRow, validate_row
from knowledge.importers.mapping import Scope, ValueRefused, dig, identity_of, map_record, value_of
from knowledge.importers.mapping_spec import ImportMapping, shipped_mappings


@dataclass
class Records:
    """A file's top level (``$root``) and its records, each with the label a report gives its row."""

    root: Any
    rows: list[tuple[str, Any]]
    problem: str | None = None
    """Why the file holds no records the mapping can read (the ``records`` path leads nowhere)."""


def _label(mapping: ImportMapping, number: int) -> str:
    return mapping.row_label.replace("{n}", str(number))


def _json_records(mapping: ImportMapping, data: Any) -> Records:
    records = dig(data, mapping.records) if mapping.records else data
    if not isinstance(records, list):
        where = f"路径 {mapping.records} 处" if mapping.records else "顶层"
        return Records(data, [], f"按映射 {mapping.name}，文件{where}应为记录列表")
    return Records(data, [(_label(mapping, n), r) for n, r in enumerate(records, start=1)])


def _jsonl_records(mapping: ImportMapping, file: Path) -> Records:
    rows: list[tuple[str, Any]] = []
    with file.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append((_label(mapping, number), json.loads(line)))
                except json.JSONDecodeError as exc:
                    rows.append(
                        (
                            _label(mapping, number),
                            RowError(file.name, str(number), "-", f"不是合法的 JSON（{exc.msg}）"),
                        )
                    )
    return Records(None, rows)


def _table(header: list[Any], values: list[Any]) -> dict[str, Any]:
    return {str(h).strip(): v for h, v in zip(header, values, strict=False) if h not in (None, "")}


def _csv_records(mapping: ImportMapping, file: Path) -> Records:
    with file.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        rows = [
            (_label(mapping, n), _table(header, values))
            for n, values in enumerate(reader, start=2)
            if any(v.strip() for v in values)
        ]
    return Records(None, rows)


def _xlsx_records(mapping: ImportMapping, file: Path) -> Records:
    from openpyxl import load_workbook

    book = load_workbook(file, read_only=True, data_only=True)
    try:
        sheet = book[mapping.sheet] if isinstance(mapping.sheet, str) else book.worksheets[mapping.sheet]
    except (KeyError, IndexError):
        return Records(None, [], f"按映射 {mapping.name}，工作簿中没有工作表 {mapping.sheet}")
    lines = sheet.iter_rows(values_only=True)
    header = list(next(lines, None) or [])
    rows = [
        (_label(mapping, n), _table(header, list(values)))
        for n, values in enumerate(lines, start=2)
        if any(v not in (None, "") for v in values)
    ]
    return Records(None, rows)


def load_records(mapping: ImportMapping, file: Path, data: Any = None) -> Records:
    """``data``: the JSON already parsed by format detection, so that a large file is read once."""
    suffix = file.suffix.lower()
    if suffix == ".csv":
        return _csv_records(mapping, file)
    if suffix == ".xlsx":
        return _xlsx_records(mapping, file)
    if suffix == ".jsonl":
        return _jsonl_records(mapping, file)
    if data is None:
        try:
            data = json.loads(file.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            return Records(None, [], f"不是合法的 JSON（{exc.msg}，第{exc.lineno}行）")
    return _json_records(mapping, data)


def detects(mapping: ImportMapping, root: Any, records: list[Any]) -> bool:
    """The file has the keys the mapping's ``detect`` names: at its top level and in its first records."""
    if mapping.detect is None:
        return False
    if mapping.detect.root_keys and not (isinstance(root, dict) and set(mapping.detect.root_keys) <= set(root)):
        return False
    first = [r for r in records[:3] if not isinstance(r, RowError)]
    keys = set(mapping.detect.record_keys)
    return bool(first) and all(isinstance(r, dict) and keys <= set(r) for r in first)


def detect_mapping(file: Path, data: Any = None) -> ImportMapping | None:
    """The shipped mapping whose ``detect`` this JSON or JSONL file matches, if any."""
    if file.suffix.lower() == ".jsonl":
        first = _first_line(file)
        return next((m for m in shipped_mappings().values() if detects(m, None, [first])), None)
    for mapping in shipped_mappings().values():
        if mapping.detect is not None and mapping.detect.root_keys:
            records = _json_records(mapping, data)
            if records.problem is None and detects(mapping, data, [r for _, r in records.rows]):
                return mapping
    return None


def recognised(file: Path) -> ImportMapping | None:
    """The shipped mapping a plain import would read this file through, for a report to name it."""
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        return detect_mapping(file)
    if suffix != ".json":
        return None
    try:
        return detect_mapping(file, json.loads(file.read_text(encoding="utf-8-sig")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _first_line(file: Path) -> Any:
    with file.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if line.strip():
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    return None
    return None


def _first_value(mapping: ImportMapping, field: str, records: Records) -> Any:
    rule = mapping.fields[field]
    for _, record in records.rows:
        try:
            value = value_of(rule, Scope(record, record=record, root=records.root), field)
        except ValueRefused:
            continue
        if value is not None and value != rule.default:
            return value
    return None


@lru_cache(maxsize=16)
def _folder_value(folder: Path, suffix: str, mapping_json: str, field: str) -> Any:
    """A field no record of a file gives, taken from the sibling files (防城港海事局 names no city)."""
    mapping = ImportMapping.model_validate_json(mapping_json)
    for sibling in sorted(folder.glob(f"*{suffix}")):
        try:
            records = load_records(mapping, sibling)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if mapping.detect is not None and not detects(mapping, records.root, [r for _, r in records.rows]):
            continue
        if (value := _first_value(mapping, field, records)) is not None:
            return value
    return None


def _fallbacks(mapping: ImportMapping, file: Path, records: Records) -> dict[str, Any]:
    values = {}
    for name, rule in mapping.fields.items():
        if rule.fallback is None:
            continue
        value = _first_value(mapping, name, records)
        if value is None and rule.fallback == "folder":
            value = _folder_value(file.parent.resolve(), file.suffix.lower(), mapping.model_dump_json(), name)
        if value is not None:
            values[name] = value
    return values


def read_with_mapping(file: Path, mapping: ImportMapping, data: Any = None) -> Iterator[SourceRow]:
    """Every record of the file as a validated row; a record the mapping cannot read is refused with why."""
    records = load_records(mapping, file, data)
    if records.problem:
        yield SourceRow(file.name, "1", errors=[RowError(file.name, "1", "-", records.problem)])
        return
    fallbacks = _fallbacks(mapping, file, records)
    for row, record in records.rows:
        if isinstance(record, RowError):
            yield SourceRow(file.name, row, errors=[RowError(file.name, row, record.field, record.message)])
            continue
        try:
            data_in = map_record(mapping, record, records.root, fallbacks)
        except ValueRefused as exc:
            error = RowError(file.name, row, exc.field, exc.message)
            yield SourceRow(file.name, row, errors=[error], **identity_of(mapping, record, records.root))
            continue
        yield validate_row(file.name, row, data_in)
