"""Fold chat text into the one view the lexicon is matched against, and map the view back.

PURE. The view undoes the usual evasion, one character at a time:

- full-width and half-width forms, circled and mathematical letters (NFKC), case (casefold),
  accents and tone marks ("shǎ bī" → "sha bi");
- traditional characters → simplified (OpenCC's character table) and a few variant characters
  used to dodge filters (妳 → 你, 屄 → 逼, 艹 → 草);
- Chinese numerals → digits (一三八 → 138, 幺 → 1), so a phone number spelled in characters still
  matches the buyer's number;
- letters substituted: digits and symbols as letters (0 → o, 1 → i, 3 → e, 4 → a, 5 → s, @ → a,
  $ → s), Cyrillic and Greek look-alikes as Latin, and i/l/1 merged into one letter because
  "k1ll", "ki11" and "kill" must all meet;
- spaces, punctuation, symbols, zero-width and combining characters deleted, so "傻 逼", "傻​逼",
  "傻★逼" and "k.i.l.l" close up. A few symbols that carry meaning (⚰ ☠ 🔪 🕯 🪦 ¥) stay.

Every character maps to a fixed string (often itself, sometimes nothing or several characters), so
the view is one `str.translate` call — no Python loop per character on the hot path — and a
position in the view maps back to the original character that produced it (`offsets`). Because
the word boundaries are gone, English patterns check them again on the original text (the
engine's job); Chinese needs none.

Why a table rather than OpenCC's converter or `unicodedata.normalize` per message: both change
lengths in ways that cannot be traced back to original offsets, and both cost several times more
per message than one translation (components.md: normalisation is the bottleneck). OpenCC and
unicodedata still supply the data: the table is built from them once, on first use.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import compress

import opencc

# Code points the table covers: the BMP plus the supplementary plane with mathematical
# alphanumerics (𝐤𝐢𝐥𝐥), enclosed letters and emoji. Above it str.translate finds no entry
# (IndexError is a LookupError) and keeps the character, which is right for rare CJK extensions.
LIMIT = 0x20000
# Symbols that mean something in a threat or a curse: never deleted as noise.
MEANINGFUL_SYMBOLS = frozenset("⚰⚱☠💀🔪🗡🔫🕯🪦💣🩸🖕¥￥€£")
# Hand-picked variant characters OpenCC's t2s leaves alone because they are not "traditional".
_VARIANTS = {"妳": "你", "祢": "你", "伱": "你", "儞": "你", "屄": "逼", "艹": "草", "肏": "操"}
# Chinese numerals (and 幺, "one" when reading out phone numbers) as digits.
_NUMERALS = dict(
    zip("〇零一二三四五六七八九幺壹贰叁肆伍陆柒捌玖两", "001234567891123456789" + "2", strict=True)
)
# Digits and symbols read as letters; "l" joins "i" (see the module docstring).
_LEET = {
    "0": "o",
    "1": "i",
    "2": "z",
    "3": "e",
    "4": "a",
    "5": "s",
    "6": "g",
    "7": "t",
    "8": "b",
    "9": "q",
    "@": "a",
    "$": "s",
    "l": "i",
}
# Cyrillic and Greek letters that look Latin. Hand-written because Unicode's full confusables
# list also folds CJK characters into each other, which would ruin Chinese matching.
_CONFUSABLES = dict(zip("авеорсухкмтніѕјԁӏαβεικνορτυχ", "abeopcyxkmthisjdiabeikvoptux", strict=True))
_DELETED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Mn", "Me", "Sk", "Sm", "So"})


def _t2s_table() -> dict[str, str]:
    """OpenCC's traditional→simplified character map, one character to one character."""
    ranges = [range(0x3400, 0x4DC0), range(0x4E00, 0xA000), range(0xF900, 0xFB00)]
    chars = [chr(c) for r in ranges for c in r]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # OpenCC never merges lines; if it ever did, skip t2s than misalign
        return {}
    return {s: t for s, t in zip(chars, converted, strict=True) if s != t and len(t) == 1}


def _fold_one(ch: str, t2s: dict[str, str]) -> str:
    """What one character of NFKC output becomes in the view ("" when it is noise)."""
    if ch in MEANINGFUL_SYMBOLS:
        return "¥" if ch == "￥" else ch
    ch = t2s.get(ch, ch)
    ch = _VARIANTS.get(ch, ch)
    ch = _NUMERALS.get(ch, ch)
    ch = _CONFUSABLES.get(ch, ch)
    if ch in _LEET:
        return _LEET[ch]
    category = unicodedata.category(ch)
    if category[0] == "P" or category in _DELETED_CATEGORIES:
        return ""
    if not ch.isascii() and category[0] == "L":
        # Accented Latin letters and tone-marked pinyin lose their marks: ǎ → a, ï → i.
        base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if len(base) == 1 and base.isascii():
            return _LEET.get(base, base)
    return ch


