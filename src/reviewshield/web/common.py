"""What every portal's views share: who may open a page, the posted version, refusals as text, downloads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone

from reviewshield.errors import ReviewShieldError


def only_for(allowed: Callable[[Any], bool]) -> Callable[[Any], Any]:
    """A view for logged-in people `allowed(user)` accepts; everyone else logged in gets 403."""

    def decorate(view: Any) -> Any:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(request.user):
                raise DjangoPermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def posted_version(request: HttpRequest) -> int | None:
    """The case version the form was rendered with, for the services' optimistic check."""
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def refusal_text(exc: ReviewShieldError) -> str:
    """One sentence for a message: a validation failure's per-field problems, else the message.

    Only validation details are sentences; other refusals carry data there (a conflict names the case).
    """
    problems = [str(v) for v in exc.details.values() if isinstance(v, str)] if exc.code == "invalid" else []
    return " ".join(problems) or str(exc.message)


def bundle_download(case: Any) -> FileResponse:
    from reviewshield.evidence.bundles import bundle_build

    return FileResponse(
        bundle_build(case=case, now=timezone.now()),
        as_attachment=True,
        filename=f"{case.reference}-evidence.zip",
        content_type="application/zip",
    )
