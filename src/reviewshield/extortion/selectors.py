"""Reads: the reports a person may see, what of them each side may read, the agent queue, strikes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from reviewshield.cases.models import Side
from reviewshield.cases.selectors import evidence_copy_for, party_list_for_user
from reviewshield.errors import NotFound
from reviewshield.evidence.models import Blob
from reviewshield.extortion.access import report_side_for_user
from reviewshield.extortion.models import OPEN_STATUSES, BuyerStrike, ExtortionEvidence, ExtortionReport
from reviewshield.marketplace.models import Order, Review
from reviewshield.privacy.selectors import mask_for_seller


def report_list_for_user(
    user: Any, *, status: str | None = None, shop_id: int | None = None
) -> QuerySet[ExtortionReport]:
    """Sellers see their shops' reports, buyers the reports about them, agents all; newest first."""
    qs = ExtortionReport.objects.select_related("shop", "platform", "order", "buyer")
    return party_list_for_user(qs, user, status=status, shop_id=shop_id)


def report_get_for_user(user: Any, report_id: int) -> tuple[ExtortionReport, str]:
    """The report and the side the user stands on; NotFound for outsiders (no hint it exists)."""
    report = (
        ExtortionReport.objects.select_related(
            "shop", "platform", "order", "buyer", "assigned_agent", "decided_by", "filed_by"
        )
        .filter(pk=report_id)
        .first()
    )
    side = report_side_for_user(report, user) if report else None
    if report is None or side is None:
        raise NotFound()
    return report, side


def report_texts_for(report: ExtortionReport, side: str) -> dict[str, str]:
    """What of the report's words `side` may read. A seller reads the buyer as an alias and every text
    — the buyer's answer, the agent's reasons, and their own words too — with the buyer's personal
    data masked."""
    fields = ("demand", "narrative", "answer_text", "decision_reasons")
    if side != Side.SELLER:
        texts = {"buyer_alias": report.buyer.username}
        return texts | {f: getattr(report, f) for f in fields}
    return {"buyer_alias": report.buyer.public_alias} | {
        f: mask_for_seller(getattr(report, f), report.buyer) for f in fields
    }


def report_review(report: ExtortionReport, side: str) -> Review | None:
    """The order's review with its extortion mark, if the buyer has reviewed the order; for a seller
    with the buyer's personal data masked in its text (on this copy only, never saved)."""
    review = Review.objects.select_related("extortion_mark").filter(order_id=report.order_id).first()
    if review is not None and side == Side.SELLER:
        review.text = mask_for_seller(review.text, report.buyer)
    return review


def seller_order_by_number(seller: Any, number: str) -> Order | None:
    """The order with this number in one of the seller's shops (the newest, should two platforms
    share a number), or None."""
    orders = Order.objects.filter(shop__sellers=seller, external_id=number.strip())
    return orders.order_by("-paid_at", "-id").first()


def agent_queue(*, assigned_to: int | None = None) -> QuerySet[ExtortionReport]:
    """Open reports by their nearest deadline (the index `extortion_queue` serves the order)."""
    qs = ExtortionReport.objects.filter(next_deadline_at__isnull=False, status__in=OPEN_STATUSES)
    if assigned_to:
        qs = qs.filter(assigned_agent_id=assigned_to)
    return qs.select_related("shop", "platform", "assigned_agent", "buyer").order_by("next_deadline_at", "id")


def buyer_strikes(buyer_id: int) -> list[BuyerStrike]:
    """The buyer's strikes, oldest first, with the reports that gave them (for agents only)."""
    return list(
        BuyerStrike.objects.filter(buyer_id=buyer_id)
        .select_related("report", "report__shop")
        .order_by("at", "id")
    )


def evidence_for_user(user: Any, report_id: int, evidence_id: int) -> tuple[ExtortionEvidence, Blob]:
    """One evidence item and the file this user may open: their own side's originals, agents every
    original, the other side the clean copy — or NotFound when the kind is for agents only."""
    report, side = report_get_for_user(user, report_id)
    item = (
        ExtortionEvidence.objects.select_related("blob", "clean_blob")
        .filter(report=report, pk=evidence_id)
        .first()
    )
    blob = evidence_copy_for(item, side) if item else None  # type: ignore[arg-type]
    if item is None or blob is None:
        raise NotFound()
    return item, blob
