"""Chat evidence in the portals: the buyer picks a stretch and cites it, gives or takes back the
90-day permission; the seller cites a number and reads it masked; the agent reads what was cited and,
with the buyer's permission, the chat itself."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reviewshield.cases.models import Case, Side
from reviewshield.cases.selectors import case_get_for_user
from reviewshield.chat import selectors, services
from reviewshield.errors import NotFound, ReviewShieldError
from reviewshield.limits.edges import limited
from reviewshield.privacy.selectors import mask_for_seller
from reviewshield.web.common import confirmed, refusal_text


def chat_context(case: Case, viewer_side: str) -> dict[str, Any]:
    """What the case pages show of the chat: cited numbers (masked for the seller), the permission,
    and for the buyer the conversations to pick a stretch from."""
    seller = viewer_side == Side.SELLER
    cited = [
        {
            "number": ex.evidence.number,
            "intact": ex.intact,
            "side": ex.viewer,
            "messages": [
                {
                    "sender": m.get_sender_display(),
                    "sent_at": m.sent_at,
                    "text": mask_for_seller(m.text, case.buyer) if seller else m.text,
                }
                for m in ex.messages
            ],
        }
        for ex in selectors.case_citations(case)
    ]
    context: dict[str, Any] = {"chat_cited": cited}
    if viewer_side in (Side.BUYER, Side.AGENT):
        context["chat_permission"] = selectors.chat_permission_current(case)
    if viewer_side == Side.BUYER:
        context["chat_conversations"] = selectors.case_conversations(case)
    return context


def _act(request: HttpRequest, action: Any, success: str) -> None:
    try:
        action()
    except ReviewShieldError as exc:
        messages.error(request, refusal_text(exc))
    else:
        messages.success(request, success)


def _case_as(request: HttpRequest, case_id: int, side: str) -> Case:
    try:
        case, viewer = case_get_for_user(request.user, case_id)
    except NotFound as exc:
        raise Http404 from exc
    if viewer != side:
        raise Http404
    return case


@require_POST
@limited("chat_evidence")
def buyer_cite_stretch(request: HttpRequest, case_id: int) -> HttpResponse:
    """The buyer picks the first and last message of a stretch; it gets a number and is cited."""
    case = _case_as(request, case_id, Side.BUYER)
    conversation = request.POST.get("conversation", "")
    first, last = request.POST.get("first", ""), request.POST.get("last", "")
    if not (conversation and first and last):
        messages.error(request, _("Choose the first and the last message of the stretch."))
        return redirect("web:case", case_id=case.pk)
    platform, _sep, conversation_id = conversation.partition(":")

    def create_and_cite() -> None:
        evidence = services.chat_evidence_create(
            buyer=request.user,  # type: ignore[arg-type]
            platform=platform,
            conversation_id=conversation_id,
            first_message_id=first,
            last_message_id=last,
            now=timezone.now(),
        )
        services.chat_evidence_cite(
            case_id=case.pk, user=request.user, number=evidence.number, now=timezone.now()
        )  # type: ignore[arg-type]

    _act(
        request, create_and_cite, _("The stretch got a chat evidence number and is cited in your complaint.")
    )
    return redirect("web:case", case_id=case.pk)


@require_POST
def buyer_permission(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_as(request, case_id, Side.BUYER)
    if request.POST.get("grant") == "yes":
        _act(
            request,
            lambda: services.chat_permission_grant(case_id=case.pk, buyer=request.user, now=timezone.now()),  # type: ignore[arg-type]
            _("Agents may now read your last 90 days of chat with this shop, for this complaint only."),
        )
    else:
        ask = confirmed(
            request,
            title=_("Take the chat permission back?"),
            consequence=_(
                "The platform's agents can then no longer read your chat with this shop for this complaint. "
                "Chat evidence already cited stays in the complaint."
            ),
            confirm_label=_("Yes, take the permission back"),
            keep_label=_("No, let agents keep reading"),
            back=reverse("web:case", args=[case.pk]),
            carried={"grant": "no"},
        )
        if ask is not None:
            return ask
        _act(
            request,
            lambda: services.chat_permission_revoke(case_id=case.pk, buyer=request.user, now=timezone.now()),  # type: ignore[arg-type]
            _("You took the permission back; agents can no longer read your chat."),
        )
    return redirect("web:case", case_id=case.pk)


@require_POST
def seller_cite(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case_as(request, case_id, Side.SELLER)
    _act(
        request,
        lambda: services.chat_evidence_cite(
            case_id=case.pk,
            user=request.user,  # type: ignore[arg-type]
            number=request.POST.get("number", ""),
            now=timezone.now(),
        ),
        _("The chat evidence number is cited in your answer."),
    )
    return redirect("web:seller_case", case_id=case.pk)


def agent_chat(request: HttpRequest, case_id: int) -> HttpResponse:
    """The buyer's chat with the case's shop, while the buyer's permission is in force."""
    case = _case_as(request, case_id, Side.AGENT)
    try:
        chat = selectors.case_chat_for_agent(request.user, case.pk)
    except ReviewShieldError as exc:
        return render(request, "web/agent/chat.html", {"case": case, "refusal": str(exc.message)}, status=403)
    services.chat_read_record(chat=chat, agent=request.user, via="portal", now=timezone.now())  # type: ignore[arg-type]
    return render(
        request,
        "web/agent/chat.html",
        {"case": case, "chat": chat, "chat_messages": list(chat.messages[:2000])},
    )
