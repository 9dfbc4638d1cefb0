"""Applying a mapping (``mapping_spec``) to one record of a platform's export: the record becomes the
input of ``MatterIn``, or a ``ValueRefused`` that names our field and says in Chinese what was wrong.

Nothing here reads files (``mapping_read`` does) or validates the result (``base.validate_row`` does):
this is only the mapping's own steps, so that a test can check a value map or a day parse alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.cleaning import clean_text, parse_days, split_list
from knowledge.importers.mapping_spec import ImportMapping, ListSection, Rule, as_key
from knowledge.importers.tabular import parse_bool
from knowledge.schema import MaterialIn, MatterIn, ProcessStep

_BRACKETS = re.compile(r"[()（）\[\]【】]")
_TEXT = {
    model: {name for name, info in model.model_fields.items() if info.annotation in (str, str | None)}
    for model in (MatterIn, MaterialIn, ProcessStep)
}
"""Our text fields: a spreadsheet cell holding 12333 (a phone, a code) is still read as text."""


class ValueRefused(ValueError):
    """One value of a record could not be read as the mapping says; the row is refused with this reason."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Scope:
    """What paths can reach: the item being mapped, its record, the file's top level, parallel items."""

    item: Any
    record: Any = None
    root: Any = None
    parallel: dict[str, Any] = field(default_factory=dict)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def dig(base: Any, path: str) -> Any:
    """``a.b.0.c`` inside nested objects and lists; a key that itself contains dots is found whole first."""
    if not path:
        return base
    if isinstance(base, dict) and path in base:
        return base[path]
    current = base
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit():
            current = current[int(part)] if int(part) < len(current) else None
        else:
            return None
        if current is None:
            return None
    return current


def resolve(path: str, scope: Scope) -> Any:
    if path == "$":
        return scope.item
    head, _, rest = path.partition(".")
    if head == "$root":
        return dig(scope.root, rest)
    if head == "$record":
        return dig(scope.record, rest)
    if head in scope.parallel:
        return dig(scope.parallel[head], rest)
    return dig(scope.item, path)


def _lines(rule: Rule, text: str) -> str | None:
    """``label：value`` lines of a multi-line text: one taken, or some dropped."""
    taken, kept = None, []
    for line in text.splitlines():
        label, sep, value = line.partition("：")
        if sep and label == rule.take_line:
            taken = value.strip()
        if sep and (label in rule.drop_lines or rule.drop_line_values.get(label) == value.strip()):
            continue
        kept.append(line)
    if rule.take_line is not None:
        return taken or None
    return "\n".join(kept) or None


def read_days(value: Any) -> int | None:
    """Days however a platform writes them: 20, "20个工作日", "30(工作日)", "60(自然日)", "即办"."""
    if isinstance(value, str):
        value = _BRACKETS.sub("", value).replace("自然日", "日")
    return parse_days(value)


def _parse(rule: Rule, value: Any, field: str) -> Any:
    kind = rule.parse
    if kind == "text":
        return str(value).strip()
    if kind == "int":
        if isinstance(value, bool):
            raise ValueRefused(field, f"应为整数：{value}")
        if isinstance(value, int | float) and float(value).is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        raise ValueRefused(field, f"应为整数：{value}")
    if kind == "days":
        try:
            return read_days(value)
        except ValueError as exc:
            raise ValueRefused(field, str(exc)) from exc
    if kind == "bool":
        parsed = parse_bool(value)
        if not isinstance(parsed, bool):
            raise ValueRefused(field, f"应为 是/否：{value}")
        return parsed
    if kind == "list":
        if rule.split and isinstance(value, str):
            return [part.strip() for part in re.split(rule.split, value) if part.strip()]
        return split_list(value)
    if kind == "url":
        text = str(value).strip()
        return text if text.startswith(("http://", "https://")) else None
    return value


def _mapped(rule: Rule, value: Any, field: str) -> Any:
    if rule.map is None:
        return value
    key = as_key(value)
    if key in rule.map:
        return rule.map[key]
    if rule.unmapped == "null":
        return None
    if rule.unmapped == "refuse":
        raise ValueRefused(field, f"无法识别的取值：{value}（映射文件的 map 中没有列出）")
    return value


