"""Mask a buyer's personal data in text a seller will read.

Pure: takes the text and the buyer's known personal strings, returns the masked text. Besides the
buyer's own phone, name and address it masks anything shaped like a Chinese mobile number or a
resident ID number, because buyers paste other numbers (a relative's, a courier's) too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# 11-digit mainland mobile numbers, optionally +86 and separated by spaces or dashes.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# 18-character resident identity numbers (last may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_personal_data(text: str, known: Iterable[str] = ()) -> str:
    """Return `text` with the buyer's known personal strings and phone/ID shapes replaced by ***."""
    if not text:
        return text
    for value in sorted({k.strip() for k in known if k and len(k.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _MOBILE.sub(MASK, text)
    return _ID_NUMBER.sub(MASK, text)
