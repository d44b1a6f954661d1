"""The agent's pages: the queue, the case workspace, deciding, assisted filing, the webhook log, the
appeals queue and an appeal's decision, and compensation orders.

Thin like the other portals: the queue and its counters come from `cases.selectors`, every change
from `cases.services` (appeals and compensation: `sanctions`); the pages only parse what was sent
and show what came back.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from reviewshield.cases import access, services
from reviewshield.cases import selectors as case_selectors
from reviewshield.cases.assisted import assisted_request_link, assisted_requests_open
from reviewshield.cases.models import OPEN_STATUSES, Case, CaseEvidence, CaseStatus, HarassmentType, Side
from reviewshield.errors import NotFound, ReviewShieldError
from reviewshield.evidence.downloads import blob_response
from reviewshield.extortion.selectors import buyer_strikes
from reviewshield.marketplace import selectors as market
from reviewshield.marketplace.models import Platform, Review
from reviewshield.policy import UnknownRuleset
from reviewshield.policystore.services import ruleset_registry
from reviewshield.sanctions import appeals as sanction_appeals
from reviewshield.sanctions import selectors as sanctions
from reviewshield.sanctions import services as sanction_services
from reviewshield.sanctions.models import AppealStatus, CompensationStatus
from reviewshield.web.chat import chat_context
from reviewshield.web.common import bundle_download, next_or, only_for, posted_version, refusal_text
from reviewshield.webhooks import services as webhook_services
from reviewshield.webhooks.models import EVENTS, DeliveryStatus
from reviewshield.webhooks.selectors import webhook_delivery_list

PAGE_SIZES = (25, 50, 100, 200)


agent_only = only_for(access.is_agent)


class QueueFilterForm(forms.Form):
    platform = forms.ChoiceField(label=gettext_lazy("Platform"), required=False)
    harassment_type = forms.ChoiceField(
        label=gettext_lazy("Harassment"),
        required=False,
        choices=[("", gettext_lazy("All kinds")), *HarassmentType.choices],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("All open states")), *((s.value, s.label) for s in OPEN_STATUSES)],
    )
    risk = forms.ChoiceField(
        label=gettext_lazy("Deadline"),
        required=False,
        choices=[
            ("", gettext_lazy("Any")),
            ("at_risk", gettext_lazy("Due within 24 hours")),
            ("breached", gettext_lazy("Breached or escalated")),
        ],
    )
    mine = forms.BooleanField(label=gettext_lazy("Only my cases"), required=False)
    per = forms.TypedChoiceField(
        label=gettext_lazy("Per page"),
        required=False,
        coerce=int,
        empty_value=PAGE_SIZES[0],
        choices=[(n, str(n)) for n in PAGE_SIZES],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [
            ("", _("All platforms")),
            *((p.pk, p.name) for p in Platform.objects.order_by("pk")),
        ]


@agent_only
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = case_selectors.QueueFilters(
        platform=data.get("platform") or None,
        harassment_type=data.get("harassment_type") or None,
        status=data.get("status") or None,
        risk=data.get("risk") or None,
        assigned_to=request.user.pk if data.get("mine") else None,
    )
    now = timezone.now()
    per = data.get("per") or PAGE_SIZES[0]
    page = Paginator(case_selectors.agent_queue(now=now, filters=filters), per).get_page(
        request.GET.get("page")
    )
    rows = [{"case": c, "sla": case_selectors.sla_state(c, now)} for c in page.object_list]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "counters": case_selectors.queue_counters(now=now),
        "refreshed_at": now,
        "refresh_seconds": settings.REVIEWSHIELD_QUEUE_REFRESH_SECONDS,
    }
    # The live part asks for itself every few seconds; it gets only the counters and the table.
    template = "web/agent/queue.html#live" if request.htmx else "web/agent/queue.html"
    if not request.htmx:  # buyers past the window who asked for an assisted complaint
        context["assisted_waiting"] = assisted_requests_open().count()
    return render(request, template, context)


def _case(request: HttpRequest, case_id: int) -> Case:
    try:
        case, side = case_selectors.case_get_for_user(request.user, case_id)
    except NotFound as exc:
        raise Http404 from exc
    if side != Side.AGENT:
        raise Http404
    return case


def _window_text(window: Any) -> str:
    units = {
        "calendar": ngettext("%(n)d calendar day", "%(n)d calendar days", window.amount)
        if window.unit == "days"
        else ngettext("%(n)d hour", "%(n)d hours", window.amount),
        "working_days": ngettext("%(n)d working day", "%(n)d working days", window.amount),
        "working_hours": ngettext("%(n)d working hour", "%(n)d working hours", window.amount),
    }
    return units[window.kind] % {"n": window.amount}


WINDOW_LABELS = {
    "filing": gettext_lazy("Buyer files after trade success"),
    "respond": gettext_lazy("Seller answers"),
    "settlement_reply": gettext_lazy("Buyer replies to a settlement"),
    "handle": gettext_lazy("Platform starts handling"),
    "decide": gettext_lazy("Platform decides"),
    "assisted_link": gettext_lazy("Assisted filing link stays valid"),
    "appeal": gettext_lazy("Either side appeals after the decision"),
    "appeal_decide": gettext_lazy("A senior agent decides an appeal"),
    "review": gettext_lazy("Buyer may review after trade success"),
    "evidence": gettext_lazy("Sides add evidence"),
}


@agent_only
def workspace(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        ruleset = ruleset_registry().get(case.ruleset_id)
    except UnknownRuleset:  # a ruleset file removed after the case was filed: show the case anyway
        ruleset = None
    windows = (
        [{"name": WINDOW_LABELS.get(key, key), "text": _window_text(w)} for key, w in ruleset.windows.items()]
        if ruleset
        else []
    )
    deadlines = [
        (key, label, at)
        for key, label, at in (
            ("respond_by", _("Seller answers by"), case.respond_by),
            ("settlement_reply_by", _("Buyer replies to the settlement by"), case.settlement_reply_by),
            ("handle_by", _("Platform handles by"), case.handle_by),
            ("decide_by", _("Platform decides by"), case.decide_by),
        )
        if at is not None
    ]
    evidence = list(case.evidence.select_related("submitted_by").order_by("created_at", "id"))
    review = Review.objects.select_related("extortion_mark").filter(order_id=case.order_id).first()
    preview = services.decision_preview(case) if ruleset else []
    return render(
        request,
        "web/agent/case.html",
        {
            "case": case,
            "ruleset": ruleset,
            "windows": windows,
            "deadlines": deadlines,
            "buyer_evidence": [e for e in evidence if e.side == Side.BUYER],
            "seller_evidence": [e for e in evidence if e.side == Side.SELLER],
            "review": review,
            "events": case.events.select_related("actor").order_by("at", "id"),
            "preview": preview,
            "sla": case_selectors.sla_state(case, timezone.now()),
            "decidable": case.status == CaseStatus.AWAITING_DECISION,
            "posted": request.POST if request.method == "POST" else {},
            "appeals": case.appeals.select_related("filed_by").order_by("filed_at", "id"),
            "strikes": buyer_strikes(case.buyer_id),  # the buyer's upheld extortion reports
            **chat_context(case, Side.AGENT),
        },
    )


@require_POST
@agent_only
def take(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        services.case_assign(
            case_id=case.pk,
            agent=request.user,
            expected_version=posted_version(request),
            now=timezone.now(),  # type: ignore[arg-type]
        )
    except ReviewShieldError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The case is yours."))
    return redirect("web:agent_case", case_id=case.pk)


@require_POST
@agent_only
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    try:
        services.case_decide(
            case_id=case.pk,
            agent=request.user,  # type: ignore[arg-type]
            outcome=request.POST.get("outcome", ""),
            tier=request.POST.get("tier") or None,
            reasons=request.POST.get("reasons", ""),
            expected_version=posted_version(request),
            now=timezone.now(),
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
        # Show the workspace again with what the agent wrote, so nothing typed is lost.
        response = workspace(request, case_id)
        response.status_code = 422
        return response
    messages.success(request, _("The decision is recorded; both sides were notified."))
    return redirect("web:agent_case", case_id=case.pk)


@agent_only
def evidence_file(request: HttpRequest, evidence_id: int) -> HttpResponse:
    """The sealed original (default) or, with ?copy=clean, the copy the other side sees."""
    item = CaseEvidence.objects.select_related("blob", "clean_blob").filter(pk=evidence_id).first()
    if item is None:
        raise Http404
    _case(request, item.case_id)
    clean = request.GET.get("copy") == "clean"
    blob = item.clean_blob if clean else item.blob
    if blob is None:
        raise Http404
    return blob_response(blob, filename_stem=f"evidence-{item.pk}{'-clean' if clean else ''}", inline=clean)


@agent_only
def bundle(request: HttpRequest, case_id: int) -> FileResponse:
    return bundle_download(_case(request, case_id), Side.AGENT)


class AssistedLinkForm(forms.Form):
    order = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Why may this buyer file outside the window?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Record why the buyer may file outside the window.")},
    )


class AssistedRequestLinkForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Why may this buyer file outside the window?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Record why the buyer may file outside the window.")},
    )


@agent_only
def assisted(request: HttpRequest) -> HttpResponse:
    """Find an order and issue a filing link, or issue one from a buyer's request waiting here."""
    query = request.GET.get("q", "").strip()
    issued: dict[str, Any] | None = None
    from_request = request.method == "POST" and "request" in request.POST
    form = AssistedLinkForm(request.POST if request.method == "POST" and not from_request else None)
    request_form = AssistedRequestLinkForm(request.POST if from_request else None)
    if from_request:
        if request_form.is_valid():
            try:
                _made, link, raw = assisted_request_link(
                    agent=request.user,  # type: ignore[arg-type]
                    request_id=request_form.cleaned_data["request"],
                    reason=request_form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except ReviewShieldError as exc:
                request_form.add_error("reason", refusal_text(exc))
            else:
                issued = {
                    "url": request.build_absolute_uri(f"/file/{raw}/"),
                    "link": link,
                    "order": link.order,
                }
    elif request.method == "POST":
        if form.is_valid():
            try:
                link, raw = services.assisted_link_issue(
                    agent=request.user,  # type: ignore[arg-type]
                    order_id=form.cleaned_data["order"],
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except ReviewShieldError as exc:
                form.add_error(None, refusal_text(exc))
            else:
                issued = {
                    "url": request.build_absolute_uri(f"/file/{raw}/"),
                    "link": link,
                    "order": link.order,
                }
        query = request.POST.get("q", query)
    orders = market.order_find(user=request.user, query=query) if query else []  # type: ignore[arg-type]
    ends = market.complaint_windows_end(orders)
    now = timezone.now()
    open_cases = dict(
        Case.objects.filter(order__in=orders, status__in=OPEN_STATUSES).values_list("order_id", "reference")
    )
    rows = [
        {
            "order": o,
            "window_ends": ends.get(o.pk),
            "window_open": bool(ends.get(o.pk) and ends[o.pk] >= now),  # type: ignore[operator]
            "open_case": open_cases.get(o.pk),
        }
        for o in orders
    ]
    return render(
        request,
        "web/agent/assisted.html",
        {
            "query": query,
            "rows": rows,
            "form": form,
            "issued": issued,
            "requests": list(assisted_requests_open()[:100]),
            "request_form": request_form,
        },
        status=422 if form.errors or request_form.errors else 200,
    )


WEBHOOK_EVENT_LABELS = {
    "sanction.applied": gettext_lazy("Sanction applied"),
    "sanction.lifted": gettext_lazy("Sanction lifted"),
    "case.decided": gettext_lazy("Case decided"),
    "appeal.decided": gettext_lazy("Appeal decided"),
    "compensation.due": gettext_lazy("Compensation due"),
    "review.extortion_marked": gettext_lazy("Review marked as extortion"),
}
WEBHOOK_PROBLEMS = {
    "timeout": gettext_lazy("No answer in time"),
    "unreachable": gettext_lazy("Could not connect"),
    "skipped": gettext_lazy("Not sent: the endpoint was not answering"),
    "invalid_url": gettext_lazy("The endpoint's address is not valid"),
    "failed": gettext_lazy("The request failed"),
}


class WebhookFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *DeliveryStatus.choices],
    )
    event = forms.ChoiceField(
        label=gettext_lazy("Event"),
        required=False,
        choices=[("", gettext_lazy("All events")), *((e, WEBHOOK_EVENT_LABELS.get(e, e)) for e in EVENTS)],
    )
    per = forms.TypedChoiceField(
        label=gettext_lazy("Per page"),
        required=False,
        coerce=int,
        empty_value=PAGE_SIZES[0],
        choices=[(n, str(n)) for n in PAGE_SIZES],
    )


