"""Webhooks end to end: a real receiver on loopback, signatures checked with the official svix library."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from conformance import validating_mock
from conftest import ADMIN_SPEC, assert_conforms, milliseconds, receiving, request_for
from svix.webhooks import Webhook, WebhookVerificationError

from contract_tests.receiver import Reply, WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import RunningApp, RunningMock, free_port
from mock_server.webhooks import RETRY_SCHEDULE

FORBIDDEN = {"error": "invalid_request_error"}


@pytest.fixture
def hook_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def hooked(hook_receiver: WebhookReceiver) -> Iterator[RunningMock]:
    """A mock whose start-up configuration subscribes the receiver to every event.

    Both are new for each test: a delivery a previous test's mock had already put on the wire
    cannot land in this test's receiver (a shared receiver, cleared between tests, could still
    get one after the clear)."""
    with validating_mock(webhook_urls=(hook_receiver.url,), freeze_clock=True) as running:
        yield running


def create(mock: RunningMock, member_id: str = "00000000", environment: str = "sandbox", **extra: Any) -> str:
    response = mock.http.post(
        "/v2/verifications", json={**request_for(member_id), **extra}, headers=mock.headers(environment)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["verificationId"])


def deliveries(mock: RunningMock, **filters: str) -> list[dict[str, Any]]:
    response = mock.http.get("/__admin/webhooks/deliveries", params=filters)
    assert response.status_code == 200, response.text
    for message in response.json()["deliveries"]:
        assert_conforms("WebhookMessage", message, ADMIN_SPEC)
    return list(response.json()["deliveries"])


def settle(mock: RunningMock) -> None:
    """Let work already due run (advancing by zero waits for started attempts)."""
    mock.advance(0)


def verify(secret: str, raw: bytes, headers: dict[str, str]) -> None:
    """The official verifier; raises WebhookVerificationError when anything is off."""
    Webhook(secret).verify(raw, headers)


# -- events and payloads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "event"), [("sandbox", "sandbox.verification.updated"), ("production", "verification.updated")]
)
def test_event_name_follows_the_credentials(
    hooked: RunningMock, hook_receiver: WebhookReceiver, environment: str, event: str
) -> None:
    verification_id = create(hooked, environment=environment, id="123456")
    [delivery] = hook_receiver.wait_for_count(1)
    assert delivery.payload == {
        "event": event,
        "verificationId": verification_id,
        "id": "123456",
        "status": "complete.eligible",
    }
    assert delivery.headers["content-type"] == "application/json"
    assert_conforms("WebhookPayload", delivery.payload)


def test_pending_then_updated(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    verification_id = create(hooked, "30000000")
    hook_receiver.wait_for_count(1)
    hooked.advance(5)
    first, second = hook_receiver.wait_for_count(2)
    assert (first.payload["event"], first.payload["status"]) == ("sandbox.verification.pending", "pending")
    assert (second.payload["event"], second.payload["status"]) == (
        "sandbox.verification.updated",
        "complete.eligible",
    )
    assert {first.payload["verificationId"], second.payload["verificationId"]} == {verification_id}
    assert first.headers["svix-id"] != second.headers["svix-id"]


def test_messages_to_one_endpoint_arrive_in_creation_order(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    created = [create(hooked, member_id) for member_id in ("00000000", "00000001", "10000000", "20000002", "00000002")]
    arrived = hook_receiver.wait_for_count(len(created))
    assert [d.payload["verificationId"] for d in arrived] == created


# -- signing -----------------------------------------------------------------------------------


def test_every_delivery_verifies_with_svix_and_one_changed_byte_fails(
    hooked: RunningMock, hook_receiver: WebhookReceiver
) -> None:
    for member_id in ("00000000", "10000001", "20000001", "30000000"):
        create(hooked, member_id)
    hooked.advance(5)
    received = hook_receiver.wait_for_count(5)
    for delivery in received:
        assert delivery.headers["svix-id"].startswith("msg_")
        assert delivery.headers["svix-signature"].startswith("v1,")
        verify(DEFAULT_WEBHOOK_SECRET, delivery.body, delivery.headers)
        tampered = bytearray(delivery.body)
        tampered[len(tampered) // 2] ^= 0x01
        with pytest.raises(WebhookVerificationError):
            verify(DEFAULT_WEBHOOK_SECRET, bytes(tampered), delivery.headers)
        with pytest.raises(WebhookVerificationError):
            verify("whsec_" + "d3JvbmctZGVmYXVsdC1zZWNyZXQh", delivery.body, delivery.headers)


def test_signed_timestamp_is_real_time_not_the_mock_clock(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    hooked.advance(3 * 24 * 3600)  # the mock clock is now three days ahead
    before = int(time.time())
    create(hooked)
    [delivery] = hook_receiver.wait_for_count(1)
    assert before <= int(delivery.headers["svix-timestamp"]) <= int(time.time())
    verify(DEFAULT_WEBHOOK_SECRET, delivery.body, delivery.headers)  # within svix's 5-minute window


def test_configured_secret_signs() -> None:
    secret = "whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9ubHkh"
    # A receiver of its own: the module's mock may still have a retry due to the shared one.
    with receiving(secret=secret) as receiver, RunningMock(webhook_urls=(receiver.url,), webhook_secret=secret) as mock:
        create(mock)
        [delivery] = receiver.wait_for_count(1)
    verify(secret, delivery.body, delivery.headers)
    with pytest.raises(WebhookVerificationError):
        verify(DEFAULT_WEBHOOK_SECRET, delivery.body, delivery.headers)


# -- delivery, retries, journal -------------------------------------------------------------------


def test_fails_twice_then_succeeds_on_svix_schedule(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    hook_receiver.script[:] = [Reply(500), Reply(503)]
    verification_id = create(hooked)
    hook_receiver.wait_for_count(1)
    settle(hooked)
    # The mock clock keeps running, so the 5 s retry may come by itself: it is not waited out.
    hooked.advance(RETRY_SCHEDULE[1])
    hook_receiver.wait_for_count(2)
    [message] = deliveries(hooked, verificationId=verification_id)
    # Two failures; the next retry is 5 min away, longer than this test can take to look.
    assert message["state"] == "pending" and [a["statusCode"] for a in message["attempts"]] == [500, 503]
    first, second = (milliseconds(a["at"]) for a in message["attempts"])
    assert second - first >= RETRY_SCHEDULE[1] * 1000  # not before 5 s after the first failure
    assert milliseconds(message["nextAttemptAt"]) - second >= RETRY_SCHEDULE[2] * 1000
    assert len(hook_receiver.received) == 2

    hooked.advance(RETRY_SCHEDULE[2])
    received = hook_receiver.wait_for_count(3)
    [message] = deliveries(hooked, verificationId=verification_id)
    assert message["state"] == "delivered"
    assert [a["statusCode"] for a in message["attempts"]] == [500, 503, 200]
    assert all(a["latencyMs"] is not None for a in message["attempts"])
    assert message["attempts"][1]["error"] == "HTTP 503" and message["attempts"][2]["error"] is None
    assert {d.headers["svix-id"] for d in received} == {message["id"]}
    for delivery in received:  # each attempt freshly signed, and valid
        verify(DEFAULT_WEBHOOK_SECRET, delivery.body, delivery.headers)
    assert len({d.body for d in received}) == 1


def test_redirect_counts_as_failure(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    # Twice: should the 5 s retry come before the journal is read, it fails the same way.
    hook_receiver.script[:] = [Reply(302, {"location": "/elsewhere"})] * 2
    verification_id = create(hooked)
    hook_receiver.wait_for_count(1)
    settle(hooked)
    [message] = deliveries(hooked, verificationId=verification_id)
    assert message["state"] == "pending" and message["attempts"][0]["statusCode"] == 302
    assert {d.path for d in hook_receiver.received} == {"/webhooks"}  # the redirect was not followed


def test_large_answer_bodies_still_count_and_the_next_delivery_goes_through(
    hooked: RunningMock, hook_receiver: WebhookReceiver
) -> None:
    # Past 64 KiB the mock stops reading an answer and drops its connection rather than hold it.
    hook_receiver.script[:] = [Reply(200, body=b"x" * (2 * 1024 * 1024)), Reply(200, body=b"ok")]
    first, second = create(hooked), create(hooked)
    hook_receiver.wait_for_count(2)
    settle(hooked)
    for verification_id in (first, second):
        [message] = deliveries(hooked, verificationId=verification_id)
        assert message["state"] == "delivered" and message["attempts"][0]["statusCode"] == 200


def test_exhausted_retries_mark_the_message_failed(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    hook_receiver.script[:] = [Reply(500)] * len(RETRY_SCHEDULE)
    verification_id = create(hooked)
    hook_receiver.wait_for_count(1)
    settle(hooked)
    # Each retry comes once the clock has moved its delay past the failure before it, and the
    # next one not yet: from the second on, the next delay is longer than any test runs.
    for attempts, delay in enumerate(RETRY_SCHEDULE[1:], start=2):
        hooked.advance(delay)
        [message] = deliveries(hooked, verificationId=verification_id)
        assert len(message["attempts"]) == attempts, (delay, message["attempts"])
    assert message["state"] == "failed" and message["nextAttemptAt"] is None
    assert len(message["attempts"]) == len(RETRY_SCHEDULE) == 8
    times = [milliseconds(a["at"]) for a in message["attempts"]]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= delay * 1000 for gap, delay in zip(gaps, RETRY_SCHEDULE[1:], strict=True)), gaps
    hooked.advance(max(RETRY_SCHEDULE))
    assert len(hook_receiver.received) == len(RETRY_SCHEDULE)
    assert deliveries(hooked, state="failed") == [message]


def test_abort_message_header_stops_retries(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    hook_receiver.script[:] = [Reply(410, {"webhook-delivery": "abort-message"})]
    verification_id = create(hooked)
    hook_receiver.wait_for_count(1)
    hooked.advance(24 * 3600)
    [message] = deliveries(hooked, verificationId=verification_id)
    assert message["state"] == "aborted" and message["attempts"][0]["abortRequested"] is True
    assert len(hook_receiver.received) == 1


def test_receiver_that_never_answers_times_out_and_the_server_stays_responsive() -> None:
    # The retry 5 s later, should it come before the journal is read, fails too: still pending.
    hanging = [Reply(200, hang=4), Reply(500)]
    with receiving(hanging) as receiver, RunningMock(webhook_urls=(receiver.url,), webhook_timeout=1.0) as mock:
        verification_id = create(mock)  # answered although the receiver hangs
        receiver.wait_for_count(1)
        assert mock.http.get("/__admin/health").status_code == 200
        assert mock.http.get(f"/v2/verifications/{verification_id}", headers=mock.headers()).status_code == 200
        settle(mock)
        [message] = deliveries(mock, verificationId=verification_id)
    assert message["state"] == "pending"
    assert message["attempts"][0]["statusCode"] is None
    assert message["attempts"][0]["error"] == "timeout after 1s"


def test_replay_sends_the_same_message_again(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    verification_id = create(hooked)
    hook_receiver.wait_for_count(1)
    settle(hooked)
    [message] = deliveries(hooked, verificationId=verification_id)
    replayed = hooked.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    first, second = hook_receiver.wait_for_count(2)
    assert first.headers["svix-id"] == second.headers["svix-id"] == message["id"]
    assert first.body == second.body
    verify(DEFAULT_WEBHOOK_SECRET, second.body, second.headers)
    assert [a["trigger"] for a in replayed.json()["attempts"]] == ["scheduled", "replay"]
    assert replayed.json()["state"] == "delivered"
    assert hooked.http.post("/__admin/webhooks/deliveries/msg_nope/replay").status_code == 404


def test_journal_filters(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    eligible = create(hooked)
    production = create(hooked, "10000000", environment="production")
    hook_receiver.wait_for_count(2)
    settle(hooked)
    assert [m["verificationId"] for m in deliveries(hooked, verificationId=eligible)] == [eligible]
    assert [m["verificationId"] for m in deliveries(hooked, event="verification.updated")] == [production]
    assert len(deliveries(hooked, state="delivered")) == 2 and deliveries(hooked, state="failed") == []
    assert len(deliveries(hooked, endpoint=hook_receiver.url)) == 2
    [message] = deliveries(hooked, verificationId=production)
    assert message["payload"]["status"] == "error.member.id"
    assert len(deliveries(hooked, endpointId=message["endpointId"])) == 2
    assert hooked.http.get(f"/__admin/webhooks/deliveries/{message['id']}").json() == message
    bad = hooked.http.get("/__admin/webhooks/deliveries", params={"state": "lost"})
    assert bad.status_code == 400 and bad.json()["param"] == "state"


# -- the journal's bound, and messages that have finished ------------------------------------------


def refused_url() -> str:
    """A loopback URL where nothing listens: every attempt is refused, as with a receiver that is down."""
    return f"http://127.0.0.1:{free_port()}/webhooks"


def test_journal_keeps_every_undelivered_message_and_trims_as_they_finish() -> None:
    with RunningMock(journal_size=3, webhook_urls=(refused_url(),)) as mock:
        created = [create(mock) for _ in range(5)]
        settle(mock)
        pending = deliveries(mock)
        assert [m["verificationId"] for m in pending] == created  # over size, but none may go
        assert {m["state"] for m in pending} == {"pending"}
        mock.advance(sum(RETRY_SCHEDULE) + 60)  # every attempt refused: all five fail, in order
        assert [(m["verificationId"], m["state"]) for m in deliveries(mock)] == [(v, "failed") for v in created[2:]]
        newest = create(mock)
        settle(mock)
        assert [m["verificationId"] for m in deliveries(mock)] == [*created[3:], newest]


class HeldReceiver:
    """A webhook receiver (ASGI) answering from a script of status codes, then 200. The answer
    to request number `held` waits until the test calls `release()`, so the test can act while
    that attempt is in flight."""

    def __init__(self, statuses: list[int], held: int) -> None:
        self.statuses = statuses
        self.held = held
        self.arrived: list[bytes] = []
        self.holding = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while (chunk := await receive())["type"] == "http.request":
            body += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        index = len(self.arrived)
        self.arrived.append(body)
        if index == self.held:
            self.holding.set()
            await asyncio.to_thread(self._released.wait, 30)
        status = self.statuses[index] if index < len(self.statuses) else 200
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def in_background(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    thread.start()
    return thread, answers


def delivery(mock: RunningMock, message_id: str) -> dict[str, Any]:
    response = mock.http.get(f"/__admin/webhooks/deliveries/{message_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_replay_in_flight_leaves_a_delivered_message_delivered(mock: RunningMock) -> None:
    receiver = HeldReceiver([200, 200], held=1)
    with RunningApp(receiver) as app:
        register(mock, f"{app.url}/webhooks", "sandbox.verification.updated")
        verification_id = create(mock)
        settle(mock)
        [message] = deliveries(mock, verificationId=verification_id)
        assert message["state"] == "delivered"
        replay, answers = in_background(lambda: mock.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay"))
        try:
            assert receiver.holding.wait(10)
            # Finished is final: the journal may drop a finished message at any time, so one
            # must never turn unfinished again, not even while it is being sent once more.
            assert delivery(mock, message["id"])["state"] == "delivered"
        finally:
            receiver.release()
            replay.join(30)
    assert answers[0].status_code == 200 and answers[0].json()["state"] == "delivered"
    assert [a["trigger"] for a in answers[0].json()["attempts"]] == ["scheduled", "replay"]


def test_a_retry_that_came_due_during_a_successful_replay_is_not_sent(mock: RunningMock) -> None:
    receiver = HeldReceiver([500, 200, 500], held=1)
    with RunningApp(receiver) as app:
        register(mock, f"{app.url}/webhooks", "sandbox.verification.updated")
        verification_id = create(mock)
        settle(mock)
        [message] = deliveries(mock, verificationId=verification_id)
        assert message["state"] == "pending" and message["nextAttemptAt"] is not None
        replay, answers = in_background(lambda: mock.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay"))
        advance: threading.Thread | None = None
        try:
            assert receiver.holding.wait(10)
            # The retry comes due while the replay holds the endpoint's lane: it waits its turn.
            advance, _ = in_background(lambda: mock.http.post("/__admin/clock/advance", json={"seconds": 5}))
            deadline = time.monotonic() + 10
            while delivery(mock, message["id"])["nextAttemptAt"] is not None:
                assert time.monotonic() < deadline, "the retry never came due"
                time.sleep(0.01)
        finally:
            receiver.release()
            replay.join(30)
            if advance is not None:
                advance.join(30)
    assert answers[0].json()["state"] == "delivered"
    # The replay delivered the message: the retry that was waiting behind it has nothing to do.
    assert len(receiver.arrived) == 2
    final = delivery(mock, message["id"])
    assert (final["state"], final["nextAttemptAt"]) == ("delivered", None)
    assert [a["trigger"] for a in final["attempts"]] == ["scheduled", "replay"]


# -- forced status ------------------------------------------------------------------------------


def test_forced_status_fires_its_event(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    verification_id = create(hooked)
    hook_receiver.wait_for_count(1)
    forced = hooked.http.post(
        f"/__admin/verifications/{verification_id}/status",
        json={"status": "complete.ineligible", "statusReason": "INACTIVE"},
    )
    assert forced.status_code == 200, forced.text
    [_, delivery] = hook_receiver.wait_for_count(2)
    assert delivery.payload["status"] == "complete.ineligible"
    got = hooked.http.get(f"/v2/verifications/{verification_id}", headers=hooked.headers()).json()
    assert (got["status"], got["statusReason"]) == ("complete.ineligible", "INACTIVE")
    assert_conforms("FullVerificationV2Response", got)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"status": "complete.maybe"}, "status"),
        ({}, "status"),
        ({"status": "complete.ineligible"}, "statusReason"),
        ({"status": "error.payer.npi", "statusReason": "INACTIVE"}, "statusReason"),
    ],
)
def test_forced_status_rejects_bad_input(hooked: RunningMock, body: dict[str, Any], param: str) -> None:
    verification_id = create(hooked)
    response = hooked.http.post(f"/__admin/verifications/{verification_id}/status", json=body)
    assert response.status_code == 400 and response.json()["param"] == param


def test_forced_status_of_unknown_verification_is_404(hooked: RunningMock) -> None:
    response = hooked.http.post("/__admin/verifications/nope/status", json={"status": "pending"})
    assert response.status_code == 404


# -- the management API ----------------------------------------------------------------------------


def register(mock: RunningMock, url: str, *events: str) -> dict[str, Any]:
    headers = mock.headers("production")
    created = mock.http.post("/v1/webhooks", json={"url": url}, headers=headers)
    assert created.status_code == 201, created.text
    endpoint = dict(created.json())
    for event in events:
        path = f"/v1/webhooks/{endpoint['endpointId']}/events"
        subscribed = mock.http.post(path, json={"event": event}, headers=headers)
        assert subscribed.status_code == 201, subscribed.text
        assert subscribed.json() == {"endpointId": endpoint["endpointId"], "event": event}
    return endpoint


def test_endpoints_receive_only_what_they_subscribe_to(mock: RunningMock) -> None:
    with receiving() as sandbox_only, receiving() as production_only:
        a = register(mock, sandbox_only.url, "sandbox.verification.updated")
        b = register(mock, production_only.url, "verification.updated", "verification.pending")
        sandbox_only.add_secret(a["secret"])
        production_only.add_secret(b["secret"])
        assert a["endpointId"].startswith("ep_") and a["secret"].startswith("whsec_")
        assert a["secret"] != b["secret"]
        sandbox_id = create(mock)
        create(mock, "30000000")  # a sandbox pending event: nobody subscribed
        production_id = create(mock, environment="production")
        mock.advance(5)
        assert [d.payload["verificationId"] for d in sandbox_only.wait_for_count(2)] == [sandbox_id, mock_last(mock)]
        [delivery] = production_only.wait_for_count(1)
        assert delivery.payload["verificationId"] == production_id
        verify(b["secret"], delivery.body, delivery.headers)  # each endpoint signs with its own secret
        with pytest.raises(WebhookVerificationError):
            verify(a["secret"], delivery.body, delivery.headers)
        assert [d.event for d in sandbox_only.received] == ["sandbox.verification.updated"] * 2


def mock_last(mock: RunningMock) -> str:
    """The verification created last (the pending one, updated after recovery)."""
    items = mock.http.get("/__admin/verifications", params={"environment": "sandbox"}).json()["verifications"]
    return str(items[-1]["verificationId"])


def test_one_endpoint_may_take_sandbox_and_production_events(mock: RunningMock) -> None:
    with receiving() as receiver:
        endpoint = register(mock, receiver.url, "sandbox.verification.updated", "verification.updated")
        receiver.add_secret(endpoint["secret"])
        create(mock)
        create(mock, environment="production")
        received = receiver.wait_for_count(2)
    assert sorted(d.payload["event"] for d in received) == ["sandbox.verification.updated", "verification.updated"]
    for delivery in received:
        verify(endpoint["secret"], delivery.body, delivery.headers)


def test_management_api_lists_unsubscribes_and_deletes(mock: RunningMock) -> None:
    headers = mock.headers("production")
    with receiving() as receiver:
        endpoint = register(mock, receiver.url, "sandbox.verification.updated")
        receiver.add_secret(endpoint["secret"])
        endpoint_id = endpoint["endpointId"]
        listed = mock.http.get("/v1/webhooks", headers=headers).json()
        assert listed == [{"endpointId": endpoint_id, "url": receiver.url, "events": ["sandbox.verification.updated"]}]
        assert mock.http.get(f"/v1/webhooks/{endpoint_id}", headers=headers).json() == listed[0]
        again = mock.http.post(
            f"/v1/webhooks/{endpoint_id}/events", json={"event": "sandbox.verification.updated"}, headers=headers
        )
        assert again.status_code == 200  # already subscribed: nothing changes
        removed = mock.http.delete(f"/v1/webhooks/{endpoint_id}/events/sandbox.verification.updated", headers=headers)
        assert removed.status_code == 200 and removed.json()["deleted"] is True
        create(mock)
        settle(mock)
        assert receiver.received == []
        deleted = mock.http.delete(f"/v1/webhooks/{endpoint_id}", headers=headers)
        assert deleted.json() == {"endpointId": endpoint_id, "deleted": True}
        assert mock.http.get(f"/v1/webhooks/{endpoint_id}", headers=headers).status_code == 404
        assert mock.http.get("/v1/webhooks", headers=headers).json() == []


def test_deleted_endpoint_gets_no_more_retries(mock: RunningMock) -> None:
    # Failing twice: the 5 s retry may come before the delete, and must fail too.
    with receiving([Reply(500)] * 2) as receiver:
        endpoint = register(mock, receiver.url, "sandbox.verification.updated")
        receiver.add_secret(endpoint["secret"])
        verification_id = create(mock)
        receiver.wait_for_count(1)
        settle(mock)
        mock.http.delete(f"/v1/webhooks/{endpoint['endpointId']}", headers=mock.headers("production"))
        settle(mock)
        sent = len(receiver.received)
        mock.advance(3600)
        assert len(receiver.received) == sent
    [message] = deliveries(mock, verificationId=verification_id)
    assert message["state"] == "failed"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/webhooks"}),
        ("GET", "/v1/webhooks", None),
        ("GET", "/v1/webhooks/ep_x", None),
        ("DELETE", "/v1/webhooks/ep_x", None),
        ("POST", "/v1/webhooks/ep_x/events", {"event": "sandbox.verification.updated"}),
        ("DELETE", "/v1/webhooks/ep_x/events/sandbox.verification.updated", None),
    ],
)
def test_sandbox_credentials_cannot_manage_webhooks(
    mock: RunningMock, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = mock.http.request(method, path, json=body, headers=mock.headers("sandbox"))
    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    anonymous = mock.http.request(method, path, json=body)
    assert (anonymous.status_code, anonymous.json()) == (403, FORBIDDEN)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "url"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": 42}, "url"),
        ([], "body"),
    ],
)
def test_create_webhook_rejects_bad_input(mock: RunningMock, body: Any, param: str) -> None:
    response = mock.http.post("/v1/webhooks", json=body, headers=mock.headers("production"))
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request_error", "param": param}


def test_create_event_rejects_bad_input(mock: RunningMock) -> None:
    headers = mock.headers("production")
    endpoint = register(mock, "http://127.0.0.1:9/webhooks")
    path = f"/v1/webhooks/{endpoint['endpointId']}/events"
    for body in ({"event": "verification.exploded"}, {}, {"event": 7}):
        response = mock.http.post(path, json=body, headers=headers)
        assert response.json() == {"error": "invalid_request_error", "param": "event"}, body
    unknown = mock.http.post("/v1/webhooks/ep_nope/events", json={"event": "verification.updated"}, headers=headers)
    assert unknown.status_code == 404
    not_subscribed = mock.http.delete(f"{path}/verification.updated", headers=headers)
    assert not_subscribed.status_code == 404


def test_reset_drops_registered_endpoints_and_journal(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    register(hooked, "http://127.0.0.1:9/webhooks", "verification.updated")
    create(hooked)
    hook_receiver.wait_for_count(1)
    settle(hooked)
    hooked.reset()
    endpoints = hooked.http.get("/__admin/webhooks/endpoints").json()["endpoints"]
    assert [(e["url"], e["source"]) for e in endpoints] == [(hook_receiver.url, "config")]
    assert endpoints[0]["secret"] == DEFAULT_WEBHOOK_SECRET
    assert deliveries(hooked) == []
