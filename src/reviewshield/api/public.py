"""Public endpoints, no login: the seller credit blacklist and the shops under public warning.

They name the shop, the platform, what was decided and when, and until when — never a buyer, an
order or a case number (`sanctions.blacklist`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from reviewshield.sanctions import blacklist

router = Router(tags=["public"])


class DecisionOut(Schema):
    decided_at: str | None
    tier: str
    harassment_types: list[str]


class GroundOut(Schema):
    reason: str
    listed_from: str
    until: str
    count: int  # the decisions it rests on; `decisions` shows the latest ten
    decisions: list[DecisionOut]


class BlacklistedShopOut(Schema):
    shop: int
    external_id: str
    name: str
    platform: str
    since: str
    until: str
    grounds: list[GroundOut]


class WarningPenaltyOut(Schema):
    node: str
    points_class: str
    points: int
    year: int
    measures: list[str]
    started_at: str
    ends_at: str | None


class WarnedShopOut(Schema):
    shop: int
    external_id: str
    name: str
    platform: str
    penalties: list[WarningPenaltyOut]


@router.get(
    "/public/blacklist",
    auth=None,
    response=list[BlacklistedShopOut],
    summary="The seller credit blacklist now: each shop, why, since when and until when (no login)",
)
def blacklist_list(request: HttpRequest, platform: str | None = None) -> Any:
    return [blacklist.public_out(e) for e in blacklist.blacklist_public(timezone.now(), platform=platform)]


@router.get(
    "/public/warnings",
    auth=None,
    response=list[WarnedShopOut],
    summary="Shops under a public warning now, with the penalty behind it and its end (no login)",
)
def warnings_list(request: HttpRequest, platform: str | None = None) -> Any:
    return [blacklist.public_out(e) for e in blacklist.warnings_public(timezone.now(), platform=platform)]
