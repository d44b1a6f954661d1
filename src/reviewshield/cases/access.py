"""Who may see and do what on a case. One condition per line, tested for owner, other party, outsider."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model

from reviewshield import rawsql
from reviewshield.accounts.models import Role
from reviewshield.cases.models import Case, Side
from reviewshield.errors import NotFound, PermissionDenied
from reviewshield.marketplace.models import Shop

AGENT_ROLES = (Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN)


def is_agent(user: Any) -> bool:
    return bool(user.is_authenticated and (user.role in AGENT_ROLES or user.is_superuser))


def is_seller_of_shop(user: Any, shop_id: int) -> bool:
    return bool(user.is_authenticated and user.role == Role.SELLER and user.shops.filter(pk=shop_id).exists())


def case_side_for_user(case: Case, user: Any, *, sells: bool | None = None) -> str | None:
    """The side the user stands on in this case: buyer, seller, agent, or None (an outsider).

    Anything with a `buyer_id` and a `shop_id` has the same sides (an extortion report). `sells`:
    whether the user is a seller of the case's shop, when the caller read it already."""
    if not user.is_authenticated:
        return None
    if case.buyer_id == user.pk:
        return Side.BUYER
    if is_agent(user):  # no query: the role says it
        return Side.AGENT
    if sells if sells is not None else is_seller_of_shop(user, case.shop_id):
        return Side.SELLER
    return None


def locked_for(
    model: type[Model], pk: int, user: Any, sides: tuple[str, ...], *, missing: Any, only: Any
) -> tuple[Any, str]:
    """Lock row `pk` of `model` (a case, an extortion report) for this user's action and return it with
    the user's side: NotFound(`missing`) for outsiders, PermissionDenied(`only`, naming the `sides`
    in a `%(sides)s`) for the wrong side.

    Locked here, once: the transition that follows reuses this row instead of reading it again.
    """
    seller = user.is_authenticated and user.role == Role.SELLER
    row = _locked_row(model, pk, user.pk if seller else None)
    sells = bool(row.user_sells) if row is not None and seller else None
    side = case_side_for_user(row, user, sells=sells) if row else None  # type: ignore[arg-type]
    if row is None or side is None:
        raise NotFound(missing)
    if side not in sides:
        raise PermissionDenied(only % {"sides": " / ".join(str(Side(s).label) for s in sides)})
    return row, side


def _locked_row(model: type[Model], pk: int, seller_id: int | None) -> Any:
    """Row `pk` of `model`, locked, with `user_sells` when a seller's id is given: whether they
    sell in the row's shop, read with the row (a seller's every action asks)."""
    if seller_id is None:
        return rawsql.instance(model, pk, lock=True)
    through = connection.ops.quote_name(Shop.sellers.through._meta.db_table)
    sells = f"EXISTS(SELECT 1 FROM {through} m WHERE m.shop_id = t.shop_id AND m.user_id = %s) AS user_sells"
    return rawsql.instance(model, pk, lock=True, extra=sells, params=[seller_id])
