"""Discovery events are delivered exactly like verification events: the same endpoints and
subscriptions, Svix signatures, retries, delivery journal, replay and forced status. Also the
`--max-discoveries` cap. Over a real server and a real receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conformance import validating_mock
from conftest import ADMIN_SPEC, assert_conforms, received_about, receiving, request_for
from svix.webhooks import Webhook

from contract_tests.receiver import Reply, WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET, ConfigError, Settings
from mock_server.testing import RunningMock, free_port
from mock_server.webhooks import RETRY_SCHEDULE

PATIENT = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006"}


@pytest.fixture
def hook_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def hooked(hook_receiver: WebhookReceiver) -> Iterator[RunningMock]:
    """A new receiver and mock for each test, as for verification webhooks (test_webhooks.py)."""
    with validating_mock(webhook_urls=(hook_receiver.url,), freeze_clock=True) as running:
        yield running


def discover(mock: RunningMock, state: str = "CA", environment: str = "sandbox", **extra: Any) -> str:
    body = {"patient": {**PATIENT, "state": state}, **extra}
    response = mock.http.post("/v2/discovery", json=body, headers=mock.headers(environment))
    assert response.status_code == 201, response.text
    return str(response.json()["discoveryId"])


def deliveries(mock: RunningMock, **filters: str) -> list[dict[str, Any]]:
    response = mock.http.get("/__admin/webhooks/deliveries", params=filters)
    assert response.status_code == 200, response.text
    for message in response.json()["deliveries"]:
        assert_conforms("WebhookMessage", message, ADMIN_SPEC)
    return list(response.json()["deliveries"])


def test_start_up_endpoints_get_discovery_and_verification_events_alike(
    hooked: RunningMock, hook_receiver: WebhookReceiver
) -> None:
    discovery_id = discover(hooked, "TX", id="d-1")
    verification = hooked.http.post("/v2/verifications", json=request_for(), headers=hooked.headers())
    verification_id = verification.json()["verificationId"]
    received = received_about(hook_receiver, 2, discovery_id, verification_id)
    for delivery in received:
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    assert [d.payload["event"] for d in received] == ["sandbox.discovery.updated", "sandbox.verification.updated"]
    [message] = deliveries(hooked, discoveryId=discovery_id)
    assert (message["discoveryId"], message["event"], message["state"]) == (
        discovery_id,
        "sandbox.discovery.updated",
        "delivered",
    )
    assert "verificationId" not in message
    assert message["payload"] == received[0].payload
    # Each filter finds only its own kind: a discovery id is no verification id.
    assert deliveries(hooked, verificationId=discovery_id) == []
    assert [m["verificationId"] for m in deliveries(hooked, verificationId=verification_id)] == [verification_id]
    assert [m["event"] for m in deliveries(hooked, event="sandbox.discovery.updated")] == ["sandbox.discovery.updated"]


def test_a_failing_receiver_gets_svix_retries_then_a_replay() -> None:
    # A receiver of its own: its scripted failures must meet this test's deliveries only.
    with (
        receiving([Reply(500), Reply(503)]) as failing,
        validating_mock(webhook_urls=(failing.url,), freeze_clock=True) as mock,
    ):
        retried_and_replayed(mock, failing)


def retried_and_replayed(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    discovery_id = discover(hooked, "KY")
    hook_receiver.wait_for_count(1)
    hooked.advance(0)
    [message] = deliveries(hooked, discoveryId=discovery_id)
    assert (message["state"], len(message["attempts"])) == ("pending", 1)
    hooked.advance(RETRY_SCHEDULE[1])
    hooked.advance(RETRY_SCHEDULE[2])
    first, second, third = hook_receiver.wait_for_count(3)
    assert first.headers["svix-id"] == second.headers["svix-id"] == third.headers["svix-id"]
    for delivery in (first, second, third):
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    [message] = deliveries(hooked, discoveryId=discovery_id)
    assert message["state"] == "delivered"
    assert [a["statusCode"] for a in message["attempts"]] == [500, 503, 200]
    replayed = hooked.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay")
    assert replayed.status_code == 200
    assert [a["trigger"] for a in replayed.json()["attempts"]] == ["scheduled", "scheduled", "scheduled", "replay"]
    fourth = hook_receiver.wait_for_count(4)[3]
    assert fourth.headers["svix-id"] == first.headers["svix-id"] and fourth.body == first.body


def test_an_api_endpoint_subscribed_to_discovery_only_gets_discovery_events() -> None:
    with receiving() as own, validating_mock(freeze_clock=True) as mock:
        production = mock.headers("production")
        endpoint = mock.http.post("/v1/webhooks", json={"url": own.url}, headers=production).json()
        own.add_secret(endpoint["secret"])
        subscribed = mock.http.post(
            f"/v1/webhooks/{endpoint['endpointId']}/events", json={"event": "discovery.updated"}, headers=production
        )
        assert subscribed.status_code == 201
        discover(mock, "NY")  # sandbox: not subscribed
        mock.http.post("/v2/verifications", json=request_for(), headers=production)
        discovery_id = discover(mock, "NY", environment="production", id="prod-1")
        mock.advance(0)
        [delivery] = own.wait_for_count(1)
        assert delivery.verified
        Webhook(endpoint["secret"]).verify(delivery.body, delivery.headers)
        assert delivery.payload == {
            "event": "discovery.updated",
            "discoveryId": discovery_id,
            "status": "complete",
            "id": "prod-1",
        }
        assert len(own.received) == 1


def test_forcing_statuses_fires_the_events(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    discovery_id = discover(hooked, "OH")
    received_about(hook_receiver, 1, discovery_id)
    forced = hooked.http.post(f"/__admin/discoveries/{discovery_id}/status", json={"status": "pending"})
    assert forced.status_code == 200, forced.text
    assert (forced.json()["status"], forced.json()["body"]["status"]) == ("pending", "pending")
    forced = hooked.http.post(
        f"/__admin/discoveries/{discovery_id}/status",
        json={"status": "complete", "coverages": [{"payerId": "AETNA", "memberId": "00000002"}]},
    )
    body = forced.json()["body"]
    assert_conforms("FullDiscoveryResponse", body)
    assert (body["payerId"], body["memberId"], body["payer"]["name"]) == ("60054", "00000002", "Aetna")
    # The roster holds that member: the coverage carries the payer's record of them.
    assert body["coverages"][0]["patient"]["address"]["city"] == "LOS ANGELES"
    # Without coverages, `complete` finds what the scenarios decide for the request.
    again = hooked.http.post(f"/__admin/discoveries/{discovery_id}/status", json={"status": "complete"}).json()
    assert (again["body"]["payerId"], again["rule"]) == (None, "sandbox-discovery-OH")
    hooked.advance(0)
    statuses = [d.payload["status"] for d in received_about(hook_receiver, 4, discovery_id)]
    assert statuses == ["complete", "pending", "complete", "complete"]
    assert hooked.http.get(f"/v2/discovery/{discovery_id}", headers=hooked.headers()).json()["memberId"] is None


def test_forcing_pending_cancels_the_scheduled_result(hook_receiver: WebhookReceiver) -> None:
    with validating_mock(webhook_urls=(hook_receiver.url,), freeze_clock=True, latency=10) as mock:
        discovery_id = discover(mock, "CA")
        summary = mock.http.get(f"/__admin/discoveries/{discovery_id}").json()
        assert summary["nextTransitionAt"] is not None
        forced = mock.http.post(f"/__admin/discoveries/{discovery_id}/status", json={"status": "pending"}).json()
        assert forced["nextTransitionAt"] is None
        mock.advance(60)
        assert [d.payload["status"] for d in received_about(hook_receiver, 1, discovery_id)] == ["pending"]
        assert mock.http.get(f"/__admin/discoveries/{discovery_id}").json()["status"] == "pending"


# -- the cap -----------------------------------------------------------------------------------


def test_past_the_cap_the_discovery_finished_longest_ago_goes() -> None:
    with validating_mock(max_discoveries=2, freeze_clock=True) as mock:
        first, second, third = discover(mock), discover(mock, "NY"), discover(mock, "TX")
        codes = [
            mock.http.get(f"/v2/discovery/{d}", headers=mock.headers()).status_code for d in (first, second, third)
        ]
        assert codes == [404, 200, 200]
        assert mock.http.get(f"/__admin/discoveries/{first}").status_code == 404
        health = mock.http.get("/__admin/health").json()
        assert (health["discoveries"], health["maxDiscoveries"]) == (2, 2)
        # Verifications have their own store: the discovery cap does not touch them.
        for _ in range(3):
            mock.http.post("/v2/verifications", json=request_for(), headers=mock.headers())
        assert mock.http.get("/__admin/health").json()["verifications"] == 3


def test_a_dropped_unfinished_discovery_never_fires() -> None:
    with (
        receiving() as own,
        RunningMock(max_discoveries=1, latency=60, freeze_clock=True, webhook_urls=(own.url,)) as mock,
    ):
        dropped, kept = discover(mock), discover(mock, "NY")
        mock.advance(60)  # answers once every attempt that came due has been made
        [delivery] = own.wait_for_count(1)
        assert delivery.payload["discoveryId"] == kept
        assert len(own.received) == 1
        assert deliveries(mock, discoveryId=dropped) == []


@pytest.mark.parametrize("value", [0, -1, True, "3"])
def test_the_cap_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(ConfigError, match="max discoveries must be a positive integer"):
        Settings(max_discoveries=value)


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--max-discoveries", "0"], {}), ([], {"SOHAR_MOCK_MAX_DISCOVERIES": "-2"})],
)
def test_the_cli_refuses_a_bad_cap_in_one_line(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", *args],
        env={**os.environ, "SOHAR_MOCK_PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("sohar-mock: max discoveries must be a positive integer")
    assert "Traceback" not in done.stderr
