"""The sample intake app (examples/intake_app) against the real mock, and its compose wiring.

The mock runs on a loopback port and delivers its signed webhooks to the app, which runs as its
own process exactly as the compose file starts it (`python app.py`, configured by env vars).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from conftest import wait_until_answering
from svix.webhooks import Webhook

from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import RunningMock, free_port

ROOT = Path(__file__).resolve().parent.parent
APP_DIR = ROOT / "examples" / "intake_app"
JOHN_DOE = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA", "payerId": "60054"}
UNSETTLED = ("submitted", "waiting", "discovering")


@dataclass
class Flow:
    mock: RunningMock
    app: httpx.Client
    process: subprocess.Popen[str]


def start_app(mock_url: str, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "SOHAR_BASE_URL": mock_url,
        "SOHAR_CLIENT_ID": "sandbox-client-id",
        "SOHAR_CLIENT_SECRET": "sandbox-client-secret",
        "SOHAR_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
        "INTAKE_HOST": "127.0.0.1",
        "INTAKE_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, str(APP_DIR / "app.py")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    wait_until_answering(process, f"http://127.0.0.1:{port}/healthz", "the intake app", timeout=20)
    return process


@pytest.fixture(scope="module")
def flow() -> Iterator[Flow]:
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    with RunningMock(webhook_urls=(f"{app_url}/webhooks",)) as mock:
        process = start_app(mock.base_url, app_port)
        try:
            with httpx.Client(base_url=app_url, timeout=30) as app:
                yield Flow(mock, app, process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.communicate(timeout=10)


def submit(flow: Flow, member_id: str, **patient: str) -> str:
    response = flow.app.post("/patients", json={**JOHN_DOE, "memberId": member_id, **patient})
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/patients/{body['verification_id']}"
    return str(body["verification_id"])


def settled(flow: Flow, verification_id: str, unsettled: tuple[str, ...] = UNSETTLED) -> dict[str, Any]:
    """The app's record once its route is no longer one of `unsettled` (or after 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        record = flow.app.get(f"/patients/{verification_id}").json()
        if record["route"] not in unsettled or time.monotonic() > deadline:
            return dict(record)
        time.sleep(0.05)


def deliveries(flow: Flow, verification_id: str) -> list[dict[str, Any]]:
    response = flow.mock.http.get("/__admin/webhooks/deliveries", params={"verificationId": verification_id})
    response.raise_for_status()
    return list(response.json()["deliveries"])


# -- the tutorial's routing, end to end ------------------------------------------------------


@pytest.mark.parametrize(
    ("member_id", "patient", "status", "route"),
    [
        ("00000000", {}, "complete.eligible", "schedule-consultation"),
        ("00000001", {}, "complete.ineligible", "request-alternative-insurance"),
        ("00000002", {}, "complete.ineligible", "request-alternative-insurance"),
        ("10000000", {}, "error.member.id", "review-intake-data"),
        ("00000000", {"lastName": "Smith"}, "error.member.name", "review-intake-data"),
        ("00000000", {"dateOfBirth": "01/01/2000"}, "error.member.dob", "review-intake-data"),
        ("20000000", {}, "error.payer", "manual-workflow"),
        ("20000002", {}, "error.payer.npi", "manual-workflow"),
    ],
)
def test_each_status_is_routed_as_the_tutorial_says(
    flow: Flow, member_id: str, patient: dict[str, str], status: str, route: str
) -> None:
    verification_id = submit(flow, member_id, **patient)
    record = settled(flow, verification_id)
    assert (record["status"], record["route"]) == (status, route)
    # The app routed on Get Verification's answer, not on the webhook's thin payload.
    assert record["verification"]["verificationId"] == verification_id
    assert record["verification"]["status"] == status
    assert record["verification"]["id"] == record["intake_id"]
    assert record["patient"]["memberId"] == member_id
    # The mock saw the signed delivery acknowledged on the first attempt.
    sent = deliveries(flow, verification_id)
    assert [(d["event"], d["state"]) for d in sent] == [("sandbox.verification.updated", "delivered")]
    assert sent[0]["attempts"][0]["statusCode"] == 200
    assert record["events"] == [sent[0]["id"]]


