"""Find lexicon terms in a batch of chat messages with Aho-Corasick automata. PURE.

Two automata. The *trigger* automaton holds only the terms that can matter on their own — every
term of a category, and every cue rarer than the common ones ("评价", "refund", "courier" are in
most harmless messages and mean nothing alone). It runs once over the whole batch, joined end to
end: a message with no trigger — most messages — is done. The *full* automaton holds every term
and runs on the few messages that need a closer look, one call each, overlapping matches
included so that one term can never hide another ("弄死你" inside "弄死你全家").

A term that starts or ends with a Latin letter must also start or end a word in the original
text: the view has lost its spaces, and "skill" must not be read as "kill" nor "58" (digits read
as letters) as "sb".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import NamedTuple

import ahocorasick_rs

from reviewshield.screening.normalize import word_letters

JOIN = "\x00"


class Hit(NamedTuple):
    """One term found: the lexicon entry's index, and where it is in the view and in the original text.

    A NamedTuple rather than a frozen dataclass: built for every match on the hot path, and a
    frozen dataclass pays one object.__setattr__ per field.
    """

    entry: int
    view_start: int
    view_end: int
    start: int
    end: int


def _is_latin(ch: str) -> bool:
    return "a" <= ch <= "z"


class Matcher:
    """An automaton over the folded terms; each term knows the entries it belongs to."""

    def __init__(self, terms: Sequence[tuple[str, int]], triggers: Callable[[Sequence[int]], bool]) -> None:
        """`terms`: (folded term, entry index) pairs; one term may belong to several entries.
        `triggers(entries)`: whether a term of these entries is worth a closer look on its own."""
        by_term: dict[str, list[int]] = {}
        for term, entry in terms:
            owners = by_term.setdefault(term, [])
            if entry not in owners:
                owners.append(entry)
        self.terms = list(by_term)
        self._owners = [tuple(by_term[t]) for t in self.terms]
        self._latin_start = [_is_latin(t[0]) for t in self.terms]
        self._latin_end = [_is_latin(t[-1]) for t in self.terms]
        self._all_latin = [all(_is_latin(c) for c in t) for t in self.terms]
        # Short abbreviations ("sb", "kys") must be spelled with letters: "5B" is a flat, not "SB".
        self._letters_only = [
            len(t) <= 3 and latin for t, latin in zip(self.terms, self._all_latin, strict=True)
        ]
        self._automaton = ahocorasick_rs.AhoCorasick(self.terms) if self.terms else None
        trigger_terms = [t for t, owners in zip(self.terms, self._owners, strict=True) if triggers(owners)]
        self._triggers = ahocorasick_rs.AhoCorasick(trigger_terms) if trigger_terms else None
        self._letters = word_letters()

    def bounded(self, term: int) -> bool:
        """Whether a term has an English end to check against the original text."""
        return self._latin_start[term] or self._latin_end[term]

    def owners(self, term: int) -> tuple[int, ...]:
        """The entries a term (by index) belongs to."""
        return self._owners[term]

    def triggered(self, views: Sequence[str]) -> set[int]:
        """Indices of the messages holding a trigger term (one pass over the batch joined by NUL).

        NUL is in no view (normalisation deletes control characters) and in no term, so no match
        can run from one message into the next — and, matches not overlapping, swallow the start of
        a term in the next message. Each message with a trigger gets at least one match.
        """
        if self._triggers is None or not views:
            return set()
        # Where each message's NUL stands in the joined text (C-level).
        ends = list(accumulate(len(view) + 1 for view in views))
        joined = JOIN.join(views)
        return {bisect_right(ends, start) for _, start, _ in self._triggers.find_matches_as_indexes(joined)}

    def find(self, view: str) -> list[tuple[int, int, int]]:
        """Every term in one message: (term index, view start, view end), boundaries not yet checked."""
        if self._automaton is None:
            return []
        return self._automaton.find_matches_as_indexes(view, overlapping=True)

    def resolve(
        self, text: str, view: str, positions: Sequence[int], raw: Sequence[tuple[int, int, int]]
    ) -> list[Hit]:
        """Keep the matches that respect English word boundaries; give each its entries and original span."""
        hits: list[Hit] = []
        letters = self._letters
        owners, latin_start, latin_end, all_latin = (
            self._owners,
            self._latin_start,
            self._latin_end,
            self._all_latin,
        )
        for term, vstart, vend in raw:
            if latin_start[term] and not _boundary_before(text, positions, vstart, letters):
                continue
            if latin_end[term] and not _boundary_after(text, view, positions, vend, letters):
                continue
            if all_latin[term]:
                spelled = [ord(text[p]) in letters for p in positions[vstart:vend]]
                if not any(spelled) or (self._letters_only[term] and not all(spelled)):
                    continue  # digits and symbols read as letters: a price or a flat number, not a word
            start, end = positions[vstart], positions[vend - 1] + 1  # original_span, inlined on the hot path
            for entry in owners[term]:
                hits.append(Hit(entry, vstart, vend, start, end))
        return hits


def _boundary_before(text: str, positions: Sequence[int], vstart: int, letters: frozenset[int]) -> bool:
    if vstart == 0:
        return True
    previous, current = positions[vstart - 1], positions[vstart]
    if previous == current:
        return False  # one original character folded into several letters ("ﬁ" → "fi")
    if current - previous > 1:
        return True  # a space or other noise lies between them
    return ord(text[previous]) not in letters


def _boundary_after(
    text: str, view: str, positions: Sequence[int], vend: int, letters: frozenset[int]
) -> bool:
    if vend >= len(view):
        return True
    last, following = positions[vend - 1], positions[vend]
    if last == following:
        return False
    if following - last > 1:
        return True
    return ord(text[following]) not in letters
