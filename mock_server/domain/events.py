"""Events the backends emit when a verification or a discovery changes; webhooks subscribe to them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("sohar_mock.events")

# The kinds of asynchronous request an event can be about; each names its id field
# (`verificationId`, `discoveryId`) in the payload and in the delivery journal.
VERIFICATION = "verification"
DISCOVERY = "discovery"
SUBJECTS = (VERIFICATION, DISCOVERY)

VERIFICATION_EVENT_TYPES = (
    "verification.updated",
    "verification.pending",
    "sandbox.verification.updated",
    "sandbox.verification.pending",
)
DISCOVERY_EVENT_TYPES = (
    "discovery.updated",
    "sandbox.discovery.updated",
)
# Every event type the mock fires.
EVENT_TYPES = (*VERIFICATION_EVENT_TYPES, *DISCOVERY_EVENT_TYPES)


def id_field(subject: str) -> str:
    """`verificationId` or `discoveryId`."""
    return f"{subject}Id"


@dataclass(frozen=True, slots=True)
class Event:
    """One status change of a verification or a discovery."""

    event: str
    subject: str  # VERIFICATION or DISCOVERY
    subject_id: str
    id: str | None
    status: str
    environment: str
    occurred_at: float

    def payload(self) -> dict[str, Any]:
        """Sohar's thin webhook payload, keys in the order its event table shows them."""
        if self.subject == DISCOVERY:
            return {"event": self.event, "discoveryId": self.subject_id, "status": self.status, "id": self.id}
        return {"event": self.event, "verificationId": self.subject_id, "id": self.id, "status": self.status}


Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # one broken subscriber must not lose the event for the rest
                log.exception("event listener failed for %s", event.event)
