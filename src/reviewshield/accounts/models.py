"""People and machine clients.

A buyer's real name, phone and address live here and nowhere else; sellers are only ever shown
`User.public_alias` (see `reviewshield.accounts.privacy`).
"""

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from reviewshield.privacy.masking import BuyerData


class Role(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    AGENT = "agent", _("Agent")
    SENIOR_AGENT = "senior_agent", _("Senior agent")
    ADMIN = "admin", _("Administrator")
    SYSTEM = "system", _("Marketplace system")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.BUYER)
    # Personal data of buyers: never shown to sellers (PRODUCT.md, privacy).
    real_name = models.CharField(_("real name"), max_length=100, blank=True)
    phone = models.CharField(_("phone number"), max_length=32, blank=True)
    address = models.TextField(_("address"), blank=True)
    # The marketplace's own id for this member (会员名 / account id), for imports.
    external_id = models.CharField(_("marketplace member id"), max_length=100, blank=True, db_index=True)
    preferred_language = models.CharField(_("language"), max_length=10, blank=True)

    @property
    def is_agent(self) -> bool:
        return self.role in (Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN)

    @property
    def personal_data(self) -> "BuyerData":
        """What identifies this person and must be masked in whatever a seller reads (gathered by
        `privacy.selectors.buyer_known_data`; mask with `privacy.selectors.mask_for_seller`)."""
        from reviewshield.privacy.selectors import buyer_known_data

        return buyer_known_data(self)

    @property
    def public_alias(self) -> str:
        """What the other party sees: a masked nickname, never the real name."""
        name = self.username
        if len(name) <= 2:
            return name[:1] + "***"
        return f"{name[0]}***{name[-1]}"


class ApiToken(models.Model):
    """A bearer token for the marketplace's systems. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple["ApiToken", str]:
        """Create a token and return it with the raw secret, which is shown once and never stored."""
        raw = "rs_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, token_hash=cls.hash(raw), prefix=raw[:8])
        return token, raw
