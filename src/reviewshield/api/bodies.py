"""Request bodies: every JSON body the API reads is one object, and its text is well-formed Unicode.

django-ninja's schemas read their fields off any Python value (to accept Django objects), so a
body of `"please"`, `42`, `[1, 2, 3]` or `false` validated as `{}` against a schema whose fields
all have defaults — and withdrew a complaint or marked every notification read. A lone surrogate
(`"\\ud800"`) is valid JSON but no text a database can store. Both are refused here, once for
the whole API: by the parser for operations with a body, and by `body_refused_unless_object`
for operations without one (a body they would have ignored is still not taken as a request).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.parser import Parser

from reviewshield.errors import ValidationFailed

# JSON escapes of UTF-16 surrogates; only when one appears can a lone one be in the parsed text
# (raw UTF-8 cannot carry a surrogate: such bytes fail to decode).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_PARSED = "_reviewshield_json_body"


class InvalidJson(ValidationFailed):
    code = "invalid_json"
    status = 400


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def json_object(request: HttpRequest) -> dict[str, Any]:
    """The request's body as a JSON object (parsed once per request); raises the refusal otherwise."""
    cached = getattr(request, _PARSED, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        data = json.loads(request.body)
    except ValueError:  # not JSON, or not UTF-8
        raise InvalidJson(_("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            _("The request body must be a JSON object with named fields."),
            code="body_not_object",
        )
    if _SURROGATE_ESCAPE.search(request.body) and _has_lone_surrogate(data):
        raise ValidationFailed(
            _("The request body contains text that is not valid Unicode (a lone surrogate)."),
            code="invalid_text",
        )
    setattr(request, _PARSED, data)
    return data


class ObjectBodyParser(Parser):
    """django-ninja's JSON parser, but a body must be one object of well-formed text."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return json_object(request)


def body_refused_unless_object(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a non-empty body that is not a JSON object, also where the operation reads none."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and (request.content_type or "") not in _FORM_TYPES
            and request.body.strip()
        ):
            json_object(request)
        return view(request, *args, **kwargs)

    return checked
