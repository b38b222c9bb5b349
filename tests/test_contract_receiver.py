"""The contract kit's webhook receiver keeps whatever arrives, however odd, and answers it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from svix.webhooks import Webhook

from contract_tests.receiver import WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET


def test_a_delivery_nested_past_the_parsers_depth_is_kept_unparsed() -> None:
    body = ("[" * 100_000 + "]" * 100_000).encode()
    now = datetime.now(UTC)
    headers = {
        "svix-id": "msg_deep",
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": Webhook(DEFAULT_WEBHOOK_SECRET).sign("msg_deep", now, body.decode()),
        "content-type": "application/json",
    }
    with WebhookReceiver(DEFAULT_WEBHOOK_SECRET) as receiver:
        response = httpx.post(receiver.url, content=body, headers=headers, timeout=10)
        assert response.status_code == 204
        [item] = receiver.received
    assert item.verified and item.payload is None and item.body == body
