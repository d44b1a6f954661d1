"""Mask a buyer's personal data in text a seller will read, whatever way it is written. PURE.

`mask_personal_data(text, known)` takes the text and what the platform knows of the buyer
(`BuyerData`: names, phones, addresses, other identifiers) and returns the text with each piece of
it replaced by ***. The buyer's own data is matched on a folded view of the text — the one the chat
screening uses (`screening.normalize`): NFKC (full-width digits and letters), case folded,
traditional characters simplified, Chinese numerals as digits (一三八…, 幺, 两), spaces,
punctuation and zero-width characters gone — and every match is mapped back to the characters of
the original text that produced it, so exactly those are replaced. Each known value is cut into
the needles a person would write:

- a phone: its digits (without +86), wherever they stand, however separated or spelt;
- a name: the whole name, the given name alone (王小明 → 小明; a one-character given name only with
  the affixes that make it a form of address: 小芳, 阿芳, 芳芳, 芳姐), the pinyin of the name in
  either order and the given name's pinyin (Wang Fang, wangfang, Fang Wang, fang), Latin names in
  either order and each token of three letters or more; never the surname alone. Latin needles
  only match whole words (`chen` in "Emily Chen", not in "kitchen");
- an address: the screening's fragments of it (the road with its number, the estate, the part
  after each division, each comma-separated part), and the unit part — 3号楼1202室, each of
  3号楼 and 1202室 alone, and 3-1202;
- names the buyer gives themself in the text (我叫…, 姓名：…, a "—— 王芳" signature, "My name is …",
  "Regards, …"), which may differ from the profile's name.

Besides the buyer's own data it masks anything shaped like a Chinese mobile number, a resident ID
number or a street address (`privacy.shapes`), in the text as written and, for numbers, in a digit
view where separators are gone and Chinese numerals are digits. Masking a little too much is the
safe side of this trade. Masked pieces vanish from the folded view, so the text is masked again
until nothing is found: "王王芳芳" must not become "王***芳", which folds back into 王芳.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import compress, islice, product

from pypinyin import Style, lazy_pinyin, pinyin

from reviewshield.privacy.shapes import ADDRESS_NUMERALS, ADDRESSES, ID_NUMBER, MOBILE, UNIT_WORDS

# Module-private there; importing it keeps one table of Chinese numerals.
from reviewshield.screening.normalize import _NUMERALS, LIMIT, normalize, offsets, word_letters
from reviewshield.screening.personal import fragments

MASK = "***"

# Needle boundaries: none, whole Latin words only, or not inside a longer number.
_FREE, _WORD, _NUMBER = 0, 1, 2
# The shortest Latin name token masked on its own: "Li" or "An" alone is every other word.
_MIN_LATIN_TOKEN = 3
# Double surnames (复姓): the given name starts after two characters. Hand-written because
# pypinyin has no surname table; these are the ones common today.
_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "夏侯",
        "长孙",
        "宇文",
        "司徒",
        "西门",
        "南宫",
        "独孤",
        "端木",
        "轩辕",
        "申屠",
    ]
)
# A one-character given name alone is half the dictionary; these make it a form of address.
_GIVEN_AFFIXES = ("小{}", "阿{}", "{0}{0}", "{}姐", "{}哥", "{}妹", "{}儿", "{}弟")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_CJK_ONLY = re.compile(r"^[\u3400-\u9fff]+$")
_NAME_SPLIT = re.compile(r"[\s·・.,，_\-]+")
_LATIN_WORD = re.compile(r"[A-Za-z]+")

# Names a buyer gives themself. CJK: a cue, then two to four characters that are not function
# words; Latin: a cue, then one to three capitalised words.
_NOT_NAME = "的了是在和与及我你他她们也就都还要会被把给对从向到于这那个说叫姓名"
_CJK_NAME = rf"(?:(?![{_NOT_NAME}])[\u4e00-\u9fff]){{2,4}}"
_SELF_NAMED = (
    re.compile(
        rf"(?:我叫|我名叫|我的名字(?:是|叫)|本人(?:姓名|名叫)[是:：]?|姓名[:：是]|名字[:：]|"
        rf"(?:署名|签名|落款|联系人|收货人|收件人|买家姓名)[:：\s])\s*({_CJK_NAME})"
    ),
    re.compile(rf"(?m)^\s*(?:[—–\-－~～]{{1,3}}|此致\s*敬礼[!！]?)\s*({_CJK_NAME})\s*$"),
    re.compile(
        r"(?:(?i:my\s+name\s+is|my\s+name's|name\s*:|signed\s*:?|regards,|sincerely,|thanks,|cheers,)"
        r"|(?m:^\s*[—–\-~]{1,3}))\s*([A-Z][A-Za-z'’-]+(?:[ \t]+[A-Z][A-Za-z'’-]+){0,2})"
    ),
)

# The unit part of an address: 3号楼, 2单元, 1202室; a road's own number (虹桥路88号) is not one.
_UNIT = re.compile(rf"([{ADDRESS_NUMERALS}A-Za-z]+)\s*(?:{UNIT_WORDS})")
_ROAD_END = re.compile(r"(?:路|街|道|巷|弄|胡同|大道|里)\s*$")
_EN_UNIT = re.compile(
    r"\b(?:Room|Rm|Apt|Apartment|Flat|Unit|Suite|Building|Bldg|Block|Tower|Floor)\.?\s*#?\s*[0-9A-Za-z-]+",
    re.I,
)


@dataclass(frozen=True)
class BuyerData:
    """What the platform knows of a buyer, by kind (each a tuple of the values as stored)."""

    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    others: tuple[str, ...] = ()  # email, marketplace nickname, ID numbers: masked as written

    @classmethod
    def from_strings(cls, values: Iterable[str]) -> BuyerData:
        """Sort loose strings into kinds by their look (for callers that only have a list)."""
        names, phones, addresses, others = [], [], [], []
        for value in values:
            value = (value or "").strip()
            if not value:
                continue
            digits = sum(c.isdigit() for c in value)
            if "@" in value:
                others.append(value)
            elif digits >= 7 and digits >= 0.6 * len(re.sub(r"\s", "", value)):
                phones.append(value)
            elif re.search(r"[省市区县路街道号室栋楼]|\d|\b(?:Road|Street|Avenue|Lane|Room)\b", value):
                addresses.append(value)
            else:
                names.append(value)
        return cls(tuple(names), tuple(phones), tuple(addresses), tuple(others))


@dataclass(frozen=True)
class _Needle:
    folded: str  # as `normalize` writes it
    bound: int  # _FREE, _WORD or _NUMBER


def mask_personal_data(text: str, known: BuyerData | Iterable[str] = ()) -> str:
    """Return `text` with the buyer's known data and phone/ID/address shapes replaced by ***."""
    if not text:
        return text
    data = known if isinstance(known, BuyerData) else BuyerData.from_strings(known)
    needles = _needles(data)
    # Each round replaces at least one character that is not a mask, so this ends.
    while True:
        spans = _spans(text, needles)
        if not spans:
            return text
        text = _replace(text, spans)


