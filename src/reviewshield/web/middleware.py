"""Pages show and read times in business time (Asia/Shanghai); storage stays UTC. Answers that
carry personal data are never cached."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


def business_timezone(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        with timezone.override(BUSINESS_TZ):
            return get_response(request)

    return middleware


def private_no_store(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Nothing a signed-in person or a token holder is shown may be kept by a cache or a browser.

    Every answer to a request that carries who is asking (a logged-in session, an API token) gets
    `Cache-Control: private, no-store`: its page or JSON may name the buyer, their case or their
    evidence, and a shared computer's back button or a proxy must not hand it to the next person.
    Anonymous public pages (the blacklist, the warnings, the log's checkpoint) stay cacheable.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META:
            response["Cache-Control"] = "private, no-store"
            # A page kept before (by an older policy or an HTTP/1.0 cache) must not be reused either.
            response.headers.pop("Expires", None)
        return response

    return middleware
