"""The pure chat-screening core: is this seller → buyer message a threat, an insult, doxxing,
review pressure, a funeral curse or a flood — and what should the chat do with it?

No Django, no clock, no ORM (mypy --strict). Modules:

    normalize   fold text against evasion (full-width, zero-width, traditional, 0→o, pinyin …),
                keeping a map back to offsets in the original text
    lexicon     the TOML lexicons and rules under lexicons/, loaded and validated by `load()`
    matcher     one Aho-Corasick pass over a batch; English terms checked for word boundaries
    personal    the buyer's known data and the shapes of phone, ID and address numbers
    engine      `screen(messages, context) -> list[Verdict]`, `reason_text(reason, lang)`
    evaluation  the labelled set in eval/messages.jsonl, precision and recall per category

Errors:

    LexiconError    a lexicon file is broken (names the file, the key and the problem)
    EvalSetError    a line of the evaluation set is broken (a ValueError)
"""

from reviewshield.screening.engine import (
    CLEAN,
    NOT_SCREENED,
    Context,
    KnownData,
    Message,
    Reason,
    Span,
    Verdict,
    default_lexicon,
    reason_text,
    screen,
)
from reviewshield.screening.lexicon import CATEGORIES, PERSONAL_KINDS, Lexicon, LexiconError, load
from reviewshield.screening.normalize import normalize

__all__ = [
    "CATEGORIES",
    "CLEAN",
    "NOT_SCREENED",
    "PERSONAL_KINDS",
    "Context",
    "KnownData",
    "Lexicon",
    "LexiconError",
    "Message",
    "Reason",
    "Span",
    "Verdict",
    "default_lexicon",
    "load",
    "normalize",
    "reason_text",
    "screen",
]
