"""Every error under /api/ in the JSON envelope, also those django-ninja never sees.

The API's own exception handlers (`api.site`) shape what its operations raise. What happens
outside them arrives here as Django's HTML page or a bare text: an address the API does not have
(404), a method an address does not take (405, answered by django-ninja without an exception),
a request Django refused before any view ran (400), a crash outside an operation (500). This
middleware gives those the same `{"code", "message", "details"}` in the caller's language; it
sits after LocaleMiddleware so that language is active.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def envelope(status: int, code: str, message: Any, details: dict[str, Any] | None = None) -> JsonResponse:
    """The API's error answer: `{"code", "message", "details"}` with `status`."""
    return JsonResponse(
        {"code": code, "message": str(message), "details": details or {}},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _replacement(request: HttpRequest, response: HttpResponse) -> JsonResponse:
    status = response.status_code
    if status == 404:
        return envelope(404, "not_found", _("The API has no such address."), {"path": request.path})
    if status == 405:
        allowed = response.get("Allow", "")
        answer = envelope(
            405,
            "method_not_allowed",
            _("This address does not take %(method)s requests; it takes %(allowed)s.")
            % {"method": request.method, "allowed": allowed},
            {"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
        )
        answer["Allow"] = allowed
        return answer
    if status == 413:
        return envelope(413, "too_large", _("The request is larger than the server accepts."))
    if status == 403:
        return envelope(403, "forbidden", _("You are not allowed to do this."))
    if status >= 500:
        return envelope(
            status,
            "server_error",
            _("Something went wrong on our side. It has been logged; please try again later."),
        )
    return envelope(status, "bad_request", _("The request cannot be read."))


def api_error_envelope(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], Any]:
    def middleware(request: HttpRequest) -> Any:
        response = get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            return _replacement(request, response)
        return response

    return middleware
