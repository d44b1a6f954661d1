"""What the forensic report says, as codes and parameters, rendered in zh-Hans or English.

PURE, like `screening.engine.reason_text`: the report stores `Line(code, params)` so it can be
shown in the reader's language later; `line_text(line, lang)` and `error_text(code, params, lang)`
render one sentence. `lang` is "zh-hans" (anything starting with "zh") or "en".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import Final, NamedTuple

from reviewshield.forensics.analysis import HOUR_MS, Analysis, Finding

MINUTE_MS: Final = 60_000


class Line(NamedTuple):
    """One sentence of a summary: a code and its parameters (all strings or whole numbers)."""

    code: str
    params: Mapping[str, str | int] = MappingProxyType({})


def _lang(lang: str) -> str:
    return "zh-hans" if lang.lower().startswith("zh") else "en"


_ERRORS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "dtd_refused": "The file {file} declares a DTD (<!DOCTYPE …>). Phone exports never have one, and it is "
        "how malicious XML reads other files or explodes in memory, so the file was not read.",
        "entity_refused": "The file {file} declares or uses an XML entity (line {line}). Phone exports never do, "
        "so the file was not read.",
        "encoding": "The file {file} is not UTF-8 text{found_text}. Export it again from SMS Backup & Restore, "
        "or save the CSV as “CSV UTF-8”.",
        "truncated": "The file {file} ends in the middle (line {line}): it was probably cut off while copying. "
        "Copy the whole export again.",
        "malformed": "The file {file} is not valid XML at line {line} ({reason}).",
        "not_phone_export": "The file {file} is not an SMS Backup & Restore export (sms.xml or calls.xml) or a "
        "CSV with the documented columns.",
        "csv_missing_column": "The CSV file {file} lacks the column(s) {column}. The first row must name the "
        "columns kind, at, number and direction.",
        "bad_date": "The record at line {line} of {file} has the time “{value}”, which is not a date between "
        "2000 and 2100.",
        "bad_attribute": "The record at line {line} of {file} has {name} “{value}”, which is not a value "
        "phone exports use.",
        "no_records": "The file {file} holds no SMS and no calls{mms_text}.",
        "unreadable": "The stored file {file} could not be opened.",
    },
    "zh-hans": {
        "dtd_refused": "文件 {file} 声明了 DTD（<!DOCTYPE …>）。手机导出文件不会有 DTD，恶意 XML 正是借此读取其他文件或耗尽内存，"
        "因此未读取该文件。",
        "entity_refused": "文件 {file} 声明或使用了 XML 实体（第 {line} 行）。手机导出文件不会这样做，因此未读取该文件。",
        "encoding": "文件 {file} 不是 UTF-8 文本{found_text}。请用“SMS Backup & Restore”重新导出，"
        "或将 CSV 另存为“CSV UTF-8”。",
        "truncated": "文件 {file} 在中途结束（第 {line} 行），可能在复制时被截断。请重新复制完整的导出文件。",
        "malformed": "文件 {file} 第 {line} 行不是有效的 XML（{reason}）。",
        "not_phone_export": "文件 {file} 不是“SMS Backup & Restore”导出文件（sms.xml 或 calls.xml），"
        "也不是按说明列名的 CSV 文件。",
        "csv_missing_column": "CSV 文件 {file} 缺少列：{column}。第一行必须包含列名 kind、at、number 和 direction。",
        "bad_date": "文件 {file} 第 {line} 行记录的时间为“{value}”，不是 2000 年至 2100 年之间的日期。",
        "bad_attribute": "文件 {file} 第 {line} 行记录的 {name} 为“{value}”，不是手机导出文件使用的值。",
        "no_records": "文件 {file} 中没有短信和通话记录{mms_text}。",
        "unreadable": "无法打开已保存的文件 {file}。",
    },
}


def error_text(code: str, params: Mapping[str, str | int], lang: str) -> str:
    """One sentence saying why an export could not be read."""
    lang = _lang(lang)
    values: dict[str, str | int] = {
        "file": "",
        "line": "?",
        "reason": "",
        "value": "",
        "name": "",
        "column": "",
    }
    values.update(params)
    found = str(params.get("found", ""))
    values["found_text"] = (
        (f"（看起来是 {found}）" if lang == "zh-hans" else f" (it looks like {found})") if found else ""
    )
    mms = int(params.get("mms", 0) or 0)
    values["mms_text"] = (
        (
            f"（只有 {mms} 条彩信，不作分析）"
            if lang == "zh-hans"
            else f" (only {mms} MMS, which are not analysed)"
        )
        if mms
        else ""
    )
    template = _ERRORS[lang].get(code, _ERRORS[lang]["malformed"])
    return template.format(**values)


_KINDS: Final = {
    "en": {
        "code_bombing": "Verification-code SMS bombing",
        "call_flood": "Call flood",
        "late_night": "Late-night contact",
    },
    "zh-hans": {
        "code_bombing": "验证码短信轰炸",
        "call_flood": "电话骚扰（呼叫轰炸）",
        "late_night": "深夜联系",
    },
}
_RECORD_TYPES: Final = {
    "en": {
        "sms": "SMS",
        "incoming": "call, answered",
        "outgoing": "call, dialled",
        "missed": "call, missed",
        "voicemail": "call, voicemail",
        "rejected": "call, rejected",
        "blocked": "call, blocked",
        "other": "call",
    },
    "zh-hans": {
        "sms": "短信",
        "incoming": "来电（已接）",
        "outgoing": "去电",
        "missed": "未接来电",
        "voicemail": "来电（语音信箱）",
        "rejected": "来电（已拒接）",
        "blocked": "来电（已拦截）",
        "other": "来电",
    },
}
_TIERS: Final = {
    "en": {"ordinary": "ordinary", "serious": "serious", "especially_serious": "especially serious"},
    "zh-hans": {"ordinary": "一般", "serious": "严重", "especially_serious": "特别严重"},
}
_RULES: Final = {
    "en": {
        "repeated_late_night": "repeated contact late at night or early in the morning is a serious case",
        "large_volume_spam": "large volumes of spam (such as verification codes) are a serious case",
        "unexplained_codes": "spam such as unexplained verification codes is an ordinary case",
        "frequent_contact": "frequent contact is a serious case",
        "abnormal_frequency": "contact at an abnormal frequency is an ordinary case",
    },
    "zh-hans": {
        "repeated_late_night": "多次在深夜或凌晨联系，属情节严重",
        "large_volume_spam": "大量发送垃圾信息（如验证码），属情节严重",
        "unexplained_codes": "发送不明验证码等垃圾信息，属一般情形",
        "frequent_contact": "频繁联系，属情节严重",
        "abnormal_frequency": "以异常频率联系，属一般情形",
    },
}
_ANCHORS: Final = {
    "en": {
        "review": "the buyer's review",
        "complaint": "the complaint",
        "occurred": "the reported harassment",
    },
    "zh-hans": {"review": "买家评价", "complaint": "投诉", "occurred": "所述骚扰"},
}

_LINES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "records": "Read {sms} SMS and {calls} calls from {first} to {last}{mms_text}.",
        "count_mismatch": "{file} says it holds {declared} records, but {read} were read: the export may be incomplete.",
        "no_findings": "No verification-code bombing, call flood or repeated late-night contact was found.",
        "code_bombing": "{kind}: {total} verification-code SMS from {senders} senders between {start} and {end} ({duration}).",
        "call_flood_number": "{kind}: {total} unwanted calls from {number} between {start} and {end} ({duration}).",
        "call_flood_many": "{kind}: {total} unwanted calls from {senders} numbers between {start} and {end} ({duration}).",
        "late_night": "{kind}: {number} made contact {total} times late at night on {nights} nights between {start} and {end}.",
        "anchor_first": "The first anomaly began {delay} after {anchor} ({at}).",
        "anchor_none": "No anomaly began after {anchor} ({at}).",
        "anchor_baseline": "SMS and calls from unknown numbers: {before} a day in the {before_days} days before {anchor}, {after} a day in the {after_days} days after ({ratio}).",
        "anchor_baseline_missing": "The export does not cover both the days before and after {anchor}, so there is no baseline.",
        "suggestion": "Suggested tier: {tier}, because {rule}. This is a suggestion for the agent to confirm, not a decision.",
    },
    "zh-hans": {
        "records": "共读取 {sms} 条短信、{calls} 条通话记录，时间从 {first} 至 {last}{mms_text}。",
        "count_mismatch": "{file} 声明包含 {declared} 条记录，实际读取 {read} 条：导出文件可能不完整。",
        "no_findings": "未发现验证码轰炸、呼叫轰炸或多次深夜联系。",
        "code_bombing": "{kind}：{start} 至 {end}（{duration}）期间收到 {senders} 个号码发来的 {total} 条验证码短信。",
        "call_flood_number": "{kind}：{start} 至 {end}（{duration}）期间 {number} 打来 {total} 个骚扰电话。",
        "call_flood_many": "{kind}：{start} 至 {end}（{duration}）期间 {senders} 个号码打来 {total} 个骚扰电话。",
        "late_night": "{kind}：{start} 至 {end} 期间，{number} 在 {nights} 个夜晚深夜联系 {total} 次。",
        "anchor_first": "{anchor}（{at}）之后 {delay}出现第一次异常。",
        "anchor_none": "{anchor}（{at}）之后没有出现异常。",
        "anchor_baseline": "陌生号码的短信和来电：{anchor}前 {before_days} 天平均每天 {before} 次，之后 {after_days} 天平均每天 {after} 次（{ratio}）。",
        "anchor_baseline_missing": "导出文件未同时覆盖{anchor}前后的日子，无法计算基线。",
        "suggestion": "建议的严重程度：{tier}，依据：{rule}。这只是供客服确认的建议，不是处理决定。",
    },
}


def kind_name(kind: str, lang: str) -> str:
    return _KINDS[_lang(lang)].get(kind, kind)


def record_type_name(kind: str, call_type: str, lang: str) -> str:
    """ "SMS", "call, rejected" … for one record."""
    names = _RECORD_TYPES[_lang(lang)]
    return names["sms"] if kind == "sms" else names.get(call_type, names["other"])


def tier_name(tier: str, lang: str) -> str:
    return _TIERS[_lang(lang)].get(tier, tier)


def rule_text(rule: str, lang: str) -> str:
    return _RULES[_lang(lang)].get(rule, rule)


def _duration(ms: int, lang: str) -> str:
    minutes = max(0, ms) // MINUTE_MS
    zh = lang == "zh-hans"
    if minutes < 60:
        return f"{minutes} 分钟" if zh else f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return (
            (f"{hours} 小时 {rest} 分钟" if zh else f"{hours} h {rest} min")
            if rest
            else (f"{hours} 小时" if zh else f"{hours} h")
        )
    days, hours = divmod(hours, 24)
    return f"{days} 天 {hours} 小时" if zh else f"{days} days {hours} h"


def line_text(line: Line, lang: str) -> str:
    """One summary line as a sentence in the reader's language."""
    lang = _lang(lang)
    p: dict[str, str | int] = dict(line.params)
    if "kind" in p:
        p["kind"] = kind_name(str(p["kind"]), lang)
    if "anchor" in p:
        p["anchor"] = _ANCHORS[lang].get(str(p["anchor"]), str(p["anchor"]))
    if "tier" in p:
        p["tier"] = tier_name(str(p["tier"]), lang)
    if "rule" in p:
        p["rule"] = rule_text(str(p["rule"]), lang)
    for key in ("duration", "delay"):
        if key in p:
            p[key] = _duration(int(p[key]), lang)
    if "mms" in p:
        mms = int(p["mms"])
        p["mms_text"] = (
            (f"（另有 {mms} 条彩信未分析）" if lang == "zh-hans" else f" ({mms} MMS not analysed)")
            if mms
            else ""
        )
    if line.code == "anchor_baseline":
        ratio = str(p.get("ratio", ""))
        if ratio == "new":
            p["ratio"] = "之前为零" if lang == "zh-hans" else "none before"
        elif ratio == "none":
            p["ratio"] = "前后都为零" if lang == "zh-hans" else "none either side"
        else:
            p["ratio"] = f"为之前的 {ratio} 倍" if lang == "zh-hans" else f"{ratio} times as many"
    template = _LINES[lang].get(line.code)
    return template.format(**p) if template else line.code


