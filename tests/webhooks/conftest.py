"""A real webhook receiver on 127.0.0.1 (ephemeral port, its own threads) and helpers to emit events.

`Receiver(plan)` answers the n-th request with `plan[n]` (the last entry repeats): a status code, or
"hang" to keep the request open until the test ends (longer than any timeout the tests set). Every
request is kept with its headers, its body and whether `signing.verify` accepted it, checked
against `clock()` — the simulated time the test moves forward — with the endpoint's secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction

from reviewshield.webhooks import signing
from reviewshield.webhooks.models import WebhookEndpoint, WebhookEvent
from reviewshield.webhooks.services import webhook_emit
from tests.deadlines.test_worker_processes import (  # noqa: F401  (fixtures: a migrated SQLite file)
    migrated_sqlite_template,
    sqlite_db,
)

NOW = datetime(2026, 11, 12, 1, 0, tzinfo=UTC)
SECRET = "test-secret-0123456789"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int | str


@dataclass
class Receiver:
    plan: list[int | str]
    secret: str = SECRET
    clock: Callable[[], datetime] = lambda: NOW
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer_for(self, headers: dict[str, str], body: bytes) -> int | str:
        verified = signing.verify(
            self.secret,
            headers.get(signing.HEADER_TIMESTAMP, ""),
            body,
            headers.get(signing.HEADER_SIGNATURE, ""),
            now_unix=self.clock().timestamp(),
        )
        with self._lock:
            answer = self.plan[min(len(self.requests), len(self.plan) - 1)]
            self.requests.append(Received(headers, body, verified, answer))
        return answer


def serve(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = receiver.answer_for(dict(self.headers.items()), body)
            if answer == "hang":
                receiver.release.wait(30)
                return
            body = b"" if answer in (204, 304) else b"ok"  # a 204 has no body, or the next answer breaks
            self.send_response(int(answer))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def receiver_factory() -> Iterator[Callable[..., Receiver]]:
    servers: list[tuple[ThreadingHTTPServer, Receiver]] = []

    def make(plan: list[int | str], **kwargs: Any) -> Receiver:
        receiver = Receiver(plan=plan, **kwargs)
        servers.append((serve(receiver), receiver))
        return receiver

    yield make
    for server, receiver in servers:
        receiver.release.set()
        server.shutdown()
        server.server_close()
    time.sleep(0.01)


def endpoint(url: str = "http://127.0.0.1:9/hooks", *, name: str = "Marketplace", events: Any = None,
             active: bool = True, secret: str = SECRET) -> WebhookEndpoint:  # fmt: skip
    return WebhookEndpoint.objects.create(
        name=name, url=url, secret=secret, events=events or [], active=active
    )


def emit(
    event: str = "case.decided", payload: dict[str, Any] | None = None, now: datetime = NOW
) -> WebhookEvent:
    """Emit in a transaction of its own, as a service would in its own."""
    with transaction.atomic():
        row = webhook_emit(
            event=event, payload=payload or {"case_reference": "RS2026000001", "outcome": "upheld"}, now=now
        )
    assert row is not None
    return row
