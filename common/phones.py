"""The mainland mobile-number rule, once: 11 digits, a 1, then 3 to 9.

Filing a ticket, drafting one from a chat, validating the ticket form and masking logs all apply this
rule; a change of numbering plan is made here and nowhere else.
"""

from __future__ import annotations

import re

SECOND_DIGITS = "3456789"
"""What may follow the leading 1 (the form's error message names the range)."""
MOBILE_PREFIX = f"1[{SECOND_DIGITS[0]}-{SECOND_DIGITS[-1]}]"
"""The first two digits as a pattern: ``1[3-9]``."""
MOBILE_PATTERN = MOBILE_PREFIX + r"\d{9}"
"""The bare pattern, for building others (a number inside a longer text, a masked form)."""
MOBILE = re.compile(rf"^{MOBILE_PATTERN}$")
MOBILE_IN_TEXT = re.compile(rf"(?<!\d){MOBILE_PATTERN}(?!\d)")


def normalise_phone(raw: str | None) -> str | None:
    """A mainland mobile number as 11 digits, or None; spaces, dashes, brackets and +86 are forgiven."""
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    digits = re.sub(r"^(\+?86)", "", digits)
    return digits if MOBILE.match(digits) else None


def mobiles_in(text: str) -> list[str]:
    """Every mobile number written whole inside free text, in order."""
    return MOBILE_IN_TEXT.findall(text or "")
