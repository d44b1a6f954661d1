from django.contrib import admin

from reviewshield.cases.models import AssistedLink, Case, CaseEvent, CaseEvidence


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "actor_role", "at", "from_status", "to_status", "data")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: a case changes only through the workflow services, so every change has its event."""

    list_display = (
        "reference",
        "platform",
        "shop",
        "status",
        "next_deadline_at",
        "escalated",
        "ruleset_id",
        "filed_at",
    )
    list_filter = ("status", "platform", "escalated", "ruleset_id")
    search_fields = ("reference", "order__external_id", "shop__name")
    inlines = [CaseEventInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [f.name for f in Case._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AssistedLink)
class AssistedLinkAdmin(admin.ModelAdmin):
    list_display = ("order", "issued_by", "issued_at", "expires_at", "used_at")
    readonly_fields = (
        "token_hash",
        "order",
        "buyer",
        "issued_by",
        "reason",
        "issued_at",
        "expires_at",
        "used_at",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(CaseEvidence)
class CaseEvidenceAdmin(admin.ModelAdmin):
    list_display = ("case", "side", "kind", "original_name", "size", "sha256", "created_at")
    readonly_fields = (
        "case",
        "side",
        "kind",
        "submitted_by",
        "blob",
        "clean_blob",
        "reference",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "description",
        "created_at",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
