"""The one error hierarchy of ReviewShield.

Every error a person can cause carries a stable `code` (for programs), a translated `message`
(for people, rendered in the active language when shown) and an HTTP `status`:

    ReviewShieldError                    400 error
    ├── ValidationFailed                 422 invalid
    │   └── EvidenceRejected             422 evidence_rejected   (an upload refused; `details.reason` says why)
    ├── NotFound                         404 not_found
    ├── PermissionDenied                 403 forbidden
    ├── NotEligible                      422 not_eligible        (filing refused; `reason` says why)
    ├── DeadlinePassed                   409 deadline_passed
    ├── InvalidTransition                409 invalid_transition  (the case is not in a state that allows it)
    ├── Conflict                         409 conflict            (someone else changed it first)
    ├── LinkInvalid                      410 link_invalid        (assisted-filing link used, expired or unknown)
    ├── RateLimited                      429 rate_limited        (past a limit in REVIEWSHIELD_LIMITS; `retry_after` seconds)
    └── ImportRejected                   422 import_rejected
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ReviewShieldError(Exception):
    code = "error"
    status = 400
    default_message: Any = _("The request could not be completed.")

    def __init__(
        self, message: Any = None, *, code: str | None = None, details: dict[str, Any] | None = None
    ):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.details = details or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "details": _jsonable(self.details)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class ValidationFailed(ReviewShieldError):
    code = "invalid"
    status = 422
    default_message = _("Some fields are not valid.")


class EvidenceRejected(ValidationFailed):
    code = "evidence_rejected"
    default_message = _("This file cannot be accepted as evidence.")


class NotFound(ReviewShieldError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(ReviewShieldError):
    code = "forbidden"
    status = 403
    default_message = _("You are not allowed to do this.")


class NotEligible(ReviewShieldError):
    code = "not_eligible"
    status = 422
    default_message = _("This order cannot be complained about.")


class DeadlinePassed(ReviewShieldError):
    code = "deadline_passed"
    status = 409
    default_message = _("The deadline for this step has passed.")


class InvalidTransition(ReviewShieldError):
    code = "invalid_transition"
    status = 409
    default_message = _("The case is not in a state that allows this.")


class Conflict(ReviewShieldError):
    code = "conflict"
    status = 409
    default_message = _("Someone else changed this case first. Reload it and try again.")


class LinkInvalid(ReviewShieldError):
    code = "link_invalid"
    status = 410
    default_message = _("This filing link is not valid any more.")


class ImportRejected(ReviewShieldError):
    code = "import_rejected"
    status = 422
    default_message = _("Some rows were rejected.")


class RateLimited(ReviewShieldError):
    """Past one of the limits against floods and guessing; `retry_after` is whole seconds to wait
    (sent as the `Retry-After` header and in `details.retry_after`)."""

    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please wait and try again.")

    def __init__(self, message: Any = None, *, retry_after: int, details: dict[str, Any] | None = None):
        self.retry_after = max(1, int(retry_after))
        super().__init__(message, details={**(details or {}), "retry_after": self.retry_after})
