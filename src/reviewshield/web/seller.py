"""The seller's pages: complaints against their shops and the case, with the buyer's data masked, and
each shop's points, penalties and compensation due.

A seller sees the buyer only as a masked alias; the narrative, evidence names and descriptions go
through `privacy.selectors.mask_for_seller` before they reach the template, and so do the
agents' decision reasons (an agent may quote the buyer).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reviewshield.accounts.models import Role
from reviewshield.cases import selectors as case_selectors
from reviewshield.cases import services
from reviewshield.cases.models import Case, Side
from reviewshield.errors import NotFound, ReviewShieldError
from reviewshield.forensics.models import FORENSIC_EVENTS
from reviewshield.limits.edges import limited
from reviewshield.privacy.selectors import mask_for_seller
from reviewshield.sanctions import selectors as sanctions
from reviewshield.web.chat import chat_context
from reviewshield.web.common import (
    appeal_add,
    appeal_context,
    evidence_add,
    evidence_file,
    evidence_rows,
    only_for,
    posted_version,
    refusal_text,
)
from reviewshield.web.forms import AppealForm, EvidenceForm, uploads_from

seller_only = only_for(lambda user: user.role == Role.SELLER)


@seller_only
def cases(request: HttpRequest) -> HttpResponse:
    shops = list(request.user.shops.select_related("platform").order_by("platform_id", "name"))  # type: ignore[union-attr]
    # No shop chosen: all of the seller's shops, so nothing urgent hides behind the switcher.
    chosen = next((s for s in shops if str(s.pk) == request.GET.get("shop")), None)
    qs = case_selectors.case_list_for_user(request.user, shop_id=chosen.pk if chosen else None)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "web/seller/cases.html", {"shops": shops, "shop": chosen, "page": page})


@seller_only
def shop_sanctions(request: HttpRequest, shop_id: int) -> HttpResponse:
    """One of the seller's shops: points, penalties and what lifts them, the ledger, compensation due."""
    shops = list(request.user.shops.select_related("platform").order_by("platform_id", "name"))  # type: ignore[union-attr]
    shop = next((s for s in shops if s.pk == shop_id), None)
    if shop is None:  # another seller's shop, or none at all: no hint which
        raise Http404
    return render(
        request,
        "web/seller/sanctions.html",
        {"shop": shop, "shops": shops, **sanctions.shop_sanctions_for_seller(shop, timezone.now())},
    )


def _seller_case(request: HttpRequest, case_id: int) -> Case:
    try:
        case, side = case_selectors.case_get_for_user(request.user, case_id)
    except NotFound as exc:
        raise Http404 from exc
    if side != Side.SELLER:
        raise Http404
    return case


def masked_view(case: Case) -> dict[str, Any]:
    """What of the buyer's statement a seller may read (evidence: `common.evidence_rows`)."""
    return {
        "buyer_alias": case.buyer.public_alias,
        "narrative": mask_for_seller(case.narrative, case.buyer),
        "decision_reasons": mask_for_seller(case.decision_reasons, case.buyer),
    }


@seller_only
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, _seller_case(request, case_id))


def _case_page(request: HttpRequest, case: Case, appeal_form: AppealForm | None = None) -> HttpResponse:
    return render(
        request,
        "web/seller/case.html",
        {
            "case": case,
            "shown": masked_view(case),
            "events": case.events.exclude(kind__in=FORENSIC_EVENTS),
            "evidence": evidence_rows(case, Side.SELLER),
            "evidence_form": EvidenceForm(),
            "evidence_action": reverse("web:seller_evidence_add", args=[case.pk]),
            "evidence_url": "web:seller_evidence_file",
            "appeal_action": reverse("web:seller_appeal", args=[case.pk]),
            **appeal_context(case, Side.SELLER, timezone.now(), appeal_form),
            **chat_context(case, Side.SELLER),
        },
        status=422 if appeal_form is not None else 200,
    )


@require_POST
@seller_only
@limited("appeal_file")
def case_appeal(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _seller_case(request, case_id)
    refused = appeal_add(request, case.pk)
    if refused is None:
        return redirect("web:seller_case", case_id=case.pk)
    return _case_page(request, case, refused)  # what the seller wrote stays in the form


@require_POST
@seller_only
@limited("evidence_upload")
def case_evidence_add(request: HttpRequest, case_id: int) -> HttpResponse:
    _seller_case(request, case_id)
    return evidence_add(request, case_id, "web:seller_case")


@seller_only
def case_evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> HttpResponse:
    _seller_case(request, case_id)
    return evidence_file(request, case_id, evidence_id)


@require_POST
@seller_only
def case_answer(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _seller_case(request, case_id)
    form = EvidenceForm(request.POST, request.FILES)
    form.is_valid()  # the answer may come without files; a kind is needed only with them
    files = uploads_from(form.cleaned_data) if request.FILES.getlist("files") else []
    if files and not form.cleaned_data.get("evidence_kind"):
        messages.error(request, _("Say what kind of evidence the files are."))
        return redirect("web:seller_case", case_id=case.pk)
    try:
        services.case_answer(
            case_id=case.pk,
            seller=request.user,  # type: ignore[arg-type]
            kind=request.POST.get("kind", ""),
            text=request.POST.get("text", ""),
            files=files,
            expected_version=posted_version(request),
            now=timezone.now(),
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, _("Your answer was sent."))
    return redirect("web:seller_case", case_id=case.pk)
