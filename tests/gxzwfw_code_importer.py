"""The code importer of the 广西 platform export as it was before ``knowledge/importers/mappings/gxzwfw.yml``
replaced it: kept here only as the oracle the mapping is tested against (``test_import_mappings``).

The 广西数字政务一体化平台 (zwfw.gxzf.gov.cn) export, as a provincial platform hands it over.

Two shapes are understood: the raw per-department files (``{"source_platform", "items": [{"service",
"materials", "processes", "raw_payload"}]}``) and the cleaned JSONL with English field names. Both
carry the platform's own item id, which becomes our external id so that re-imports update in place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from knowledge.cleaning import clean_text, parse_days, split_list

PROVINCES = {"gxzwfw": "广西壮族自治区"}
_CITY = re.compile(r"^(?:广西壮族自治区)?(\w{2,4}?市)")
_NOTE_FIELDS_DROPPED = ("类型", "来源渠道", "空白表格", "示例样表")
_FORMS = {"纸质", "电子", "纸质或电子", "纸质和电子"}
_COPY_KINDS = {"原件", "复印件", "原件和复印件", "原件或复印件"}


def is_raw_export(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "source_platform" in data
        and isinstance(data.get("items"), list)
        and all(isinstance(i, dict) and "service" in i for i in data["items"][:3])
    )


def is_clean_record(data: Any) -> bool:
    return isinstance(data, dict) and "source_item_id" in data and "processing_type" in data


def url_or_none(value: str | None) -> str | None:
    """The platform puts placeholders such as 无 in its link fields."""
    value = (value or "").strip()
    return value if value.startswith(("http://", "https://")) else None


def city_of(*names: str | None) -> str | None:
    for name in names:
        match = _CITY.match(name or "")
        if match:
            return match.group(1)
    return None


def _note_fields(note: str | None) -> tuple[dict[str, str], str | None]:
    """Splits the platform's "键：值" note into its labelled fields and the text worth keeping."""
    fields: dict[str, str] = {}
    kept = []
    for line in (clean_text(note) or "").splitlines():
        key, sep, value = line.partition("：")
        if sep and key in _NOTE_FIELDS_DROPPED:
            fields[key] = value.strip()
            continue
        if sep and key == "是否需要签章" and value.strip() == "否":
            continue
        kept.append(line)
    return fields, "\n".join(kept) or None


_EXEMPT_BY = {"1": "电子证照", "2": "数据共享", "3": "告知承诺", "4": "其他"}
"""``exemptionAfterType``: read off the export itself (code 2 rows say 信息共享、网络核验; code 3 is a 声明)."""


def _source_flags(row: dict[str, Any]) -> dict[str, Any]:
    """免提交 / 数据共享 / 电子证照 from the platform's material row; the scraped row drops them."""
    exempt = str(row.get("isExemption")) == "1"
    return {
        "exempt": exempt,
        "exempt_by": _EXEMPT_BY.get(str(row.get("exemptionAfterType") or "")) if exempt else None,
        "data_shared": str(row.get("isShare")) == "1",
        "e_licence": str(row.get("isRelationCerttype")) == "1",
    }


