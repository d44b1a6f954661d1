"""Who may see and do what on a case. One condition per line, tested for owner, other party, outsider."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model

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
    """Row `pk` of `model`, locked for update where the database can (PostgreSQL; SQLite's write
    transaction already holds the whole file), with `user_sells` when a seller's id is given:
    whether they sell in the row's shop, read with the row (a seller's every action asks).

    A raw query (`Manager.raw` still converts every column as the ORM does): every step of a
    complaint locks its row, and building this query with the ORM cost more than running it.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(f"t.{quote(f.column)}" for f in model._meta.concrete_fields)
    params: list[Any] = []
    sells = ""
    if seller_id is not None:
        through = Shop.sellers.through._meta
        sells = (
            f", EXISTS(SELECT 1 FROM {quote(through.db_table)} m WHERE m.{quote('shop_id')} = t.{quote('shop_id')}"
            f" AND m.{quote('user_id')} = %s) AS user_sells"
        )
        params.append(seller_id)
    lock = " FOR UPDATE OF t" if connection.features.has_select_for_update_of else ""
    params.append(pk)
    found = list(
        model._default_manager.raw(
            f"SELECT {columns}{sells} FROM {table} t WHERE t.{quote(model._meta.pk.column)} = %s{lock}",
            params,
        )
    )
    return found[0] if found else None
