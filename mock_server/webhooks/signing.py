"""Svix signatures, made by the official `svix` library over the exact bytes sent."""

from __future__ import annotations

from datetime import UTC, datetime


class Signer:
    """Signs for one secret; the decoded key is kept, not re-derived per message."""

    __slots__ = ("_webhook",)

    def __init__(self, secret: str) -> None:
        # Imported on first use: the `svix` package loads its whole API client with it, about
        # 15 MB resident and a fifth of start-up, which a mock with no endpoint never needs.
        from svix.webhooks import Webhook

        self._webhook = Webhook(secret)

    def headers(self, msg_id: str, sent_at: float, body: bytes) -> dict[str, str]:
        """`svix-id`, `svix-timestamp` and `svix-signature` for one attempt sent at `sent_at` (Unix s)."""
        timestamp = datetime.fromtimestamp(int(sent_at), UTC)
        return {
            "svix-id": msg_id,
            "svix-timestamp": str(int(sent_at)),
            "svix-signature": self._webhook.sign(msg_id, timestamp, body.decode()),
        }
