"""The mapping file: how one platform's export becomes our schema, declared in YAML, checked on load.

An editor writes one such file per platform (see ``docs/import_mappings.md``); nothing here knows any
platform. Loading checks everything that can be checked before a row is read (unknown target fields,
broken regular expressions, references to fields that do not exist) so that a mistake in the mapping
is reported once, in Chinese, instead of as the same error on every row.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.schema import MaterialIn, MatterIn, ProcessStep

Parse = Literal["text", "int", "days", "bool", "list", "url"]
SHIPPED = Path(__file__).resolve().parent / "mappings"
"""Mappings that ship with banshi; an editor may also upload one with the file or pass ``--mapping``."""


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when present: the pure-Python one takes half a second over a mapping."""


class MappingError(ValueError):
    """The mapping file itself is wrong; the message says where, in Chinese."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rule(_Strict):
    """How one target field gets its value. The steps run in the order they are declared here."""

    path: list[str] = Field(default_factory=list)
    """Where the value is; several paths: the first that yields a value. ``$`` is the item itself."""
    value: Any = None
    """A constant, when there is no path."""
    strip_prefix: str | None = None
    clean: bool = False
    """Drops the page leftovers scraped text carries (``...展开``, ``更多地点``) and blank lines."""
    take_line: str | None = None
    """The value of the line ``label：value`` in a multi-line text (the last such line)."""
    drop_lines: list[str] = Field(default_factory=list)
    """Lines ``label：…`` to remove from a multi-line text."""
    drop_line_values: dict[str, str] = Field(default_factory=dict)
    """Lines ``label：value`` removed only when the value is this one (是否需要签章：否)."""
    pattern: str | None = None
    """A regular expression: its first group (or the whole match); no match gives no value."""
    contains: list[str] = Field(default_factory=list)
    """True when the text contains any of these words, else false."""
    map: dict[str, Any] | None = None
    """Source value → our value (承诺件/即办件, 1/2, Y/N); keys are compared as text."""
    unmapped: Literal["keep", "null", "refuse"] = "keep"
    """A value the map does not list: kept as is (validation then judges it), dropped, or the row refused."""
    parse: Parse | None = None
    split: str | None = None
    """For ``parse: list``: a regular expression between items (default 、，,；;| and new lines)."""
    allowed: list[str] = Field(default_factory=list)
    """Only these values are kept; any other gives no value."""
    default: Any = None
    """Used when every step above gave no value."""
    only_if: str | None = None
    """Another field of the same item; when it is false or empty this field gets no value."""
    at_most: str | None = None
    """Another field of the same item; a larger value is lowered to it (承诺时限 ≤ 法定时限)."""
    fallback: Literal["file", "folder"] | None = None
    """No value in the row: the first value among the file's rows, then (``folder``) the sibling files'."""

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("pattern", "split")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"正则表达式无效：{value}（{exc}）") from exc
        return value

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        return {as_key(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _has_a_source(self) -> Rule:
        if not self.path and self.value is None and self.default is None:
            raise ValueError("每个字段需要 path（取值路径）、value（常量）或 default（默认值）之一")
        return self


def as_key(value: Any) -> str:
    """The text a value map compares: YAML's ``true``/``1`` and JSON's ``true``/``"1"`` meet here."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rules(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: {"path": rule} if isinstance(rule, str | list) else rule for name, rule in value.items()}
    return value


class ListSection(_Strict):
    """A list inside a record (materials, process steps): where it is and how each item maps."""

    path: list[str] = Field(default_factory=list)
    split: str | None = None
    """When the list is one text (``身份证；户口簿``): a regular expression between items."""
    parallel: dict[str, str] = Field(default_factory=dict)
    """Other lists of the record read side by side with this one, by position (``raw: raw_payload.materials``);
    their items are trusted only when both lists have the same length."""
    sort_by: str | None = None
    skip_without: str | None = None
    """Items that end without this field are left out (a step without a name)."""
    fields: dict[str, Rule]

    @field_validator("fields", mode="before")
    @classmethod
    def _short_rules(cls, value: Any) -> Any:
        return _rules(value)

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("split")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return Rule._compiles(value)


class Detect(_Strict):
    """How a file is recognised as this platform's without ``--mapping``: keys it must have."""

    root_keys: list[str] = Field(default_factory=list)
    record_keys: list[str] = Field(default_factory=list)


class ImportMapping(_Strict):
    name: str = Field(min_length=1, max_length=60)
    title: str | None = None
    detect: Detect | None = None
    records: str | None = None
    """JSON: the path of the list of records (``data.list``); none: the file is the list."""
    row_label: str = "{n}"
    """How a report names a row; ``{n}`` is its number (JSON: from 1; CSV/XLSX: the line)."""
    sheet: str | int = 0
    """XLSX: the sheet's name or position (from 0)."""
    constants: dict[str, Any] = Field(default_factory=dict)
    fields: dict[str, Rule] = Field(default_factory=dict)
    materials: ListSection | None = None
    process_steps: ListSection | None = None

    @field_validator("fields", mode="before")
    @classmethod
    def _short_rules(cls, value: Any) -> Any:
        return _rules(value)

    @model_validator(mode="after")
    def _targets_exist(self) -> ImportMapping:
        lists = {"materials", "process_steps"}
        _check_targets("fields", {**self.fields, **dict.fromkeys(self.constants)}, set(MatterIn.model_fields) - lists)
        for section, model in (("materials", MaterialIn), ("process_steps", ProcessStep)):
            if getattr(self, section) is not None:
                _check_targets(f"{section}.fields", getattr(self, section).fields, set(model.model_fields))
        if not ({"external_id", "name"} <= set(self.fields) | set(self.constants)):
            raise ValueError("fields 中必须给出 external_id（外部编号）和 name（事项名称）的来源")
        return self


