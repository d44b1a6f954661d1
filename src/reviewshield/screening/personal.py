"""The buyer's personal data in a seller's message: their own strings, and shapes of such data. PURE.

Two signals feed the doxxing rules:

- **known data** — what the platform knows of the buyer (phone, name, address, ID number,
  employer, family), passed in the context. Each value is cut into the fragments a seller would
  actually write — the road and number of an address, the estate's name, the company without
  "有限公司" — and folded like the messages, so "138 1234 5678", "１３８…" or "幺三八…" all meet
  the number on file;
- **shapes** — anything that looks like a mobile number, an ID number or a street address,
  recognised with the very patterns `privacy.masking` masks (`privacy.shapes`; reused, not copied:
  what we mask in a seller's view and what we call doxxing in a seller's message must agree).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import accumulate

# One definition of each shape, shared with `privacy.masking`.
from reviewshield.privacy.shapes import ADDRESSES, ID_NUMBER, MOBILE
from reviewshield.screening.normalize import normalize

# Cheap batch prefilter: seven digits in a row, a space or a dash allowed between them. Only the
# texts it finds are searched with the full mobile and ID patterns, so it must find every text
# they would: the same `\d` (any script's digits, full-width too) and the same `\s` (tabs,
# ideographic spaces) as `MOBILE` and `ID_NUMBER`.
_DIGIT_RUN = re.compile(r"\d(?:[\s-]?\d){6}")
# 区 of a district, not of an estate (小区) or a park (园区, 社区).
_DIVISION = re.compile(r"(?:省|自治区|市|(?<![小园社])区|县|镇|乡|街道)")
_ROAD = re.compile(
    r"[\u4e00-\u9fff]{1,10}(?:路|街|道|巷|弄|胡同|大道)\s*[0-9０-９一二三四五六七八九十百零〇两]+\s*(?:号|弄)"
)
_ROAD_NAME = re.compile(r"[\u4e00-\u9fff]{1,10}?(?:大道|胡同|路|街|道|巷|弄)")
_ESTATE = re.compile(
    r"(?:(?![路街道巷弄号])[\u4e00-\u9fff]){2,8}?(?:小区|花园|公寓|大厦|苑|新村|家园|广场|中心)"
)
_COMPANY_SUFFIX = re.compile(
    r"(?:股份有限公司|有限责任公司|有限公司|集团|公司|(?:co\.?,?\s*)?ltd\.?|inc\.?)$", re.I
)
# The shortest folded fragment worth looking for, per kind: a two-character name is a name, a
# three-character estate (星河苑) is a place, seven digits are a number.
_MIN_LENGTH = {"phone": 7, "id_number": 15, "address": 3, "name": 2, "employer": 2, "family": 2, "other": 3}
_CJK_NAME = re.compile(r"^[\u4e00-\u9fff]+$")


def fragments(kind: str, value: str) -> list[str]:
    """The folded pieces of one known value a seller might write."""
    value = value.strip()
    pieces = [value]
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        pieces = [digits] if digits else pieces
    elif kind == "address":
        tail = _tail(value)
        pieces += [value[m.end() :] for m in _DIVISION.finditer(value)]
        for m in _ROAD.finditer(tail):
            pieces.append(m.group())  # 虹桥路88号
            name = _ROAD_NAME.match(m.group())
            if name:
                pieces.append(name.group())  # 虹桥路
        for m in _ESTATE.finditer(tail):
            pieces += [m.group(), tail[m.start() :]]  # 星河苑, and 星河苑6幢302
        for part in re.split(r"[,，]", value):
            if re.search(r"\d", part) and len(part.strip()) >= 6:
                # "55 Dongzhimen Outer Street", and the street without its number
                pieces += [part, re.sub(r"^\s*\d+\s*", "", part)]
    elif kind == "employer":
        stripped = _COMPANY_SUFFIX.sub("", value).strip()
        pieces += [stripped, _DIVISION.split(stripped)[-1]]
        if _CJK_NAME.match(stripped) and len(stripped) >= 6:
            pieces.append(stripped[2:])  # most company names open with their city: 杭州|之江制药
    minimum = _MIN_LENGTH.get(kind, 3)
    folded = {normalize(p) for p in pieces}
    return sorted((f for f in folded if len(f) >= minimum), key=len, reverse=True)


@lru_cache(maxsize=16384)
def _fragments(kind: str, value: str) -> tuple[str, ...]:
    # Contexts are built per request: one buyer's data is cut and folded once, not per request.
    return tuple(fragments(kind, value))


def _tail(address: str) -> str:
    """The address after its last administrative division (上海市长宁区|虹桥路88号)."""
    divisions = list(_DIVISION.finditer(address))
    return address[divisions[-1].end() :] if divisions else address


def known_fragments(known: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """(kind, fragment) for every known value, longest first."""
    out: list[tuple[str, str]] = []
    for kind, values in known.items():
        for value in values:
            if value and value.strip():
                out.extend((kind, f) for f in _fragments(kind, value))
    out.sort(key=lambda pair: len(pair[1]), reverse=True)
    return out


def digit_candidates(texts: Sequence[str]) -> set[int]:
    """Indices of the texts that hold seven or more digits in a row (one regex pass over the batch)."""
    if len(texts) == 1:
        return {0} if _DIGIT_RUN.search(texts[0]) else set()
    # Joined by NUL, which a run cannot cross (no digit, space or hyphen): joined by a newline, a
    # run ending one text would run on into the digits opening the next and hide them.
    starts = list(accumulate((len(t) + 1 for t in texts), initial=0))
    joined = "\x00".join(texts)
    return {bisect_right(starts, m.start()) - 1 for m in _DIGIT_RUN.finditer(joined)}


def number_shapes(text: str) -> list[tuple[str, int, int]]:
    """("shape:mobile" | "shape:id_number", start, end) for each number shaped like personal data."""
    found = [("shape:mobile", m.start(), m.end()) for m in MOBILE.finditer(text)]
    found += [("shape:id_number", m.start(), m.end()) for m in ID_NUMBER.finditer(text)]
    return found


def address_shapes(text: str) -> list[tuple[str, int, int]]:
    """("shape:address", start, end) for each street address, estate or English street in the text."""
    return [("shape:address", m.start(), m.end()) for p in ADDRESSES for m in p.finditer(text)]
