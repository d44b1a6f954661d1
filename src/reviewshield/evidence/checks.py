"""System checks that tell admins at start-up when checkpoint timestamps are set up wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register()
def tsa_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report a TSA that cannot work, or whose answers nobody checks, before the worker's log does."""
    from cryptography import x509

    url, ca_file = settings.REVIEWSHIELD_TSA_URL, settings.REVIEWSHIELD_TSA_CA_FILE
    if not url:
        return []
    if not url.startswith(("https://", "http://")):
        return [
            checks.Error(
                f"REVIEWSHIELD_TSA_URL {url!r} is not an http(s) URL.",
                hint="Give the time-stamping authority's RFC 3161 endpoint, e.g. https://tsa.example/tsr.",
                id="evidence.E001",
            )
        ]
    if not ca_file:
        return [
            checks.Warning(
                "Checkpoint timestamps are stored without checking who signed them: "
                "REVIEWSHIELD_TSA_CA_FILE is not set.",
                hint="Point REVIEWSHIELD_TSA_CA_FILE at the TSA's root certificate (PEM); bundles then carry it.",
                id="evidence.W001",
            )
        ]
    try:
        x509.load_pem_x509_certificates(Path(ca_file).read_bytes())
    except (OSError, ValueError) as exc:
        return [
            checks.Error(
                f"REVIEWSHIELD_TSA_CA_FILE {ca_file} cannot be used: {exc}",
                hint="It must be a readable PEM file of the TSA's root (and intermediate) certificates.",
                id="evidence.E002",
            )
        ]
    return []
