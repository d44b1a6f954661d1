"""The one NinjaAPI instance: routers, and the error handlers that give every failure the same shape."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from reviewshield.api.core import AUTH
from reviewshield.errors import ReviewShieldError

api = NinjaAPI(
    title="ReviewShield API",
    version="1",
    description="Complaints, evidence, deadlines and decisions for buyers harassed after an honest review.",
    auth=AUTH,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)


@api.exception_handler(ReviewShieldError)
def _domain_error(request: HttpRequest, exc: ReviewShieldError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {
            "field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "payload")),
            "problem": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    body = {"code": "invalid", "message": _("Some fields are not valid."), "details": {"errors": errors}}
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
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # django-ninja's own words, in English only, for a body that is not JSON
        body = {"code": "invalid_json", "message": _("The request body is not valid JSON."), "details": {}}
    else:
        body = {"code": "http_error", "message": str(exc), "details": {}}
    return api.create_response(request, body, status=exc.status_code)


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
