"""Phone-export forensics: speed and memory on a 1,000,000-record export.

The export is generated once into a temporary folder as SMS Backup & Restore files — sms.xml and
calls.xml, every attribute the app writes (about 340 bytes an SMS, 200 a call; ~280 MB in all) —
four years of a busy buyer's ordinary traffic (about 680 records a day) (chats and calls with contacts, adverts, the odd unknown
caller) with, after a bad review, a 300-code SMS bombing, two call floods and a week of
late-night contact injected.

phone_export_records_per_s — `forensics.analysis.analyse` on one core: parse both files, find,
read back the records behind the findings, correlate with the review; records / wall second,
the median of three runs. Target ≥ 150,000.

phone_export_records_per_cpu_s — the same runs per second of this process's CPU time: the figure
to compare on a shared machine, where other work stretches the wall clock. (For scale: expat
alone, calling an empty Python function per element, reads this export at about 180,000 records
per CPU second on the 2.5 GHz Xeon the figures in the README were taken on.)

phone_export_peak_mb — the peak resident memory (VmHWM) of a fresh Python process that
imports the pure forensics package and analyses the same export. Target ≤ 150.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from datetime import datetime
from typing import IO

from harness import Figures, figures
from reviewshield.forensics import synthetic
from reviewshield.forensics.analysis import Anchor, Source, analyse
from reviewshield.policy.calendar import BUSINESS_TZ

RECORDS = 1_000_000
DAYS = 4 * 365
START = datetime(2022, 3, 21, tzinfo=BUSINESS_TZ)
REVIEW = datetime(2026, 1, 10, 20, 15, tzinfo=BUSINESS_TZ)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _write(folder: str) -> tuple[str, str, int]:
    rng = random.Random(6)
    review = _ms(REVIEW)
    injected = [
        *synthetic.code_burst(rng, review + 2 * synthetic.HOUR_MS, 300, 7_000, 6),
        *synthetic.call_flood(review + 26 * synthetic.HOUR_MS, 25, 4 * synthetic.MINUTE_MS, "17012345678"),
        *synthetic.call_flood(
            review + 50 * synthetic.HOUR_MS, 12, 9 * synthetic.MINUTE_MS, "16511112222", "missed"
        ),
        *synthetic.late_night(review + 4 * synthetic.DAY_MS + 3 * synthetic.HOUR_MS, 7, "16698765432", 3),
    ]
    per_day = -(-(RECORDS - len(injected)) // DAYS)
    background = list(synthetic.background(rng, _ms(START), DAYS, per_day))[: RECORDS - len(injected)]
    records = sorted([*background, *injected], key=lambda r: r.at_ms)
    sms_path, calls_path = os.path.join(folder, "sms.xml"), os.path.join(folder, "calls.xml")
    with open(sms_path, "w", encoding="utf-8") as out:
        synthetic.write_sms_xml(out, records, count=sum(1 for r in records if r.kind == "sms"))
    with open(calls_path, "w", encoding="utf-8") as out:
        synthetic.write_calls_xml(out, records, count=sum(1 for r in records if r.kind == "call"))
    return sms_path, calls_path, len(records)


def _opener(path: str) -> Source:
    def open_file() -> AbstractContextManager[IO[bytes]]:
        return open(path, "rb")

    return Source(os.path.basename(path), open_file)


def run_once(sms_path: str, calls_path: str) -> int:
    """Analyse the export once; returns the number of findings (so the work cannot be skipped)."""
    analysis = analyse(
        [_opener(sms_path), _opener(calls_path)], tz=BUSINESS_TZ, anchors=[Anchor("review", _ms(REVIEW))]
    )
    return len(analysis.findings)


# The child's own high-water mark: VmHWM belongs to the memory of the program after exec, whereas
# ru_maxrss on Linux carries over the parent's size from the fork (about 340 MB here, the parent
# holding the generated records).
_CHILD = """
import sys
sys.path.insert(0, {bench!r})
from bench_forensics import run_once
found = run_once({sms!r}, {calls!r})
status = open("/proc/self/status").read()
print(found, next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")))
"""


@figures("phone_export_records_per_s", "phone_export_records_per_cpu_s", "phone_export_peak_mb")
def phone_export() -> Figures:
    with tempfile.TemporaryDirectory(prefix="rs-bench-forensics-") as folder:
        sms_path, calls_path, count = _write(folder)
        rates, cpu_rates = [], []
        for _ in range(3):
            started, cpu_started = time.perf_counter(), time.process_time()
            found = run_once(sms_path, calls_path)
            rates.append(count / (time.perf_counter() - started))
            cpu_rates.append(count / (time.process_time() - cpu_started))
        if found < 4:
            raise RuntimeError(f"the injected harassment was not all found ({found} findings)")
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                _CHILD.format(
                    bench=os.path.dirname(os.path.abspath(__file__)), sms=sms_path, calls=calls_path
                ),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        peak_kb = int(child.stdout.split()[-1])  # VmHWM is in kB
    return {
        "phone_export_records_per_s": (statistics.median(rates), "records/s"),
        "phone_export_records_per_cpu_s": (statistics.median(cpu_rates), "records/s"),
        "phone_export_peak_mb": (peak_kb / 1024, "MB"),
    }
