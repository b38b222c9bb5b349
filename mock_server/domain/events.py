"""Events the backend emits when a verification changes; webhooks subscribe to them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("sohar_mock.events")

EVENT_TYPES = (
    "verification.updated",
    "verification.pending",
    "sandbox.verification.updated",
    "sandbox.verification.pending",
)


@dataclass(frozen=True, slots=True)
class VerificationEvent:
    event: str
    verification_id: str
    id: str | None
    status: str
    environment: str
    occurred_at: float

    def payload(self) -> dict[str, Any]:
        """Sohar's thin webhook payload."""
        return {"event": self.event, "verificationId": self.verification_id, "id": self.id, "status": self.status}


Listener = Callable[[VerificationEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, event: VerificationEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # one broken subscriber must not lose the event for the rest
                log.exception("event listener failed for %s", event.event)
