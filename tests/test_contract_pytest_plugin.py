"""The `sohar_mock` fixture as a user gets it: through the package's pytest11 entry point, in their own suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

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


def test_a_user_suite_needs_only_the_fixture(tmp_path: Path) -> None:
    (tmp_path / "test_intake.py").write_text(textwrap.dedent(USER_SUITE))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
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
