"""What every portal's views share: who may open a page, the posted version, refusals as text, downloads,
and appeals on a party's case page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reviewshield.cases import services
from reviewshield.cases.models import Case, CaseStatus, Side
from reviewshield.cases.selectors import evidence_copy_for, evidence_for_user
from reviewshield.errors import NotFound, ReviewShieldError, ValidationFailed
from reviewshield.evidence.downloads import blob_response
from reviewshield.policy import UnknownRuleset
from reviewshield.privacy.selectors import mask_for_seller
from reviewshield.sanctions.appeals import appeal_file, appeal_state_for
from reviewshield.sanctions.models import AppealStatus
from reviewshield.web.forms import AppealForm, EvidenceForm
from reviewshield.web.kept import KeptFiles
from reviewshield.web.templatetags.rs import local


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
    """One sentence for a message: the refusal's own message, or — when a validation failure has only
    the general one — its per-field problems.

    Details are sentences only then; otherwise they carry data for programs (a message id, a case).
    """
    general = exc.code == "invalid" and str(exc.message) == str(ValidationFailed.default_message)
    problems = [str(v) for v in exc.details.values() if isinstance(v, str)] if general else []
    return " ".join(problems) or str(exc.message)


def bundle_download(case: Any, side: str) -> FileResponse:
    """The case's evidence bundle as a reader on `side` may have it (buyer or agent)."""
    from reviewshield.evidence.bundles import bundle_build

    return FileResponse(
        bundle_build(case=case, side=side, now=timezone.now()),
        as_attachment=True,
        filename=f"{case.reference}-evidence.zip",
        content_type="application/zip",
    )


def evidence_rows(case: Any, viewer_side: str) -> list[dict[str, Any]]:
    """The case's evidence as a party sees it: what it is, and the copy they may open (if any).

    A seller reads the buyer's file names and descriptions with the buyer's personal data masked.
    """

    def shown(text: str) -> str:
        return mask_for_seller(text, case.buyer) if viewer_side == "seller" else text

    rows = []
    for item in case.evidence.select_related("blob", "clean_blob").order_by("created_at", "id"):
        if viewer_side == "seller" and item.kind == "forensic_report":
            continue  # built from the buyer's phone: the seller does not learn of it
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


def evidence_add(
    request: HttpRequest,
    case_id: int,
    *,
    purpose: str,
    add: Callable[[list[Any], datetime], list[Any]] | None = None,
) -> EvidenceForm | None:
    """Either party adds evidence of one kind. None when added (with a message); else the refused
    form, bound, with each problem at its field and the accepted files kept (`form.kept_files`).

    `add(uploads, now)` stores them (default: in case `case_id`); `purpose` names the form for the
    kept files (`web.kept`)."""
    kept = KeptFiles(request, purpose=purpose, side=_side_of(request.user))
    form = EvidenceForm(request.POST, request.FILES, kept=len(kept.rows))
    if not kept.valid(form):
        kept.refused(form)
        return form
    try:
        with kept.uploads(
            form.uploads(),
            kind=form.cleaned_data["evidence_kind"],
            reference=form.cleaned_data["reference"],
            description=form.cleaned_data["description"],
        ) as files:
            if add is None:
                added = services.case_evidence_add(
                    case_id=case_id,
                    user=request.user,  # type: ignore[arg-type]
                    files=files,
                    now=timezone.now(),
                )
            else:
                added = add(files, timezone.now())
    except ReviewShieldError as exc:
        _refused(request, kept, form, exc)
        return form
    kept.accepted()
    messages.success(
        request,
        ngettext(
            "%(count)d file added to the evidence.", "%(count)d files added to the evidence.", len(added)
        )
        % {"count": len(added)},
    )
    return None


def _refused(request: HttpRequest, kept: KeptFiles, form: Any, exc: ReviewShieldError) -> None:
    """A problem with what was sent goes to its field; a refusal of the step itself (the window
    closed, the case moved on) is a message on the page, which may no longer show the form."""
    if isinstance(exc, ValidationFailed):
        kept.refused(form, exc)
    else:
        kept.refused(form)
        messages.error(request, refusal_text(exc))


def _side_of(user: Any) -> str:
    """Whose masking rules a kept file is checked under (only whether intake accepts it matters)."""
    return Side.BUYER if getattr(user, "role", "") == "buyer" else Side.SELLER


def evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> HttpResponse:
    """A party opens an evidence file: its own originals, the other side's clean copies."""
    try:
        item, blob = evidence_for_user(request.user, case_id, evidence_id)
    except NotFound as exc:
        raise Http404 from exc
    return blob_response(blob, filename_stem=f"evidence-{item.pk}", inline=request.GET.get("view") == "1")


def appeal_context(case: Case, side: str, now: datetime, form: AppealForm | None = None) -> dict[str, Any]:
    """What a party's case page shows about appeals: the window, the form while this side may file,
    and the appeals so far (a seller does not read the buyer's reasons, which may carry personal data).

    `form` is the one just refused, so what the person typed is still there.
    """
    try:
        state = appeal_state_for(case)
    except UnknownRuleset:  # a ruleset file removed since the decision: show the case, offer no appeal
        state = {"open": False, "ends": None}
    appeals = list(case.appeals.order_by("filed_at", "id"))
    pending = any(a.status == AppealStatus.PENDING for a in appeals)
    window_open = state["open"] and state["ends"] > now
    # Whom the service would refuse anyway sees no form: one appeal per side, one waiting at a time,
    # and a rejection leaves the seller nothing to appeal.
    may_file = (
        window_open
        and not any(a.side == side for a in appeals)
        and not (side == Side.SELLER and case.status == CaseStatus.REJECTED)
    )
    return {
        "appeal_ends": state["ends"] if window_open else None,
        "appeal_closed": state["ends"] if state["open"] and not window_open else None,
        "appeal_form": (form or AppealForm()) if may_file and not pending else None,
        "appeal_waiting": may_file and pending,
        # A post that offered no form (another appeal waits, the window closed, this side appealed):
        # its refusal is said where the form would be, not left to a field nobody sees.
        "appeal_refused": form is not None and not (may_file and not pending),
        # The buyer reads the seller's reasons too (they carry no buyer data); a seller reads only
        # their own, as the buyer's may name the buyer; the senior agent's reasons may quote the
        # buyer, so a seller reads them masked.
        "appeals": [
            {
                "appeal": a,
                "own": a.side == side,
                "reasons": a.reasons if a.side == side or side == Side.BUYER else "",
                "decision_reasons": mask_for_seller(a.decision_reasons, case.buyer)
                if side == Side.SELLER
                else a.decision_reasons,
            }
            for a in appeals
        ],
        # Either side may add evidence while an appeal waits for its decision.
        "evidence_open": case.is_open or pending,
    }


def appeal_add(request: HttpRequest, case_id: int) -> AppealForm | None:
    """File an appeal from a case page. None when filed; else the refused form, bound, with each
    problem at its field and the accepted files kept (`form.kept_files`)."""
    kept = KeptFiles(request, purpose=f"appeal:{case_id}", side=_side_of(request.user))
    form = AppealForm(request.POST, request.FILES)
    if not kept.valid(form):
        kept.refused(form)
        return form
    try:
        with kept.uploads(
            form.uploads(),
            kind=form.cleaned_data["evidence_kind"],
            reference=form.cleaned_data["reference"],
            description=form.cleaned_data["description"],
        ) as files:
            appeal = appeal_file(
                case_id=case_id,
                user=request.user,  # type: ignore[arg-type]
                reasons=form.cleaned_data["reasons"],
                files=files,
                now=timezone.now(),
            )
    except ReviewShieldError as exc:
        _refused(request, kept, form, exc)
        return form
    kept.accepted()
    messages.success(
        request,
        _("Your appeal was filed. A senior agent decides it by %(decide_by)s (Beijing time).")
        % {"decide_by": local(appeal.decide_by)},
    )
    return None


def next_or(request: HttpRequest, default: str) -> str:
    """The page a form came from (its `next` field), if it is one of ours; else `default`."""
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return default


def confirmed(
    request: HttpRequest,
    *,
    title: str,
    consequence: str,
    confirm_label: str,
    keep_label: str,
    back: str,
    carried: dict[str, str],
) -> HttpResponse | None:
    """None when the person confirmed a destructive step; else the page that asks them first.

    The step's form posts here without `confirm`; the page posts the same fields again with
    `confirm=yes` — a plain form, so it works without JavaScript. `back` is where “keep” leads.
    """
    if request.POST.get("confirm") == "yes":
        return None
    return render(
        request,
        "web/confirm.html",
        {
            "title": title,
            "consequence": consequence,
            "confirm_label": confirm_label,
            "keep_label": keep_label,
            "back": back,
            "action": request.path,
            "carried": carried,
        },
    )
