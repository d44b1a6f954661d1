"""Public pages, no login: the seller credit blacklist, the shops under public warning, and the
evidence log's key for checking bundles.

The first two read `sanctions.blacklist`, which names shops, platforms, what was decided and when —
never a buyer, an order or a case number. `/verify/` publishes the log's verifier key and its
fingerprint, which an outsider (the police, a court) pins when running `reviewshield verify`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from reviewshield.evidence.log import verifier
from reviewshield.marketplace.models import Platform
from reviewshield.proofs.checkpoint import key_fingerprint
from reviewshield.sanctions import blacklist as listing


def _platform(request: HttpRequest) -> tuple[list[Platform], str]:
    platforms = list(Platform.objects.order_by("code"))
    chosen = request.GET.get("platform", "")
    return platforms, chosen if chosen in {p.code for p in platforms} else ""


def blacklist(request: HttpRequest) -> HttpResponse:
    platforms, chosen = _platform(request)
    entries = listing.blacklist_public(timezone.now(), platform=chosen or None)
    return render(
        request, "web/public/blacklist.html", {"entries": entries, "platforms": platforms, "chosen": chosen}
    )


def warnings(request: HttpRequest) -> HttpResponse:
    platforms, chosen = _platform(request)
    entries = listing.warnings_public(timezone.now(), platform=chosen or None)
    return render(
        request, "web/public/warnings.html", {"entries": entries, "platforms": platforms, "chosen": chosen}
    )


def verify(request: HttpRequest) -> HttpResponse:
    key = verifier()
    return render(request, "web/public/verify.html", {"key": key, "fingerprint": key_fingerprint(key)})
