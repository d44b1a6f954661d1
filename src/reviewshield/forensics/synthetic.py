"""Writers and generators of phone exports, for tests, the benchmark and the demo.

PURE. `write_sms_xml` / `write_calls_xml` write records the way SMS Backup & Restore does (every
attribute it writes, newlines as &#10;); `write_csv` writes our CSV. The generators make a
buyer's ordinary traffic and the harassment patterns the analysis should find, at known times.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Final

from reviewshield.forensics.parse import CSV_COLUMNS
from reviewshield.forensics.records import CALL, IN, OUT, SMS, Record

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS

_ESCAPE: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
)
_SMS_TYPE: Final = {IN: "1", OUT: "2"}
_CALL_TYPE: Final = {
    "incoming": "1",
    "outgoing": "2",
    "missed": "3",
    "voicemail": "4",
    "rejected": "5",
    "blocked": "6",
    "other": "7",
}


def _readable(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%b %d, %Y %I:%M:%S %p")


def write_sms_xml(out: IO[str], records: Iterable[Record], *, count: int | None = None, mms: int = 0) -> None:
    """Write the SMS among `records` as an sms.xml (with `mms` MMS elements at the end)."""
    out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
    out.write("<!--File Created By SMS Backup & Restore v10.20.002 on 15/04/2026 21:00:00-->\n")
    out.write(
        f'<smses count="{count if count is not None else -1}" backup_set="00000000" backup_date="0" type="full">\n'
    )
    for r in records:
        if r.kind != SMS:
            continue
        contact = r.contact or "(Unknown)"
        out.write(
            f'  <sms protocol="0" address="{r.number.translate(_ESCAPE)}" date="{r.at_ms}" '
            f'type="{_SMS_TYPE[r.direction]}" subject="null" body="{r.body.translate(_ESCAPE)}" toa="null" '
            f'sc_toa="null" service_center="+8613800100500" read="1" status="-1" locked="0" '
            f'date_sent="{r.at_ms - 800 if r.direction == IN else 0}" sub_id="1" '
            f'readable_date="{_readable(r.at_ms)}" contact_name="{contact.translate(_ESCAPE)}" />\n'
        )
    for n in range(mms):
        out.write(
            f'  <mms date="{1776258000000 + n}" ct_t="application/vnd.wap.multipart.related" msg_box="1" '
            f'address="10086" contact_name="(Unknown)">\n    <parts>\n      <part seq="0" ct="text/plain" '
            f'text="picture message" />\n    </parts>\n    <addrs>\n      <addr address="10086" type="137" '
            f'charset="106" />\n    </addrs>\n  </mms>\n'
        )
    out.write("</smses>\n")


def write_calls_xml(out: IO[str], records: Iterable[Record], *, count: int | None = None) -> None:
    """Write the calls among `records` as a calls.xml."""
    out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
    out.write(
        f'<calls count="{count if count is not None else -1}" backup_set="00000000" backup_date="0" type="full">\n'
    )
    for r in records:
        if r.kind != CALL:
            continue
        contact = (
            f' contact_name="{r.contact.translate(_ESCAPE)}"' if r.contact else ' contact_name="(Unknown)"'
        )
        out.write(
            f'  <call number="{r.number.translate(_ESCAPE)}" duration="{r.duration_s}" date="{r.at_ms}" '
            f'type="{_CALL_TYPE[r.call_type]}" presentation="1" subscription_id="1" '
            f'readable_date="{_readable(r.at_ms)}"{contact} />\n'
        )
    out.write("</calls>\n")


def write_csv(out: IO[str], records: Iterable[Record]) -> None:
    """Write records in the documented CSV (epoch milliseconds in `at`)."""
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a lone "\r" in a text gets quoted too
    writer.writerow(CSV_COLUMNS)
    for r in records:
        direction = r.direction if r.kind == SMS else _csv_direction(r)
        writer.writerow(
            [r.kind, r.at_ms, r.number, direction, r.duration_s if r.kind == CALL else "", r.body, r.contact]
        )


def _csv_direction(r: Record) -> str:
    return {"incoming": "in", "outgoing": "out", "other": "in"}.get(r.call_type, r.call_type)


def as_bytes(writer: object, records: Iterable[Record], **kwargs: int) -> bytes:
    """One of the writers' output as UTF-8 bytes."""
    out = io.StringIO()
    writer(out, records, **kwargs)  # type: ignore[operator]
    return out.getvalue().encode("utf-8")


# -- generators ----------------------------------------------------------------------------------

