"""The buyer's pages: my orders, the guided complaint form, the rights centre and a case.

Thin: parse, call one service or selector, render. Access is the selectors' and services' job.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reviewshield.accounts.models import Role
from reviewshield.cases import selectors as case_selectors
from reviewshield.cases import services
from reviewshield.cases.assisted import assisted_request_file, assisted_requests_for_buyer
from reviewshield.cases.models import OPEN_STATUSES, Case, ResponseKind, Side
from reviewshield.detection.selectors import pending_consents
from reviewshield.errors import LinkInvalid, NotEligible, NotFound, ReviewShieldError, ValidationFailed
from reviewshield.limits.edges import limited
from reviewshield.marketplace import selectors as market
from reviewshield.web.chat import chat_context
from reviewshield.web.common import (
    appeal_add,
    appeal_context,
    bundle_download,
    confirmed,
    evidence_add,
    evidence_file,
    evidence_rows,
    only_for,
    posted_version,
    refusal_text,
)
from reviewshield.web.forms import AppealForm, AssistedRequestForm, ComplaintForm, EvidenceForm
from reviewshield.web.guidance import GUIDANCE
from reviewshield.web.kept import KeptFiles, refusal_on_form
from reviewshield.web.templatetags.rs import local

buyer_only = only_for(lambda user: user.role == Role.BUYER)


@buyer_only
def orders(request: HttpRequest) -> HttpResponse:
    page = Paginator(market.order_list(user=request.user), 20).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    rows = list(page.object_list)
    window_ends = market.complaint_windows_end(rows)
    open_cases = dict(
        Case.objects.filter(order__in=rows, status__in=OPEN_STATUSES).values_list("order_id", "id")
    )
    now = timezone.now()
    items = [
        {
            "order": o,
            "window_ends": window_ends.get(o.pk),
            "window_open": bool(window_ends.get(o.pk) and window_ends[o.pk] >= now),
            "open_case": open_cases.get(o.pk),
        }
        for o in rows
    ]
    return render(request, "web/buyer/orders.html", {"page": page, "items": items})


def _order_or_404(request: HttpRequest, order_id: int) -> Any:
    try:
        return market.order_get(user=request.user, order_id=order_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404 from exc


@buyer_only
@limited("complaint_file")
def complain(request: HttpRequest, order_id: int, link_token: str | None = None) -> HttpResponse:
    order = _order_or_404(request, order_id)
    if request.method != "POST":
        # Say why before the buyer spends time on the form (the service checks again on filing).
        try:
            services.filing_check(
                buyer=request.user, order_id=order.pk, link_token=link_token, now=timezone.now()
            )  # type: ignore[arg-type]
        except NotEligible as exc:
            return _not_eligible(request, order, exc)
        except LinkInvalid as exc:
            return render(request, "web/buyer/link_invalid.html", {"message": str(exc.message)}, status=410)
    form = ComplaintForm(request.POST or None, request.FILES or None)
    kept = KeptFiles(request, purpose=f"complaint:{order.pk}", side=Side.BUYER)
    if request.method == "POST":
        if not kept.valid(form):
            kept.refused(form)  # what was typed stays in the bound form; accepted files are kept
        else:
            try:
                with kept.uploads(
                    form.uploads(),
                    kind=form.cleaned_data["evidence_kind"],
                    reference=form.cleaned_data["reference"],
                ) as files:
                    case = services.case_file(
                        buyer=request.user,  # type: ignore[arg-type]
                        order_id=order.pk,
                        harassment_types=form.cleaned_data["harassment_types"],
                        occurred_at=form.cleaned_data["occurred_at"],
                        narrative=form.cleaned_data["narrative"],
                        files=files,
                        link_token=link_token,
                        now=timezone.now(),
                    )
            except NotEligible as exc:
                return _not_eligible(request, order, exc)
            except LinkInvalid as exc:
                return render(
                    request, "web/buyer/link_invalid.html", {"message": str(exc.message)}, status=410
                )
            except ValidationFailed as exc:
                kept.refused(form, exc)
            else:
                kept.accepted()
                messages.success(
                    request,
                    _(
                        "Your complaint %(reference)s was filed. The seller must answer by %(respond_by)s (Beijing time)."
                    )
                    % {"reference": case.reference, "respond_by": local(case.respond_by)},
                )
                return redirect("web:case", case_id=case.pk)
    return render(
        request,
        "web/buyer/complain.html",
        {"order": order, "form": form, "guidance": GUIDANCE, "link_token": link_token},
        status=422 if form.errors else 200,
    )


def _not_eligible(
    request: HttpRequest, order: Any, exc: NotEligible, request_form: AssistedRequestForm | None = None
) -> HttpResponse:
    reason = exc.details.get("reason")
    context: dict[str, Any] = {"order": order, "message": str(exc.message), "reason": reason}
    if reason == "window_passed":  # an agent can still help: the buyer asks from here
        context["assisted_requests"] = assisted_requests_for_buyer(request.user, order.pk)  # type: ignore[arg-type]
        context["request_form"] = request_form or AssistedRequestForm()
    return render(request, "web/buyer/not_eligible.html", context, status=422)


@require_POST
@buyer_only
def assisted_request(request: HttpRequest, order_id: int) -> HttpResponse:
    """A buyer past the window asks an agent for an assisted complaint; it lands in the agents' list."""
    order = _order_or_404(request, order_id)
    form = AssistedRequestForm(request.POST)
    if form.is_valid():
        try:
            made = assisted_request_file(
                buyer=request.user,  # type: ignore[arg-type]
                order_id=order.pk,
                description=form.cleaned_data["description"],
                now=timezone.now(),
            )
        except NotEligible as exc:
            return _not_eligible(request, order, exc)
        except ValidationFailed as exc:
            refusal_on_form(form, exc)
        except ReviewShieldError as exc:
            messages.error(request, str(exc.message))
            return redirect("web:cases")
        else:
            messages.success(
                request,
                _(
                    "Your request %(reference)s was sent to the platform's agents. When one of them opens an "
                    "assisted complaint for you, you get a filing link in your notifications."
                )
                % {"reference": made.reference},
            )
            return redirect("web:cases")
    try:
        services.filing_check(buyer=request.user, order_id=order.pk, now=timezone.now())  # type: ignore[arg-type]
    except NotEligible as exc:
        return _not_eligible(request, order, exc, request_form=form)  # what was typed stays
    return redirect("web:complain", order_id=order.pk)  # the buyer may file alone after all


