"""webhook_deliveries_per_s: events emitted as services emit them, then delivered to one endpoint, SQLite.

The receiver is a real HTTP/1.1 server on 127.0.0.1 (ephemeral port, keep-alive, its own threads)
that checks every signature with `signing.verify` and answers 204. Delivery goes through the path
the worker takes: `webhooks_deliver_once` rounds (claim under a lease, POST outside any transaction
on the thread pool, record the attempts) until nothing is due. The receiver runs in the same process,
so the figure is a floor: a separate receiver would not share our interpreter's lock.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import Figures, figures, setup_django

N = int(os.environ.get("RS_BENCH_WEBHOOKS", "2000"))
SECRET = "bench-secret"


@figures("webhook_deliveries_per_s")
def webhook_deliveries() -> Figures:
    setup_django()
    from django.db import transaction
    from django.utils import timezone

    from reviewshield.webhooks import signing
    from reviewshield.webhooks.delivery import webhooks_deliver_once
    from reviewshield.webhooks.models import WebhookDelivery, WebhookEndpoint
    from reviewshield.webhooks.services import webhook_emit

    received: list[bool] = []
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = signing.verify(
                SECRET,
                self.headers[signing.HEADER_TIMESTAMP],
                body,
                self.headers[signing.HEADER_SIGNATURE],
                now_unix=time.time(),
            )
            with lock:
                received.append(ok)
            self.send_response(204 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    WebhookEndpoint.objects.create(
        name="bench", url=f"http://127.0.0.1:{server.server_address[1]}/hooks", secret=SECRET
    )
    created = datetime.now(tz=UTC)
    for i in range(N):
        with transaction.atomic():  # one transaction per announced change, as the services do
            webhook_emit(
                event="case.decided",
                payload={
                    "case_reference": f"RS{i:010d}",
                    "outcome": "upheld",
                    "tier": "serious",
                    "points": 12,
                },
                now=created,
            )

    started = time.perf_counter()
    while webhooks_deliver_once(now=timezone.now(), limit=200):
        pass
    elapsed = time.perf_counter() - started
    server.shutdown()
    delivered = WebhookDelivery.objects.filter(delivered_at__isnull=False).count()
    assert delivered == N and len(received) == N and all(received), (delivered, len(received))
    return {"webhook_deliveries_per_s": (N / elapsed, "/s")}
