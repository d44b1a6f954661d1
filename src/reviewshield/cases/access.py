"""Who may see and do what on a case. One condition per line, tested for owner, other party, outsider."""

from __future__ import annotations

from typing import Any

from reviewshield.accounts.models import Role
from reviewshield.cases.models import Case, Side

AGENT_ROLES = (Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN)


def is_agent(user: Any) -> bool:
    return bool(user.is_authenticated and (user.role in AGENT_ROLES or user.is_superuser))


def is_seller_of_shop(user: Any, shop_id: int) -> bool:
    return bool(user.is_authenticated and user.role == Role.SELLER and user.shops.filter(pk=shop_id).exists())


def case_side_for_user(case: Case, user: Any) -> str | None:
    """The side the user stands on in this case: buyer, seller, agent, or None (an outsider)."""
    if not user.is_authenticated:
        return None
    if case.buyer_id == user.pk:
        return Side.BUYER
    if is_agent(user):  # no query: the role says it
        return Side.AGENT
    if is_seller_of_shop(user, case.shop_id):
        return Side.SELLER
    return None