def test_eligible_patient_carries_the_benefits_fetched_from_get_verification(flow: Flow) -> None:
    record = settled(flow, submit(flow, "00000000"))
    verification = record["verification"]
    assert verification["plan"]["name"] == "OPEN CHOICE"
    assert any(b["networkStatus"] == "inn" for b in verification["benefits"])


# The sandbox's slow payer recovers after 5 s of a mock clock that also runs in real time, less
# than the app's webhook round trip may take on a busy machine; this outage lasts an hour.
HOUR_LONG_OUTAGE = """\
name: hour-long-outage
rules:
  - name: payer-outage-for-an-hour
    match: {patient.memberId: "30000000", patient.state: "NY"}
    outcome: {status: pending, recoverAfter: 3600, then: {status: roster}}
"""


def test_slow_payer_waits_then_is_routed_once_the_payer_answers(flow: Flow) -> None:
    loaded = flow.mock.http.post("/__admin/scenarios", content=HOUR_LONG_OUTAGE.encode())
    assert loaded.status_code == 201, loaded.text
    verification_id = submit(flow, "30000000", state="NY")
    record = settled(flow, verification_id, unsettled=("submitted",))
    assert (record["status"], record["route"]) == ("pending", "waiting")
    flow.mock.advance(3600)  # answers once the due deliveries are done
    record = settled(flow, verification_id)
    assert (record["status"], record["route"]) == ("complete.eligible", "schedule-consultation")
    events = [d["event"] for d in deliveries(flow, verification_id)]
    assert events == ["sandbox.verification.pending", "sandbox.verification.updated"]
    assert len(record["events"]) == 2


def test_a_replayed_delivery_is_acknowledged_and_changes_nothing(flow: Flow) -> None:
    verification_id = submit(flow, "00000001")
    before = settled(flow, verification_id)
    (message,) = deliveries(flow, verification_id)
    replayed = flow.mock.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["attempts"][-1]["statusCode"] == 200
    after = flow.app.get(f"/patients/{verification_id}").json()
    assert after == before  # same svix-id: recognised as the same message


# -- deliveries the app must refuse ------------------------------------------------------------


def signed(body: bytes, secret: str = DEFAULT_WEBHOOK_SECRET, age: float = 0, msg_id: str = "msg_1") -> dict[str, str]:
    """Svix headers signed now: built when a test runs, never at collection, or they go stale."""
    sent = datetime.now(UTC) - timedelta(seconds=age)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(sent.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, sent, body.decode()),
        "content-type": "application/json",
    }


FORGED = json.dumps(
    {"event": "sandbox.verification.updated", "verificationId": "forged-1", "id": "x", "status": "complete.eligible"}
).encode()


@pytest.mark.parametrize(
    "make_headers",
    [
        pytest.param(lambda: {"content-type": "application/json"}, id="unsigned"),
        pytest.param(
            lambda: signed(FORGED, secret="whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldCE="), id="other-secret"
        ),
        pytest.param(lambda: signed(FORGED, age=600), id="ten-minutes-old"),
        pytest.param(lambda: signed(FORGED.replace(b'"x"', b'"y"')), id="body-changed-after-signing"),
    ],
)
def test_forged_or_stale_deliveries_are_rejected(flow: Flow, make_headers: Callable[[], dict[str, str]]) -> None:
    response = flow.app.post("/webhooks", content=FORGED, headers=make_headers())
    assert response.status_code == 400
    assert flow.app.get("/patients/forged-1").status_code == 404


def test_a_genuine_signature_over_the_exact_bytes_is_accepted(flow: Flow) -> None:
    # Same bytes, unusual spacing: a re-serializing receiver would compute another signature.
    verification_id = submit(flow, "10000000")
    settled(flow, verification_id)
    body = f'{{ "verificationId" :"{verification_id}",  "event":"sandbox.verification.updated"}}'.encode()
    response = flow.app.post("/webhooks", content=body, headers=signed(body, msg_id="msg_by_hand"))
    assert response.status_code == 200, response.text
    assert flow.app.get(f"/patients/{verification_id}").json()["events"][-1] == "msg_by_hand"