def _webhook_answer(delivery: Any) -> str:
    """The last attempt in words: the receiver's status code, or why there was none ("" before any)."""
    if delivery.last_status is not None:
        return _("Answered %(status)d") % {"status": delivery.last_status}
    return str(WEBHOOK_PROBLEMS.get(delivery.last_problem, ""))


@only_for(webhook_services.can_read_deliveries)
def webhooks(request: HttpRequest) -> HttpResponse:
    """The webhook delivery log, newest first; admins may send a delivery again."""
    form = WebhookFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    per = data.get("per") or PAGE_SIZES[0]
    deliveries = webhook_delivery_list(status=data.get("status") or None, event=data.get("event") or None)
    page = Paginator(deliveries, per).get_page(request.GET.get("page"))
    rows = [
        {
            "delivery": d,
            "event": WEBHOOK_EVENT_LABELS.get(d.event.event, d.event.event),
            "answer": _webhook_answer(d),
        }
        for d in page.object_list
    ]
    return render(
        request,
        "web/agent/webhooks.html",
        {"form": form, "page": page, "rows": rows, "can_replay": webhook_services.can_replay(request.user)},
    )


@require_POST
@only_for(webhook_services.can_replay)
def webhook_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        delivery = webhook_services.webhook_replay(
            delivery_id=delivery_id, user=request.user, now=timezone.now()
        )
    except NotFound as exc:
        raise Http404 from exc
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(
            request,
            _(
                "Delivery %(id)d (%(event)s to %(endpoint)s) is due again now; the worker sends it within a few "
                "seconds."
            )
            % {
                "id": delivery.pk,
                "event": WEBHOOK_EVENT_LABELS.get(delivery.event.event, delivery.event.event),
                "endpoint": delivery.endpoint.name,
            },
        )
    back = request.POST.get("next", "")
    if not (
        back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = reverse("web:agent_webhooks")
    return redirect(back)


@agent_only
def appeals(request: HttpRequest) -> HttpResponse:
    """The appeals queue: waiting ones by their decide-by date (overdue marked), or the decided ones."""
    status = (
        AppealStatus.DECIDED if request.GET.get("status") == AppealStatus.DECIDED else AppealStatus.PENDING
    )
    now = timezone.now()
    page = Paginator(sanctions.appeal_queue(status=status), PAGE_SIZES[0]).get_page(request.GET.get("page"))
    rows = [
        {"appeal": a, "overdue": a.status == AppealStatus.PENDING and a.decide_by <= now}
        for a in page.object_list
    ]
    return render(request, "web/agent/appeals.html", {"status": status, "page": page, "rows": rows})


def _appeal_decider(user: Any, appeal: Any) -> tuple[bool, str]:
    """May this person decide the appeal, and if not, why (the service checks the same again)."""
    if appeal.status != AppealStatus.PENDING:
        return False, ""
    if user.role not in sanction_appeals.SENIOR:
        return False, _("Only a senior agent decides appeals.")
    if appeal.case.decided_by_id == user.pk:
        return False, _("You made the first decision; another senior agent must decide the appeal.")
    return True, ""


@agent_only
def appeal(request: HttpRequest, appeal_id: int) -> HttpResponse:
    found = sanctions.appeal_get(appeal_id)
    if found is None:
        raise Http404
    case = found.case
    try:
        preview = services.decision_preview(case)
    except UnknownRuleset:  # a ruleset file removed since: the appeal can still be read
        preview = []
    may_decide, why_not = _appeal_decider(request.user, found)
    return render(
        request,
        "web/agent/appeal.html",
        {
            "appeal": found,
            "case": case,
            "others": case.appeals.exclude(pk=found.pk).order_by("filed_at", "id"),
            "overdue": found.status == AppealStatus.PENDING and found.decide_by <= timezone.now(),
            "preview": preview,
            "may_decide": may_decide,
            "why_not": why_not,
            "posted": request.POST if request.method == "POST" else {},
        },
    )


@require_POST
@agent_only
def appeal_decide(request: HttpRequest, appeal_id: int) -> HttpResponse:
    if sanctions.appeal_get(appeal_id) is None:
        raise Http404
    try:
        sanction_appeals.appeal_decide(
            appeal_id=appeal_id,
            senior=request.user,  # type: ignore[arg-type]
            outcome=request.POST.get("outcome", ""),
            reasons=request.POST.get("reasons", ""),
            new_tier=request.POST.get("new_tier") or None,
            expected_version=posted_version(request),
            now=timezone.now(),
        )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
        # The appeal again with what the senior agent wrote, so nothing typed is lost.
        response = appeal(request, appeal_id)
        response.status_code = 422
        return response
    messages.success(request, _("The appeal is decided; both sides were notified."))
    return redirect("web:agent_appeal", appeal_id=appeal_id)


class CompensationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *CompensationStatus.choices],
    )
    per = forms.TypedChoiceField(
        label=gettext_lazy("Per page"),
        required=False,
        coerce=int,
        empty_value=PAGE_SIZES[0],
        choices=[(n, str(n)) for n in PAGE_SIZES],
    )


