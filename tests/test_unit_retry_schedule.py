"""Webhook retries (`mock_server/webhooks/dispatcher.py`), in process.

`RETRY_SCHEDULE` is Svix's documented schedule (https://docs.svix.com/retries: immediately, then
5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each after the previous failure), and attempts
are made on it: each exactly at its due time on the mock clock, whether the clock gets there in
small steps or one jump, then the message fails; a failed replay leaves the retry that was due
in place; a deleted endpoint ends the message at its next attempt.

No socket is opened: a dispatcher that is not running (never started here; stopped, in the
mock at shutdown) fails every attempt with "the webhook client is not running" before any
connection, so the whole schedule runs with the real dispatcher, verification backend, event
bus, scheduler and journal, on a frozen clock. What a receiver's answers do (2xx, 3xx,
abort-message, timeouts) is tested over real sockets in test_webhooks.py and test_clock_model.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from unit_domain import PRODUCTION, SANDBOX, Domain, domain

from mock_server.domain.auth import Principal
from mock_server.domain.events import VERIFICATION, Event
from mock_server.errors import Conflict, NotFound
from mock_server.ids import IdSource
from mock_server.webhooks import RETRY_SCHEDULE, DeliveryJournal, EndpointRegistry, Message, WebhookDispatcher
from mock_server.webhooks.messages import FAILED, PENDING

MINUTE, HOUR = 60, 3600
SVIX_SCHEDULE = (0, 5, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR)
# Seconds after the first attempt at which each attempt is due, when every one fails.
DUE_TIMES = tuple(itertools.accumulate(RETRY_SCHEDULE))
NOT_RUNNING = "RuntimeError: the webhook client is not running"
CONFIG_URL = "http://127.0.0.1:9/config-hooks"
SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()


class Wired:
    """The domain of tests/unit_domain.py with a webhook dispatcher subscribed to its events."""

    def __init__(self, journal_size: int = 100) -> None:
        self.unit: Domain = domain()
        self.endpoints = EndpointRegistry(IdSource(3), (CONFIG_URL,), SECRET, self.unit.clock.now())
        self.journal = DeliveryJournal(journal_size)
        self.dispatcher = WebhookDispatcher(self.endpoints, self.journal, self.unit.scheduler, IdSource(3), 5.0)
        self.unit.bus.subscribe(self.dispatcher.on_event)

    def at(self) -> float:
        """Seconds of mock time since the clock froze."""
        return self.unit.elapsed()

    async def advance(self, seconds: float) -> None:
        assert await self.unit.scheduler.advance(seconds) is True

    async def advance_to(self, at: float) -> None:
        await self.advance(at - self.at())

    async def verified(self, member_id: str = "00000000", principal: Principal = SANDBOX) -> None:
        """A verification that resolves at once: its event makes one message per subscribed endpoint,
        whose first attempts are due at once too and are made (and fail) before this returns."""
        self.unit.create(member_id, principal)
        assert await self.unit.scheduler.settle() is True

    def messages(self) -> list[Message]:
        return list(self.journal)


def run(test: Callable[[Wired], Coroutine[Any, Any, None]], journal_size: int = 100) -> None:
    """One event loop for the whole test: the dispatcher's per-endpoint locks belong to one loop."""
    asyncio.run(test(Wired(journal_size)))


def offsets(message: Message) -> list[float]:
    return [attempt.at - message.created for attempt in message.attempts]


def test_the_schedule_is_svixs() -> None:
    assert RETRY_SCHEDULE == SVIX_SCHEDULE
    # Svix's own example: three failures, then a success "roughly 35 minutes and 5 seconds"
    # after the first attempt.
    assert DUE_TIMES[3] == 35 * MINUTE + 5
    assert DUE_TIMES[-1] == 27 * HOUR + 35 * MINUTE + 5  # the last attempt, failures all along


def test_a_message_that_always_fails_is_attempted_on_schedule_then_fails() -> None:
    async def test(wired: Wired) -> None:
        await wired.verified()
        [message] = wired.messages()
        assert offsets(message) == [0]  # the first attempt at once
        for number, due in enumerate(DUE_TIMES[1:], start=2):
            await wired.advance_to(due - 0.001)
            assert len(message.attempts) == number - 1, f"attempt {number} was made early"
            await wired.advance(0.001)
            assert len(message.attempts) == number, f"attempt {number} was not made on time"
            attempt = message.attempts[-1]
            assert (attempt.number, attempt.trigger, attempt.status_code) == (number, "scheduled", None)
            assert attempt.error == NOT_RUNNING and attempt.at - message.created == due
            if number < len(DUE_TIMES):
                assert message.state == PENDING
                assert message.timer is not None and message.timer.due - message.created == DUE_TIMES[number]
        assert message.state == FAILED and message.timer is None
        assert len(wired.unit.scheduler) == 0
        await wired.advance(30 * 86_400)
        assert len(message.attempts) == len(RETRY_SCHEDULE)

    run(test)