_CONTACTS: Final = ("妈妈", "老王", "Li Wei", "公司前台", "快递小哥", "张姐", "Anna")
_CHAT: Final = (
    "晚上一起吃饭吗？",
    "好的，明天见",
    "快递放在门卫了",
    "Running late, 10 min",
    "收到，谢谢",
    "周末去爬山吗",
    "Meeting moved to 3pm",
    "记得带伞 & 外套",
)
_ADS: Final = (
    "【某某商城】会员日全场5折，回T退订",
    "【银行】您尾号1234的卡消费128.00元",
    "【10086】您的话费余额为36.50元",
)
_CODE_SENDERS: Final = ("1069012345", "106550101955", "10690000888", "1065905511", "106980095588", "95555")
_CODE_TEXTS: Final = (
    "【美团】{code}（验证码），用于登录，5分钟内有效。请勿泄露。",
    "【京东】验证码：{code}，您正在登录，若非本人操作，请忽略本短信。",
    "【拼多多】您的验证码是{code}，请于5分钟内填写。",
    "Your verification code is {code}. Do not share it.",
    "【滴滴出行】验证码{code}，用于手机号登录。",
    "[Alipay] OTP {code}, valid for 10 minutes.",
)


def contact_number(n: int) -> str:
    return f"1391234{n:04d}"


def background(rng: random.Random, start_ms: int, days: int, per_day: int) -> Iterator[Record]:
    """A buyer's ordinary phone traffic: chats and calls with contacts in the daytime, a few adverts,
    the odd genuine verification code and a few calls from unknown numbers that never repeat —
    nothing the analysis should flag at up to a few dozen records a day. Records come in time order."""
    gap = DAY_MS // max(per_day, 1)
    at = start_ms
    for n in range(days * per_day):
        at = start_ms + n * gap + rng.randrange(max(gap // 2, 1))
        local_hour = ((at + 8 * HOUR_MS) // HOUR_MS) % 24
        if local_hour >= 22 or local_hour < 7:
            at -= 10 * HOUR_MS  # people sleep; move it to the afternoon
        roll = rng.random()
        who = rng.randrange(len(_CONTACTS))
        if roll < 0.45:
            yield Record(
                SMS, at, contact_number(who), rng.choice((IN, OUT)), "", 0, rng.choice(_CHAT), _CONTACTS[who]
            )
        elif roll < 0.54:
            yield Record(SMS, at, "10690" + str(rng.randrange(10**5, 10**6)), IN, "", 0, rng.choice(_ADS), "")
        elif roll < 0.56:
            # the buyer logging in somewhere: a genuine verification code, now and then
            body = rng.choice(_CODE_TEXTS).format(code=f"{rng.randrange(10**5, 10**6)}")
            yield Record(SMS, at, rng.choice(_CODE_SENDERS), IN, "", 0, body, "")
        elif roll < 0.96:
            call_type = rng.choice(("incoming", "outgoing", "incoming", "missed"))
            direction = OUT if call_type == "outgoing" else IN
            duration = 0 if call_type == "missed" else rng.randrange(10, 900)
            yield Record(CALL, at, contact_number(who), direction, call_type, duration, "", _CONTACTS[who])
        else:
            # an unknown number, once: a courier, a survey — never twice the same
            yield Record(
                CALL, at, f"1{rng.randrange(30, 90)}{rng.randrange(10**8, 10**9)}", IN, "incoming", 30, "", ""
            )


def code_burst(rng: random.Random, start_ms: int, count: int, gap_ms: int, senders: int) -> list[Record]:
    """`count` verification-code SMS from `senders` senders, `gap_ms` apart, from `start_ms`."""
    out = []
    for n in range(count):
        sender = _CODE_SENDERS[n % senders] if senders <= len(_CODE_SENDERS) else f"10690{n % senders:06d}"
        body = _CODE_TEXTS[n % len(_CODE_TEXTS)].format(code=f"{rng.randrange(10**5, 10**6)}")
        out.append(Record(SMS, start_ms + n * gap_ms, sender, IN, "", 0, body, ""))
    return out


def call_flood(
    start_ms: int, count: int, gap_ms: int, number: str, call_type: str = "rejected"
) -> list[Record]:
    """`count` calls from one unknown `number`, `gap_ms` apart."""
    return [Record(CALL, start_ms + n * gap_ms, number, IN, call_type, 0, "", "") for n in range(count)]


def late_night(first_night_ms: int, nights: int, number: str, per_night: int = 2) -> list[Record]:
    """Contact from one unknown `number` on `nights` consecutive nights, `per_night` times each,
    starting at `first_night_ms` (which should be late at night, local time)."""
    out = []
    for night in range(nights):
        for k in range(per_night):
            at = first_night_ms + night * DAY_MS + k * 20 * MINUTE_MS
            if k % 2:
                out.append(Record(SMS, at, number, IN, "", 0, "还不删差评？我们慢慢玩", ""))
            else:
                out.append(Record(CALL, at, number, IN, "missed", 0, "", ""))
    return out