def self_named(text: str) -> list[str]:
    """The names a person gives themself in `text` (我叫王芳, 姓名：王芳, —— 王芳, My name is Emily Chen)."""
    found: list[str] = []
    for pattern in _SELF_NAMED:
        for m in pattern.finditer(text):
            name = m.group(1).strip()
            if _CJK_ONLY.match(name):
                # Names run two or three characters (four with a double surname); what follows the
                # cue may run on into the sentence, so both lengths are names to look for.
                longest = 4 if name[:2] in _COMPOUND_SURNAMES else 3
                found += [name[:n] for n in range(2, min(len(name), longest) + 1)]
            else:
                found.append(name)
    return found


def needles_of(data: BuyerData) -> list[str]:
    """The folded needles of `data` (for tests and the property test's oracle)."""
    return sorted({n.folded for n in _needles(data)}, key=len, reverse=True)


@lru_cache(maxsize=1024)
def _needles(data: BuyerData) -> tuple[_Needle, ...]:
    # A buyer's data is cut and folded once, not per text (a page masks many texts of one buyer).
    out: set[_Needle] = set()
    for name in data.names:
        out |= _name_needles(name)
    for phone in data.phones:
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone))
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        if len(digits) >= 7:
            out.add(_Needle(normalize(digits), _FREE))
    for address in data.addresses:
        out |= _address_needles(address)
    for other in data.others:
        out |= _other_needles(other)
    return tuple(sorted((n for n in out if n.folded), key=lambda n: (-len(n.folded), n.folded)))


