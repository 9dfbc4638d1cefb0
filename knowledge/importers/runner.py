"""Format detection and the import loop."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from banshi.db import commit_batch, hold_write_lock
from knowledge.importers import native
from knowledge.importers.base import ImportReport, RowConflict, RowError, SourceRow
from knowledge.importers.mapping_read import detect_mapping, read_with_mapping
from knowledge.importers.mapping_spec import ImportMapping
from knowledge.schema import MatterIn
from knowledge.store import Outcome, get_by_external_id, latest_version, save_matter

SUFFIXES = {".json", ".jsonl", ".csv", ".xlsx"}
BATCH_SECONDS = 0.3
"""The longest a batched import holds the write lock, however slow its rows are."""


class UnsupportedSource(ValueError):
    pass


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        if not files:
            raise UnsupportedSource(f"目录 {path} 中没有可导入的文件（json/jsonl/csv/xlsx）")
        return files
    if not path.exists():
        raise UnsupportedSource(f"找不到文件：{path}")
    if path.suffix.lower() not in SUFFIXES:
        raise UnsupportedSource(f"不支持的文件类型：{path.suffix or path.name}（支持 json/jsonl/csv/xlsx）")
    return [path]


def read_source(path: Path, mapping: ImportMapping | None = None) -> Iterator[SourceRow]:
    """Every matter in a file or folder, validated.

    With a ``mapping`` every file is read through it. Without, a JSON or JSONL file a shipped mapping
    recognises (the 广西 platform export) is read through that one, and anything else as our own format.
    """
    for file in _files(Path(path)):
        if mapping is not None:
            yield from read_with_mapping(file, mapping)
            continue
        suffix = file.suffix.lower()
        if suffix == ".csv":
            yield from native.read_csv(file)
        elif suffix == ".xlsx":
            yield from native.read_xlsx(file)
        elif suffix == ".jsonl":
            detected = detect_mapping(file)
            yield from read_with_mapping(file, detected) if detected else native.read_jsonl(file)
        else:
            yield from _read_json(file)


def _read_json(file: Path) -> Iterator[SourceRow]:
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        yield SourceRow(
            file.name,
            str(exc.lineno),
            errors=[RowError(file.name, str(exc.lineno), "-", f"不是合法的 JSON（{exc.msg}）")],
        )
        return
    detected = detect_mapping(file, data)
    yield from read_with_mapping(file, detected, data) if detected else native.read_json(file, data)


def import_path(
    session: Session,
    path: Path,
    *,
    author: str = "import",
    publish: bool = True,
    on_row: Callable[[SourceRow], None] | None = None,
    checked_versions: Mapping[str, int] | None = None,
    mapping: ImportMapping | None = None,
    commit_every: int | None = None,
) -> ImportReport:
    """Stores every valid row; invalid rows are reported and skipped, never half-written.

    ``checked_versions`` (external id → the matter's latest version when a dry run compared the row, 0
    when it did not exist) guards an editor's confirm: a row whose matter has changed since is skipped
    and reported as a conflict, so the import never silently overwrites a newer editor's version.

    ``commit_every`` commits the session after that many stored rows, or sooner after ``BATCH_SECONDS``
    on a busy machine (the session is a ``banshi.db.job_session``), so a bulk import takes the write lock
    in short turns and citizens' turns get in between; each batch checks its rows under its own lock.
    Without it the caller commits the whole import at once.
    """
    report = ImportReport()
    seen: set[str] = set()
    hold_write_lock(session)  # each row reads then writes inside a savepoint
    stored, batch_started = 0, time.monotonic()
    for source_row in read_source(Path(path), mapping):
        if on_row:
            on_row(source_row)
        if source_row.matter is None:
            report.errors.extend(source_row.errors)
            continue
        item = source_row.matter
        if item.external_id in seen:
            report.errors.append(
                RowError(
                    source_row.file, source_row.row, "external_id", f"外部编号 {item.external_id} 在本次导入中重复"
                )
            )
            continue
        seen.add(item.external_id)
        if checked_versions is not None and (conflict := _conflict(session, source_row, item, checked_versions)):
            report.conflicts.append(conflict)
            continue
        with session.begin_nested():
            _, outcome = save_matter(session, item, author=author, note=f"导入自 {Path(path).name}", publish=publish)
        {Outcome.created: report.created, Outcome.updated: report.updated, Outcome.unchanged: report.unchanged}[
            outcome
        ].append(item.external_id)
        stored += 1
        if commit_every and (stored >= commit_every or time.monotonic() - batch_started > BATCH_SECONDS):
            commit_batch(session)
            stored, batch_started = 0, time.monotonic()
    return report


def _conflict(session: Session, source: SourceRow, item: MatterIn, checked: Mapping[str, int]) -> RowConflict | None:
    """The matter moved on since the check and the row would replace that newer content."""
    matter = get_by_external_id(session, item.external_id)
    current = matter.version if matter is not None else 0
    expected = checked.get(item.external_id, 0)
    if current == expected:
        return None
    latest = latest_version(session, matter) if matter is not None else None
    same = latest is not None and MatterIn.model_validate(latest.data).content_key() == item.content_key()
    if same and matter.status != "deleted":
        return None  # the newer version already says what the row says: nothing would be lost
    author = latest.author if latest is not None else None
    return RowConflict(source.file, source.row, item.external_id, item.name, expected, current, author)
