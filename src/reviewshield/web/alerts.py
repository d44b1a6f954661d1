"""Alerts in the portals. Agent: the queue (blocked before held, newest first) and an alert's page —
the pair, the order and its review, the messages with what was found marked, and the actions (warn
the seller, mute or unmute the chat, ask the buyer, close). Buyer: "Protection", the alerts they were
asked about, where they agree to a complaint or decline. Sellers have no alert pages.

Thin: every change goes through `detection.services`, every read through `detection.selectors`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reviewshield.accounts.models import Role
from reviewshield.cases import access
from reviewshield.detection import selectors, services
from reviewshield.detection.labels import category_label, event_label, reason_for
from reviewshield.detection.models import Alert, AlertStatus, ScreenedMessage
from reviewshield.errors import NotFound, PermissionDenied, ReviewShieldError
from reviewshield.web.common import only_for, posted_version, refusal_text

agent_only = only_for(access.is_agent)
buyer_only = only_for(lambda user: user.role == Role.BUYER)


def marked(text: str, spans: list[list[Any]]) -> SafeString:
    """The message with each found stretch in <mark>, everything escaped."""
    pieces: list[str] = []
    at = 0
    for start, end, category, _entry in sorted(
        (s for s in spans if s[0] < s[1]), key=lambda s: (s[0], -s[1])
    ):
        if start < at:
            continue  # overlapping stretches: the first one found is marked
        pieces.append(format_html("{}", text[at:start]))
        pieces.append(format_html('<mark title="{}">{}</mark>', category_label(category), text[start:end]))
        at = end
    pieces.append(format_html("{}", text[at:]))
    return mark_safe("".join(pieces))  # safe: every piece above went through format_html


def _rows(alert: Alert) -> list[dict[str, Any]]:
    return [
        {
            "message": m,
            "marked": marked(m.text, m.spans),
            "categories": [category_label(c) for c in m.categories],
            "reason": reason_for(m.reason_code, m.reason_params),
        }
        for m in ScreenedMessage.objects.filter(alert=alert).order_by("sent_at", "id")
    ]


def _findings(alert: Alert) -> list[dict[str, Any]]:
    """A forensic alert's findings with their words and times (stored as UTC ISO-8601)."""
    from reviewshield.detection.services import FINDING_CATEGORY

    out = []
    for f in alert.findings:
        out.append(
            {
                "label": category_label(FINDING_CATEGORY.get(str(f.get("kind")), str(f.get("kind")))),
                "total": f.get("total"),
                "start": datetime.fromisoformat(str(f["start"]).replace("Z", "+00:00")),
                "end": datetime.fromisoformat(str(f["end"]).replace("Z", "+00:00")),
            }
        )
    return out


def _get(request: HttpRequest, alert_id: int) -> Alert:
    try:
        return selectors.alert_get(request.user, alert_id)
    except (NotFound, PermissionDenied) as exc:
        raise Http404 from exc


@agent_only
def agent_alerts(request: HttpRequest) -> HttpResponse:
    status = "closed" if request.GET.get("status") == "closed" else "open"
    source = request.GET.get("source") if request.GET.get("source") in ("chat", "forensics") else None
    page = Paginator(selectors.alert_queue(status=status, source=source), 25).get_page(
        request.GET.get("page")
    )
    rows = [{"alert": a, "categories": [category_label(c) for c in a.categories]} for a in page.object_list]
    return render(
        request,
        "web/alerts/agent_queue.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "source": source or "",
            "counts": selectors.alert_counts(),
        },
    )


@agent_only
def agent_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _get(request, alert_id)
    return render(
        request,
        "web/alerts/agent_alert.html",
        {
            "alert": alert,
            "rows": _rows(alert),
            "categories": [category_label(c) for c in alert.categories],
            "mute": selectors.standing_mute(alert),
            "events": [(e, event_label(e.kind)) for e in alert.events.select_related("actor")],
            "open": alert.is_open,
            "can_ask": alert.status == AlertStatus.OPEN
            and alert.order_id is not None
            and alert.case_id is None,
            "findings": _findings(alert),
        },
    )


@require_POST
@agent_only
def agent_act(request: HttpRequest, alert_id: int, action: str) -> HttpResponse:
    alert = _get(request, alert_id)
    now = timezone.now()
    version = posted_version(request)
    agent = request.user
    done = {
        "warn": _("The shop's sellers were warned."),
        "mute": _("The seller can no longer send this buyer messages."),
        "unmute": _("The mute is lifted."),
        "ask": _("The buyer was asked whether to open a complaint."),
        "close": _("The alert is closed."),
    }
    if action not in done:
        raise Http404
    try:
        if action == "warn":
            services.alert_warn_seller(
                alert_id=alert.pk,
                agent=agent,
                message=request.POST.get("message", ""),
                now=now,
                expected_version=version,
            )
        elif action == "mute":
            services.alert_mute(
                alert_id=alert.pk,
                agent=agent,
                reason=request.POST.get("reason", ""),
                now=now,
                expected_version=version,
            )
        elif action == "unmute":
            services.alert_unmute(alert_id=alert.pk, agent=agent, now=now)
        elif action == "ask":
            services.alert_request_consent(alert_id=alert.pk, agent=agent, now=now, expected_version=version)
        else:
            services.alert_close(
                alert_id=alert.pk,
                agent=agent,
                outcome=request.POST.get("outcome", ""),
                note=request.POST.get("note", ""),
                now=now,
                expected_version=version,
            )
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
        response = agent_alert(request, alert_id)
        response.status_code = 422
        return response
    messages.success(request, done[action])
    return redirect("web:agent_alert", alert_id=alert.pk)


@buyer_only
def buyer_alerts(request: HttpRequest) -> HttpResponse:
    alerts = list(selectors.buyer_alerts(request.user))
    return render(
        request,
        "web/alerts/buyer_alerts.html",
        {"rows": [{"alert": a, "categories": [category_label(c) for c in a.categories]} for a in alerts]},
    )


@buyer_only
def buyer_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _get(request, alert_id)
    if alert.buyer_id != request.user.pk:
        raise Http404
    return render(
        request,
        "web/alerts/buyer_alert.html",
        {
            "alert": alert,
            "rows": _rows(alert),
            "categories": [category_label(c) for c in alert.categories],
            "waiting": alert.status == AlertStatus.AWAITING_BUYER,
        },
    )


@require_POST
@buyer_only
def buyer_consent(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _get(request, alert_id)
    agree = request.POST.get("answer") == "agree"
    try:
        alert = services.alert_consent_answer(
            alert_id=alert.pk, buyer=request.user, agree=agree, now=timezone.now()
        )  # type: ignore[arg-type]
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
        response = buyer_alert(request, alert_id)
        response.status_code = 422
        return response
    if agree and alert.case_id:
        messages.success(
            request, _("Your complaint %(reference)s is open.") % {"reference": alert.case.reference}
        )
        return redirect("web:case", case_id=alert.case_id)
    messages.success(request, _("Understood: no complaint will be opened."))
    return redirect("web:buyer_alert", alert_id=alert.pk)
