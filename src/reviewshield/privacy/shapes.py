"""The shapes of personal data: mobile numbers, resident ID numbers, street addresses. PURE.

One definition of each, shared by what a seller reads (`privacy.masking` masks them) and what a
seller writes (`screening.personal` calls them doxxing): the two must agree. Buyers write their
address in other forms than the one on file and paste other people's numbers too, so these catch
anything shaped like such data, not only the buyer's own (that is `masking`'s known data).

This module imports nothing of the project, so `screening` and `masking` may both import it.
"""

from __future__ import annotations

import re

# 11-digit mainland mobile numbers, optionally +86 and separated by spaces or dashes. Other
# separators (dots, zero-width spaces) and numbers written in Chinese numerals are masking's work:
# it runs this pattern again on its folded digit view (`masking._digit_view`).
MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# 18-character resident identity numbers (last may be X).
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CJK = "\u4e00-\u9fff"
# Digits as an address writes them: ASCII, full-width and Chinese numerals.
ADDRESS_NUMERALS = "0-9０-９一二三四五六七八九十百零〇两"
_NUM = ADDRESS_NUMERALS
# The parts of a building an address ends with: 3号楼, 2单元, 1202室 (号 last: 号楼 first).
UNIT_WORDS = "号楼|栋|幢|座|单元|楼|层|室|户|号"
# Optional divisions (上海市长宁区), a road with its number (虹桥路88号), then building/unit/room.
CN_STREET = re.compile(
    rf"(?:[{_CJK}]{{2,8}}?(?:省|自治区|市|区|县|镇|乡|街道))*"
    rf"[{_CJK}]{{1,10}}(?:路|街|道|巷|弄|胡同|大道|里)\s*[{_NUM}]+\s*(?:号|弄)"
    rf"(?:\s*[{_NUM}A-Za-z]+\s*(?:号楼|栋|幢|座|单元|楼|层|室|号))*"
)
# Estates and buildings without a road: 阳光小区3栋2单元501室.
CN_ESTATE = re.compile(
    rf"[{_CJK}]{{1,10}}(?:小区|花园|公寓|大厦|苑|新村|家园)\s*[{_NUM}]+\s*(?:号楼|栋|幢|座)"
    rf"(?:\s*[{_NUM}]+\s*(?:单元|楼|层|室|号))*(?:\s*[{_NUM}]+(?![{_NUM}]))?"
)
EN_STREET = re.compile(
    r"(?:\b(?:Room|Rm|Apt|Apartment|Flat|Unit)\.?\s*\w+,?\s*)?"
    r"\b\d{1,5}\s+(?:[A-Z][A-Za-z]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr)\b\.?"
    r"(?:,?\s*(?:Room|Rm|Apt|Apartment|Flat|Unit)\.?\s*\w+)?"
)
ADDRESSES = (CN_STREET, CN_ESTATE, EN_STREET)