def test_a_delivery_for_a_verification_sohar_does_not_know_asks_for_a_retry(flow: Flow) -> None:
    body = json.dumps({"event": "sandbox.verification.updated", "verificationId": "no-such-id"}).encode()
    response = flow.app.post("/webhooks", content=body, headers=signed(body))
    assert response.status_code == 502  # non-2xx: the sender retries later
    assert flow.app.get("/patients/no-such-id").status_code == 404


# -- intake input ------------------------------------------------------------------------------


def test_missing_fields_are_named_before_anything_is_sent(flow: Flow) -> None:
    response = flow.app.post("/patients", json={"firstName": "John", "lastName": " "})
    assert response.status_code == 400
    # Payer and member id are optional (without them the app runs discovery first), not the rest.
    assert response.json()["fields"] == ["lastName", "dateOfBirth", "state"]
    member_without_payer = flow.app.post("/patients", json={**JOHN_DOE, "payerId": "", "memberId": "00000000"})
    assert (member_without_payer.status_code, member_without_payer.json()["fields"]) == (400, ["payerId"])


def test_sohar_rejections_are_passed_on_with_the_offending_field(flow: Flow) -> None:
    response = flow.app.post("/patients", json={**JOHN_DOE, "memberId": "00000000", "dateOfBirth": "2006-09-20"})
    assert response.status_code == 400
    assert response.json()["sohar"] == {
        "status": 400,
        "body": {"error": "invalid_request_error", "param": "patient.dateOfBirth"},
    }