def _check_targets(where: str, rules: dict[str, Any], known: set[str]) -> None:
    unknown = [name for name in rules if name not in known]
    if unknown:
        raise ValueError(f"{where} 中有未知的目标字段：{'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
    for name, rule in rules.items():
        for ref in (getattr(rule, "only_if", None), getattr(rule, "at_most", None)):
            if ref is not None and ref not in rules:
                raise ValueError(f"{where}.{name} 引用的字段 {ref} 没有在同一部分中给出")


_ERRORS = {
    "extra_forbidden": "未知的设置项",
    "missing": "缺少必填设置项",
    "literal_error": "取值不在允许范围内",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "dict_type": "应为键值对",
    "model_type": "应为键值对",
    "bool_type": "应为 true/false",
    "bool_parsing": "应为 true/false",
    "string_too_short": "不能为空",
}


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        message = _ERRORS.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        if err["type"] == "literal_error":
            expected = str(err["ctx"].get("expected", "")).replace("' or '", "', '").replace("'", "")
            message += f"（可选：{expected.replace(', ', '、')}）"
        lines.append(f"{where}：{message}" if where else message)
    return "；".join(lines)


def parse_mapping(text: str, source: str = "映射文件") -> ImportMapping:
    """The mapping in ``text``; any mistake raises ``MappingError`` naming the place in the file."""
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise MappingError(f"映射文件 {source} 不是合法的 YAML：{where}附近有语法错误（{problem}）") from exc
    if not isinstance(data, dict):
        raise MappingError(f"映射文件 {source} 应为键值对（name、fields、materials …），请参照 docs/import_mappings.md")
    try:
        return ImportMapping.model_validate(data)
    except ValidationError as exc:
        raise MappingError(f"映射文件 {source} 有误：{_explain(exc)}") from exc


def load_mapping(path: Path | str) -> ImportMapping:
    """A mapping file by path, or a shipped mapping by name (``gxzwfw``)."""
    file = Path(path)
    if not file.exists() and (SHIPPED / f"{path}.yml").exists():
        file = SHIPPED / f"{path}.yml"
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"无法读取映射文件 {path}：{exc}") from exc
    return parse_mapping(text, file.name)


MAPPING_MAX_BYTES = 256 * 1024


class MappingChoice(BaseModel):
    """A mapping an editor may pick for an upload."""

    name: str
    title: str | None
    stored: bool
    """False: shipped with banshi; True: kept under ``BANSHI_DATA_DIR/mappings`` by an admin."""


def _mapping_files(data_dir: Path) -> dict[str, tuple[Path, bool]]:
    files = {f.stem: (f, False) for f in sorted(SHIPPED.glob("*.yml"))}
    stored = Path(data_dir) / "mappings"
    if stored.is_dir():
        files.update({f.stem: (f, True) for f in sorted(stored.glob("*.y*ml"))})
    return files


def available_mappings(data_dir: Path) -> list[MappingChoice]:
    """The mappings an editor may choose for an upload; a stored one that does not load is left out."""
    choices = []
    for name, (file, stored) in _mapping_files(data_dir).items():
        try:
            mapping = parse_mapping(file.read_text(encoding="utf-8-sig"), file.name)
        except (MappingError, OSError, UnicodeDecodeError):
            continue
        choices.append(MappingChoice(name=name, title=mapping.title, stored=stored))
    return choices


def mapping_text(data_dir: Path, *, name: str | None = None, uploaded: bytes | None = None, filename: str = "") -> str:
    """The checked text of the mapping chosen by name or uploaded; ``MappingError`` says what is wrong."""
    if uploaded is not None:
        if len(uploaded) > MAPPING_MAX_BYTES:
            raise MappingError(f"映射文件不能超过 {MAPPING_MAX_BYTES // 1024} KB")
        try:
            text = uploaded.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MappingError(f"映射文件 {filename} 不是 UTF-8 编码的文本") from exc
    else:
        files = _mapping_files(data_dir)
        if name not in files:
            raise MappingError(f"没有名为 {name} 的映射（可选：{'、'.join(files)}）")
        text = files[name][0].read_text(encoding="utf-8-sig")
    parse_mapping(text, Path(filename).name or f"{name}.yml")
    return text


@lru_cache(maxsize=1)
def shipped_mappings() -> dict[str, ImportMapping]:
    """The mappings in ``knowledge/importers/mappings``, by name, as detection and the studio offer them."""
    return {m.name: m for m in (load_mapping(f) for f in sorted(SHIPPED.glob("*.yml")))}
