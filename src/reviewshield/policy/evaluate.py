"""Judge whether an order may be complained about under a ruleset, and when each step is due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from reviewshield.policy.calendar import BUSINESS_TZ, WorkCalendar
from reviewshield.policy.ruleset import Ruleset
from reviewshield.policy.windows import DeadlineResult, window_end


@dataclass(frozen=True)
class OrderFacts:
    channel: str
    status: str
    trade_success_at: datetime | None
    paid_at: datetime | None


@dataclass(frozen=True)
class FilingAssessment:
    ruleset_id: str
    eligible: bool
    reason_code: str | None  # "excluded_channel" | "not_trade_success" | "window_passed" | None
    reason_params: Mapping[str, str]
    deadlines: Mapping[str, DeadlineResult]  # filing_window_ends, respond_by, handle_by, decide_by

    @property
    def provisional(self) -> list[str]:
        """Return the names of the deadlines that rest on a provisional calendar."""
        return [name for name, result in self.deadlines.items() if result.provisional]


def local_iso(instant: datetime) -> str:
    """Format an instant as ISO-8601 in Beijing time (+08:00), the way people are shown deadlines."""
    return instant.astimezone(BUSINESS_TZ).isoformat()


def assess_filing(
    ruleset: Ruleset,
    order: OrderFacts,
    *,
    filed_at: datetime,
    notified_at: datetime | None,
    calendar: WorkCalendar,
    assisted: bool = False,
) -> FilingAssessment:
    """Decide eligibility of a complaint filed at filed_at and compute its deadlines.

    An assisted complaint (the agent issued the filing link) skips the window check only: a Tmall
    order or an unfinished trade stays ineligible whoever opens the complaint.
    """
    deadlines: dict[str, DeadlineResult] = {}
    if order.trade_success_at is not None:
        deadlines["filing_window_ends"] = window_end(
            ruleset.windows["filing"], order.trade_success_at, calendar
        )

    def refuse(code: str, **params: str) -> FilingAssessment:
        return FilingAssessment(
            ruleset.id, False, code, MappingProxyType(params), MappingProxyType(deadlines)
        )

    if order.channel in ruleset.excluded_channels:
        return refuse("excluded_channel", channel=order.channel)
    if order.status != ruleset.required_order_status or order.trade_success_at is None:
        return refuse("not_trade_success", status=order.status)
    window_ends = deadlines["filing_window_ends"].at
    if not assisted and filed_at > window_ends:  # the window includes its last instant
        filing = ruleset.windows["filing"]
        return refuse(
            "window_passed",
            window_end=local_iso(window_ends),
            window_amount=str(filing.amount),
            window_unit=filing.unit if filing.kind == "calendar" else filing.kind,
        )

    if notified_at is not None:
        deadlines["respond_by"] = window_end(ruleset.windows["respond"], notified_at, calendar)
    deadlines["handle_by"] = window_end(ruleset.windows["handle"], filed_at, calendar)
    deadlines["decide_by"] = window_end(ruleset.windows["decide"], filed_at, calendar)
    return FilingAssessment(ruleset.id, True, None, MappingProxyType({}), MappingProxyType(deadlines))


_CHANNEL_NAMES = {
    "en": {"taobao": "Taobao", "tmall": "Tmall", "jd": "JD"},
    "zh-hans": {"taobao": "淘宝", "tmall": "天猫", "jd": "京东"},
}
_UNIT_NAMES = {
    "en": {"days": "day", "hours": "hour", "working_days": "working-day", "working_hours": "working-hour"},
    "zh-hans": {"days": "天", "hours": "小时", "working_days": "个工作日", "working_hours": "个工作小时"},
}
_REASONS = {
    "en": {
        "excluded_channel": "Complaints about {channel} orders are not handled under this ruleset.",
        "not_trade_success": (
            "A complaint can be filed only once the order's status is trade success (current status: {status})."
        ),
        "window_passed": (
            "The {window_amount}-{window_unit} complaint window ended at {window_end} (UTC+8). "
            "Ask an agent for assisted filing."
        ),
    },
    "zh-hans": {
        "excluded_channel": "此规则不受理{channel}订单的投诉。",
        "not_trade_success": "订单状态为“交易成功”后才能发起投诉（当前状态：{status}）。",
        "window_passed": "{window_amount}{window_unit}的投诉期已于 {window_end}（北京时间）结束。请联系客服小二协助发起投诉。",
    },
}


def reason_text(code: str, params: Mapping[str, str], lang: str) -> str:
    """Render a refusal reason as one sentence in English ("en") or Simplified Chinese ("zh-hans")."""
    lang = "zh-hans" if lang.lower().startswith("zh") else "en"
    values = dict(params)
    if "channel" in values:
        values["channel"] = _CHANNEL_NAMES[lang].get(values["channel"], values["channel"])
    if "window_unit" in values:
        values["window_unit"] = _UNIT_NAMES[lang].get(values["window_unit"], values["window_unit"])
    if "window_end" in values:
        values["window_end"] = datetime.fromisoformat(values["window_end"]).strftime("%Y-%m-%d %H:%M")
    template = _REASONS[lang].get(code)
    if template is None:
        return code
    return template.format_map(values)
