"""What a person sees when django-axes has locked their username from their address."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil
from typing import Any

from axes.helpers import get_client_ip_address, get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from reviewshield.limits.services import limit_hit_record


def lockout_ends_at(username: str, address: str) -> datetime:
    """Seconds until the lock on `username` from `address` lifts: the cool-off counts from the last
    failure before the lock (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off, so knocking on a
    locked door does not keep it shut)."""
    cool_off = get_cool_off() or timedelta(0)
    last = AccessAttempt.objects.filter(username=username, ip_address=address).aggregate(
        at=Max("attempt_time")
    )["at"]
    return (last or timezone.now()) + cool_off


def lockout(request: HttpRequest, original_response: Any, credentials: Any) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, saying why and for how long, with 429 and
    Retry-After; the refusal is kept as a LimitHit ("login") beside axes' own records."""
    username = get_client_username(request, credentials) or ""
    address = get_client_ip_address(request) or ""
    now = timezone.now()
    ends_at = lockout_ends_at(username, address)
    seconds = max(1, ceil((ends_at - now).total_seconds()))
    minutes = max(1, ceil(seconds / 60))
    message = ngettext(
        "Too many wrong passwords for this account from your address. Logging in is paused; please try again in %(minutes)d minute.",
        "Too many wrong passwords for this account from your address. Logging in is paused; please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    limit_hit_record(
        scope="login",
        actor=f"login:{username}@{address}"[:100],
        window_start=int(ends_at.timestamp()),  # one record per lock, counting the tries while locked
        now=now,
        window_seconds=int((get_cool_off() or timedelta(0)).total_seconds()),
        allowed=settings.AXES_FAILURE_LIMIT,
        user=None,
        address=address,
        path=request.path,
    )
    form = AuthenticationForm(request, initial={"username": username})
    response = render(
        request,
        "web/login.html",
        {
            "form": form,
            "locked_message": message,
            "next": request.POST.get("next", request.GET.get("next", "")),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
