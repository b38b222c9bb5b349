"""Webhook messages and their attempts: the delivery journal QA reads and replays from."""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..clock import Timer
from ..domain.render import iso_millis

# A message's life: waiting for an attempt, being sent, then one of the three ends.
PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"  # every scheduled attempt failed, or its endpoint was deleted
ABORTED = "aborted"  # the receiver answered `webhook-delivery: abort-message`
STATES = (PENDING, SENDING, DELIVERED, FAILED, ABORTED)


@dataclass(slots=True)
class Attempt:
    number: int
    at: float  # mock-clock time the attempt was made
    timestamp: int  # the real Unix time signed into `svix-timestamp`
    trigger: str  # "scheduled" or "replay"
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    abort_requested: bool = False  # the receiver answered `webhook-delivery: abort-message`

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def to_api(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "at": iso_millis(self.at),
            "timestamp": self.timestamp,
            "trigger": self.trigger,
            "statusCode": self.status_code,
            "latencyMs": self.latency_ms,
            "error": self.error,
            "abortRequested": self.abort_requested,
        }


@dataclass(slots=True)
class Message:
    """One event for one endpoint. Its `svix-id` stays the same across every attempt."""

    message_id: str
    endpoint_id: str
    url: str
    event: str
    verification_id: str
    body: bytes  # the exact bytes signed and sent, every time
    created: float
    state: str = PENDING
    attempts: list[Attempt] = field(default_factory=list)
    timer: Timer | None = None

    @property
    def finished(self) -> bool:
        return self.state in (DELIVERED, FAILED, ABORTED)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "endpointId": self.endpoint_id,
            "url": self.url,
            "event": self.event,
            "verificationId": self.verification_id,
            "payload": json.loads(self.body),
            "state": self.state,
            "created": iso_millis(self.created),
            "nextAttemptAt": iso_millis(self.timer.due) if self.timer is not None and self.state == PENDING else None,
            "attempts": [attempt.to_api() for attempt in self.attempts],
        }


class DeliveryJournal:
    """Messages by id, oldest first; past `size`, the oldest finished ones make room."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._messages: OrderedDict[str, Message] = OrderedDict()

    def add(self, message: Message) -> None:
        self._messages[message.message_id] = message
        excess = len(self._messages) - self._size
        if excess > 0:
            # Oldest first, and the oldest are almost always finished: this stops early.
            finished = (key for key, m in self._messages.items() if m.finished)
            for key in list(itertools.islice(finished, excess)):
                del self._messages[key]

    def get(self, message_id: str) -> Message | None:
        return self._messages.get(message_id)

    def __iter__(self) -> Iterator[Message]:
        return iter(list(self._messages.values()))

    def __len__(self) -> int:
        return len(self._messages)

    def clear(self) -> None:
        self._messages.clear()

    def select(
        self,
        *,
        verification_id: str | None = None,
        event: str | None = None,
        endpoint: str | None = None,
        state: str | None = None,
    ) -> list[Message]:
        """Messages matching every given filter; `endpoint` matches an endpoint id or URL."""
        return [
            m
            for m in self
            if (verification_id is None or m.verification_id == verification_id)
            and (event is None or m.event == event)
            and (endpoint is None or endpoint in (m.endpoint_id, m.url))
            and (state is None or m.state == state)
        ]
