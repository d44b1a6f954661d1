"""Every person's in-app notifications: the list (newest first, unread marked), opening one (it is
then read, and the page it is about opens), and marking them all read. The header shows how many
are unread on every page (`unread_notifications`).

Thin: reads through `outbox.selectors`, changes through `outbox.services`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from reviewshield.outbox import selectors
from reviewshield.outbox.services import notifications_mark_read

PAGE_SIZE = 25


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the number in the header's "Notifications" link (a query only when logged in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": selectors.unread_count(user)}


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [selectors.notification_view(n, request.user) for n in page.object_list]
    return render(request, "web/notifications.html", {"page": page, "rows": rows})


@login_required
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go where it leads (back to the list when it leads nowhere).
    A GET: opening is safe to repeat, and the list's entries are plain links."""
    found = selectors.notifications_for(request.user).filter(pk=notification_id).first()
    if found is None:
        raise Http404
    if found.read_at is None:
        notifications_mark_read(user=request.user, now=timezone.now(), ids=[found.pk])
    view = selectors.notification_view(found, request.user)
    return redirect(view.link or "web:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    n = notifications_mark_read(user=request.user, now=timezone.now())
    messages.success(
        request,
        ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", n) % {"n": n},
    )
    return redirect("web:notifications")
