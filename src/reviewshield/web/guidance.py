"""What the complaint form tells a buyer about each kind of harassment, and which evidence helps.

Drawn from the seeds and the evidence Taobao's rules accept (reference/platform-rules.md): the full
chat rather than partial screenshots, call records, SMS photos with the carrier's bill, courier
waybills for items mailed, an unboxing video.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from reviewshield.cases.models import HarassmentType


@dataclass(frozen=True)
class Guidance:
    kind: str
    description: Promise
    example: Promise
    evidence: Promise


GUIDANCE = [
    Guidance(
        HarassmentType.PHONE_SMS_BOMBING,
        _("Floods of calls or text messages, such as hundreds of verification codes."),
        _("After my review I got 200 verification-code messages in one night."),
        _("Your phone's call records and SMS screenshots, and the carrier's itemised bill for those days."),
    ),
    Guidance(
        HarassmentType.SOCIAL_DOXXING,
        _("Someone found your social accounts (WeChat, QQ, Weibo) and contacted or exposed you there."),
        _("A stranger added me on WeChat with my real name and posted my order."),
        _("Screenshots of the friend request or posts, with the account name and the time visible."),
    ),
    Guidance(
        HarassmentType.ITEMS_MAILED,
        _("Frightening items sent to you, such as hell money, burial clothes or curse letters."),
        _("A parcel with hell money and a curse letter arrived three days after my review."),
        _("The courier waybill number, photos of the items, and an unboxing video if you have one."),
    ),
    Guidance(
        HarassmentType.THREATS_INSULTS,
        _("Threats to hurt you or your family, or insults, by chat, phone, SMS or in a review reply."),
        _("The seller wrote: “delete the review or you will regret it”."),
        _("The full chat from the platform (not partial screenshots), SMS photos, call records."),
    ),
    Guidance(
        HarassmentType.REVIEW_PRESSURE,
        _("Repeated demands to change or delete your review, with offers of money or “or else”."),
        _("They call every day and offer 20 yuan if I delete my bad review."),
        _("The full chat from the platform and call records showing how often they contacted you."),
    ),
    Guidance(
        HarassmentType.VISITS_IN_PERSON,
        _("Someone came to your home or workplace because of your review."),
        _("A man came to my building and asked the guard for me by name."),
        _("Write down the time and what happened; a police report number if you called the police."),
    ),
    Guidance(
        HarassmentType.PERSONAL_DATA_LEAKED,
        _("Your phone number, address or name was shared with others."),
        _("My phone number and address were posted in a group chat."),
        _("Screenshots showing where your data appeared, with the time visible."),
    ),
    Guidance(
        HarassmentType.OTHER,
        _("Anything else that harasses you because of your order or review."),
        _("Describe it in your own words below."),
        _("Anything that shows what happened and when."),
    ),
]
