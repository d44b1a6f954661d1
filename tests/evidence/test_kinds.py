"""The pure upload rules: which sniffed types each kind takes, its limits, and safe display names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.evidence.kinds import KINDS, MB, Shown, display_name, judge, kinds_with_limits, markup_found
from reviewshield.evidence.models import EvidenceKind

CASES = [
    ("chat_screenshot", "image/png", 1000, "", None),
    ("chat_screenshot", "image/heic", 1000, "", None),
    ("chat_screenshot", "application/pdf", 1000, "", "type_not_allowed"),
    ("chat_screenshot", "image/svg+xml", 1000, "", "dangerous_type"),
    ("chat_screenshot", "text/html", 1000, "", "dangerous_type"),
    ("chat_screenshot", "application/zip", 1000, "", "dangerous_type"),
    ("chat_screenshot", "image/png", 20 * MB, "", None),
    ("chat_screenshot", "image/png", 20 * MB + 1, "", "too_large"),
    ("chat_screenshot", "image/png", 0, "", "empty"),
    ("carrier_bill", "application/pdf", 1000, "", None),
    ("call_records", "text/csv", 1000, "", None),
    ("audio", "audio/mpeg", 50 * MB, "", None),
    ("audio", "audio/mpeg", 50 * MB + 1, "", "too_large"),
    ("audio", "video/mp4", 1000, "", "type_not_allowed"),
    ("unboxing_video", "video/mp4", 500 * MB, "", None),
    ("unboxing_video", "video/quicktime", 500 * MB + 1, "", "too_large"),
    ("statement", "text/plain", 1 * MB, "", None),
    ("statement", "text/plain", 1 * MB + 1, "", "too_large"),
    ("statement", "application/pdf", 2 * MB, "", None),  # a PDF statement has the PDF limit
    ("statement", "application/x-dosexec", 10, "", "dangerous_type"),
    ("waybill", "image/jpeg", 1000, "", "reference_missing"),
    ("waybill", "image/jpeg", 1000, "SF1234567890", None),
    ("horoscope", "image/png", 1000, "", "unknown_kind"),
    # Phone exports: XML is taken for this kind alone (sealed for agents), up to 512 MB.
    ("phone_export", "text/xml", 1000, "", None),
    ("phone_export", "application/xml", 512 * MB, "", None),
    ("phone_export", "application/xml", 512 * MB + 1, "", "too_large"),
    ("phone_export", "text/csv", 1000, "", None),
    ("phone_export", "text/plain", 1000, "", None),
    ("phone_export", "image/svg+xml", 1000, "", "dangerous_type"),
    ("phone_export", "text/html", 1000, "", "dangerous_type"),
    ("call_records", "text/xml", 1000, "", "dangerous_type"),
    ("statement", "application/xml", 1000, "", "dangerous_type"),
    ("forensic_report", "application/json", 1000, "", "unknown_kind"),  # written by ReviewShield only
]


@pytest.mark.parametrize(("kind", "mime", "size", "reference", "code"), CASES)
def test_judge(kind, mime, size, reference, code):
    refusal = judge(KINDS, kind, mime, size, reference)
    assert (refusal.code if refusal else None) == code


def test_every_kind_people_can_choose_has_rules_and_the_reverse():
    # The forensic report is evidence ReviewShield writes itself; nobody uploads one.
    assert set(KINDS) == set(EvidenceKind.values) - {EvidenceKind.FORENSIC_REPORT}


def test_what_the_other_side_sees_of_each_kind():
    assert KINDS["chat_screenshot"].family("image/png").shown == Shown.CLEAN_IMAGE
    assert KINDS["carrier_bill"].family("image/png").shown == Shown.AGENT_ONLY  # the buyer's own number
    assert KINDS["phone_export"].family("text/xml").shown == Shown.AGENT_ONLY  # the buyer's whole phone log
    assert KINDS["statement"].family("text/plain").shown == Shown.MASKED_TEXT
    assert {
        KINDS[k].family(t).shown for k, t in (("audio", "audio/mpeg"), ("unboxing_video", "video/mp4"))
    } == {Shown.AGENT_ONLY}


def test_a_deployment_can_change_the_video_limit_only():
    kinds = kinds_with_limits(800 * MB)
    assert judge(kinds, "unboxing_video", "video/mp4", 700 * MB) is None
    assert judge(kinds, "chat_screenshot", "image/png", 21 * MB).code == "too_large"


@pytest.mark.parametrize(
    ("chunk", "mime", "found"),
    [
        (b"\xff\xd8\xff\xfe<script>alert(1)</script>", "image/jpeg", "<script"),
        (b"...<!DOCTYPE html>...", "image/png", "<!DOCTYPE html"),
        (b"<< /S /JavaScript /JS (x) >>", "application/pdf", "/JavaScript"),
        (b"plain pixels \x00\x01", "image/png", None),
        (b"<script>", "video/mp4", None),  # not looked for in media only agents download
    ],
)
def test_markup_found(chunk, mime, found):
    assert markup_found(chunk, mime) == found


@given(st.text(max_size=300))
def test_a_display_name_is_never_a_path(name):
    shown = display_name(name)
    assert shown and len(shown) <= 120
    assert "/" not in shown and "\\" not in shown and not shown.startswith(".")
    assert not any(ord(c) < 32 for c in shown)