@agent_only
def compensations(request: HttpRequest) -> HttpResponse:
    """Compensation orders, newest first; the same filter downloads as CSV from the API."""
    form = CompensationFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status") or ""
    page = Paginator(
        sanctions.compensation_list(status=status or None), data.get("per") or PAGE_SIZES[0]
    ).get_page(request.GET.get("page"))
    csv_url = reverse("api:compensation_csv") + (f"?{urlencode({'status': status})}" if status else "")
    return render(
        request,
        "web/agent/compensations.html",
        {
            "form": form,
            "page": page,
            "csv_url": csv_url,
            "can_mark_paid": request.user.role in access.AGENT_ROLES,  # type: ignore[union-attr]
        },
    )


@require_POST
@agent_only
def compensation_paid(request: HttpRequest, compensation_id: int) -> HttpResponse:
    try:
        paid = sanction_services.compensation_mark_paid(
            compensation_id=compensation_id,
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
            payment_reference=request.POST.get("payment_reference", "").strip(),
        )
    except NotFound as exc:
        raise Http404 from exc
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(
            request,
            _("The compensation for %(case)s (order %(order)s) is marked paid.")
            % {"case": paid.case.reference, "order": paid.case.order.external_id},
        )
    return redirect(next_or(request, reverse("web:agent_compensations")))
