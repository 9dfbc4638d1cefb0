"""Shared shapes of the importers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from knowledge.schema import MatterIn


@dataclass(frozen=True)
class RowError:
    file: str
    row: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} 第{self.row}行 字段 {self.field}：{self.message}"


@dataclass
class SourceRow:
    """One matter as read from a source, before it is stored: either valid or with errors."""

    file: str
    row: str
    matter: MatterIn | None = None
    errors: list[RowError] = field(default_factory=list)
    external_id: str | None = None
    name: str | None = None
    """As the row gave them even when it is invalid, so a report can say which matter it meant."""


@dataclass(frozen=True)
class RowConflict:
    """A row not imported because an editor changed its matter after the file was checked."""

    file: str
    row: str
    external_id: str
    name: str
    checked_version: int
    """The matter's latest version when the dry run compared the row (0: it did not exist)."""
    current_version: int
    author: str | None

    def __str__(self) -> str:
        by = f" {self.author} " if self.author else ""
        return (
            f"{self.file} 第{self.row}行 事项 {self.external_id}（{self.name}）在预检后已被{by}修改为第 "
            f"{self.current_version} 版，为免覆盖，本行未导入；请重新上传文件查看差异后再确认"
        )


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    conflicts: list[RowConflict] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


_MESSAGES = {
    "missing": "缺少必填字段",
    "string_too_short": "内容过短或为空",
    "string_too_long": "内容过长",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文本",
    "bool_type": "应为 是/否",
    "bool_parsing": "应为 是/否",
    "literal_error": "取值不在允许范围内",
    "greater_than_equal": "不能为负数",
    "less_than_equal": "数值过大",
    "extra_forbidden": "未知字段",
    "list_type": "应为列表",
    "datetime_from_date_parsing": "日期时间格式不正确",
    "datetime_parsing": "日期时间格式不正确",
}


def validate_row(file: str, row: str, data: Any) -> SourceRow:
    if not isinstance(data, dict):
        return SourceRow(file, row, errors=[RowError(file, row, "-", "每行应为一个 JSON 对象")])
    try:
        return SourceRow(file, row, matter=MatterIn.model_validate(data))
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "-"
            message = _MESSAGES.get(err["type"], err["msg"].removeprefix("Value error, "))
            if err["type"] == "literal_error":
                message = f"{message}（{err['ctx'].get('expected', '')}）"
            errors.append(RowError(file, row, where, message))
        given = {key: str(data[key])[:200] for key in ("external_id", "name") if data.get(key) not in (None, "")}
        return SourceRow(file, row, errors=errors, **given)
