"""Delivering events to endpoints, on the mock clock, with Svix's retry schedule.

An event becomes one message per subscribed endpoint. Each attempt is a job on the mock
clock, so `POST /__admin/clock/advance` drives retries instantly; a job hands the clock an
awaitable, so an advance answers only once the attempts that came due have finished.
Attempts to one endpoint go out one at a time, in the order their jobs ran (messages in
creation order); different endpoints do not wait for each other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from .. import __version__
from ..clock import Scheduler
from ..domain.events import Event
from ..errors import Conflict, NotFound
from ..ids import IdSource
from .endpoints import Endpoint, EndpointRegistry
from .messages import ABORTED, DELIVERED, FAILED, PENDING, SENDING, Attempt, DeliveryJournal, Message

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger("sohar_mock.webhooks")

# Svix: the first attempt immediately, then each retry this long after the previous failure.
RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
ABORT_HEADER = "webhook-delivery"
ABORT_VALUE = "abort-message"
MAX_ERROR_CHARS = 300
# An answer body up to this size is read, so its connection can carry the next attempt; past
# it the connection is dropped instead, so a receiver cannot make the mock hold a huge body.
MAX_DRAINED_BYTES = 64 * 1024


class WebhookDispatcher:
    def __init__(
        self,
        endpoints: EndpointRegistry,
        journal: DeliveryJournal,
        scheduler: Scheduler,
        ids: IdSource,
        timeout: float,
    ) -> None:
        self.endpoints = endpoints
        self.journal = journal
        self._scheduler = scheduler
        self._clock = scheduler.clock
        self._ids = ids
        self._timeout = timeout
        self._running = False
        self._session: aiohttp.ClientSession | None = None
        self._lanes: dict[str, asyncio.Lock] = {}

    # -- lifecycle of the component -------------------------------------------------------

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        """The delivery client, made for the first attempt, so that a mock that never delivers
        a webhook does not load it. aiohttp rather than httpx: a quarter of the CPU per POST
        (0.3 ms against 1.2 ms), which was half of the mock's time under webhook load (bench/)."""
        if not self._running:
            raise RuntimeError("the webhook client is not running")
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(limit=100),
                headers={"user-agent": f"Svix-Webhooks/1.0 (sohar-mock {__version__})"},
                trust_env=False,  # deliveries go exactly where the endpoint says, never via a proxy
            )
        return self._session

    def reset(self) -> None:
        """Drop every message and the API-registered endpoints (their timers go with the clock's)."""
        self.journal.clear()
        self.endpoints.reset()
        self._lanes.clear()

    # -- from events to messages ----------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """EventBus listener: one message per subscribed endpoint, first attempt due now."""
        subscribers = self.endpoints.subscribers(event.event)
        if not subscribers:
            return
        body = json.dumps(event.payload(), separators=(",", ":")).encode()
        for endpoint in subscribers:
            message = Message(
                message_id=self._ids.prefixed("msg"),
                endpoint_id=endpoint.endpoint_id,
                url=endpoint.url,
                event=event.event,
                subject=event.subject,
                subject_id=event.subject_id,
                body=body,
                created=self._clock.now(),
            )
            self.journal.add(message)
            self._schedule(message, RETRY_SCHEDULE[0])

    def _schedule(self, message: Message, delay: float) -> None:
        self.schedule_at(message, self._clock.now() + delay)

    def schedule_at(self, message: Message, due: float) -> None:
        """Its next scheduled attempt at `due` (also a message read back from the state file)."""
        message.state = PENDING
        message.timer = self._scheduler.call_at(due, lambda: self._attempt(message, "scheduled"))
        self.journal.touch(message)

    # -- attempts ----------------------------------------------------------------------------

    def _attempt(self, message: Message, trigger: str) -> Awaitable[None] | None:
        message.timer = None
        self.journal.touch(message)
        try:
            endpoint = self.endpoints.get(message.endpoint_id)
        except NotFound:
            self._finish(message, FAILED)  # deleted endpoints get no more attempts, as at Svix
            return None
        return self._send(endpoint, message, trigger)

    async def _send(self, endpoint: Endpoint, message: Message, trigger: str) -> None:
        lane = self._lanes.setdefault(endpoint.endpoint_id, asyncio.Lock())
        async with lane:
            if trigger == "scheduled" and message.finished:
                return  # a replay ended the message while this retry waited for the lane
            if not message.finished:
                # A replay of a finished message keeps its end meanwhile: the journal may drop a
                # finished message at any time, so one must never become unfinished again.
                message.state = SENDING
                self.journal.touch(message)
            # The outbox holds the message (and what it is about) before it goes out: one sent
            # is one a restart knows of, and sends again if the crash came before its answer.
            # (The attempts of one turn of the event loop share the commit.)
            await self.journal.state.committed()
            attempt = await self._post(endpoint, message, trigger)
        self.journal.record_attempt(message, attempt)
        if attempt.succeeded or attempt.abort_requested:
            if message.timer is not None:
                message.timer.cancel()
                message.timer = None
            self._finish(message, DELIVERED if attempt.succeeded else ABORTED)
        elif trigger == "scheduled" and self._scheduled_attempts(message) < len(RETRY_SCHEDULE):
            self._schedule(message, RETRY_SCHEDULE[self._scheduled_attempts(message)])
        elif message.timer is not None:
            message.state = PENDING  # a failed replay leaves the retry that was due in place
            self.journal.touch(message)
        else:
            self._finish(message, FAILED)
        # The attempt's outcome, and when the next one is due, are on file before this returns.
        await self.journal.state.committed()

    def _finish(self, message: Message, state: str) -> None:
        """End a message; the journal hears of each message once, when it first ends."""
        was_finished = message.finished
        message.state = state
        self.journal.touch(message)
        if not was_finished:
            self.journal.finished(message)

    @staticmethod
    def _scheduled_attempts(message: Message) -> int:
        return sum(1 for a in message.attempts if a.trigger == "scheduled")

    async def _post(self, endpoint: Endpoint, message: Message, trigger: str) -> Attempt:
        # Receivers compare the signed timestamp with their own clock: real time, never the mock's.
        sent_at = time.time()
        attempt = Attempt(len(message.attempts) + 1, self._clock.now(), int(sent_at), trigger)
        headers = {
            "content-type": "application/json",
            **endpoint.signer.headers(message.message_id, sent_at, message.body),
        }
        import aiohttp  # the first attempt loads it (see _http); the exception types below need it

        started = time.perf_counter()
        try:
            # A 3xx is a failed attempt, as at Svix: redirects are not followed.
            async with self._http().post(
                endpoint.url, data=message.body, headers=headers, allow_redirects=False
            ) as response:
                await _drain(response)
            attempt.status_code = response.status
            attempt.abort_requested = response.headers.get(ABORT_HEADER, "").strip().lower() == ABORT_VALUE
            if not attempt.succeeded:
                attempt.error = f"HTTP {response.status}"
        except TimeoutError:
            attempt.error = f"timeout after {self._timeout:g}s"
        except (aiohttp.ClientError, OSError, RuntimeError, ValueError) as exc:
            detail = str(exc)
            attempt.error = (f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)[:MAX_ERROR_CHARS]
        attempt.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        log.info("webhook %s %s -> %s", message.message_id, endpoint.url, attempt.status_code or attempt.error)
        return attempt

    # -- control plane ----------------------------------------------------------------------

    async def replay(self, message_id: str) -> Message:
        """Send a message once more, same `svix-id`, freshly signed; answers when it's done.

        One extra attempt beside the schedule: success ends the message, failure leaves a
        retry that was due where it was.
        """
        message = self.journal.get(message_id)
        if message is None:
            raise NotFound()
        if not message.attempts:
            raise Conflict("id", "the message's first attempt has not been made yet")
        try:
            endpoint = self.endpoints.get(message.endpoint_id)
        except NotFound:
            raise Conflict("id", "the message's endpoint was deleted") from None
        await self._send(endpoint, message, "replay")
        return message


async def _drain(response: aiohttp.ClientResponse) -> None:
    read = 0
    while read <= MAX_DRAINED_BYTES and (chunk := await response.content.read(16 * 1024)):
        read += len(chunk)
