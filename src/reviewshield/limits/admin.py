from django.contrib import admin

from reviewshield.limits.models import LimitHit


@admin.register(LimitHit)
class LimitHitAdmin(admin.ModelAdmin):
    """Who went past which limit, when and how often: read-only, written by the limits themselves."""

    list_display = (
        "last_at",
        "scope",
        "actor",
        "user",
        "address",
        "refused",
        "allowed",
        "window_seconds",
        "path",
    )
    list_filter = ("scope",)
    search_fields = ("actor", "address", "user__username")
    date_hierarchy = "last_at"
    ordering = ("-last_at",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
