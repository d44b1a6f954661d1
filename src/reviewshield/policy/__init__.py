"""The pure policy core: rulesets as data, the working-day calendar, windows and filing eligibility.

No Django, no clock: every function takes the instants it needs. Errors:

    RulesetError            a ruleset file is broken (names file, key and problem)
    └── UnknownRuleset      no ruleset with that id / none in force (also a KeyError)
"""

from reviewshield.policy.calendar import BUSINESS_TZ, WorkCalendar
from reviewshield.policy.evaluate import FilingAssessment, OrderFacts, assess_filing, local_iso, reason_text
from reviewshield.policy.ruleset import (
    MEASURES,
    OPTIONAL_WINDOWS,
    REQUIRED_WINDOWS,
    TIER_ORDER,
    Node,
    Ruleset,
    RulesetError,
    RulesetRegistry,
    Sanctions,
    TierOutcome,
    UnknownRuleset,
    Window,
    load_ruleset,
)
from reviewshield.policy.windows import DeadlineResult, window_end

__all__ = [
    "BUSINESS_TZ",
    "MEASURES",
    "OPTIONAL_WINDOWS",
    "REQUIRED_WINDOWS",
    "TIER_ORDER",
    "DeadlineResult",
    "FilingAssessment",
    "Node",
    "OrderFacts",
    "Ruleset",
    "RulesetError",
    "RulesetRegistry",
    "Sanctions",
    "TierOutcome",
    "UnknownRuleset",
    "Window",
    "WorkCalendar",
    "assess_filing",
    "load_ruleset",
    "local_iso",
    "reason_text",
    "window_end",
]
