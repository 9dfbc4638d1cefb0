"""A correction typed at the complaint's confirmation: which field it names, and its new value if given.

「地点写错了，应该是西门」 names the place and gives it; 「时间不对」 names the time only (the form asks it
again); a bare mobile number is a new phone. Pure and Rasa-free: the ticket form's confirmation
(``dialogue.actions.tickets``) applies it, so the summary is shown again with the field changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common import tickets as form
from common.phones import mobiles_in
from dialogue.routing import bare_phone

FIELD_WORDS: dict[str, tuple[str, ...]] = {
    form.LOCATION_SLOT: ("地点", "地址", "位置", "地方"),
    form.TIME_SLOT: ("时间", "日期", "时候"),
    form.NAME_SLOT: ("称呼", "名字", "姓名"),
    form.PHONE_SLOT: ("手机", "电话", "号码"),
    form.CONTENT_SLOT: ("内容", "描述", "情况"),
}
"""The words a citizen names a field of the summary with, in the order they are looked for."""
_WRONG = re.compile(r"错|不对|有误|不是|改|更正|修正|应该|应为|换")
_VALUE = re.compile(
    r"(?:应该是|应当是|应该在|应是|应为|改成|改为|换成|更正为|修改为|其实是|实际是|正确的是)[:：\s]*(.+)$"
)
_TRIM = " \t。.，,！!；;：:"


@dataclass(frozen=True)
class Correction:
    slot: str
    value: str | None
    """None: the field is asked again."""


def correction_in(text: str) -> Correction | None:
    """The field a message at the confirmation corrects, or None when it corrects nothing."""
    text = (text or "").strip()
    if phone := bare_phone(text):
        return Correction(form.PHONE_SLOT, phone)
    if not _WRONG.search(text):
        return None
    slot = next((s for s, words in FIELD_WORDS.items() if any(w in text for w in words)), None)
    if slot is None:
        return None
    if slot == form.PHONE_SLOT:
        found = mobiles_in(text)
        return Correction(slot, found[-1] if found else None)
    value = _VALUE.search(text)
    cleaned = value[1].strip(_TRIM) if value else ""
    return Correction(slot, cleaned or None)
