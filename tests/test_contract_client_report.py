"""Client conformance: the mock's request journal and `sohar-contract client-report` over a scripted client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import request_for

from contract_tests.cli import main
from contract_tests.client_report import STATUS_TRIGGERS
from contract_tests.consumer_check import STATUSES
from mock_server.testing import RunningMock, free_port

# The client under test exercises these statuses and skips error.payer.npi and pending.
EXERCISED = {
    "00000000": "complete.eligible",
    "00000001": "complete.ineligible",
    "10000000": "error.member.id",
    "10000001": "error.member.dob",
    "10000002": "error.member.name",
    "20000000": "error.payer",
}
SKIPPED = {"error.payer.npi", "pending"}


def scripted_client(mock: RunningMock) -> None:
    """A client's test run: the happy paths it thought of, a few errors, and one bug of its own."""
    headers = mock.headers()
    for member_id, status in EXERCISED.items():
        created = mock.http.post("/v2/verifications", json=request_for(member_id), headers=headers)
        assert created.status_code == 201
        got = mock.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers)
        assert got.json()["status"] == status
    # Its bug: ISO dates instead of Sohar's MM/DD/YYYY.
    mock.http.post("/v2/verifications", json=request_for(dateOfBirth="2006-09-20"), headers=headers)
    mock.http.post("/v2/verifications", json={**request_for(), "payerId": "00000"}, headers=headers)
    mock.http.get("/v2/verifications/does-not-exist", headers=headers)
    mock.http.get("/v1/payers")  # forgot the token
    mock.http.get("/v2/verification/x", headers=headers)  # a typo in the path
    # Its intake form without a member id: discovery first, read back once.
    discovery = {"patient": {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "NY"}}
    found = mock.http.post("/v2/discovery", json=discovery, headers=headers).json()
    mock.http.get(f"/v2/discovery/{found['discoveryId']}", headers=headers)


