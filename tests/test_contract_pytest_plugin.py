"""The `sohar_mock` fixture as a user gets it: through the package's pytest11 entry point, in their own suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
from test_cli import serve

USER_SUITE = """
import httpx

JOHN_DOE = {
    "patient": {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA",
                "memberId": "00000000"},
    "payerId": "60054", "placeOfServiceCode": "10", "specialtyCode": "PSY",
}


def create(sohar_mock, member_id):
    body = {**JOHN_DOE, "patient": {**JOHN_DOE["patient"], "memberId": member_id}}
    token = httpx.post(f"{sohar_mock.base_url}/oauth/token", json=sohar_mock.sandbox_credentials).json()
    response = httpx.post(
        f"{sohar_mock.base_url}/v2/verifications", json=body,
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert response.status_code == 201
    return response.json()["verificationId"]


def test_eligible_member_gets_a_signed_webhook(sohar_mock):
    verification_id = create(sohar_mock, "00000000")
    event = sohar_mock.wait_for_webhook(verification_id)
    assert (event.event, event.status) == ("sandbox.verification.updated", "complete.eligible")
    assert event.verified and event.message_id.startswith("msg_")


def test_reset_between_tests_then_the_clock(sohar_mock):
    assert sohar_mock.webhooks == [] and sohar_mock.admin.verifications() == []
    verification_id = create(sohar_mock, "30000000")
    sohar_mock.wait_for_webhook(verification_id, event="sandbox.verification.pending")
    sohar_mock.advance(5)
    assert sohar_mock.wait_for_webhook(verification_id, status="complete.eligible").verified


def test_admin_forces_an_outcome(sohar_mock):
    verification_id = create(sohar_mock, "00000000")
    sohar_mock.wait_for_webhook(verification_id, status="complete.eligible")
    sohar_mock.admin.force_status(verification_id, "error.payer.npi")
    assert sohar_mock.wait_for_webhook(verification_id, status="error.payer.npi")
    assert len(sohar_mock.admin.deliveries(verificationId=verification_id)) == 2


def test_a_plan_needing_a_provider_then_network_status(sohar_mock):
    first = create(sohar_mock, "20000003")
    assert sohar_mock.wait_for_webhook(first).status == "error.payer.npi"
    provider_id = sohar_mock.create_provider("1234567893", "60054", "CA")
    assert [p["providerId"] for p in sohar_mock.admin.providers(environment="sandbox")] == [provider_id]
    second = create(sohar_mock, "20000003")
    assert sohar_mock.wait_for_webhook(second).status == "complete.eligible"
    assert sohar_mock.network_status(second)["status"] == "inn"
    sohar_mock.admin.delete_provider(provider_id)
    assert sohar_mock.admin.providers() == []


def test_a_missing_webhook_fails_with_what_did_arrive(sohar_mock):
    verification_id = create(sohar_mock, "00000000")
    sohar_mock.wait_for_webhook(verification_id, status="complete.eligible")  # arrived: the failure lists it
    try:
        sohar_mock.wait_for_webhook(verification_id, status="error.payer", timeout=0.5)
    except AssertionError as exc:
        assert "complete.eligible" in str(exc)
    else:
        raise AssertionError("wait_for_webhook should have failed")


def discover(sohar_mock, state):
    token = httpx.post(f"{sohar_mock.base_url}/oauth/token", json=sohar_mock.sandbox_credentials).json()
    patient = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": state}
    response = httpx.post(
        f"{sohar_mock.base_url}/v2/discovery", json={"patient": patient},
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert response.status_code == 201
    return response.json()["discoveryId"]


def test_a_discovery_gets_its_signed_webhook(sohar_mock):
    discovery_id = discover(sohar_mock, "NY")
    create(sohar_mock, "00000000")  # a verification's event must not answer for the discovery
    event = sohar_mock.wait_for_webhook(discovery_id=discovery_id)
    assert (event.event, event.status, event.discovery_id) == ("sandbox.discovery.updated", "complete", discovery_id)
    assert event.verified and event.verification_id is None
    assert sohar_mock.admin.discovery(discovery_id)["coverages"] == [{"payerId": "62308", "memberId": "00000000"}]
    sohar_mock.admin.force_discovery_status(discovery_id, "complete", [("60054", "00000001")])
    sohar_mock.advance(0)
    assert [m["discoveryId"] for m in sohar_mock.admin.deliveries(discoveryId=discovery_id)] == [discovery_id] * 2
    assert sohar_mock.admin.discoveries()[0]["coverages"] == [{"payerId": "60054", "memberId": "00000001"}]
"""


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("sohar_mock") == "contract_tests.pytest_plugin"


# The environment without any SOHAR_MOCK_* setting of whoever runs the tests (SOHAR_MOCK_URL
# would point the fixture at their mock).
OWN_ENV = {name: value for name, value in os.environ.items() if not name.startswith("SOHAR_MOCK_")}


def run_pytest(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args, str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={**OWN_ENV, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
    )


@pytest.fixture(scope="module")
def served_mock() -> Iterator[str]:
    """`sohar-mock serve` as a process of its own, the way compose-based CI runs the container."""
    with serve() as (url, _):
        yield url


@pytest.mark.parametrize("where", ["in-process", "running"])
def test_a_user_suite_needs_only_the_fixture(tmp_path: Path, where: str, request: pytest.FixtureRequest) -> None:
    (tmp_path / "test_intake.py").write_text(textwrap.dedent(USER_SUITE))
    args = ("--sohar-mock-url", request.getfixturevalue("served_mock")) if where == "running" else ()
    result = run_pytest(tmp_path, *args)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "6 passed" in result.stdout


def test_ini_options_configure_the_mock(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        # An hour of latency: still pending however slowly the check runs, until the clock is advanced.
        "[pytest]\nsohar_mock_latency = 3600\nsohar_mock_seed = 4\nsohar_mock_scenarios = team.yaml\n"
    )
    (tmp_path / "team.yaml").write_text(
        "name: team\nrules:\n  - name: always-npi\n    match: {patient.memberId: '77777777'}\n"
        "    outcome: {status: error.payer.npi}\n"
    )
    (tmp_path / "test_slow.py").write_text(
        textwrap.dedent(
            """
            def test_latency_holds_results_back(sohar_mock):
                import httpx
                token = httpx.post(f"{sohar_mock.base_url}/oauth/token", json=sohar_mock.sandbox_credentials).json()
                body = {"patient": {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006",
                                    "state": "CA", "memberId": "00000000"},
                        "payerId": "60054", "placeOfServiceCode": "10", "specialtyCode": "PSY"}
                headers = {"Authorization": f"Bearer {token['access_token']}"}
                vid = httpx.post(f"{sohar_mock.base_url}/v2/verifications", json=body, headers=headers).json()
                assert sohar_mock.admin.verification(vid["verificationId"])["status"] == "pending"
                sohar_mock.advance(3600)
                assert sohar_mock.wait_for_webhook(vid["verificationId"]).status == "complete.eligible"

            def test_team_scenarios_load_after_the_defaults(sohar_mock):
                files = [f["name"] for f in sohar_mock.admin.get("/scenarios")["files"]]
                assert files == ["sohar-sandbox", "partner-sandbox", "team"], files
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


RUNNING_SUITE = """
import httpx


def create(sohar_mock, member_id):
    body = {"patient": {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA",
                        "memberId": member_id},
            "payerId": "60054", "placeOfServiceCode": "10", "specialtyCode": "PSY"}
    response = httpx.post(f"{sohar_mock.base_url}/v2/verifications", json=body, headers=sohar_mock.headers())
    assert response.status_code == 201
    return response.json()["verificationId"]


def test_team_scenarios_are_loaded_after_each_reset(sohar_mock):
    assert sohar_mock.running_elsewhere
    files = [f["name"] for f in sohar_mock.admin.get("/scenarios")["files"]]
    assert files == ["sohar-sandbox", "partner-sandbox", "team"], files
    event = sohar_mock.wait_for_webhook(create(sohar_mock, "77777777"))
    assert event.status == "error.payer.npi" and event.verified


def test_again_after_a_reset(sohar_mock):
    assert sohar_mock.webhooks == [] and sohar_mock.admin.verifications() == []
    files = [f["name"] for f in sohar_mock.admin.get("/scenarios")["files"]]
    assert files == ["sohar-sandbox", "partner-sandbox", "team"]
    verification_id = create(sohar_mock, "77777777")
    event = sohar_mock.wait_for_webhook(verification_id)
    [message] = sohar_mock.admin.deliveries(verificationId=verification_id)
    assert message["id"] == event.message_id and message["url"].startswith("http://localhost:")
    assert sohar_mock.contract_violations == []
"""


def test_against_a_running_mock_ini_scenarios_and_the_receiver_host(served_mock: str, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nsohar_mock_scenarios = team.yaml\nsohar_mock_url = http://127.0.0.1:1\n"
    )
    (tmp_path / "team.yaml").write_text(
        "name: team\nrules:\n  - name: always-npi\n    match: {patient.memberId: '77777777'}\n"
        "    outcome: {status: error.payer.npi}\n"
    )
    (tmp_path / "test_running.py").write_text(textwrap.dedent(RUNNING_SUITE))
    # The environment variables win over the ini file (whose URL has no mock behind it).
    result = run_pytest(tmp_path, env={"SOHAR_MOCK_URL": served_mock, "SOHAR_MOCK_RECEIVER_HOST": "localhost"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout
    # The session took its receiver away when it ended; the last test's scenario is still loaded.
    endpoints = httpx.get(f"{served_mock}/__admin/webhooks/endpoints").json()["endpoints"]
    assert [e for e in endpoints if e["source"] == "admin"] == []


def test_a_running_mock_on_real_time_is_refused_for_a_frozen_clock_suite(served_mock: str, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nsohar_mock_freeze_clock = true\nsohar_mock_latency = 5\n")
    (tmp_path / "test_frozen.py").write_text("def test_it(sohar_mock):\n    pass\n")
    result = run_pytest(tmp_path, "--sohar-mock-url", served_mock)
    assert result.returncode == 1
    assert "sohar_mock_freeze_clock is on, but the mock at" in result.stdout
    assert "start it with --freeze-clock" in result.stdout


def test_no_mock_at_the_url_fails_the_tests_saying_so(tmp_path: Path) -> None:
    (tmp_path / "test_absent.py").write_text("def test_it(sohar_mock):\n    pass\n")
    result = run_pytest(tmp_path, "--sohar-mock-url", "http://127.0.0.1:1")
    assert result.returncode == 1 and "sohar_mock: no mock answers at http://127.0.0.1:1" in result.stdout
    bad = run_pytest(tmp_path, "--sohar-mock-url", "mock:8080")
    assert bad.returncode == 1 and "must be an http(s):// URL, got 'mock:8080'" in bad.stdout
