"""Mask a buyer's personal data in text a seller will read.

Pure: takes the text and the buyer's known personal strings, returns the masked text. Besides the
buyer's own phone, name and address it masks anything shaped like a Chinese mobile number, a
resident ID number or a street address (Chinese "…路88号1201室", "…小区3栋2单元501", English
"88 Hongqiao Road"), because buyers write their address in other forms than the one on file and
paste other people's numbers too. Masking a little too much is the safe side of this trade.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# 11-digit mainland mobile numbers, optionally +86 and separated by spaces or dashes.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# 18-character resident identity numbers (last may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CJK = "\u4e00-\u9fff"
_NUM = "0-9０-９一二三四五六七八九十百零〇两"
# Optional divisions (上海市长宁区), a road with its number (虹桥路88号), then building/unit/room.
_CN_STREET = re.compile(
    rf"(?:[{_CJK}]{{2,8}}?(?:省|自治区|市|区|县|镇|乡|街道))*"
    rf"[{_CJK}]{{1,10}}(?:路|街|道|巷|弄|胡同|大道|里)\s*[{_NUM}]+\s*(?:号|弄)"
    rf"(?:\s*[{_NUM}A-Za-z]+\s*(?:号楼|栋|幢|座|单元|楼|层|室|号))*"
)
# Estates and buildings without a road: 阳光小区3栋2单元501室.
_CN_ESTATE = re.compile(
    rf"[{_CJK}]{{1,10}}(?:小区|花园|公寓|大厦|苑|新村|家园)\s*[{_NUM}]+\s*(?:号楼|栋|幢|座)"
    rf"(?:\s*[{_NUM}]+\s*(?:单元|楼|层|室|号))*(?:\s*[{_NUM}]+(?![{_NUM}]))?"
)
_EN_STREET = re.compile(
    r"(?:\b(?:Room|Rm|Apt|Apartment|Flat|Unit)\.?\s*\w+,?\s*)?"
    r"\b\d{1,5}\s+(?:[A-Z][A-Za-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr)\b\.?"
    r"(?:,?\s*(?:Room|Rm|Apt|Apartment|Flat|Unit)\.?\s*\w+)?"
)


def mask_personal_data(text: str, known: Iterable[str] = ()) -> str:
    """Return `text` with the buyer's known personal strings and phone/ID shapes replaced by ***."""
    if not text:
        return text
    for value in sorted({k.strip() for k in known if k and len(k.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _MOBILE.sub(MASK, text)
    text = _ID_NUMBER.sub(MASK, text)
    for address in (_CN_STREET, _CN_ESTATE, _EN_STREET):
        text = address.sub(MASK, text)
    return text
