"""The bounded types every API parameter and body field is declared with, and what their refusals say.

A plain `int` lets a caller send 2**70 into a query that a database cannot bind (a server error,
not a refusal); a plain `datetime` accepts year 1 with an offset, which overflows on its way to
UTC. Declaring the bound in the type makes django-ninja refuse the value with 422 before any
code runs, and makes the OpenAPI document say what is enforced (`minimum`, `maximum`).

    Id          1 … 2**63-1           a database row's id (path, query, body, form)
    PageNumber  1 … 2**31-1           `page`; the offset page × page_size stays far below 2**63
    PageSize    1 … MAX_PAGE_SIZE     `page_size`
    Instant     an ISO 8601 time with its UTC offset, years 1900 … 2999
    BatchInstant  the same in an item of a marketplace batch, where a missing offset refuses the
                item, not the batch

`problem_text` turns pydantic's error of any field into one sentence in the caller's language.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticCustomError

MAX_ID = 2**63 - 1  # PostgreSQL's bigint and SQLite's INTEGER
MAX_PAGE = 2**31 - 1
MAX_PAGE_SIZE = 200

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def _instant_in(value: Any) -> Any:
    # pydantic parses the text (in Rust: the screening API validates a thousand times a batch);
    # this only turns away what it would take besides a date and time: a number of seconds since
    # 1970, as a number or as digits, and a bare date (`format: date-time` promises neither).
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) >= 19 and value[4:5] == "-"):
        return value
    raise PydanticCustomError("instant_format", "not a date and time with its UTC offset")


def _instant_range(value: datetime) -> datetime:
    # Comparing aware times never overflows; converting year 1 at +08:00 to UTC does. A time
    # without offset (BatchInstant) is refused by the service before anything converts it.
    if value.tzinfo is not None and not EARLIEST <= value < LATEST:
        raise PydanticCustomError("instant_range", "outside the years 1900 to 2999")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_instant_in), AfterValidator(_instant_range)]
# The marketplace's batches accept or refuse each item on its own: a time without offset is left
# to the service, which refuses that item (with its reason) and stores the rest of the batch.
BatchInstant = Annotated[datetime, BeforeValidator(_instant_in), AfterValidator(_instant_range)]


def problem_text(error: dict[str, Any]) -> str:
    """One pydantic error (`type`, `ctx`, `msg`) as a sentence in the active language."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    loc = error.get("loc") or ("",)
    if loc[-1] in ("page", "page_size") and kind in ("greater_than_equal", "less_than_equal"):
        # the sentence `api.core.paginate` has always answered with
        return _("page must be 1 or more and page_size between 1 and %(max)d.") % {"max": MAX_PAGE_SIZE}
    if kind in ("greater_than_equal", "greater_than"):
        return _("Give a number of at least %(min)s.") % {"min": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("Give a number of at most %(max)s.") % {"max": ctx.get("le", ctx.get("lt"))}
    if kind == "string_too_long":
        return _("At most %(limit)d characters.") % {"limit": int(ctx.get("max_length", 0))}
    if kind in ("literal_error", "enum"):
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "instant_range":
        return _("Give a time between the years 1900 and 2999.")
    texts = {
        "missing": _("This field is required."),
        "int_parsing": _("Give a whole number."),
        "int_type": _("Give a whole number."),
        "int_from_float": _("Give a whole number."),
        "float_parsing": _("Give a number."),
        "float_type": _("Give a number."),
        "decimal_parsing": _("Give a number."),
        "decimal_type": _("Give a number."),
        "string_type": _("Give a text."),
        "bool_parsing": _("Give true or false."),
        "bool_type": _("Give true or false."),
        "list_type": _("Give a list."),
        "dict_type": _("Give an object with named fields."),
        "model_type": _("Give an object with named fields."),
        "model_attributes_type": _("Give an object with named fields."),
        "instant_format": _("Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00."),
        "datetime_parsing": _("Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00."),
        "timezone_aware": _("Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00."),
        "datetime_from_date_parsing": _(
            "Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00."
        ),
        "datetime_type": _("Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00."),
    }
    return str(texts.get(kind, _("This value is not valid.")))
