from django.contrib import admin

from reviewshield.outbox.models import Notification, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("topic", "channel", "recipient", "created_at", "sent_at", "attempts")
    list_filter = ("channel", "topic")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("kind", "recipient", "case", "created_at", "read_at")
    list_filter = ("kind",)
