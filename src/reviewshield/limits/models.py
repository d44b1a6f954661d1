"""The counters behind the limits, and the record of every refusal.

The counters live in the database, not in Django's cache: the embedded default runs on SQLite with
a per-process memory cache, so a cache-based limiter (django-ratelimit and the like) would give each
web process its own count, and a flood spread over several processes would pass. A row per
(action, actor, window) incremented by one upsert is right on SQLite and PostgreSQL, for one
process or many, and needs no Redis.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LimitCounter(models.Model):
    """How many attempts `actor` made at `scope` in the fixed window starting at `window_start`.

    Windows are counted in whole seconds since the epoch; rows of ended windows are deleted as new
    windows open (see `services.limit_spend`)."""

    scope = models.CharField(max_length=40)
    actor = models.CharField(max_length=100)  # "user:<id>" or "address:<ip>"
    window_start = models.BigIntegerField()
    window_end = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "actor", "window_start"], name="limit_counter_window")
        ]


class LimitHit(models.Model):
    """An actor refused for going past a limit: one row per action, actor and window, counting the
    refusals (a flood adds to one row instead of writing a row per refused request)."""

    scope = models.CharField(_("limit"), max_length=40)
    actor = models.CharField(_("actor"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL
    )
    address = models.CharField(_("address"), max_length=64, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    allowed = models.PositiveIntegerField(_("allowed per window"))
    window_seconds = models.PositiveIntegerField(_("window (seconds)"))
    window_start = models.BigIntegerField()
    first_at = models.DateTimeField(_("first refused at"))
    last_at = models.DateTimeField(_("last refused at"), db_index=True)
    refused = models.PositiveIntegerField(_("times refused"), default=0)

    class Meta:
        verbose_name = _("limit hit")
        verbose_name_plural = _("limit hits")
        constraints = [
            models.UniqueConstraint(fields=["scope", "actor", "window_start"], name="limit_hit_window")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.actor} ×{self.refused}"
