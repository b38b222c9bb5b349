"""A correct Sohar webhook consumer: Starlette, verified with the official `svix` library.

What it gets right, and `sohar-contract webhook-consumer` checks:
- it verifies the *raw* request bytes (never a re-serialised JSON), with the signature, the
  message id and the timestamp (Svix's 5-minute tolerance stops replays);
- it accepts any one valid `v1` signature (secret rotation) and the Standard Webhooks
  `webhook-*` header names, because the library does;
- it answers 2xx to a message id it has already processed, without processing it again —
  Svix retries with the same `svix-id` until it gets a 2xx;
- it acknowledges event types it does not know and ignores them, so Svix stops retrying.

    SOHAR_WEBHOOK_SECRET=whsec_... python examples/webhook_consumer.py --port 8000

Default secret: the mock's documented, fake default. `GET /events` lists what was processed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections import OrderedDict
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from svix.webhooks import Webhook, WebhookVerificationError

log = logging.getLogger("webhook_consumer")

MOCK_DEFAULT_SECRET = "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE="
KNOWN_EVENTS = frozenset(
    {
        "verification.updated",
        "verification.pending",
        "sandbox.verification.updated",
        "sandbox.verification.pending",
        "discovery.updated",
        "sandbox.discovery.updated",
    }
)
# Svix retries a message for about a day and a half; remembering this many ids covers that at intake volumes.
SEEN_IDS_KEPT = 100_000


class Consumer:
    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.processed: list[dict[str, Any]] = []

    async def receive(self, request: Request) -> Response:
        raw = await request.body()
        try:
            self.webhook.verify(raw, dict(request.headers))
        except WebhookVerificationError as exc:
            log.warning("rejected a delivery: %s", exc)
            return JSONResponse({"error": "invalid signature"}, status_code=400)
        message_id = request.headers.get("svix-id") or request.headers.get("webhook-id") or ""
        if message_id in self.seen:
            return JSONResponse({"status": "duplicate", "id": message_id})
        try:
            event = json.loads(raw)
        except ValueError:
            # Signed by Sohar yet unreadable: retrying will not help, so acknowledge and log it.
            log.error("signed delivery %s is not JSON", message_id)
            event = None
        self._remember(message_id)
        if not isinstance(event, dict) or event.get("event") not in KNOWN_EVENTS:
            log.info("ignoring event %s", event.get("event") if isinstance(event, dict) else None)
            return JSONResponse({"status": "ignored", "id": message_id})
        self.handle(message_id, event)
        return JSONResponse({"status": "processed", "id": message_id})

    def handle(self, message_id: str, event: dict[str, Any]) -> None:
        """The business part: here, fetch the full result with Get Verification (or Get Discovery) and act on it."""
        self.processed.append({"messageId": message_id, **event})
        subject = event.get("verificationId") or event.get("discoveryId")
        log.info("%s %s -> %s", event["event"], subject, event.get("status"))

    def _remember(self, message_id: str) -> None:
        self.seen[message_id] = None
        while len(self.seen) > SEEN_IDS_KEPT:
            self.seen.popitem(last=False)

    async def events(self, request: Request) -> Response:
        return JSONResponse({"events": self.processed, "count": len(self.processed)})


def build_app(secret: str | None = None) -> Starlette:
    consumer = Consumer(secret or os.environ.get("SOHAR_WEBHOOK_SECRET") or MOCK_DEFAULT_SECRET)
    app = Starlette(
        routes=[
            Route("/webhooks/sohar", consumer.receive, methods=["POST"]),
            Route("/events", consumer.events, methods=["GET"]),
        ]
    )
    app.state.consumer = consumer
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    print(f"POST deliveries to http://{args.host}:{args.port}/webhooks/sohar")
    uvicorn.run(build_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