@buyer_only
def assisted_file(request: HttpRequest, token: str) -> HttpResponse:
    """The single-use link an agent issued: the complaint form for that order, inside the window or not."""
    try:
        link = services.assisted_link_get(raw_token=token, buyer=request.user, now=timezone.now())  # type: ignore[arg-type]
    except LinkInvalid as exc:
        return render(request, "web/buyer/link_invalid.html", {"message": str(exc.message)}, status=410)
    return complain(request, link.order_id, link_token=token)


@buyer_only
def rights_centre(request: HttpRequest) -> HttpResponse:
    cases = case_selectors.case_list_for_user(request.user)
    page = Paginator(cases, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "web/buyer/cases.html",
        {
            "page": page,
            "asked": list(pending_consents(request.user)),
            "assisted_requests": assisted_requests_for_buyer(request.user),  # type: ignore[arg-type]
        },
    )


def _own_case(request: HttpRequest, case_id: int) -> Case:
    try:
        case, side = case_selectors.case_get_for_user(request.user, case_id)
    except NotFound as exc:
        raise Http404 from exc
    if side != Side.BUYER:
        raise Http404
    return case


@buyer_only
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, _own_case(request, case_id))


def _case_page(
    request: HttpRequest,
    case: Case,
    appeal_form: AppealForm | None = None,
    *,
    evidence_form: EvidenceForm | None = None,
) -> HttpResponse:
    """The whole case as the buyer's side may see it: their complaint, the seller's answer with the
    evidence they may open, the decision, both sides' appeals with their reasons, the timeline."""
    evidence = evidence_rows(case, Side.BUYER)
    return render(
        request,
        "web/buyer/case.html",
        {
            "case": case,
            "events": case.events.select_related("actor").all(),
            "evidence": evidence,
            "seller_evidence": [row for row in evidence if row["item"].side == Side.SELLER],
            "evidence_form": evidence_form or EvidenceForm(),
            "evidence_action": reverse("web:case_evidence_add", args=[case.pk]),
            "evidence_heading": _("Answer the seller's defence with more evidence")
            if case.response == ResponseKind.DEFENCE and case.is_open
            else "",
            "evidence_url": "web:case_evidence_file",
            "appeal_action": reverse("web:case_appeal", args=[case.pk]),
            **appeal_context(case, Side.BUYER, timezone.now(), appeal_form),
            **chat_context(case, Side.BUYER),
        },
        status=422 if appeal_form is not None or evidence_form is not None else 200,
    )


