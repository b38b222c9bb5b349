"""What the console reads: change cursors (`since`, `revision`), a verification's timeline,
and webhook endpoints added through the admin API."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ADMIN_SPEC, assert_conforms, receiving, request_for
from svix.webhooks import Webhook

from contract_tests.receiver import Reply
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import RunningMock


def create(mock: RunningMock, member_id: str = "00000000", environment: str = "sandbox") -> str:
    response = mock.http.post("/v2/verifications", json=request_for(member_id), headers=mock.headers(environment))
    assert response.status_code == 201
    return str(response.json()["verificationId"])


def listing(mock: RunningMock, **params: Any) -> dict[str, Any]:
    response = mock.http.get("/__admin/verifications", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_since_lists_only_what_changed_after_the_cursor(mock: RunningMock) -> None:
    first, second = create(mock), create(mock, "30000000")
    everything = listing(mock)
    assert [v["verificationId"] for v in everything["verifications"]] == [first, second]
    cursor = everything["revision"]
    assert cursor == max(v["revision"] for v in everything["verifications"])
    assert listing(mock, since=cursor)["verifications"] == []

    mock.advance(5)  # the second one recovers from its outage
    changed = listing(mock, since=cursor)
    assert [(v["verificationId"], v["status"]) for v in changed["verifications"]] == [(second, "complete.eligible")]
    assert changed["revision"] > cursor

    mock.http.post(f"/__admin/verifications/{first}/status", json={"status": "error.payer.npi"})
    later = listing(mock, since=changed["revision"])
    assert [(v["verificationId"], v["status"]) for v in later["verifications"]] == [(first, "error.payer.npi")]
    assert_conforms("VerificationSummary", later["verifications"][0], ADMIN_SPEC)


def test_a_reset_moves_the_reset_revision_past_every_older_cursor(mock: RunningMock) -> None:
    create(mock)
    cursor = listing(mock)["revision"]
    mock.reset()
    after = listing(mock, since=cursor)
    assert after["verifications"] == [] and after["resetRevision"] > cursor
    new = create(mock)
    again = listing(mock, since=cursor)
    assert [v["verificationId"] for v in again["verifications"]] == [new]
    health = mock.http.get("/__admin/health").json()
    assert health["revision"] == again["revision"] and health["resetRevision"] == after["resetRevision"]


def test_limit_keeps_the_newest(mock: RunningMock) -> None:
    ids = [create(mock) for _ in range(3)]
    assert [v["verificationId"] for v in listing(mock, limit=2)["verifications"]] == ids[1:]
    assert listing(mock, limit=2, since=0)["count"] == 2


@pytest.mark.parametrize(
    ("param", "value"),
    [("since", "-1"), ("since", "x"), ("since", "²"), ("since", "1" * 19), ("limit", "0"), ("limit", "1.5")],
)
def test_bad_cursors_and_limits_are_400(mock: RunningMock, param: str, value: str) -> None:
    create(mock)
    for path in ("/__admin/verifications", "/__admin/webhooks/deliveries", "/__admin/requests"):
        if param == "limit" and path != "/__admin/verifications":
            continue
        response = mock.http.get(path, params={param: value})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["param"] == param and response.json()["message"]


def test_timeline_of_an_outage_then_a_forced_status(mock: RunningMock) -> None:
    verification_id = create(mock, "30000000")
    mock.advance(5)
    mock.http.post(f"/__admin/verifications/{verification_id}/status", json={"status": "error.payer"})
    detail = mock.http.get(f"/__admin/verifications/{verification_id}").json()
    steps = [(s["status"], s["cause"]) for s in detail["timeline"]]
    assert steps == [
        ("pending", "created"),
        ("pending", "scheduled"),
        ("complete.eligible", "scheduled"),
        ("error.payer", "forced"),
    ]
    times = [s["at"] for s in detail["timeline"]]
    assert times == sorted(times) and times[1] < times[2]  # the recovery came 5 s of mock time later


def test_timeline_of_a_direct_result_and_of_a_status_forced_before_it(mock: RunningMock) -> None:
    direct = create(mock)
    timeline = mock.http.get(f"/__admin/verifications/{direct}").json()["timeline"]
    assert [(s["status"], s["statusReason"], s["cause"]) for s in timeline] == [
        ("pending", None, "created"),
        ("complete.eligible", None, "scheduled"),
    ]
    mock.http.post(
        f"/__admin/verifications/{direct}/status",
        json={"status": "complete.ineligible", "statusReason": "NON_COVERED"},
    )
    timeline = mock.http.get(f"/__admin/verifications/{direct}").json()["timeline"]
    assert [(s["status"], s["statusReason"], s["cause"]) for s in timeline][1:] == [
        ("complete.eligible", None, "scheduled"),
        ("complete.ineligible", "NON_COVERED", "forced"),
    ]


def test_timeline_of_a_status_forced_while_processing() -> None:
    with RunningMock(freeze_clock=True, latency=60) as mock:
        verification_id = create(mock)
        mock.http.post(f"/__admin/verifications/{verification_id}/status", json={"status": "error.member.id"})
        mock.advance(60)  # the cancelled result never comes
        timeline = mock.http.get(f"/__admin/verifications/{verification_id}").json()["timeline"]
        assert [(s["status"], s["cause"]) for s in timeline] == [("pending", "created"), ("error.member.id", "forced")]


def test_deliveries_since_show_each_attempt_once(mock: RunningMock) -> None:
    with receiving([Reply(500)]) as receiver:
        added = mock.http.post("/__admin/webhooks/endpoints", json={"url": receiver.url})
        assert added.status_code == 201
        start = mock.http.get("/__admin/webhooks/deliveries").json()["revision"]
        create(mock)
        receiver.wait_for_count(1)
        mock.advance(0)  # waits for the attempt already started
        first = mock.http.get("/__admin/webhooks/deliveries", params={"since": start}).json()
        [message] = first["deliveries"]
        assert [a["statusCode"] for a in message["attempts"]] == [500] and message["state"] == "pending"
        assert start < message["attempts"][0]["revision"] <= message["revision"] <= first["revision"]
        assert (
            mock.http.get("/__admin/webhooks/deliveries", params={"since": first["revision"]}).json()["deliveries"]
            == []
        )
        mock.advance(5)  # the retry succeeds
        receiver.wait_for_count(2)
        second = mock.http.get("/__admin/webhooks/deliveries", params={"since": first["revision"]}).json()
        [again] = second["deliveries"]
        new_attempts = [a for a in again["attempts"] if a["revision"] > first["revision"]]
        assert [(a["attempt"], a["statusCode"]) for a in new_attempts] == [(2, 200)]
        assert again["state"] == "delivered"
        assert_conforms("WebhookMessage", again, ADMIN_SPEC)


def test_an_admin_endpoint_is_signed_with_the_start_up_secret_and_goes_on_reset(mock: RunningMock) -> None:
    with receiving() as receiver:
        added = mock.http.post("/__admin/webhooks/endpoints", json={"url": receiver.url}).json()
        assert added["source"] == "admin" and added["secret"] == DEFAULT_WEBHOOK_SECRET
        assert set(added["events"]) >= {"sandbox.verification.updated", "verification.pending"}
        assert_conforms("AdminEndpoint", added, ADMIN_SPEC)
        create(mock)
        create(mock, environment="production")
        deliveries = receiver.wait_for_count(2)
        mock.advance(0)
        for delivery in deliveries:
            Webhook(added["secret"]).verify(delivery.body, delivery.headers)
        assert sorted([r.event for r in receiver.received]) == ["sandbox.verification.updated", "verification.updated"]
        # Sohar's management API does not see it.
        production = mock.headers("production")
        assert mock.http.get("/v1/webhooks", headers=production).json() == []

        mock.reset()
        endpoints = mock.http.get("/__admin/webhooks/endpoints").json()["endpoints"]
        assert all(e["source"] != "admin" for e in endpoints)
        create(mock)
        mock.advance(1)
        assert len(receiver.received) == 2


def test_removing_an_admin_endpoint_stops_its_attempts(mock: RunningMock) -> None:
    with receiving([Reply(500)]) as receiver:
        added = mock.http.post("/__admin/webhooks/endpoints", json={"url": receiver.url}).json()
        create(mock)
        receiver.wait_for_count(1)
        mock.advance(0)  # waits for the attempt already started
        removed = mock.http.delete(f"/__admin/webhooks/endpoints/{added['endpointId']}")
        assert removed.status_code == 200 and removed.json() == {"endpointId": added["endpointId"], "deleted": True}
        mock.advance(5)
        [message] = mock.http.get("/__admin/webhooks/deliveries").json()["deliveries"]
        assert message["state"] == "failed" and len(receiver.received) == 1
        assert mock.http.delete(f"/__admin/webhooks/endpoints/{added['endpointId']}").status_code == 404


def test_only_admin_endpoints_can_be_removed(mock: RunningMock) -> None:
    production = mock.headers("production")
    api = mock.http.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks"}, headers=production).json()
    response = mock.http.delete(f"/__admin/webhooks/endpoints/{api['endpointId']}")
    assert response.status_code == 409 and response.json()["param"] == "endpointId"


@pytest.mark.parametrize("body", [{}, {"url": "ftp://x/y"}, {"url": 5}, {"url": "http://"}, []])
def test_adding_an_endpoint_needs_an_http_url(mock: RunningMock, body: Any) -> None:
    response = mock.http.post("/__admin/webhooks/endpoints", json=body)
    assert response.status_code == 400
    assert response.json()["param"] in ("url", "body") and response.json()["message"]


def test_replay_moves_the_revision(mock: RunningMock) -> None:
    with receiving() as receiver:
        mock.http.post("/__admin/webhooks/endpoints", json={"url": receiver.url})
        create(mock)
        receiver.wait_for_count(1)
        mock.advance(0)  # waits for the attempt already started
        [message] = mock.http.get("/__admin/webhooks/deliveries").json()["deliveries"]
        replayed = mock.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay").json()
        assert replayed["revision"] > message["revision"]
        assert [a["trigger"] for a in replayed["attempts"]] == ["scheduled", "replay"]


# -- discoveries: the same cursors and timeline, through the machinery they share -------------------


def discover(mock: RunningMock, state: str = "NY", environment: str = "sandbox") -> str:
    patient = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": state}
    response = mock.http.post("/v2/discovery", json={"patient": patient}, headers=mock.headers(environment))
    assert response.status_code == 201, response.text
    return str(response.json()["discoveryId"])


def discoveries(mock: RunningMock, **params: Any) -> dict[str, Any]:
    response = mock.http.get("/__admin/discoveries", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_discoveries_since_and_limit_share_the_one_counter(mock: RunningMock) -> None:
    verification = create(mock)
    first, second = discover(mock), discover(mock, "OH")
    everything = discoveries(mock)
    assert [d["discoveryId"] for d in everything["discoveries"]] == [first, second]
    cursor = everything["revision"]
    # One counter for every kind: the verification made before them is older than both.
    assert listing(mock)["verifications"][0]["revision"] < min(d["revision"] for d in everything["discoveries"])
    assert cursor == listing(mock)["revision"] == max(d["revision"] for d in everything["discoveries"])
    assert discoveries(mock, since=cursor)["discoveries"] == []
    assert [d["discoveryId"] for d in discoveries(mock, limit=1)["discoveries"]] == [second]

    mock.http.post(f"/__admin/discoveries/{first}/status", json={"status": "pending"})
    changed = discoveries(mock, since=cursor)
    assert [(d["discoveryId"], d["status"]) for d in changed["discoveries"]] == [(first, "pending")]
    assert_conforms("DiscoverySummary", changed["discoveries"][0], ADMIN_SPEC)
    assert listing(mock, since=cursor)["verifications"] == []  # a discovery's change is not a verification's
    assert [v["verificationId"] for v in listing(mock)["verifications"]] == [verification]

    mock.reset()
    after = discoveries(mock, since=changed["revision"])
    assert after["discoveries"] == [] and after["resetRevision"] > changed["revision"]


@pytest.mark.parametrize(
    ("param", "value"), [("since", "-1"), ("since", "²"), ("since", "1" * 19), ("limit", "0"), ("limit", "x")]
)
def test_bad_discovery_cursors_and_limits_are_400(mock: RunningMock, param: str, value: str) -> None:
    response = mock.http.get("/__admin/discoveries", params={param: value})
    assert response.status_code == 400 and response.json()["param"] == param and response.json()["message"]


def test_discovery_timeline_of_a_slow_search_then_a_forced_status(mock: RunningMock) -> None:
    slow = (
        "discovery:\n"
        "  rules:\n"
        "    - name: slow\n"
        "      match: {environment: production}\n"
        "      outcome: {status: pending, delay: 1, recoverAfter: 30, then: {status: roster}}\n"
    )
    assert mock.http.post("/__admin/scenarios", params={"name": "slow.yaml"}, content=slow).status_code == 201
    discovery_id = discover(mock, "CA", environment="production")
    mock.advance(31)
    mock.http.post(f"/__admin/discoveries/{discovery_id}/status", json={"status": "pending"})
    detail = mock.http.get(f"/__admin/discoveries/{discovery_id}").json()
    assert [(s["status"], s["cause"]) for s in detail["timeline"]] == [
        ("pending", "created"),
        ("pending", "scheduled"),
        ("complete", "scheduled"),
        ("pending", "forced"),
    ]
    times = [s["at"] for s in detail["timeline"]]
    assert times == sorted(times) and times[1] < times[2]  # the search completed 30 s of mock time later
    assert all("statusReason" not in s for s in detail["timeline"])
    assert detail["body"]["status"] == "pending"


def test_discovery_timeline_of_a_direct_result(mock: RunningMock) -> None:
    discovery_id = discover(mock)
    detail = mock.http.get(f"/__admin/discoveries/{discovery_id}").json()
    steps = [(s["status"], s["cause"]) for s in detail["timeline"]]
    assert steps == [("pending", "created"), ("complete", "scheduled")]
    assert detail["body"]["discoveryId"] == discovery_id


def test_discovery_webhook_messages_carry_revisions(mock: RunningMock) -> None:
    with receiving() as receiver:
        mock.http.post("/__admin/webhooks/endpoints", json={"url": receiver.url})
        start = mock.http.get("/__admin/webhooks/deliveries").json()["revision"]
        discovery_id = discover(mock)
        receiver.wait_for_count(1)
        mock.advance(0)  # waits for the attempt already started
        changed = mock.http.get("/__admin/webhooks/deliveries", params={"since": start}).json()
        [message] = changed["deliveries"]
        assert message["discoveryId"] == discovery_id and message["state"] == "delivered"
        assert start < message["attempts"][0]["revision"] <= message["revision"] <= changed["revision"]
        assert_conforms("WebhookMessage", message, ADMIN_SPEC)