def test_one_long_advance_makes_every_attempt_at_its_own_time() -> None:
    async def test(wired: Wired) -> None:
        await wired.verified()
        await wired.advance(2 * 86_400)
        [message] = wired.messages()
        assert offsets(message) == list(DUE_TIMES)
        assert message.state == FAILED

    run(test)


def test_each_message_keeps_its_own_schedule_on_each_endpoint() -> None:
    async def test(wired: Wired) -> None:
        api = wired.endpoints.create("http://127.0.0.1:9/api-hooks", wired.unit.clock.now())
        wired.endpoints.subscribe(api.endpoint_id, "sandbox.verification.updated")
        await wired.verified()  # an eligible result at 0 s: one message per endpoint
        await wired.advance(100)
        await wired.verified("30000000")  # an outage at 100 s: `pending` reaches the start-up endpoint only
        await wired.advance(2 * 86_400)  # the outage recovered at 105 s: `updated` to both again
        start = wired.unit.clock.base()
        sent = sorted((m.created - start, m.event, m.endpoint_id) for m in wired.messages())
        assert sent == sorted(
            [
                (0, "sandbox.verification.updated", "ep_config_1"),
                (0, "sandbox.verification.updated", api.endpoint_id),
                (100, "sandbox.verification.pending", "ep_config_1"),
                (105, "sandbox.verification.updated", "ep_config_1"),
                (105, "sandbox.verification.updated", api.endpoint_id),
            ]
        )
        for message in wired.messages():
            assert offsets(message) == list(DUE_TIMES), (message.event, message.endpoint_id)

    run(test)


def test_no_subscriber_no_message() -> None:
    async def test(wired: Wired) -> None:
        api = wired.endpoints.create("http://127.0.0.1:9/api-hooks", wired.unit.clock.now())
        wired.endpoints.subscribe(api.endpoint_id, "sandbox.verification.updated")
        await wired.verified(principal=PRODUCTION)
        # `verification.updated` goes to the start-up endpoint (every event), not to the API one.
        assert [m.endpoint_id for m in wired.messages()] == ["ep_config_1"]

    run(test)


def test_a_failed_replay_leaves_the_retry_that_was_due_in_place() -> None:
    async def test(wired: Wired) -> None:
        await wired.verified()
        [message] = wired.messages()
        assert len(message.attempts) == 1
        await wired.advance(2)
        assert message.timer is not None
        due = message.timer.due
        replayed = await wired.dispatcher.replay(message.message_id)
        assert replayed is message and message.state == PENDING
        assert [a.trigger for a in message.attempts] == ["scheduled", "replay"]
        assert message.timer is not None and message.timer.due == due  # still 5 s after the first
        await wired.advance(2 * 86_400)
        # The replay made one attempt more; the schedule's eight all came, each on time.
        scheduled = [a.at - message.created for a in message.attempts if a.trigger == "scheduled"]
        assert scheduled == list(DUE_TIMES) and len(message.attempts) == len(DUE_TIMES) + 1
        assert [a.number for a in message.attempts] == list(range(1, len(DUE_TIMES) + 2))
        assert message.state == FAILED

    run(test)


def test_a_deleted_endpoint_ends_the_message_at_its_next_attempt() -> None:
    async def test(wired: Wired) -> None:
        api = wired.endpoints.create("http://127.0.0.1:9/api-hooks", wired.unit.clock.now())
        wired.endpoints.subscribe(api.endpoint_id, "sandbox.verification.updated")
        await wired.verified()
        [message] = [m for m in wired.messages() if m.endpoint_id == api.endpoint_id]
        wired.endpoints.delete(api.endpoint_id)
        with pytest.raises(Conflict):
            await wired.dispatcher.replay(message.message_id)  # nothing to send to
        assert len(wired.journal) == 2  # over its size of 1, but neither message has ended
        await wired.advance(5)
        assert message.state == FAILED and len(message.attempts) == 1 and message.timer is None
        # The journal heard of the end: the failed message made room, the other is still pending.
        assert [(m.endpoint_id, m.state) for m in wired.messages()] == [("ep_config_1", PENDING)]

    run(test, journal_size=1)


def test_a_failed_message_makes_room_in_a_full_journal() -> None:
    async def test(wired: Wired) -> None:
        await wired.verified()
        await wired.advance(2 * 86_400)
        [failed] = wired.messages()
        assert failed.state == FAILED
        await wired.verified()
        [pending] = wired.messages()
        assert pending is not failed and pending.state == PENDING
        assert wired.journal.get(failed.message_id) is None

    run(test, journal_size=1)


def test_replay_refuses_what_it_cannot_send() -> None:
    async def test(wired: Wired) -> None:
        with pytest.raises(NotFound):
            await wired.dispatcher.replay("msg_unknown")
        # An event straight to the dispatcher: its message's first attempt is due, not made yet.
        wired.dispatcher.on_event(
            Event("sandbox.verification.updated", VERIFICATION, "v1", None, "complete.eligible", "sandbox", 0.0)
        )
        [message] = wired.messages()
        assert message.timer is not None and message.timer.due == wired.unit.clock.now()
        with pytest.raises(Conflict):
            await wired.dispatcher.replay(message.message_id)
        assert message.attempts == []

    run(test)
