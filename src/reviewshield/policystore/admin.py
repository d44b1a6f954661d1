from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from reviewshield.policystore import services
from reviewshield.policystore.models import HolidayOverride


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working_day", "note", "created_at"]
    list_filter = ["is_working_day"]
    search_fields = ["date", "note"]
    date_hierarchy = "date"
    ordering = ["-date"]
    readonly_fields = ["created_at"]

    # Writes go through the services so the cached calendar is cleared every time.
    def save_model(self, request: HttpRequest, obj: HolidayOverride, form: Any, change: bool) -> None:
        if change and "date" in form.changed_data:
            services.holiday_override_delete(date=form.initial["date"])
        saved = services.holiday_override_set(date=obj.date, is_working_day=obj.is_working_day, note=obj.note)
        obj.pk, obj.created_at = saved.pk, saved.created_at

    def delete_model(self, request: HttpRequest, obj: HolidayOverride) -> None:
        services.holiday_override_delete(date=obj.date)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[HolidayOverride]) -> None:
        for date in list(queryset.values_list("date", flat=True)):
            services.holiday_override_delete(date=date)
