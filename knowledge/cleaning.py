"""Text clean-up for scraped 办事指南: page leftovers and free-text figures."""

from __future__ import annotations

import re

_LEFTOVERS = re.compile(r"(\.{3}|…)?\s*展开\s*$|^\s*更多地点\s*$|\.{3}展开", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{2,}")
_DAYS = re.compile(r"(\d+)\s*(个)?\s*(工作日|日|天)")


def clean_text(value: str | None) -> str | None:
    """Drops UI leftovers such as ``...展开`` and ``更多地点`` that scraping leaves in the text."""
    if value is None:
        return None
    text = _LEFTOVERS.sub("", str(value))
    text = "\n".join(line.rstrip() for line in text.splitlines())
    text = _BLANK_LINES.sub("\n", text).strip()
    return text or None


def parse_days(value: object) -> int | None:
    """``"20个工作日"`` → 20, ``"即办"`` → 0, a number stays a number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("时限应为工作日天数")
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    if "即办" in text or "当场" in text:
        return 0
    match = _DAYS.search(text)
    if match:
        return int(match.group(1))
    raise ValueError(f"无法识别的时限：{text}")


def split_list(value: object) -> list[str]:
    """A list typed into one spreadsheet cell: 、，,；;| or new lines separate the items."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in re.split(r"[、，,；;|\n]", str(value)) if part.strip()]
