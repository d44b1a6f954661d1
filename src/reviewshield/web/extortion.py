"""Buyer-extortion reports in the three portals.

Seller: their shops' reports with each shop's rating, the report form (an order of their shop by its
number), a report with the buyer's answer masked, evidence, withdrawal. Buyer: the reports about
them, the seller's statement and evidence, the answer with its countdown. Agent: the queue by
nearest deadline, the workspace with both sides side by side, taking and deciding.

Thin like the other portals: every change goes through `extortion.services`, every read through
`extortion.selectors`; a refused form comes back (422) with the refusal and what was typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from reviewshield.accounts.models import Role
from reviewshield.cases import access
from reviewshield.cases.models import Case, Side
from reviewshield.cases.selectors import sla_state
from reviewshield.errors import NotFound, ReviewShieldError
from reviewshield.evidence.downloads import blob_response
from reviewshield.extortion import selectors, services
from reviewshield.extortion.models import ExtortionEvidence, ExtortionReport, ReportStatus, Threat
from reviewshield.limits.edges import limited
from reviewshield.marketplace.selectors import shop_rating
from reviewshield.web.common import (
    confirmed,
    evidence_add,
    evidence_rows,
    only_for,
    posted_version,
    refusal_text,
)
from reviewshield.web.forms import (
    EvidenceForm,
    IncidentForm,
    LimitedText,
    OptionalEvidence,
    uploads_from,
)
from reviewshield.web.kept import KeptFiles
from reviewshield.web.templatetags.rs import local

seller_only = only_for(lambda user: user.role == Role.SELLER)
buyer_only = only_for(lambda user: user.role == Role.BUYER)
agent_only = only_for(access.is_agent)


def _report_for(request: HttpRequest, report_id: int, side: str) -> ExtortionReport:
    """The report if the person stands on `side` of it; 404 otherwise (no hint that it exists)."""
    try:
        report, found = selectors.report_get_for_user(request.user, report_id)
    except NotFound as exc:
        raise Http404 from exc
    if found != side:
        raise Http404
    return report


def _evidence_download(request: HttpRequest, report_id: int, evidence_id: int) -> HttpResponse:
    try:
        item, blob = selectors.evidence_for_user(request.user, report_id, evidence_id)
    except NotFound as exc:
        raise Http404 from exc
    return blob_response(
        blob, filename_stem=f"extortion-evidence-{item.pk}", inline=request.GET.get("view") == "1"
    )


def _evidence_added(request: HttpRequest, report: ExtortionReport, side: str) -> HttpResponse:
    refused = evidence_add(
        request,
        report.pk,
        purpose=f"extortion-evidence:{report.pk}",
        add=lambda files, now: services.report_evidence_add(
            report_id=report.pk,
            user=request.user,  # type: ignore[arg-type]
            files=files,
            now=now,
        ),
    )
    if side == Side.BUYER:
        if refused is None:
            return redirect("web:buyer_extortion_report", report_id=report.pk)
        return _buyer_page(request, report, status=422, evidence_form=refused)
    if refused is None:
        return redirect("web:seller_extortion_report", report_id=report.pk)
    return _seller_page(request, report, status=422, evidence_form=refused)


def _report_context(
    report: ExtortionReport,
    side: str,
    evidence_add_url: str,
    evidence_url: str,
    evidence_form: EvidenceForm | None = None,
) -> dict[str, Any]:
    """What the seller's and the buyer's report pages share: the texts this side may read, the
    order's review (folded if marked), the evidence with the add form while open, the timeline."""
    return {
        "report": report,
        "texts": selectors.report_texts_for(report, side),
        "review": selectors.report_review(report, side),
        "events": report.events.all(),
        "evidence": evidence_rows(report, side),
        "evidence_form": evidence_form or EvidenceForm(),
        "evidence_open": report.is_open,
        "evidence_action": evidence_add_url,
        "evidence_url": evidence_url,
    }