def raw_item_to_matter(item: dict[str, Any], platform: str, file_city: str | None) -> dict[str, Any]:
    service = item["service"]
    payload = item.get("raw_payload") or {}
    list_item = payload.get("list_item") or {}
    obj = list_item.get("obj") or {}
    parent_id = list_item.get("parentId")
    department = clean_text(service.get("department"))
    materials = []
    cleaned = item.get("materials") or []
    raw_rows = payload.get("materials") or []
    # The platform's own rows are in the same order as the scraped ones; only then are their flags trusted.
    flags = [_source_flags(row) for row in raw_rows] if len(raw_rows) == len(cleaned) else [{}] * len(cleaned)
    for material, material_flags in zip(cleaned, flags, strict=True):
        fields, note = _note_fields(material.get("note"))
        kind = fields.get("类型")
        materials.append(
            {
                "name": clean_text(material.get("material_name")),
                "required": bool(material.get("is_required", True)),
                "original_or_copy": kind if kind in _COPY_KINDS else None,
                "original_count": material.get("original_num") or 0,
                "copy_count": material.get("copy_num") or 0,
                "medium": material.get("material_form") if material.get("material_form") in _FORMS else None,
                "source": fields.get("来源渠道") or None,
                "note": note,
                **material_flags,
            }
        )
    steps = [
        {
            "name": clean_text(p.get("step_name")),
            "desc": clean_text((p.get("step_desc") or "").removeprefix("办理步骤")),
        }
        for p in sorted(item.get("processes") or [], key=lambda p: p.get("sort") or 0)
    ]
    promised, legal = service.get("promise_days"), service.get("legal_days")
    return {
        "external_id": service.get("source_item_id"),
        "name": clean_text(service.get("service_name")),
        "department": department,
        "province": PROVINCES.get(platform),
        "city": city_of(department) or file_city,
        "parent_external_id": parent_id if parent_id and parent_id != "-1" else None,
        "parent_name": clean_text((payload.get("detail_extract") or {}).get("parent_name")),
        "applicant_types": [],
        "processing_type": service.get("item_type") or None,
        "materials": materials,
        "conditions": clean_text(service.get("accept_condition")),
        "process_steps": [s for s in steps if s["name"]],
        "time_limit_legal_days": legal,
        "time_limit_promised_days": promised if legal is None or promised is None or promised <= legal else legal,
        "fee": None if service.get("is_charge") is None else ("收费" if service["is_charge"] else "不收费"),
        "location": clean_text(service.get("handle_address")),
        "hours": clean_text(service.get("handle_time")),
        "handle_forms": split_list(clean_text(service.get("handle_form"))),
        "online_url": url_or_none(obj.get("onlineUrl")),
        "visits": service.get("on_site_times"),
        "phone": clean_text(service.get("consult_way")),
        "source_url": url_or_none(service.get("source_url")),
    }


def clean_record_to_matter(record: dict[str, Any]) -> dict[str, Any]:
    materials = []
    for material in record.get("materials") or []:
        copies = material.get("copies") or {}
        materials.append(
            {
                "name": material.get("name"),
                "required": bool(material.get("required", True)),
                "original_or_copy": material.get("original_or_copy") or None,
                "original_count": copies.get("original") or 0,
                "copy_count": copies.get("copy") or 0,
                "medium": material.get("medium") if material.get("medium") in _FORMS else None,
                "source": material.get("source") or None,
                "note": _note_fields(material.get("note"))[1],
            }
        )
    region = record.get("region") or ""
    province = next((p for p in PROVINCES.values() if region.startswith(p)), None)
    return {
        "external_id": record.get("source_item_id"),
        "code": record.get("code"),
        "name": clean_text(record.get("name")),
        "department": clean_text(record.get("department")),
        "province": province,
        "city": city_of(region, record.get("department")),
        "type": record.get("type"),
        "parent_external_id": record.get("parent_item_id"),
        "processing_type": record.get("processing_type"),
        "materials": materials,
        "conditions": clean_text(record.get("conditions")),
        "process_steps": [
            {"name": s.get("step"), "desc": clean_text(s.get("desc"))}
            for s in record.get("process_steps") or []
            if s.get("step")
        ],
        "time_limit_legal_days": parse_days(record.get("time_limit_legal")),
        "time_limit_promised_days": parse_days(record.get("time_limit_promised")),
        "fee": record.get("fee"),
        "location": clean_text(record.get("location")),
        "hours": clean_text(record.get("handle_time")),
        "handle_forms": split_list(record.get("handle_form")),
        "online_url": url_or_none(record.get("online_url")),
        "visits": record.get("visits"),
        "phone": clean_text(record.get("phone")),
        "source_url": url_or_none(record.get("source_url")),
    }


def _departments(items: list) -> list[str | None]:
    return [(item.get("service") or {}).get("department") for item in items if isinstance(item, dict)]


def _folder_city(folder: Path) -> str | None:
    for file in sorted(folder.glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8-sig"))
        if is_raw_export(data) and (city := city_of(*_departments(data["items"]))):
            return city
    return None


def read_raw_folder(folder: Path) -> list[dict[str, Any]]:
    """Every matter of the raw export, as the runner converted them before validation."""
    matters = []
    for file in sorted(folder.glob("*.json")):
        data = json.loads(file.read_text(encoding="utf-8-sig"))
        file_city = city_of(*_departments(data["items"])) or _folder_city(folder)
        matters += [raw_item_to_matter(i, str(data["source_platform"]), file_city) for i in data["items"]]
    return matters


def read_clean_jsonl(file: Path) -> list[dict[str, Any]]:
    lines = file.read_text(encoding="utf-8-sig").splitlines()
    return [clean_record_to_matter(json.loads(line)) for line in lines if line.strip()]
