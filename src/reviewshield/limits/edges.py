"""The limits at the edges: one call for API endpoints, one decorator for web views, both counting
through `services.limit_spend` so a person has one budget whichever way they come in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from axes.helpers import get_client_ip_address
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from reviewshield.errors import RateLimited
from reviewshield.limits.services import limit_spend


def client_address(request: HttpRequest) -> str:
    """The caller's address as the login lockout sees it (axes' AXES_IPWARE_* settings)."""
    return get_client_ip_address(request) or ""


def limit_request(request: HttpRequest, scope: str, *, per_address: bool = False) -> None:
    """Count this request against `scope` for its person (else, or with `per_address`, its address);
    raise RateLimited past it.

    API endpoints call it after their role check, before any write."""
    user = getattr(request, "user", None)
    address = client_address(request)
    if not per_address and user is not None and user.is_authenticated:
        actor, who = f"user:{user.pk}", user
    else:
        actor, who = f"address:{address}", None
    limit_spend(scope=scope, actor=actor, now=timezone.now(), user=who, address=address, path=request.path)


def limited_page(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """429 with a page saying, in the person's language, what was refused and how long to wait."""
    response = render(request, "web/limited.html", {"message": str(exc.message)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def limited(scope: str) -> Callable[[Any], Any]:
    """A web view whose POSTs count against `scope`; past the limit the view does not run (429 page).

    Put it below the login/role decorators, so only an allowed person's attempts are counted."""

    def decorate(view: Any) -> Any:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                try:
                    limit_request(request, scope)
                except RateLimited as exc:
                    return limited_page(request, exc)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
