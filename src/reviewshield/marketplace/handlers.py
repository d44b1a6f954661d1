"""Deadline handlers of marketplace data; imported by `MarketplaceConfig.ready` so the worker knows them."""

from __future__ import annotations

from datetime import datetime

from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import register
from reviewshield.marketplace.services import AUTOMATIC_REVIEW, automatic_review_post


@register(AUTOMATIC_REVIEW)
def automatic_review(deadline: Deadline, now: datetime) -> str:
    """The review window closed: post the automatic good review unless the buyer reviewed already."""
    return automatic_review_post(deadline=deadline, now=now)
