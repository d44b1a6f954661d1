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
)
from reviewshield.web.forms import AnswerForm, AppealForm, EvidenceForm
from reviewshield.web.kept import KeptFiles

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


def _case_page(
    request: HttpRequest,
    case: Case,
    appeal_form: AppealForm | None = None,
    *,
    answer_form: AnswerForm | None = None,
    evidence_form: EvidenceForm | None = None,
) -> HttpResponse:
    refused = appeal_form is not None or answer_form is not None or evidence_form is not None
    return render(
        request,
        "web/seller/case.html",
        {
            "answer_form": answer_form or AnswerForm(),
            "case": case,
            "shown": masked_view(case),
            "events": case.events.exclude(kind__in=FORENSIC_EVENTS),
            "evidence": evidence_rows(case, Side.SELLER),
            "evidence_form": evidence_form or EvidenceForm(),
            "evidence_action": reverse("web:seller_evidence_add", args=[case.pk]),
            "evidence_url": "web:seller_evidence_file",
            "appeal_action": reverse("web:seller_appeal", args=[case.pk]),
            **appeal_context(case, Side.SELLER, timezone.now(), appeal_form),
            **chat_context(case, Side.SELLER),
        },
        status=422 if refused else 200,
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
    case = _seller_case(request, case_id)
    refused = evidence_add(request, case.pk, purpose=f"evidence:{case.pk}")
    if refused is None:
        return redirect("web:seller_case", case_id=case.pk)
    return _case_page(request, case, evidence_form=refused)  # typed text and accepted files stay


@seller_only
def case_evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> HttpResponse:
    _seller_case(request, case_id)
    return evidence_file(request, case_id, evidence_id)


@require_POST
@seller_only
def case_answer(request: HttpRequest, case_id: int) -> HttpResponse:
    """A or B with the text and files; a refusal shows the page again with everything kept."""
    case = _seller_case(request, case_id)
    form = AnswerForm(request.POST, request.FILES)
    kept = KeptFiles(request, purpose=f"answer:{case.pk}", side=Side.SELLER)
    if not kept.valid(form):
        kept.refused(form)
    else:
        try:
            with kept.uploads(form.uploads(), kind=form.cleaned_data["evidence_kind"]) as files:
                services.case_answer(
                    case_id=case.pk,
                    seller=request.user,  # type: ignore[arg-type]
                    kind=form.cleaned_data["kind"],
                    text=form.cleaned_data["text"],
                    files=files,
                    expected_version=posted_version(request),
                    now=timezone.now(),
                )
        except ReviewShieldError as exc:
            kept.refused(form, exc)
        else:
            kept.accepted()
            messages.success(request, _("Your answer was sent."))
            return redirect("web:seller_case", case_id=case.pk)
    case.refresh_from_db()
    return _case_page(request, case, answer_form=form)
