"""Several events of one change: the endpoints read once, a payload built only for a subscriber."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from reviewshield.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from reviewshield.webhooks.services import webhook_emit_many

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_a_payload_function_is_called_only_when_someone_subscribes():
    WebhookEndpoint.objects.create(name="m", url="http://127.0.0.1:9/h", events=["case.decided"])
    built = []

    def payload(name):
        def build():
            built.append(name)
            return {"case": name}

        return build

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        out = webhook_emit_many(
            events=[("case.decided", payload("a")), ("compensation.due", payload("b"))], now=NOW
        )
    assert built == ["a"]
    assert out[1] is None and out[0] is not None
    assert sum("webhooks_webhookendpoint" in q["sql"] for q in queries) == 1
    assert WebhookEvent.objects.get().payload == {"case": "a"}
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
def test_a_plain_payload_is_checked_even_without_subscribers():
    with transaction.atomic(), pytest.raises(ValueError, match="personal data"):
        webhook_emit_many(events=[("case.decided", {"phone": "13800138000"})], now=NOW)
