"""Webhook messages and their attempts: the delivery journal QA reads and replays from."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..clock import Timer
from ..domain.events import DISCOVERY, VERIFICATION, id_field
from ..domain.render import iso_millis
from ..domain.state_file import MEMORY, StateLog
from ..revisions import Revisions

# A message's life: waiting for an attempt, being sent, then one of the three ends.
PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"  # every scheduled attempt failed, or its endpoint was deleted
ABORTED = "aborted"  # the receiver answered `webhook-delivery: abort-message`
STATES = (PENDING, SENDING, DELIVERED, FAILED, ABORTED)
# What messages are called in the state file.
MESSAGE = "message"


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
    revision: int = 0  # when it was recorded, on the control plane's change counter

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
            "revision": self.revision,
        }


@dataclass(slots=True)
class Message:
    """One event for one endpoint. Its `svix-id` stays the same across every attempt."""

    message_id: str
    endpoint_id: str
    url: str
    event: str
    subject: str  # what the event is about: a verification or a discovery
    subject_id: str  # its verificationId or discoveryId
    body: bytes  # the exact bytes signed and sent, every time
    created: float
    state: str = PENDING
    attempts: list[Attempt] = field(default_factory=list)
    timer: Timer | None = None
    revision: int = 0  # when it last changed, on the control plane's change counter

    @property
    def finished(self) -> bool:
        return self.state in (DELIVERED, FAILED, ABORTED)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "endpointId": self.endpoint_id,
            "url": self.url,
            "event": self.event,
            id_field(self.subject): self.subject_id,
            "payload": json.loads(self.body),
            "state": self.state,
            "created": iso_millis(self.created),
            "nextAttemptAt": iso_millis(self.timer.due) if self.timer is not None and self.state == PENDING else None,
            "attempts": [attempt.to_api() for attempt in self.attempts],
            "revision": self.revision,
        }


class DeliveryJournal:
    """Messages by id, oldest first; past `size`, finished ones make room, in the order they finished.

    An unfinished message is never dropped, so with a receiver down the journal outgrows its
    size until the retries end. Room is made without looking at unfinished messages at all:
    the dispatcher reports each message that finishes (`finished`), and a finished message
    never becomes unfinished again, so the oldest report is always the next one to go.
    """

    def __init__(self, size: int, revisions: Revisions | None = None, state: StateLog = MEMORY) -> None:
        self._size = size
        self._messages: dict[str, Message] = {}
        self._finished: deque[Message] = deque()
        self._revisions = revisions or Revisions()
        # The outbox: every message and each of its changes goes to the state file.
        self.state = state

    def unfinished(self) -> tuple[int, int]:
        """(messages not delivered, failed or aborted yet, attempts among them awaiting an answer)."""
        undelivered = in_flight = 0
        for message in self._messages.values():
            if not message.finished:
                undelivered += 1
                in_flight += message.state == SENDING
        return undelivered, in_flight

    def add(self, message: Message) -> None:
        self.touch(message)
        self._messages[message.message_id] = message
        self._make_room()

    def restore(self, message: Message) -> None:
        """A message read back from the state file, as it was."""
        self._messages[message.message_id] = message
        if message.finished:
            self._finished.append(message)

    def touch(self, message: Message) -> None:
        """`message` changed (state, schedule or attempts): it takes the next revision."""
        message.revision = self._revisions.next()
        self.state.save(MESSAGE, message.message_id, message)

    def record_attempt(self, message: Message, attempt: Attempt) -> None:
        self.touch(message)
        attempt.revision = message.revision
        message.attempts.append(attempt)

    def finished(self, message: Message) -> None:
        """`message` has reached one of its ends (delivered, failed, aborted)."""
        # A message dropped by a reset may finish afterwards; it is no longer ours to count.
        if self._messages.get(message.message_id) is message:
            self._finished.append(message)
            self._make_room()

    def _make_room(self) -> None:
        messages, finished = self._messages, self._finished
        # Each report is taken off once, so this costs O(1) per add and per report, amortised.
        while len(messages) > self._size and finished:
            oldest = finished.popleft()
            # A second report of one message finds it gone already: skipped, nothing else goes.
            if messages.get(oldest.message_id) is oldest and oldest.finished:
                del messages[oldest.message_id]
                self.state.forget(MESSAGE, oldest.message_id)

    def get(self, message_id: str) -> Message | None:
        return self._messages.get(message_id)

    def __iter__(self) -> Iterator[Message]:
        return iter(list(self._messages.values()))

    def __len__(self) -> int:
        return len(self._messages)

    def clear(self) -> None:
        self._messages.clear()
        self._finished.clear()

    def select(
        self,
        *,
        verification_id: str | None = None,
        discovery_id: str | None = None,
        event: str | None = None,
        endpoint: str | None = None,
        state: str | None = None,
        since: int | None = None,
    ) -> list[Message]:
        """Messages matching every given filter; `endpoint` matches an endpoint id or URL,
        `since` keeps those that changed after that revision."""
        return [
            m
            for m in self
            if (verification_id is None or (m.subject == VERIFICATION and m.subject_id == verification_id))
            and (discovery_id is None or (m.subject == DISCOVERY and m.subject_id == discovery_id))
            and (event is None or m.event == event)
            and (endpoint is None or endpoint in (m.endpoint_id, m.url))
            and (state is None or m.state == state)
            and (since is None or m.revision > since)
        ]
