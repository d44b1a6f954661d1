"""What a seller may read of a buyer: the one place that gathers the buyer's data and masks it.

Every surface a seller reads — pages, API answers, clean copies of text evidence, chat excerpts,
extortion reports, notifications — masks buyer-written (and agent-written) text with
`mask_for_seller(text, buyer)`, so the needles are the same everywhere: the profile (real name,
first and last name, phone, address, email, the marketplace nickname) and the names the buyer gave
themself in their own complaints, appeals and answers (我叫…, a signature), which may differ from
the profile's name. The pure masking is `privacy.masking`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reviewshield.privacy.masking import BuyerData, mask_personal_data, self_named

# How many of the buyer's own texts are read for names they gave themself (newest first).
_OWN_TEXTS = 50


def buyer_known_data(buyer: Any, *, also: str = "") -> BuyerData:
    """The buyer's data a seller must never read (read once per buyer object, then kept on it).

    `also`: a text of the buyer's not saved yet (the narrative being filed) whose self-given names
    count too."""
    cached = getattr(buyer, "_seller_masking_data", None)
    if cached is not None:
        return replace(cached, names=cached.names + tuple(self_named(also))) if also else cached
    names = [buyer.real_name, f"{buyer.first_name} {buyer.last_name}"]
    if buyer.pk is not None:
        names += [name for text in _own_texts(buyer.pk) for name in self_named(text)]
    data = BuyerData(
        names=_distinct(names),
        phones=_distinct([buyer.phone]),
        addresses=_distinct([buyer.address]),
        others=_distinct([buyer.email, buyer.username]),
    )
    buyer._seller_masking_data = data
    return replace(data, names=data.names + tuple(self_named(also))) if also else data


def mask_for_seller(text: str, buyer: Any) -> str:
    """`text` as a seller may read it: the buyer's data, and anything shaped like a phone, an ID
    number or an address, masked."""
    return mask_personal_data(text, buyer_known_data(buyer)) if text else text


def _own_texts(buyer_id: int) -> list[str]:
    # Imported here: cases and extortion import the evidence intake, which masks with this module.
    from reviewshield.cases.models import Case
    from reviewshield.extortion.models import ExtortionReport
    from reviewshield.sanctions.models import Appeal

    texts = list(
        Case.objects.filter(buyer_id=buyer_id)
        .order_by("-id")
        .values_list("narrative", flat=True)[:_OWN_TEXTS]
    )
    texts += (
        Appeal.objects.filter(case__buyer_id=buyer_id, side="buyer")
        .order_by("-id")
        .values_list("reasons", flat=True)[:_OWN_TEXTS]
    )
    texts += (
        ExtortionReport.objects.filter(buyer_id=buyer_id)
        .exclude(answer_text="")
        .order_by("-id")
        .values_list("answer_text", flat=True)[:_OWN_TEXTS]
    )
    return texts


def _distinct(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def mask_data_for_seller(value: Any, buyer: Any) -> Any:
    """A JSON-like value (an event's data) with every string in it masked for a seller."""
    if isinstance(value, str):
        return mask_for_seller(value, buyer)
    if isinstance(value, dict):
        return {k: mask_data_for_seller(v, buyer) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_data_for_seller(v, buyer) for v in value]
    return value
