"""What every portal's views share: who may open a page, the posted version, refusals as text, downloads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import ngettext

from reviewshield.cases import services
from reviewshield.cases.selectors import evidence_copy_for, evidence_for_user
from reviewshield.errors import NotFound, ReviewShieldError
from reviewshield.evidence.downloads import blob_response
from reviewshield.privacy.masking import mask_personal_data
from reviewshield.web.forms import EvidenceForm


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


def evidence_rows(case: Any, viewer_side: str) -> list[dict[str, Any]]:
    """The case's evidence as a party sees it: what it is, and the copy they may open (if any).

    A seller reads the buyer's file names and descriptions with the buyer's personal data masked.
    """
    private = case.buyer.personal_data if viewer_side == "seller" else []

    def shown(text: str) -> str:
        return mask_personal_data(text, private) if private else text

    rows = []
    for item in case.evidence.select_related("blob", "clean_blob").order_by("created_at", "id"):
        copy = evidence_copy_for(item, viewer_side)
        rows.append(
            {
                "item": item,
                "name": shown(item.original_name),
                "description": shown(item.description),
                "reference": item.reference if item.side == viewer_side or viewer_side == "agent" else "",
                "copy": copy,
                "is_clean_copy": copy is not None and viewer_side not in (item.side, "agent"),
                "own": item.side == viewer_side,
            }
        )
    return rows


def evidence_add(request: HttpRequest, case_id: int, back: str) -> HttpResponse:
    """Either party adds evidence of one kind; a refusal says why on the page they return to."""
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(back, case_id=case_id)
    try:
        added = services.case_evidence_add(
            case_id=case_id, user=request.user, files=form.uploads(), now=timezone.now()
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d file added to the evidence.", "%(count)d files added to the evidence.", len(added)
            )
            % {"count": len(added)},
        )
    return redirect(back, case_id=case_id)


def evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> HttpResponse:
    """A party opens an evidence file: its own originals, the other side's clean copies."""
    try:
        item, blob = evidence_for_user(request.user, case_id, evidence_id)
    except NotFound as exc:
        raise Http404 from exc
    return blob_response(blob, filename_stem=f"evidence-{item.pk}", inline=request.GET.get("view") == "1")
