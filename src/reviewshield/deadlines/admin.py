"""Deadlines in the admin: read-only, with a "retry now" action for failed or stuck ones."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reviewshield.deadlines.claiming import deadlines_retry
from reviewshield.deadlines.models import Deadline, DeadlineRun


class DoneFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("Open")), ("done", _("Done"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Deadline]) -> QuerySet[Deadline]:
        if self.value() == "open":
            return queryset.filter(done_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset


class DeadlineRunInline(admin.TabularInline):
    model = DeadlineRun
    extra = 0
    can_delete = False
    readonly_fields = ["worker", "fired_at"]
    fields = ["worker", "fired_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "due_at",
        "available_at",
        "outcome",
        "attempts",
        "claimed_by",
        "provisional",
    ]
    list_filter = [DoneFilter, "outcome", "kind", "provisional"]
    search_fields = ["kind", "claimed_by", "=case__id", "=order__id"]
    date_hierarchy = "due_at"
    ordering = ["-due_at"]
    list_select_related = False
    inlines = [DeadlineRunInline]
    actions = ["retry_now"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Everything is read-only: deadlines change only through services and the worker, so the
        # admin can never put a row into a state the claim protocol does not expect.
        return [f.name for f in Deadline._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Retry now (failed or not yet done)"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Deadline]) -> None:
        count = deadlines_retry(ids=list(queryset.values_list("id", flat=True)), now=timezone.now())
        self.message_user(
            request,
            ngettext("%(count)d deadline is due again now.", "%(count)d deadlines are due again now.", count)
            % {"count": count},
            messages.SUCCESS,
        )