@cache
def _tables() -> tuple[list[int | str], bytes, bytes, frozenset[int], list[int | str], bytes]:
    """Build the tables once: (view, ASCII view, ASCII deletions, Latin letter code points, width mask).

    The width mask maps each character to "\x01" (one view character), "\x00" (deleted) or "\x02"
    (several), so `offsets` can find the kept positions without a Python loop.
    """
    t2s = _t2s_table()
    table: list[int | str] = list(range(LIMIT))
    widths: list[int | str] = ["\x01"] * LIMIT
    latin_letters: set[int] = set()
    for code in range(LIMIT):
        if 0xD800 <= code < 0xE000:
            continue  # lone surrogates stay as they are
        ch = chr(code)
        expanded = ch if ch in MEANINGFUL_SYMBOLS else unicodedata.normalize("NFKC", ch).casefold()
        out = "".join(_fold_one(c, t2s) for c in expanded)
        if out != ch:
            table[code] = out
            widths[code] = "\x01" if len(out) == 1 else ("\x00" if not out else "\x02")
        # A letter of a Latin-like script, as opposed to a digit, a symbol or a CJK numeral that
        # also folds to a Latin letter: only these make a word continue (see `word_letters`).
        if len(out) == 1 and "a" <= out <= "z" and unicodedata.category(ch)[0] == "L" and ch not in _NUMERALS:
            latin_letters.add(code)
    # Pure-ASCII messages take bytes.translate, which is several times faster; it must give the
    # same view, so it is derived from the same table.
    ascii_map = bytearray(range(256))
    ascii_widths = bytearray(b"\x01" * 256)
    deleted = bytearray()
    for code in range(128):
        folded = table[code]
        if folded == "":
            deleted.append(code)
            ascii_widths[code] = 0
        elif isinstance(folded, str):
            ascii_map[code] = ord(folded)
    return table, bytes(ascii_map), bytes(deleted), frozenset(latin_letters), widths, bytes(ascii_widths)


def normalize(text: str) -> str:
    """Return the view of `text` (see the module docstring)."""
    table, ascii_map, ascii_deleted = _tables()[:3]
    if text.isascii():
        return text.encode("ascii").translate(ascii_map, ascii_deleted).decode("ascii")
    return text.translate(table)


def normalize_many(texts: Iterable[str]) -> list[str]:
    """Return the view of each text; the batch form of `normalize`, with the tables looked up once."""
    table, ascii_map, ascii_deleted = _tables()[:3]
    return [
        t.encode("ascii").translate(ascii_map, ascii_deleted).decode("ascii")
        if t.isascii()
        else t.translate(table)
        for t in texts
    ]


def offsets(text: str) -> list[int]:
    """For each character of `normalize(text)`, the index in `text` of the character it came from."""
    tables = _tables()
    if text.isascii():
        return list(compress(range(len(text)), text.encode("ascii").translate(tables[5])))
    table, widths = tables[0], tables[4]
    mask = text.translate(widths)
    if "\x02" not in mask:
        # Characters beyond LIMIT are kept as they are and are not in the mask table: they stay
        # themselves in the mask too, and count as kept (any non-NUL byte is true).
        return list(compress(range(len(text)), mask.encode("ascii") if mask.isascii() else _ones(mask)))
    # Rare: a character that folds into several ("ﬁ" → "fi", "㍻" → "平成").
    out: list[int] = []
    for index, ch in enumerate(text):
        code = ord(ch)
        mapped = table[code] if code < LIMIT else code
        width = 1 if isinstance(mapped, int) else len(mapped)
        if width == 1:
            out.append(index)
        elif width:
            out.extend([index] * width)
    return out


def _ones(mask: str) -> list[bool]:
    return [c != "\x00" for c in mask]


def original_span(positions: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """Map the view range [start, end) back to the smallest original range that produced it."""
    return positions[start], positions[end - 1] + 1


def word_letters() -> frozenset[int]:
    """Code points of letters that continue an English word ("s" in "skill"): not digits, CJK or noise."""
    return _tables()[3]


def warm_up() -> None:
    """Build the tables now (about a second) rather than on the first message."""
    _tables()
