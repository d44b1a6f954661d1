"""Webhooks in the admin: endpoints are edited here; events and deliveries are read-only, with "replay"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reviewshield.errors import ReviewShieldError
from reviewshield.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from reviewshield.webhooks.services import webhook_replay


class WebhookEndpointForm(forms.ModelForm):
    # An address without a scheme is taken as https, never as plain http.
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "active", "events", "secret"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "active", "events", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "active", "events", "secret", "created_at"]
    readonly_fields = ["created_at"]


class ReadOnly(admin.ModelAdmin):
    """Rows written only by the services and the worker, so the admin never breaks the claim protocol."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly):
    list_display = ["id", "event", "created_at"]
    list_filter = ["event"]
    search_fields = ["=id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["n", "at", "status_code", "error", "duration_ms", "worker"]
    readonly_fields = fields
    ordering = ["n", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(DeliveryStatus.choices)

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]
    ) -> QuerySet[WebhookDelivery]:
        if self.value() == DeliveryStatus.PENDING:
            return queryset.filter(delivered_at__isnull=True, dead_at__isnull=True)
        if self.value() == DeliveryStatus.DELIVERED:
            return queryset.filter(delivered_at__isnull=False)
        if self.value() == DeliveryStatus.DEAD:
            return queryset.filter(dead_at__isnull=False)
        return queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = [
        "id",
        "event",
        "endpoint",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
        "dead_at",
    ]
    list_filter = [StatusFilter, "event__event", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["=event__id"]
    ordering = ["-created_at", "-id"]
    inlines = [AttemptInline]
    actions = ["replay"]

    @admin.action(description=_("Send again now"), permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = 0
        now = timezone.now()
        for pk in queryset.values_list("pk", flat=True):
            try:
                webhook_replay(delivery_id=pk, user=request.user, now=now)
            except ReviewShieldError as exc:
                self.message_user(request, f"{pk}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery is due again now.", "%(count)d deliveries are due again now.", done
                )
                % {"count": done},
                messages.SUCCESS,
            )