def test_a_body_that_is_not_an_object_is_refused(flow: Flow) -> None:
    response = flow.app.post("/patients", content=b"[1, 2", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_the_html_form_submits_and_the_page_shows_the_route_escaped(flow: Flow) -> None:
    form = {**JOHN_DOE, "memberId": "10000000", "firstName": "<script>x</script>"}
    response = flow.app.post("/patients", data=form)
    assert response.status_code == 303
    verification_id = response.headers["location"].removeprefix("/#")
    settled(flow, verification_id)
    page = flow.app.get("/").text
    assert f'id="{verification_id}"' in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    assert "review-intake-data" in page

    bad = flow.app.post("/patients", data={**form, "dateOfBirth": "20/09/2006"})
    assert bad.status_code == 400
    assert "Please check patient.dateOfBirth" in bad.text


def test_the_demo_script_routes_every_sample_patient(flow: Flow) -> None:
    result = subprocess.run(
        [sys.executable, str(APP_DIR / "demo.py")],
        env={**os.environ, "INTAKE_URL": str(flow.app.base_url).rstrip("/"), "DEMO_TIMEOUT": "20"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("ok   memberId") == 5
    assert (
        "ok   discovery first (CA): found 60054/00000000, complete.eligible -> schedule-consultation" in result.stdout
    )


# -- discovery first, when the form has no member id ------------------------------------------------


def discover_first(flow: Flow, **patient: str) -> dict[str, Any]:
    body = {k: v for k, v in JOHN_DOE.items() if k != "payerId"} | patient
    response = flow.app.post("/patients", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["route"] == "discovering" and created["verification_id"] is None
    assert response.headers["location"] == f"/patients/{created['discovery_id']}"
    return settled(flow, created["discovery_id"])


@pytest.mark.parametrize(
    ("state", "found", "status", "route"),
    [
        ("CA", ("60054", "00000000"), "complete.eligible", "schedule-consultation"),
        ("DE", ("60054", "00000001"), "complete.ineligible", "request-alternative-insurance"),
        ("GA", ("60054", "10000001"), "error.member.dob", "review-intake-data"),
        ("KY", ("OSCAR", "00000000"), "complete.eligible", "schedule-consultation"),
    ],
)
def test_without_a_member_id_discovery_runs_first_then_the_verification(
    flow: Flow, state: str, found: tuple[str, str], status: str, route: str
) -> None:
    record = discover_first(flow, state=state)
    assert (record["discovery"]["payerId"], record["discovery"]["memberId"]) == found
    assert (record["patient"]["payerId"], record["patient"]["memberId"]) == found
    assert (record["status"], record["route"]) == (status, route)
    # Both steps: the discovery's event, then the verification's, each read back from Sohar.
    assert record["verification"]["verificationId"] == record["verification_id"]
    discovery_events = flow.mock.http.get(
        "/__admin/webhooks/deliveries", params={"discoveryId": record["discovery_id"]}
    ).json()["deliveries"]
    assert [(d["event"], d["state"]) for d in discovery_events] == [("sandbox.discovery.updated", "delivered")]
    assert [d["event"] for d in deliveries(flow, record["verification_id"])] == ["sandbox.verification.updated"]
    # The same patient under either id, listed once.
    assert flow.app.get(f"/patients/{record['verification_id']}").json() == record
    listed = [p for p in flow.app.get("/patients").json() if p["discovery_id"] == record["discovery_id"]]
    assert listed == [record]


def test_no_coverage_found_is_its_own_route_and_no_verification_is_made(flow: Flow) -> None:
    record = discover_first(flow, state="OH")
    assert (record["route"], record["verification_id"], record["discovery"]["payerId"]) == (
        "no-coverage-found",
        None,
        None,
    )
    page = flow.app.get("/").text
    assert f'id="{record["discovery_id"]}"' in page and "no coverage found" in page


def test_a_replayed_discovery_delivery_makes_no_second_verification(flow: Flow) -> None:
    record = discover_first(flow, state="NY")
    (message,) = flow.mock.http.get(
        "/__admin/webhooks/deliveries", params={"discoveryId": record["discovery_id"]}
    ).json()["deliveries"]
    replayed = flow.mock.http.post(f"/__admin/webhooks/deliveries/{message['id']}/replay")
    assert replayed.json()["attempts"][-1]["statusCode"] == 200
    verifications = flow.mock.http.get("/__admin/verifications").json()["verifications"]
    assert [v["verificationId"] for v in verifications if v["memberId"] == "00000000" and v["payerId"] == "62308"] == [
        record["verification_id"]
    ]


def test_a_discovery_sohar_refuses_is_passed_on_with_the_field(flow: Flow) -> None:
    response = flow.app.post("/patients", json={**JOHN_DOE, "payerId": "", "memberId": "", "state": "Texas"})
    assert response.status_code == 400
    assert response.json()["sohar"]["body"] == {"error": "invalid_request_error", "param": "patient.state"}


# -- docker-compose.yml wires the same pieces by service name -----------------------------------


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_compose_points_the_mock_and_the_app_at_each_other() -> None:
    services = compose()["services"]
    mock, intake, demo = services["mock"], services["intake"], services["demo"]
    hook = urlsplit(mock["environment"]["SOHAR_MOCK_WEBHOOK_URL"])
    assert (hook.scheme, hook.hostname, hook.port, hook.path) == (
        "http",
        "intake",
        int(intake["environment"]["INTAKE_PORT"]),
        "/webhooks",
    )
    assert intake["environment"]["INTAKE_HOST"] == "0.0.0.0"
    assert intake["environment"]["SOHAR_BASE_URL"] == "http://mock:8080"
    assert mock["ports"] == ["8080:8080"]
    assert intake["environment"]["SOHAR_WEBHOOK_SECRET"] == mock["environment"]["SOHAR_MOCK_WEBHOOK_SECRET"]
    assert intake["environment"]["SOHAR_CLIENT_ID"] == "sandbox-client-id"
    assert urlsplit(demo["environment"]["INTAKE_URL"]).hostname == "intake"
    assert intake["depends_on"] == {"mock": {"condition": "service_healthy"}}
    assert demo["depends_on"] == {"intake": {"condition": "service_healthy"}}


def test_compose_mounts_and_runs_files_that_exist() -> None:
    for name in ("intake", "demo"):
        service = compose()["services"][name]
        assert service["build"] == "."
        (volume,) = service["volumes"]
        host, container, mode = volume.split(":")
        assert mode == "ro"
        script = service["entrypoint"][-1]
        assert script.startswith(container + "/")
        assert (ROOT / host / script.removeprefix(container + "/")).is_file()
    # The image's health check polls the mock's port, so each other service brings its own.
    assert "healthz" in " ".join(compose()["services"]["intake"]["healthcheck"]["test"])
    assert compose()["services"]["demo"]["healthcheck"] == {"disable": True}
