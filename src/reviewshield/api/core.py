"""What every API module shares: authentication, the error envelope, pagination.

People use their browser session (with CSRF); the marketplace's systems send
`Authorization: Bearer rs_…` tokens (see `accounts.ApiToken`). Every error is
`{"code", "message", "details"}` with the message in the caller's language (Accept-Language or
the session's language).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.security import APIKeyCookie, HttpBearer

from reviewshield import rawsql
from reviewshield.accounts.models import ApiToken, Role, User
from reviewshield.api.bounds import MAX_PAGE_SIZE

T = TypeVar("T")


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, Any] = {}


LAST_USED_STEP = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """Bearer tokens of the marketplace's systems (and of people who created one)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Two one-row reads in plain SQL: the ORM built this query for longer than it ran, on
        # every request of the marketplace's systems (a screening batch among them).
        found = rawsql.instances(ApiToken, "t.token_hash = %s AND t.revoked_at IS NULL", ApiToken.hash(token))
        row = found[0] if found else None
        user = None if row is None else rawsql.instance(User, row.user_id)
        if row is None or user is None or not user.is_active:
            # Counted per address; past REVIEWSHIELD_LIMITS["bearer_failure"] the answer is 429
            # instead of 401. A valid token is not checked against the count: that would cost every
            # request of the marketplace's systems a read, and tokens (256 bits) are not guessable —
            # the limit is there to stop a flood of bad tokens, and whoever tries them one by one.
            from reviewshield.limits.edges import limit_request

            limit_request(request, "bearer_failure", per_address=True)
            return None
        row.user = user
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_STEP:
            # A write per request would be a commit per request, and every web process contending
            # for the token's row; to the minute is what an admin reading "last used" needs.
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        return row.user


class SessionAuth(APIKeyCookie):
    """The browser session; unsafe methods need the CSRF token like any Django form."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


AUTH = [TokenAuth(), SessionAuth()]


def require_roles(request: HttpRequest, *roles: str) -> Any:
    """Return the caller, or raise PermissionDenied when their role is not one of `roles`."""
    from reviewshield.errors import PermissionDenied

    user = request.auth  # type: ignore[attr-defined]
    if user.role not in roles and not (user.is_superuser and Role.ADMIN not in roles):
        raise PermissionDenied(_("Your role does not allow this."))
    return user


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int


def paginate(qs: QuerySet[Any], *, page: int, page_size: int) -> tuple[list[Any], int, int, int]:
    """Cut one page out of a queryset; returns (items, count, page, page_size)."""
    from reviewshield.errors import ValidationFailed

    if page < 1 or page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise ValidationFailed(
            _("page must be 1 or more and page_size between 1 and %(max)d.") % {"max": MAX_PAGE_SIZE},
            details={"page": page, "page_size": page_size},
        )
    count = qs.count()
    start = (page - 1) * page_size
    return list(qs[start : start + page_size]), count, page, page_size
