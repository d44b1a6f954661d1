"""Template helpers: local times, countdowns, status badges."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reviewshield.localtime import iso_local, to_local

register = template.Library()


@register.filter
def local(at: datetime | None) -> str:
    """`2026-10-10 10:00` in Beijing time."""
    return to_local(at).strftime("%Y-%m-%d %H:%M") if at else ""


def time_left_text(deadline: datetime, now: datetime) -> str:
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("time is up")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        d = ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        h = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
        return _("%(days)s %(hours)s") % {"days": d, "hours": h}
    if hours:
        h = ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
        m = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
        return _("%(hours)s %(minutes)s") % {"hours": h, "minutes": m}
    return ngettext("%(n)d minute", "%(n)d minutes", max(minutes, 1)) % {"n": max(minutes, 1)}


@register.filter
def is_past(at: datetime | None) -> bool:
    return at is not None and at <= timezone.now()


@register.simple_tag
def countdown(deadline: datetime | None) -> str:
    """A <time> with the time left; the page script keeps it current."""
    if deadline is None:
        return ""
    return format_html(
        '<time class="countdown" datetime="{}" title="{}">{}</time>',
        iso_local(deadline),
        local(deadline) + " (UTC+8)",
        time_left_text(deadline, timezone.now()),
    )


@register.filter
def event_label(kind: str) -> str:
    from reviewshield.web.labels import EVENT_LABELS

    return str(EVENT_LABELS.get(kind, kind))


@register.filter
def extortion_event_label(kind: str) -> str:
    from reviewshield.web.labels import EXTORTION_EVENT_LABELS

    return str(EXTORTION_EVENT_LABELS.get(kind, kind))


@register.filter
def harassment_label(kind: str) -> str:
    from reviewshield.cases.models import HarassmentType

    return str(HarassmentType(kind).label) if kind in HarassmentType.values else kind


@register.simple_tag(takes_context=True)
def with_page(context: template.Context, number: int) -> str:
    """The current address's query with `page` set to `number` (filters stay as they were)."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


@register.filter
def tier_label(tier: str) -> str:
    from reviewshield.cases.models import Tier

    return str(Tier(tier).label) if tier in Tier.values else tier


@register.filter
def side_label(role: str) -> str:
    from reviewshield.web.labels import ACTOR_LABELS

    return str(ACTOR_LABELS.get(role, role))


@register.filter
def measure_label(measure: str) -> str:
    from reviewshield.web.labels import MEASURE_LABELS

    return str(MEASURE_LABELS.get(measure, measure))


@register.filter
def ruleset_label(ruleset_id: str) -> str:
    from reviewshield.web.labels import ruleset_label as label

    return label(ruleset_id)


@register.simple_tag
def limit(text: str, *id_parts: object, invalid: object = False) -> str:
    """A free text's textarea attributes: its one limit (`freetext.LIMITS`) and the counter below it.

    The textarea's id is `id_parts` joined (`{% limit "assisted_reason" "reason-" o.pk %}`). With
    `invalid` (the field's errors) the textarea is marked invalid and described by its error too
    (`parts/field_errors.html` gives it the id `<id>_error`)."""
    from reviewshield.freetext import LIMITS

    field_id = "".join(str(p) for p in id_parts)
    if invalid:
        return format_html(
            'maxlength="{}" data-counter="{}-count" aria-invalid="true" aria-describedby="{}_error {}-count"',
            LIMITS[text],
            field_id,
            field_id,
            field_id,
        )
    return format_html(
        'maxlength="{}" data-counter="{}-count" aria-describedby="{}-count"', LIMITS[text], field_id, field_id
    )


@register.simple_tag
def counter(text: str, *id_parts: object) -> str:
    """The limit in words under a free text; `counter.js` turns it into a live count as the person types."""
    from reviewshield.freetext import LIMITS

    field_id = "".join(str(p) for p in id_parts)
    return format_html(
        '<p class="hint counter" id="{}-count" data-of="{}" aria-live="polite">{}</p>',
        field_id,
        _("%(count)s of %(max)s characters") % {"count": "{count}", "max": LIMITS[text]},
        _("At most %(max)d characters.") % {"max": LIMITS[text]},
    )
