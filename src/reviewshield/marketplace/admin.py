from django.contrib import admin

from reviewshield.marketplace.models import Order, Platform, Review, Shop


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en")


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "external_id")
    list_filter = ("platform",)
    search_fields = ("name", "external_id")
    filter_horizontal = ("sellers",)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("external_id", "platform", "channel", "shop", "status", "amount", "trade_success_at")
    list_filter = ("platform", "channel", "status")
    search_fields = ("external_id", "title")
    raw_id_fields = ("buyer", "shop")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("order", "rating", "anonymous", "automatic", "posted_at")
    list_filter = ("rating", "anonymous", "automatic")
    raw_id_fields = ("order",)
