"""The cases file of ``banshi eval dialogue``: a citizen's first message and what should happen.

One JSON object per line (bench/data/dialogue_dev.jsonl is the example; docs/eval_dialogue.md the format):

    {"id": "g41", "text": "买的二手房怎么过户", "expect": {"guide": "EXTERNAL_ID" | [ids...]}, "checklist": true}
    {"id": "o3", "text": "明天天气怎么样", "expect": {"decline": true}}
    {"id": "h-…", "ref": {"file": "hotline/msgabench_citizen_messages.jsonl", "id": "msga_msg_1986"},
     "expect": {"intake": true, "ticket_type": ["投诉", "求助", "举报"]}}

A real citizen's message is stored as a reference (file under the shared data folder + the record's
``id``) and resolved here at run time, because that data may not be copied into the repo; when the
shared folder is absent such cases are skipped, and the caller says how many.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_TEXT = 1000
"""The chat API takes at most 1000 characters a message; a longer real message is cut as the box would."""

CaseKind = Literal["guide", "intake", "decline"]


class Ref(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="Path under the shared data folder, e.g. hotline/teddycup2020c_labeled.jsonl")
    id: str = Field(description="The record's id field in that JSONL file")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    guide: str | list[str] | None = Field(None, description="External id(s) of the right matter; any one counts")
    intake: bool = False
    ticket_type: str | list[str] | None = Field(None, description="Accepted ticket type(s) of the filed ticket")
    decline: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Expect:
        chosen = [bool(self.guide), self.intake, self.decline]
        if sum(chosen) != 1:
            raise ValueError("expect needs exactly one of guide, intake or decline")
        if self.ticket_type and not self.intake:
            raise ValueError("ticket_type only goes with intake")
        return self


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str | None = None
    ref: Ref | None = None
    expect: Expect
    checklist: bool = Field(False, description="Also ask for the whole checklist and compare its materials")
    note: str | None = None

    @model_validator(mode="after")
    def _text_or_ref(self) -> Case:
        if (self.text is None) == (self.ref is None):
            raise ValueError("a case needs either text or ref, not both")
        return self

    @property
    def kind(self) -> CaseKind:
        if self.expect.guide:
            return "guide"
        return "intake" if self.expect.intake else "decline"

    @property
    def gold(self) -> tuple[str, ...]:
        guide = self.expect.guide
        return () if not guide else (guide,) if isinstance(guide, str) else tuple(guide)

    @property
    def ticket_types(self) -> tuple[str, ...]:
        wanted = self.expect.ticket_type
        return () if not wanted else (wanted,) if isinstance(wanted, str) else tuple(wanted)


@dataclass
class LoadedCases:
    cases: list[Case]
    skipped: list[str] = field(default_factory=list)
    """Why cases could not be resolved (shared data absent, record not found), one line per reason."""


def read_cases(path: Path) -> list[Case]:
    """Parses the file; a bad line is a clear error naming the line, never a silently dropped case."""
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            case = Case.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path} 第{number}行格式错误：{exc}") from exc
        if case.id in seen:
            raise ValueError(f"{path} 第{number}行：编号 {case.id} 重复")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise ValueError(f"{path} 中没有用例")
    return cases


def _records(file: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    with file.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                texts[str(record.get("id"))] = str(record.get("text") or "")
    return texts


def resolve(cases: list[Case], shared_data: Path) -> LoadedCases:
    """Fills each referenced case's text from the shared data; unresolvable ones are skipped with a reason."""
    files: dict[str, dict[str, str] | None] = {}
    ready: list[Case] = []
    missing_files: dict[str, int] = {}
    missing_records: list[str] = []
    for case in cases:
        if case.ref is None:
            ready.append(case.model_copy(update={"text": case.text[:MAX_TEXT]}) if case.text else case)
            continue
        if case.ref.file not in files:
            source = shared_data / case.ref.file
            files[case.ref.file] = _records(source) if source.is_file() else None
        records = files[case.ref.file]
        if records is None:
            missing_files[case.ref.file] = missing_files.get(case.ref.file, 0) + 1
            continue
        text = records.get(case.ref.id, "").strip()
        if not text:
            missing_records.append(f"{case.ref.file}#{case.ref.id}")
            continue
        ready.append(case.model_copy(update={"text": text[:MAX_TEXT]}))
    skipped = [f"{count} 条用例引用的 {shared_data / file} 不存在，已跳过" for file, count in missing_files.items()]
    if missing_records:
        skipped.append(f"{len(missing_records)} 条引用的记录找不到，已跳过（如 {missing_records[0]}）")
    return LoadedCases(ready, skipped)


def load_cases(path: Path, shared_data: Path) -> LoadedCases:
    return resolve(read_cases(path), shared_data)