@require_POST
@buyer_only
@limited("appeal_file")
def case_appeal(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    refused = appeal_add(request, case.pk)
    if refused is None:
        return redirect("web:case", case_id=case.pk)
    return _case_page(request, case, refused)  # what the buyer wrote stays in the form


@require_POST
@buyer_only
@limited("evidence_upload")
def case_evidence_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    refused = evidence_add(request, case.pk, purpose=f"evidence:{case.pk}")
    if refused is None:
        return redirect("web:case", case_id=case.pk)
    return _case_page(request, case, evidence_form=refused)  # typed text and accepted files stay


@buyer_only
def case_evidence_file(request: HttpRequest, case_id: int, evidence_id: int) -> HttpResponse:
    _own_case(request, case_id)
    return evidence_file(request, case_id, evidence_id)


@buyer_only
def case_bundle(request: HttpRequest, case_id: int) -> FileResponse:
    return bundle_download(_own_case(request, case_id), Side.BUYER)


@require_POST
@buyer_only
def case_settlement(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    accept = request.POST.get("accept") == "yes"
    if accept:  # accepting withdraws the complaint: asked first
        ask = confirmed(
            request,
            title=_("Accept the settlement of complaint %(reference)s?") % {"reference": case.reference},
            consequence=_("Accepting withdraws your complaint; it cannot be reopened. The seller is told."),
            confirm_label=_("Yes, accept and withdraw the complaint"),
            keep_label=_("No, go back"),
            back=reverse("web:case", args=[case.pk]),
            carried={"accept": "yes", "version": request.POST.get("version", "")},
        )
        if ask is not None:
            return ask
    _act(
        request,
        lambda: services.case_settlement_reply(
            case_id=case.pk,
            buyer=request.user,  # type: ignore[arg-type]
            accept=accept,
            expected_version=posted_version(request),
            now=timezone.now(),
        ),
        _("You accepted the settlement; your complaint is withdrawn.")
        if accept
        else _("You declined the settlement; the platform will decide."),
    )
    return redirect("web:case", case_id=case.pk)


@require_POST
@buyer_only
def case_withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    ask = confirmed(
        request,
        title=_("Withdraw complaint %(reference)s?") % {"reference": case.reference},
        consequence=_(
            "The complaint ends now and the seller is told. A withdrawn complaint cannot be reopened."
        ),
        confirm_label=_("Yes, withdraw the complaint"),
        keep_label=_("No, keep my complaint"),
        back=reverse("web:case", args=[case.pk]),
        carried={"reason": request.POST.get("reason", ""), "version": request.POST.get("version", "")},
    )
    if ask is not None:
        return ask
    _act(
        request,
        lambda: services.case_withdraw(
            case_id=case.pk,
            buyer=request.user,
            reason=request.POST.get("reason", ""),  # type: ignore[arg-type]
            expected_version=posted_version(request),
            now=timezone.now(),
        ),
        _("You withdrew complaint %(reference)s; the seller was told.") % {"reference": case.reference},
    )
    return redirect("web:case", case_id=case.pk)


def _act(request: HttpRequest, action: Any, success: str | None = None) -> None:
    """Run a service; a refusal, or `success`, becomes a message on the page the person returns to."""
    try:
        action()
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        if success:
            messages.success(request, success)