def _name_needles(name: str) -> set[_Needle]:
    tokens = [t for t in _NAME_SPLIT.split(unicodedata.normalize("NFKC", name).strip()) if t]
    joined = "".join(tokens)
    if not joined:
        return set()
    if _CJK_ONLY.match(joined):
        return _cjk_name_needles(joined)
    out = set()
    words = [normalize(t) for t in tokens if _LATIN_WORD.fullmatch(t)]
    if words:
        # Latin names come in either order: Emily Chen, Chen Emily, CHEN, Emily.
        for whole in ("".join(words), "".join(reversed(words))):
            if len(whole) >= _MIN_LATIN_TOKEN:
                out.add(_Needle(whole, _WORD))
        out |= {_Needle(w, _WORD) for w in words if len(w) >= _MIN_LATIN_TOKEN}
    if len(words) != len(tokens) and len(normalize(joined)) >= 2:
        out.add(_Needle(normalize(joined), _FREE))  # a name mixing scripts, as written
    return out


def _cjk_name_needles(name: str) -> set[_Needle]:
    out = {_Needle(normalize(name), _FREE)} if len(name) >= 2 else set()
    surname_length = 2 if len(name) >= 3 and name[:2] in _COMPOUND_SURNAMES else 1
    surname, given = name[:surname_length], name[surname_length:]
    if len(given) >= 2:
        out.add(_Needle(normalize(given), _FREE))
    elif given:
        out |= {_Needle(normalize(affix.format(given)), _FREE) for affix in _GIVEN_AFFIXES}
    if not given:
        return out
    for surname_py, given_py in product(_readings(surname), _readings(given)):
        for whole in (surname_py + given_py, given_py + surname_py):
            out.add(_Needle(normalize(whole), _WORD))
        if len(given_py) >= _MIN_LATIN_TOKEN:
            out.add(_Needle(normalize(given_py), _WORD))
    return out


@cache
def _readings(chars: str) -> tuple[str, ...]:
    """Pinyin spellings of `chars` without tones: in context first, then other readings (单: dan,
    shan), ü written as v, u and yu (吕: lv, lu, lyu); at most eight."""
    spellings = ["".join(lazy_pinyin(chars, style=Style.NORMAL))]
    per_char = [r[:3] for r in pinyin(chars, style=Style.NORMAL, heteronym=True)]
    spellings += ["".join(p) for p in islice(product(*per_char), 8)]
    out: list[str] = []
    for spelling in spellings:
        for variant in (spelling, spelling.replace("v", "u"), spelling.replace("v", "yu")):
            if variant.isascii() and variant.isalpha() and variant not in out:
                out.append(variant)
    return tuple(out[:8])


def _address_needles(address: str) -> set[_Needle]:
    address = unicodedata.normalize("NFKC", address)
    out = {_Needle(f, _FREE) for f in fragments("address", address)}
    units = [m for m in _UNIT.finditer(address) if not _ROAD_END.search(address[: m.start()])]
    for m in units:
        if len(normalize(m.group())) >= 2:
            out.add(_Needle(normalize(m.group()), _FREE))  # 3号楼, 1202室 alone
    # Consecutive units (3号楼 1202室) as one, and their numbers run together as people shorten
    # them (3-1202, 3栋1202).
    runs: list[list[re.Match[str]]] = []
    for m in units:
        if runs and not address[runs[-1][-1].end() : m.start()].strip():
            runs[-1].append(m)
        else:
            runs.append([m])
    for run in runs:
        if len(run) >= 2:
            out.add(_Needle(normalize(address[run[0].start() : run[-1].end()]), _FREE))
            numbers = normalize("".join(m.group(1) for m in run))
            if len(numbers) >= 4:
                out.add(_Needle(numbers, _NUMBER))
    for m in _EN_UNIT.finditer(address):
        out.add(_Needle(normalize(m.group()), _WORD))  # Room 1202, Building 3
    return out