# --- seller ------------------------------------------------------------------------------------


class ReportForm(IncidentForm):
    """The seller's report: the order by its number, the threat and the demand, then the incident."""

    field_order = ["order_number", "threat", "demand", "demand_amount", "occurred_at", "narrative"]

    order_number = forms.CharField(
        label=gettext_lazy("Order number"),
        max_length=100,
        error_messages={"required": gettext_lazy("Give the number of the order.")},
    )
    threat = forms.ChoiceField(
        label=gettext_lazy("What did the buyer threaten?"),
        choices=Threat.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose what the buyer threatened.")},
    )
    demand = LimitedText(
        "demand",
        field_id="id_demand",
        rows=2,
        label=gettext_lazy("What did the buyer demand?"),
        error_messages={"required": gettext_lazy("Say what the buyer demanded.")},
    )
    demand_amount = forms.DecimalField(
        label=gettext_lazy("Amount demanded in yuan (optional)"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
    )
    description = forms.CharField(
        label=gettext_lazy("What does it show? (optional)"), max_length=500, required=False
    )


class ExtortionAnswerForm(OptionalEvidence):
    """The buyer's answer to a report: their side in words, and evidence files of one kind."""

    element_ids = {"text": "answer-text", "files": "answer-files", "evidence_kind": "answer-kind"}
    field_order = ["text", "files", "evidence_kind"]

    text = forms.CharField(
        label=gettext_lazy("What happened, in your words"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": gettext_lazy("Write your answer.")},
    )


def _shop_ratings(shops: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for shop in shops:
        figures = shop_rating(shop.pk)
        share = figures.good_share
        rows.append(
            {"shop": shop, "rating": figures, "percent": f"{share * 100:.1f}" if share is not None else None}
        )
    return rows


@seller_only
def seller_reports(request: HttpRequest) -> HttpResponse:
    shops = list(request.user.shops.select_related("platform").order_by("platform_id", "name"))  # type: ignore[union-attr]
    page = Paginator(selectors.report_list_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request, "web/extortion/seller_reports.html", {"page": page, "ratings": _shop_ratings(shops)}
    )


@seller_only
@limited("extortion_report")
def seller_file(request: HttpRequest) -> HttpResponse:
    initial = {"order_number": request.GET.get("order", "")[:100]}
    form = ReportForm(request.POST or None, request.FILES or None, initial=initial)
    kept = KeptFiles(request, purpose="extortion:new", side=Side.SELLER)
    if request.method == "POST" and not kept.valid(form):
        kept.refused(form)
    elif request.method == "POST":
        data = form.cleaned_data
        order = selectors.seller_order_by_number(request.user, data["order_number"])
        if order is None:
            form.add_error("order_number", _("None of your shops has an order with this number."))
            kept.refused(form)
        else:
            try:
                with kept.uploads(
                    form.uploads(), kind=data["evidence_kind"], description=data["description"]
                ) as files:
                    report = services.report_file(
                        seller=request.user,  # type: ignore[arg-type]
                        order_id=order.pk,
                        threat=data["threat"],
                        demand=data["demand"],
                        demand_amount=data["demand_amount"],
                        occurred_at=data["occurred_at"],
                        narrative=data["narrative"],
                        files=files,
                        now=timezone.now(),
                    )
            except ReviewShieldError as exc:
                kept.refused(form, exc)
            else:
                kept.accepted()
                messages.success(
                    request,
                    _(
                        "Your report %(reference)s was filed. The buyer may answer until %(answer_by)s (Beijing time)."
                    )
                    % {"reference": report.reference, "answer_by": local(report.answer_by)},
                )
                return redirect("web:seller_extortion_report", report_id=report.pk)
    return render(
        request, "web/extortion/seller_file.html", {"form": form}, status=422 if form.errors else 200
    )


@seller_only
def seller_report(request: HttpRequest, report_id: int) -> HttpResponse:
    return _seller_page(request, _report_for(request, report_id, Side.SELLER))


def _seller_page(
    request: HttpRequest,
    report: ExtortionReport,
    status: int = 200,
    evidence_form: EvidenceForm | None = None,
) -> HttpResponse:
    return render(
        request,
        "web/extortion/seller_report.html",
        _report_context(
            report,
            Side.SELLER,
            reverse("web:seller_extortion_evidence_add", args=[report.pk]),
            "web:seller_extortion_evidence_file",
            evidence_form,
        ),
        status=status,
    )


@require_POST
@seller_only
@limited("evidence_upload")
def seller_evidence_add(request: HttpRequest, report_id: int) -> HttpResponse:
    return _evidence_added(request, _report_for(request, report_id, Side.SELLER), Side.SELLER)


@seller_only
def seller_evidence_file(request: HttpRequest, report_id: int, evidence_id: int) -> HttpResponse:
    _report_for(request, report_id, Side.SELLER)
    return _evidence_download(request, report_id, evidence_id)


@require_POST
@seller_only
def seller_withdraw(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_for(request, report_id, Side.SELLER)
    ask = confirmed(
        request,
        title=_("Withdraw report %(reference)s?") % {"reference": report.reference},
        consequence=_("The report ends now and the buyer is told. A withdrawn report cannot be reopened."),
        confirm_label=_("Yes, withdraw the report"),
        keep_label=_("No, keep the report"),
        back=reverse("web:seller_extortion_report", args=[report.pk]),
        carried={"reason": request.POST.get("reason", ""), "version": request.POST.get("version", "")},
    )
    if ask is not None:
        return ask
    try:
        services.report_withdraw(
            report_id=report.pk,
            seller=request.user,  # type: ignore[arg-type]
            reason=request.POST.get("reason", ""),
            expected_version=posted_version(request),
            now=timezone.now(),
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, _("The report was withdrawn; the buyer was told."))
    return redirect("web:seller_extortion_report", report_id=report.pk)


# --- buyer -------------------------------------------------------------------------------------


@buyer_only
def buyer_reports(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.report_list_for_user(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "web/extortion/buyer_reports.html", {"page": page})


def _buyer_page(
    request: HttpRequest,
    report: ExtortionReport,
    status: int = 200,
    evidence_form: EvidenceForm | None = None,
    answer_form: ExtortionAnswerForm | None = None,
) -> HttpResponse:
    context = _report_context(
        report,
        Side.BUYER,
        reverse("web:buyer_extortion_evidence_add", args=[report.pk]),
        "web:buyer_extortion_evidence_file",
        evidence_form,
    )
    # A refused answer comes back in its form, so nothing typed is lost.
    may_answer = report.status == ReportStatus.AWAITING_BUYER and report.answer_by >= timezone.now()
    context["answer_form"] = answer_form or (ExtortionAnswerForm() if may_answer else None)
    return render(request, "web/extortion/buyer_report.html", context, status=status)


@buyer_only
def buyer_report(request: HttpRequest, report_id: int) -> HttpResponse:
    return _buyer_page(request, _report_for(request, report_id, Side.BUYER))


@require_POST
@buyer_only
def buyer_answer(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_for(request, report_id, Side.BUYER)
    form = ExtortionAnswerForm(request.POST, request.FILES)
    kept = KeptFiles(request, purpose=f"extortion-answer:{report.pk}", side=Side.BUYER)
    if not kept.valid(form):
        kept.refused(form)
    else:
        try:
            with kept.uploads(
                uploads_from(form.cleaned_data), kind=form.cleaned_data["evidence_kind"]
            ) as files:
                services.report_answer(
                    report_id=report.pk,
                    buyer=request.user,  # type: ignore[arg-type]
                    text=form.cleaned_data["text"],
                    files=files,
                    expected_version=posted_version(request),
                    now=timezone.now(),
                )
        except ReviewShieldError as exc:
            kept.refused(form, exc)
        else:
            kept.accepted()
            messages.success(request, _("Your answer was sent. The platform decides next."))
            return redirect("web:buyer_extortion_report", report_id=report.pk)
    # The page again with what the buyer wrote and the files accepted, so nothing is lost.
    report.refresh_from_db()
    return _buyer_page(request, report, status=422, answer_form=form)


@require_POST
@buyer_only
@limited("evidence_upload")
def buyer_evidence_add(request: HttpRequest, report_id: int) -> HttpResponse:
    return _evidence_added(request, _report_for(request, report_id, Side.BUYER), Side.BUYER)


@buyer_only
def buyer_evidence_file(request: HttpRequest, report_id: int, evidence_id: int) -> HttpResponse:
    _report_for(request, report_id, Side.BUYER)
    return _evidence_download(request, report_id, evidence_id)


# --- agent -------------------------------------------------------------------------------------


@agent_only
def agent_queue(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "on"
    page = Paginator(selectors.agent_queue(assigned_to=request.user.pk if mine else None), 25).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    rows = [{"report": r, "sla": sla_state(r, now)} for r in page.object_list]  # type: ignore[arg-type]
    return render(request, "web/extortion/agent_queue.html", {"page": page, "rows": rows, "mine": mine})


@agent_only
def agent_report(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_for(request, report_id, Side.AGENT)
    evidence = list(report.evidence.select_related("submitted_by").order_by("created_at", "id"))
    strikes = [s for s in selectors.buyer_strikes(report.buyer_id) if s.report_id != report.pk]
    return render(
        request,
        "web/extortion/agent_report.html",
        {
            "report": report,
            "review": selectors.report_review(report, Side.AGENT),
            "seller_evidence": [e for e in evidence if e.side == Side.SELLER],
            "buyer_evidence": [e for e in evidence if e.side == Side.BUYER],
            "strikes": strikes,
            "complaints": Case.objects.filter(order_id=report.order_id).order_by("filed_at"),
            "events": report.events.select_related("actor").all(),
            "sla": sla_state(report, timezone.now()),  # type: ignore[arg-type]
            "decidable": report.status == ReportStatus.AWAITING_DECISION,
            "posted": request.POST if request.method == "POST" else {},
        },
    )


@require_POST
@agent_only
def agent_take(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_for(request, report_id, Side.AGENT)
    try:
        services.report_assign(
            report_id=report.pk,
            agent=request.user,  # type: ignore[arg-type]
            expected_version=posted_version(request),
            now=timezone.now(),
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, _("The report is yours."))
    return redirect("web:agent_extortion_report", report_id=report.pk)


@require_POST
@agent_only
def agent_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    report = _report_for(request, report_id, Side.AGENT)
    try:
        services.report_decide(
            report_id=report.pk,
            agent=request.user,  # type: ignore[arg-type]
            outcome=request.POST.get("outcome", ""),
            reasons=request.POST.get("reasons", ""),
            expected_version=posted_version(request),
            now=timezone.now(),
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
        # The workspace again with what the agent wrote, so nothing typed is lost.
        response = agent_report(request, report_id)
        response.status_code = 422
        return response
    messages.success(request, _("The decision is recorded; both sides were notified."))
    return redirect("web:agent_extortion_report", report_id=report.pk)


@agent_only
def agent_evidence(request: HttpRequest, evidence_id: int) -> HttpResponse:
    """The sealed original (default) or, with ?copy=clean, the copy the other side sees."""
    item = ExtortionEvidence.objects.select_related("blob", "clean_blob").filter(pk=evidence_id).first()
    if item is None:
        raise Http404
    clean = request.GET.get("copy") == "clean"
    blob = item.clean_blob if clean else item.blob
    if blob is None:
        raise Http404
    stem = f"extortion-evidence-{item.pk}{'-clean' if clean else ''}"
    return blob_response(blob, filename_stem=stem, inline=clean)
