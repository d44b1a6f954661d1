"""The Simplified Chinese catalogue is complete, compiled and usable (no database needed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$')
# printf-style conversions, named or positional; "%%" is matched so it can be dropped.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_BRACE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def msgid(self) -> str:
        return self.fields.get("msgid", "")

    @property
    def msgstrs(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k.startswith("msgstr")}

    def label(self) -> str:
        ctx = self.fields.get("msgctxt")
        return f"line {self.line}: " + (f"[{ctx}] " if ctx else "") + repr(self.msgid)


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), token.strip()[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """msgctxt/msgid/msgid_plural/msgstr[n] blocks with continuation lines; obsolete (#~) entries skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    key: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            current, key = None, None
            continue
        if current is None:
            current = Entry(line=number)
            entries.append(current)
        if line.startswith("#,"):
            current.flags.update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif m := _KEYWORD.match(line):
            key = m.group(1)
            current.fields[key] = _unquote(m.group(2))
        elif line.startswith('"') and key is not None:
            current.fields[key] += _unquote(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    return [e for e in entries if "msgid" in e.fields]


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in _PERCENT.findall(text) if p != "%%")


ENTRIES = parse_po(PO)
HEADER = next(e for e in ENTRIES if e.msgid == "")
MESSAGES = [e for e in ENTRIES if e.msgid != ""]


def test_catalogue_was_parsed() -> None:
    assert len(MESSAGES) > 100
    assert "Plural-Forms: nplurals=1; plural=0;" in HEADER.fields["msgstr"]


def test_no_empty_msgstr() -> None:
    empty = [e.label() for e in MESSAGES if not e.msgstrs or any(not v.strip() for v in e.msgstrs.values())]
    assert not empty, "untranslated:\n" + "\n".join(empty)


def test_nothing_is_fuzzy() -> None:
    fuzzy = [e.label() for e in ENTRIES if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy:\n" + "\n".join(fuzzy)


def test_plural_entries_have_one_form() -> None:
    wrong = [e.label() for e in MESSAGES if "msgid_plural" in e.fields and set(e.msgstrs) != {"msgstr[0]"}]
    assert not wrong, "Chinese has one plural form (msgstr[0] only):\n" + "\n".join(wrong)


def test_placeholders_are_kept() -> None:
    problems = []
    for e in MESSAGES:
        sources = [e.msgid] + ([e.fields["msgid_plural"]] if "msgid_plural" in e.fields else [])
        for name, text in e.msgstrs.items():
            if "python-format" in e.flags:
                # Every msgid form must carry the same conversions; the one Chinese form keeps them all.
                want = max((_placeholders(s) for s in sources), key=len)
                if _placeholders(text) != want:
                    problems.append(f"{e.label()} {name}: {_placeholders(text)} != {want}")
            want_brace = sorted(_BRACE.findall(e.msgid))
            if sorted(_BRACE.findall(text)) != want_brace:
                problems.append(f"{e.label()} {name}: {sorted(_BRACE.findall(text))} != {want_brace}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_mo_is_compiled_from_the_current_po() -> None:
    # Compare contents, not file times: a fresh clone gives both files the checkout's time.
    import gettext

    assert MO.exists(), f"{MO} missing: run `reviewshield compilemessages -l zh_Hans -l en`"
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for entry in MESSAGES:
        if "msgid_plural" in entry.fields:
            continue
        ctx = entry.fields.get("msgctxt")
        got = compiled.pgettext(ctx, entry.msgid) if ctx else compiled.gettext(entry.msgid)
        if got != entry.msgstrs.get("msgstr"):
            stale.append(entry.label())
    assert not stale, f"{MO.name} does not match {PO.name} (run compilemessages): {stale[:5]}"


@pytest.mark.parametrize("language", ["zh-hans"])
def test_gettext_returns_chinese(language: str) -> None:
    with translation.override(language):
        text = translation.gettext("Some fields are not valid.")
        upheld = translation.pgettext("case status", "Upheld")
        plural = translation.ngettext(
            "%(count)d deadline is due again now.", "%(count)d deadlines are due again now.", 3
        )
    assert _CJK.search(text), text
    assert _CJK.search(upheld), upheld
    assert _CJK.search(plural) and "%(count)d" in plural, plural
    with translation.override("en"):
        assert translation.gettext("Some fields are not valid.") == "Some fields are not valid."