def _other_needles(value: str) -> set[_Needle]:
    folded = normalize(value)
    out = set()
    if len(folded) >= 3:
        out.add(_Needle(folded, _WORD if re.search(r"[A-Za-z]", value) else _FREE))
    local = value.split("@", 1)[0] if "@" in value else ""
    if len(normalize(local)) >= 4:
        out.add(_Needle(normalize(local), _WORD))  # the mailbox's name, as a word
    return out


def _spans(text: str, needles: tuple[_Needle, ...]) -> list[tuple[int, int]]:
    """The original ranges to mask: known needles on the folded view, shapes on the text and on
    its digit view, and the names the text itself gives."""
    spans: list[tuple[int, int]] = []
    typed = [n for name in self_named(text) for n in _name_needles(name)]
    view = normalize(text)
    positions = offsets(text) if view else []
    letters = word_letters()
    for needle in (*needles, *typed):
        size = len(needle.folded)
        at = view.find(needle.folded)
        while at != -1:
            start, end = positions[at], positions[at + size - 1] + 1
            if _bounded(text, start, end, needle.bound, letters):
                spans.append((start, end))
            at = view.find(needle.folded, at + 1)
    for pattern in (MOBILE, ID_NUMBER, *ADDRESSES):
        spans += [m.span() for m in pattern.finditer(text)]
    digits, digit_positions = _digit_view(text)
    for pattern in (MOBILE, ID_NUMBER):
        for m in pattern.finditer(digits):
            spans.append((digit_positions[m.start()], digit_positions[m.end() - 1] + 1))
    return spans


def _bounded(text: str, start: int, end: int, bound: int, letters: frozenset[int]) -> bool:
    """Whether the match [start, end) stands on its own as `bound` asks."""
    if bound == _FREE:
        return True
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if bound == _WORD:
        return not (before and ord(before) in letters) and not (after and ord(after) in letters)
    return not (before and _digit(before)) and not (after and _digit(after))


def _digit(ch: str) -> str:
    """The ASCII digit `ch` stands for (１, ①, 三, 幺), or ""."""
    if ch in _NUMERALS:
        return _NUMERALS[ch]
    value = unicodedata.digit(ch, None)
    return str(value) if value is not None else ""


def _digit_view(text: str) -> tuple[str, list[int]]:
    """The text with every digit as an ASCII digit (full-width, Chinese numerals), each space one
    space, punctuation, symbols and zero-width characters gone; with each view character's index
    in `text`. The mobile and ID patterns run on it too, so 138.1234.5678, 138\u200b1234\u200b5678
    and 一三八一二三四五六七八 are numbers like any other."""
    table, widths = _digit_tables()
    marks = text.translate(widths)  # "\x01" kept, "\x00" gone; above the tables: itself, kept
    kept = marks.encode("ascii") if marks.isascii() else bytes(c != "\x00" for c in marks)
    return text.translate(table), list(compress(range(len(text)), kept))


@cache
def _digit_tables() -> tuple[list[int | str], list[str]]:
    """The digit view as one `str.translate` table, and a table of what it keeps; built once,
    because a Python loop per character costs seconds on a 1 MB statement."""
    table: list[int | str] = list(range(LIMIT))
    widths = ["\x01"] * LIMIT
    for code in range(LIMIT):
        if 0xD800 <= code < 0xE000:
            continue
        ch = chr(code)
        digit = _digit(ch)
        if digit:
            table[code] = digit
        elif ch.isspace():
            table[code] = " "
        elif unicodedata.category(ch)[0] in "PSCM" and ch != "+":
            table[code], widths[code] = "", "\x00"
    return table, widths


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    """Replace each maximal union of `spans` by MASK."""
    pieces: list[str] = []
    last = 0
    for start, end in _merged(spans):
        pieces += [text[last:start], MASK]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _merged(spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    current: tuple[int, int] | None = None
    for start, end in sorted(spans):
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current
