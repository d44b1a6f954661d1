"""The one NinjaAPI instance: routers, and the error handlers that give every failure the same shape.

Whatever an operation raises ends as `{"code", "message", "details"}` in the caller's language: the
domain's errors with their own status, a body or parameter that does not validate 422 (each
problem a sentence), an unreadable body 400, too large a body 413, anything unexpected 500 (logged,
never a traceback). Errors outside the operations get the same shape from `api.middleware`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core import signals
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from reviewshield.api.bodies import ObjectBodyParser, body_refused_unless_object
from reviewshield.api.bounds import problem_text
from reviewshield.api.core import AUTH
from reviewshield.errors import RateLimited, ReviewShieldError

logger = logging.getLogger(__name__)

# Error answers every operation may give besides those its router declares: an unreadable (400),
# too large (413) or invalid (422) request, and — where a caller must authenticate — a missing
# credential (401) or too many failed ones (429). Path ids may name nothing (404).
_BODY_ERRORS = (400, 413, 422)
_AUTH_ERRORS = (401, 429)
_ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


class ReviewShieldAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """The document, with every error status an operation can answer declared as the envelope."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                statuses: list[int] = []
                if method != "get" or operation.get("parameters"):
                    statuses.append(422)
                if method != "get":
                    statuses += _BODY_ERRORS
                if operation.get("security"):
                    statuses += _AUTH_ERRORS
                if any(p.get("in") == "path" for p in operation.get("parameters", ())):
                    statuses.append(404)
                responses = operation["responses"]
                for status in statuses:
                    responses.setdefault(status, {"description": "Error", "content": _ERROR_REF})
        return schema


api = ReviewShieldAPI(
    title="ReviewShield API",
    version="1",
    description="Complaints, evidence, deadlines and decisions for buyers harassed after an honest review.",
    auth=AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=ObjectBodyParser(),
)
api.add_decorator(body_refused_unless_object)


@api.exception_handler(ReviewShieldError)
def _domain_error(request: HttpRequest, exc: ReviewShieldError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "payload")),
            "code": e.get("type", ""),
            "problem": problem_text(e),
        }
        for e in exc.errors
    ]
    # One problem is the message itself; several are listed in `details`.
    message = errors[0]["problem"] if len(errors) == 1 else _("Some fields are not valid.")
    body = {"code": "invalid", "message": message, "details": {"errors": errors}}
    return api.create_response(request, body, status=422)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    body = {
        "code": "unauthenticated",
        "message": _("Please log in or send a valid API token."),
        "details": {},
    }
    return api.create_response(request, body, status=401)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(
        request, {"code": "not_found", "message": _("Not found."), "details": {}}, status=404
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, ReviewShieldError):  # our parser's refusal, wrapped by django-ninja
        return _domain_error(request, cause)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # django-ninja's own words, in English only, for a body that is not JSON
        body = {"code": "invalid_json", "message": _("The request body is not valid JSON."), "details": {}}
    elif exc.status_code == 403 and str(exc) == "CSRF check Failed":
        # django-ninja's words again, for a session caller whose form lacks the CSRF token
        body = {
            "code": "csrf_failed",
            "message": _(
                "Your session's security token is missing or out of date. Reload the page and try again."
            ),
            "details": {},
        }
    else:
        body = {"code": "http_error", "message": str(exc), "details": {}}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Requests Django could not read, as a refusal; anything else as a logged 500, never a traceback."""
    if isinstance(exc, RequestDataTooBig):
        body = {
            "code": "too_large",
            "message": _("The request is larger than the server accepts."),
            "details": {},
        }
        return api.create_response(request, body, status=413)
    if isinstance(exc, MultiPartParserError):
        body = {
            "code": "invalid_multipart",
            "message": _("The multipart body cannot be read (its boundary is missing or broken)."),
            "details": {},
        }
        return api.create_response(request, body, status=400)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a broken header
        body = {"code": "bad_request", "message": _("The request cannot be read."), "details": {}}
        return api.create_response(request, body, status=400)
    logger.exception("Unexpected error in %s %s", request.method, request.path)
    # As Django does for a crash: whoever listens for failed requests (the test client) hears of it.
    signals.got_request_exception.send(sender=None, request=request)
    body = {
        "code": "server_error",
        "message": _("Something went wrong on our side. It has been logged; please try again later."),
        "details": {},
    }
    return api.create_response(request, body, status=500)


def _mount() -> None:
    # Imported here so each module can import `api.core` without a cycle.
    from reviewshield.api import cases, chat, log, marketplace, policy, sanctions

    api.add_router("/", marketplace.router)
    api.add_router("/", cases.router)
    api.add_router("/", chat.router)
    api.add_router("/", policy.router)
    api.add_router("/", log.router)
    api.add_router("/", sanctions.router)

    from reviewshield.api import public, webhooks

    api.add_router("/", webhooks.router)

    from reviewshield.api import extortion

    api.add_router("/", extortion.router)
    api.add_router("/", public.router)

    from reviewshield.api import detection

    api.add_router("/", detection.router)

    from reviewshield.api import forensics

    api.add_router("/", forensics.router)

    from reviewshield.api import assisted

    api.add_router("/", assisted.router)


_mount()