def _steps(rule: Rule, value: Any, field: str) -> Any:
    """One value through the rule's steps, in the order the mapping format documents."""
    if blank(value):
        return None
    if rule.strip_prefix is not None and isinstance(value, str):
        value = value.removeprefix(rule.strip_prefix)
    if rule.clean and (value := clean_text(value)) is None:
        return None
    lines = rule.take_line is not None or rule.drop_lines or rule.drop_line_values
    if lines and (value := _lines(rule, str(value))) is None:
        return None
    if rule.pattern is not None:
        match = re.search(rule.pattern, str(value))
        if match is None:
            return None
        value = match.group(1) if match.re.groups else match.group(0)
        if blank(value):
            return None
    if rule.contains:
        value = any(word in str(value) for word in rule.contains)
    if rule.parse == "list":  # a list is split first, then each item goes through the map
        items = [_mapped(rule, item, field) for item in _parse(rule, value, field)]
        return [item for item in items if item is not None and (not rule.allowed or item in rule.allowed)] or None
    if rule.map is not None and (value := _mapped(rule, value, field)) is None:
        return None
    if rule.parse is not None and (value := _parse(rule, value, field)) is None:
        return None
    if rule.allowed and value not in rule.allowed:
        return None
    return value


def value_of(rule: Rule, scope: Scope, field: str) -> Any:
    """The field's value: the first path that yields one, else the constant, else the default."""
    if rule.path:
        for path in rule.path:
            value = _steps(rule, resolve(path, scope), field)
            if value is not None:
                return value
    elif rule.value is not None:
        value = _steps(rule, rule.value, field)
        if value is not None:
            return value
    return rule.default


def _as_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def map_fields(rules: dict[str, Rule], scope: Scope, model: type = MatterIn, prefix: str = "") -> dict[str, Any]:
    """Every rule of one item, then the rules that look at another field (``only_if``, ``at_most``)."""
    out = {name: value_of(rule, scope, prefix + name) for name, rule in rules.items()}
    out.update({name: _as_text(value) for name, value in out.items() if name in _TEXT[model]})
    for name, rule in rules.items():
        if rule.only_if is not None and not out.get(rule.only_if):
            out[name] = None
        limit = out.get(rule.at_most) if rule.at_most is not None else None
        try:
            if limit is not None and out[name] is not None and out[name] > limit:
                out[name] = limit
        except TypeError as exc:
            raise ValueRefused(prefix + name, f"无法与 {rule.at_most} 比较：{out[name]}") from exc
    return out


def _items(section: ListSection, scope: Scope, field: str) -> list[Any]:
    value = next((v for p in section.path if not blank(v := resolve(p, scope))), None)
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in re.split(section.split, value) if p.strip()] if section.split else [value]
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise ValueRefused(field, f"应为列表或文本：{str(value)[:50]}")
    if section.sort_by is not None:
        try:
            return sorted(value, key=lambda item: dig(item, section.sort_by) or 0)
        except TypeError:
            return sorted(value, key=lambda item: as_key(dig(item, section.sort_by) or ""))
    return value


def map_list(section: ListSection, scope: Scope, field: str) -> list[dict[str, Any]]:
    items = _items(section, scope, field)
    parallel: dict[str, list[Any] | None] = {}
    for name, path in section.parallel.items():
        others = resolve(path, scope)
        parallel[name] = others if isinstance(others, list) and len(others) == len(items) else None
    mapped = []
    for number, item in enumerate(items):
        beside = {name: others[number] if others else None for name, others in parallel.items()}
        inner = Scope(item, record=scope.item, root=scope.root, parallel=beside)
        model = MaterialIn if field == "materials" else ProcessStep
        out = map_fields(section.fields, inner, model, prefix=f"{field}.{number}.")
        if section.skip_without is not None and blank(out.get(section.skip_without)):
            continue
        mapped.append({k: v for k, v in out.items() if v is not None})
    return mapped


def map_record(
    mapping: ImportMapping, record: Any, root: Any = None, fallbacks: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One record as ``MatterIn`` input. ``fallbacks`` are the file's (or folder's) values of the
    fields whose rule says ``fallback``, used when this record has none."""
    if not isinstance(record, dict):
        raise ValueRefused("-", "每条记录应为一个对象（键值对）")
    scope = Scope(record, record=record, root=root)
    data: dict[str, Any] = dict(mapping.constants)
    data.update(map_fields(mapping.fields, scope, MatterIn))
    for name, value in (fallbacks or {}).items():
        if data.get(name) is None:
            data[name] = value
    for name in ("materials", "process_steps"):
        section = getattr(mapping, name)
        if section is not None:
            data[name] = map_list(section, scope, name)
    return {k: v for k, v in data.items() if v is not None}


def identity_of(mapping: ImportMapping, record: Any, root: Any = None) -> dict[str, str]:
    """The external id and name a refused row meant, when they can be read at all."""
    found = {}
    for name in ("external_id", "name"):
        rule = mapping.fields.get(name)
        try:
            value = value_of(rule, Scope(record, record=record, root=root), name) if rule else None
        except ValueRefused:
            value = None
        value = value if value is not None else mapping.constants.get(name)
        if not blank(value):
            found[name] = str(value)[:200]
    return found
