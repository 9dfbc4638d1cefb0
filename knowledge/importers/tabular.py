"""The spreadsheet layout of the catalogue: one row per matter, and in XLSX a second sheet with one
row per material. Headers may be the field names or the Chinese labels editors know."""

from __future__ import annotations

import json
from typing import Any

from knowledge.cleaning import parse_days, split_list

MATTER_COLUMNS: dict[str, str] = {
    "external_id": "外部编号",
    "code": "事项编码",
    "name": "事项名称",
    "aliases": "别名",
    "department": "实施部门",
    "province": "省",
    "city": "市",
    "county": "区县",
    "type": "事项类型",
    "parent_external_id": "上级事项编号",
    "parent_name": "上级事项名称",
    "applicant_types": "服务对象",
    "processing_type": "办件类型",
    "conditions": "受理条件",
    "process_steps": "办理流程",
    "time_limit_legal_days": "法定时限",
    "time_limit_promised_days": "承诺时限",
    "fee": "收费",
    "location": "办理地点",
    "hours": "办理时间",
    "handle_forms": "办理形式",
    "online_url": "网办链接",
    "visits": "跑动次数",
    "phone": "咨询电话",
    "bundle": "一件事包含事项",
    "bundle_note": "一件事说明",
    "source_url": "来源链接",
    "updated_at": "更新时间",
    "materials": "申请材料",
}
MATERIAL_COLUMNS: dict[str, str] = {
    "external_id": "外部编号",
    "name": "材料名称",
    "required": "是否必需",
    "original_or_copy": "原件/复印件",
    "original_count": "原件份数",
    "copy_count": "复印件份数",
    "medium": "介质",
    "source": "来源",
    "note": "备注",
    "condition": "适用情形",
    "exempt": "免提交",
    "exempt_by": "免提交方式",
    "data_shared": "数据共享获取",
    "e_licence": "可用电子证照",
}


def field_label(field: str) -> str:
    """A field's Chinese name for editors: ``materials.0.name`` → 申请材料第1项 材料名称."""
    parts = field.split(".")
    if parts[0] == "materials" and len(parts) >= 2 and parts[1].isdigit():
        rest = MATERIAL_COLUMNS.get(parts[2], parts[2]) if len(parts) > 2 else ""
        return f"申请材料第{int(parts[1]) + 1}项 {rest}".strip()
    return MATTER_COLUMNS.get(parts[0], parts[0]) + ("".join(f"[{p}]" for p in parts[1:]) if parts[1:] else "")


LIST_FIELDS = frozenset({"aliases", "applicant_types", "handle_forms", "bundle"})
"""Fields a cell holds as one list written with 、 (the export writes them so, the import splits them)."""
_DAY_FIELDS = {"time_limit_legal_days", "time_limit_promised_days"}
_INT_FIELDS = {"visits"}
_TRUE = {"是", "必需", "必须", "必要", "true", "1", "yes", "y"}
_FALSE = {"否", "非必需", "可选", "false", "0", "no", "n", "容缺"}


def header_to_field(header: str, columns: dict[str, str]) -> str | None:
    header = (header or "").strip()
    if header in columns:
        return header
    for name, label in columns.items():
        if header == label:
            return name
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_bool(value: Any) -> Any:
    if isinstance(value, bool) or _blank(value):
        return value if not _blank(value) else None
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return value  # left for validation to reject with the field's name


def _int_or_raw(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _days_or_raw(value: Any) -> Any:
    try:
        return parse_days(value)
    except ValueError:
        return value


def _steps(value: Any) -> Any:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.lstrip().startswith("["):
        # An export writes the steps as JSON when a description spans lines (see knowledge.transfer).
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            pass
    steps = []
    for line in str(value).splitlines():
        name, _, desc = line.strip().partition("：")
        if name:
            steps.append({"name": name, "desc": desc or None})
    return steps


def matter_from_cells(cells: dict[str, Any]) -> dict[str, Any]:
    """Turns one spreadsheet row (already keyed by field name) into MatterIn input."""
    data: dict[str, Any] = {}
    for name, value in cells.items():
        if _blank(value):
            continue
        if name in LIST_FIELDS:
            data[name] = split_list(value)
        elif name in _DAY_FIELDS:
            data[name] = _days_or_raw(value)
        elif name in _INT_FIELDS:
            data[name] = _int_or_raw(value)
        elif name == "process_steps":
            data[name] = _steps(value)
        elif name == "materials":
            data[name] = json.loads(value) if isinstance(value, str) else value
        else:
            data[name] = str(value).strip() if not hasattr(value, "isoformat") else value
    return data


def material_from_cells(cells: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, value in cells.items():
        if name == "external_id" or _blank(value):
            continue
        if name in {"required", "exempt", "data_shared", "e_licence"}:
            data[name] = parse_bool(value)
        elif name in {"original_count", "copy_count"}:
            data[name] = _int_or_raw(value)
        else:
            data[name] = str(value).strip()
    return data
