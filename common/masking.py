"""Citizens' phone and ID numbers never appear whole in logs or lists."""

from __future__ import annotations

import re

from common.phones import MOBILE_PREFIX

ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{8})(\d{3}[0-9Xx])(?![0-9Xx])")
"""An 18-character 身份证号 written whole inside free text."""
_MOBILE = re.compile(rf"(?<![0-9])({MOBILE_PREFIX}\d)(\d{{4}})(\d{{4}})(?![0-9])")


def mask_phone(phone: str | None) -> str:
    """138****5678: enough for an agent to recognise a caller, not enough to dial."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_text(text: str) -> str:
    """Masks every 身份证号 and mainland mobile number inside free text (log lines, transcripts in lists)."""
    text = ID_NUMBER_IN_TEXT.sub(lambda m: f"{m[1][:3]}{'*' * 11}{m[3][-4:]}", text)
    return _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)


def has_id_number(text: str | None) -> bool:
    """Whether the text holds a 身份证号 (a message about 社保 that quotes one is no ticket number)."""
    return bool(ID_NUMBER_IN_TEXT.search(text or ""))