def local_text(at_ms: int, tz: tzinfo) -> str:
    """An instant as local time, to the minute: "2026-04-15 21:03"."""
    return datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def finding_line(finding: Finding, tz: tzinfo) -> Line:
    params: dict[str, str | int] = {
        "kind": finding.kind,
        "total": finding.total,
        "senders": finding.senders,
        "start": local_text(finding.start_ms, tz),
        "end": local_text(finding.end_ms, tz),
        "duration": finding.end_ms - finding.start_ms,
        "number": finding.numbers[0] if finding.numbers else "?",
        "nights": finding.nights,
    }
    if finding.kind == "call_flood":
        return Line(f"call_flood_{finding.scope}", params)
    return Line(finding.kind, params)


def _ratio(ratio: float | None, after: float) -> str:
    if ratio is not None:
        return f"{ratio:.1f}"
    return "new" if after > 0 else "none"


def summary(analysis: Analysis, tz: tzinfo) -> tuple[Line, ...]:
    """The report's summary: what was read, each finding, each anchor, the suggested tier."""
    lines = [
        Line(
            "records",
            {
                "sms": analysis.sms,
                "calls": analysis.calls,
                "mms": analysis.mms,
                "first": local_text(analysis.first_ms, tz),
                "last": local_text(analysis.last_ms, tz),
            },
        )
    ]
    for f in analysis.files:
        read = f.sms + f.calls
        if (
            f.declared_count is not None
            and f.declared_count > 0
            and f.declared_count not in (read, read + f.mms)
        ):
            lines.append(Line("count_mismatch", {"file": f.name, "declared": f.declared_count, "read": read}))
    lines += [finding_line(f, tz) for f in analysis.findings]
    if not analysis.findings:
        lines.append(Line("no_findings"))
    for c in analysis.correlations:
        at = local_text(c.at_ms, tz)
        if c.delay_ms is not None:
            lines.append(Line("anchor_first", {"anchor": c.anchor, "at": at, "delay": c.delay_ms}))
        elif analysis.findings:
            lines.append(Line("anchor_none", {"anchor": c.anchor, "at": at}))
        if c.before_per_day is None or c.after_per_day is None:
            lines.append(Line("anchor_baseline_missing", {"anchor": c.anchor}))
        else:
            lines.append(
                Line(
                    "anchor_baseline",
                    {
                        "anchor": c.anchor,
                        "before": f"{c.before_per_day:.1f}",
                        "after": f"{c.after_per_day:.1f}",
                        "before_days": c.before_days,
                        "after_days": c.after_days,
                        "ratio": _ratio(c.ratio, c.after_per_day),
                    },
                )
            )
    if analysis.suggestion is not None:
        lines.append(Line("suggestion", {"tier": analysis.suggestion.tier, "rule": analysis.suggestion.rule}))
    return tuple(lines)


def summary_text(lines: Sequence[Line], lang: str) -> list[str]:
    return [line_text(line, lang) for line in lines]


__all__ = [
    "HOUR_MS",
    "Line",
    "error_text",
    "finding_line",
    "kind_name",
    "line_text",
    "local_text",
    "record_type_name",
    "rule_text",
    "summary",
    "summary_text",
    "tier_name",
]