def report(capsys: pytest.CaptureFixture[str], mock: RunningMock, *args: str) -> tuple[int, str, str]:
    code = main(["client-report", "--mock", mock.base_url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def exercised(mock: RunningMock) -> RunningMock:
    scripted_client(mock)
    return mock


def test_journal_records_the_validation_result_of_each_request(exercised: RunningMock) -> None:
    records = exercised.http.get("/__admin/requests", params={"conforms": "false"}).json()["requests"]
    by_path = {(r["operationId"], r["violation"]["kind"]): r for r in records}
    bad_date = by_path[("createVerification", "schema")]
    assert bad_date["statusCode"] == 400 and bad_date["errorParam"] == "patient.dateOfBirth"
    assert bad_date["violation"]["rule"] == "pattern"
    assert bad_date["violation"]["param"] == "patient.dateOfBirth"
    assert "2006-09-20" in bad_date["violation"]["message"]
    no_token = by_path[("getPayers", "auth")]
    assert no_token["statusCode"] == 403 and "no Authorization header" in no_token["violation"]["message"]
    typo = by_path[(None, "route")]
    assert typo["statusCode"] == 404 and typo["path"] == "/v2/verification/x" and typo["violation"]["rule"] == "path"
    # An unknown payer or id is a data error the client exercised, not a request that broke the spec.
    assert len(records) == 3
    every = exercised.http.get("/__admin/requests").json()
    assert every["dropped"] == 0
    unknown_payer = next(r for r in every["requests"] if r["errorParam"] == "payerId")
    assert unknown_payer["conforms"] is True and unknown_payer["violation"] is None
    assert {r["clientId"] for r in every["requests"] if r["operationId"] == "getVerification"} == {"sandbox-client-id"}


def test_journal_filters(exercised: RunningMock) -> None:
    every = exercised.http.get("/__admin/requests").json()["requests"]
    later = exercised.http.get("/__admin/requests", params={"since": every[-3]["seq"]}).json()["requests"]
    assert [r["seq"] for r in later] == [r["seq"] for r in every[-2:]]
    gets = exercised.http.get("/__admin/requests", params={"operationId": "getVerification"}).json()
    assert gets["count"] == len(EXERCISED) + 1
    for bad in ({"conforms": "maybe"}, {"since": "-1"}):
        response = exercised.http.get("/__admin/requests", params=bad)
        assert response.status_code == 400 and response.json()["param"] == next(iter(bad))


def test_require_all_statuses_fails_and_names_what_is_missing(
    capsys: pytest.CaptureFixture[str], exercised: RunningMock
) -> None:
    code, out, err = report(capsys, exercised, "--require-statuses", "all")
    assert code == 1
    for status in SKIPPED:
        line = next(line for line in out.splitlines() if f" {status} " in f"{line} ")
        assert "never seen" in line and STATUS_TRIGGERS[status] in line
        assert status in err
    for status in EXERCISED.values():
        assert "never seen" not in next(line for line in out.splitlines() if f" {status} " in f"{line} ")
    assert "param patient.dateOfBirth" in out and "param payerId" in out
    discoveries = out.split("Discovery statuses (Get Discovery answers):\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[:2] for line in discoveries] == [["-", "pending"], ["✓", "complete"]]
    assert "never seen" in discoveries[0] and discoveries[1].endswith("x1")
    assert "[schema/pattern]" in out and "[auth/security]" in out and "[route/path]" in out
    assert "Requests outside Sohar's operations (unknown path or method): 1" in out
    assert "Requests that broke the spec: 3" in out


def test_exercised_statuses_pass_and_violations_can_fail_the_run(
    capsys: pytest.CaptureFixture[str], exercised: RunningMock
) -> None:
    code, _, _ = report(capsys, exercised, "--require-statuses", ",".join(EXERCISED.values()))
    assert code == 0
    code, _, err = report(capsys, exercised, "--fail-on-violations")
    assert code == 1 and "3 requests broke the spec" in err


def test_json_report(capsys: pytest.CaptureFixture[str], exercised: RunningMock) -> None:
    code, out, _ = report(capsys, exercised, "--json", "--require-statuses", "all")
    data: dict[str, Any] = json.loads(out)
    assert code == 1
    assert set(data["missingStatuses"]) == SKIPPED
    assert data["statuses"]["complete.eligible"] == 1 and set(data["statuses"]) == set(STATUSES)
    assert data["operations"]["getVerification"] == {"200": len(EXERCISED), "404": 1}
    assert len(data["violations"]) == 3
    assert data["operations"]["createWebhook"] == {}
    assert data["operations"]["createDiscovery"] == {"201": 1} and data["operations"]["createDiscoveryV1"] == {}
    assert data["discoveryStatuses"] == {"pending": 0, "complete": 1}
    assert {"statusCode": 400, "param": "patient.dateOfBirth", "count": 1} in data["errors"]
    assert data["missingErrors"] == []


# The slow payer's 5 s outage runs on a mock clock that also moves in real time: a client that
# reads it back after its other work may find it over. This outage outlasts any test.
HOUR_LONG_OUTAGE = """\
name: hour-long-outage
rules:
  - name: payer-outage-for-an-hour
    match: {patient.memberId: "30000000"}
    outcome: {status: pending, recoverAfter: 3600, then: {status: roster}}
"""


def test_a_client_that_saw_everything_passes(capsys: pytest.CaptureFixture[str], mock: RunningMock) -> None:
    assert mock.http.post("/__admin/scenarios", content=HOUR_LONG_OUTAGE.encode()).status_code == 201
    headers = mock.headers()
    ids = [
        mock.http.post("/v2/verifications", json=request_for(member), headers=headers).json()["verificationId"]
        for member in ("00000000", "00000001", "10000000", "10000001", "10000002", "20000000", "20000002", "30000000")
    ]
    for verification_id in ids:
        mock.http.get(f"/v2/verifications/{verification_id}", headers=headers)
    code, out, _ = report(capsys, mock, "--require-statuses", "all")
    assert code == 0, out


def test_bad_arguments_and_an_unreachable_mock(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["client-report", "--mock", "http://127.0.0.1:1", "--require-statuses", "complete.maybe"])
    assert exit_.value.code == 2
    assert "unknown status complete.maybe" in capsys.readouterr().err
    code = main(["client-report", "--mock", f"http://127.0.0.1:{free_port()}"])
    assert code == 2 and "cannot read the journal" in capsys.readouterr().err


def test_provider_and_network_status_calls_are_reported(capsys: pytest.CaptureFixture[str], mock: RunningMock) -> None:
    headers = mock.headers()
    provider = {"npi": "1234567893", "payerId": "60054", "state": "CA"}
    assert mock.http.post("/v1/providers", json=provider, headers=headers).status_code == 200
    mock.http.post("/v1/providers", json={**provider, "npi": "1234567890"}, headers=headers)  # check digit
    eligible = mock.http.post("/v2/verifications", json=request_for(), headers=headers).json()["verificationId"]
    mock.http.get(f"/v2/verifications/{eligible}/network-status", headers=headers)
    mock.http.get(f"/v2/verifications/{eligible}/network-status", headers=headers)
    code, out, _ = report(capsys, mock, "--json")
    data: dict[str, Any] = json.loads(out)
    assert code == 0
    assert data["operations"]["createProvider"] == {"200": 1, "400": 1}
    assert data["operations"]["getNetworkStatus"] == {"200": 2}
    assert data["networkStatuses"] == {"inn": 2, "oon": 0, "pending": 0}
    assert {"statusCode": 400, "param": "npi", "count": 1} in data["errors"]
    _, text, _ = report(capsys, mock)
    assert "✓ inn" in text and "x2" in text
    oon_line = next(line for line in text.splitlines() if " oon " in f"{line} ")
    assert "never seen" in oon_line and "62308" in oon_line
    assert "param npi x1" in text
