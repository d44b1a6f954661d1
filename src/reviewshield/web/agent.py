"""The agent's pages: the queue, the case workspace, deciding, and assisted filing.

Thin like the other portals: the queue and its counters come from `cases.selectors`, every change
from `cases.services`; the pages only parse what was sent and show what came back.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from reviewshield.cases import access, services
from reviewshield.cases import selectors as case_selectors
from reviewshield.cases.models import OPEN_STATUSES, Case, CaseEvidence, CaseStatus, HarassmentType, Side
from reviewshield.errors import NotFound, ReviewShieldError
from reviewshield.evidence.downloads import blob_response
from reviewshield.marketplace import selectors as market
from reviewshield.marketplace.models import Platform, Review
from reviewshield.policy import UnknownRuleset
from reviewshield.policystore.services import ruleset_registry
from reviewshield.web.chat import chat_context
from reviewshield.web.common import bundle_download, only_for, posted_version, refusal_text

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
    lang = "zh-hans" if (request.LANGUAGE_CODE or "").startswith("zh") else "en"
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
    review = Review.objects.filter(order_id=case.order_id).first()
    preview = services.decision_preview(case) if ruleset else []
    return render(
        request,
        "web/agent/case.html",
        {
            "case": case,
            "ruleset": ruleset,
            "ruleset_title": (ruleset.title.get(lang) or ruleset.title.get("en") or ruleset.id)
            if ruleset
            else "",
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
    return bundle_download(_case(request, case_id))


class AssistedLinkForm(forms.Form):
    order = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=gettext_lazy("Why may this buyer file outside the window?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Record why the buyer may file outside the window.")},
    )


@agent_only
def assisted(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    issued: dict[str, Any] | None = None
    form = AssistedLinkForm(request.POST or None)
    if request.method == "POST":
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
        {"query": query, "rows": rows, "form": form, "issued": issued},
        status=422 if form.errors else 200,
    )
