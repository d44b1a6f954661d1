"""Marketplace data: platforms, shops, orders, reviews — as the marketplace pushes them to us."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Platform(models.Model):
    code = models.SlugField(primary_key=True, max_length=20)  # taobao, tmall, jd
    name_zh = models.CharField(max_length=50)
    name_en = models.CharField(max_length=50)

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        """The platform's name in the language of the current request."""
        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en


class Shop(models.Model):
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="shops", db_index=False
    )  # indexed first in `shop_unique_external`
    external_id = models.CharField(_("marketplace shop id"), max_length=100)
    name = models.CharField(_("shop name"), max_length=200)
    sellers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="shops", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="shop_unique_external")
        ]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    TRADE_SUCCESS = "trade_success", _("Trade success")
    REFUNDED = "refunded", _("Refunded")
    CLOSED = "closed", _("Closed")


class Order(models.Model):
    # platform, shop and buyer each lead an index below (`order_unique_external`, the two by
    # paid_at): no index of their own
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="orders", db_index=False)
    # The sales channel inside the platform: a Tmall order bought through the Taobao app has
    # platform "taobao" and channel "tmall", and Taobao's harassment rule excludes it.
    channel = models.SlugField(_("channel"), max_length=20)
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders", db_index=False)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    external_id = models.CharField(_("order number"), max_length=100)
    title = models.CharField(_("item"), max_length=300, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices)
    paid_at = models.DateTimeField(_("paid at"))
    trade_success_at = models.DateTimeField(_("trade success at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="order_unique_external")
        ]
        indexes = [models.Index(fields=["buyer", "-paid_at"]), models.Index(fields=["shop", "-paid_at"])]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.external_id}"


class Rating(models.TextChoices):
    GOOD = "good", _("Good")
    NEUTRAL = "neutral", _("Neutral")
    BAD = "bad", _("Bad")


class Review(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="review")
    external_id = models.CharField(_("marketplace review id"), max_length=100, blank=True)
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices)
    text = models.TextField(_("text"), blank=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    automatic = models.BooleanField(_("automatic review"), default=False)  # 自动评价
    posted_at = models.DateTimeField(_("posted at"))

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")

    def __str__(self) -> str:
        return f"{self.order} {self.rating}"
