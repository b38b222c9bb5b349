"""Every documented trigger input, end to end over HTTP: create -> resolve -> GET."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from conftest import assert_conforms, milliseconds, request_for

from mock_server.testing import RunningMock

TRIGGERS = [
    ("00000000", "complete.eligible", None),
    ("00000001", "complete.ineligible", "INACTIVE"),
    ("00000002", "complete.ineligible", "NON_COVERED"),
    ("00000003", "complete.ineligible", "ACTIVE_PENDING_INVESTIGATION"),
    ("10000000", "error.member.id", None),
    ("10000001", "error.member.dob", None),
    ("10000002", "error.member.name", None),
    ("20000000", "error.payer", None),
    ("20000001", "error.payer", "CONTACT_PAYER_REQUIRED"),
    ("20000002", "error.payer.npi", None),
]


def create_and_get(mock: RunningMock, body: dict[str, Any], environment: str = "sandbox") -> dict[str, Any]:
    headers = mock.headers(environment)
    created = mock.http.post("/v2/verifications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert_conforms("CreateVerificationResponse", created.json())
    got = mock.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers)
    assert got.status_code == 200, got.text
    assert_conforms("FullVerificationV2Response", got.json())
    return dict(got.json())


@pytest.mark.parametrize(("member_id", "status", "reason"), TRIGGERS)
def test_trigger_table(mock: RunningMock, member_id: str, status: str, reason: str | None) -> None:
    body = create_and_get(mock, request_for(member_id))
    assert body["status"] == status
    assert body["statusReason"] == reason
    assert body["patient"]["memberId"] == member_id
    assert body["payer"] == {"id": "60054", "name": "Aetna"}


def test_documented_member_mirrors_sohars_example(mock: RunningMock) -> None:
    body = create_and_get(mock, {**request_for("00000000"), "id": "123456"})
    assert body["id"] == "123456"
    assert body["placeOfServiceCode"] == "10" and body["specialtyCode"] == "PSY"
    assert body["plan"]["name"] == "OPEN CHOICE"
    assert body["group"] == {"number": "123456", "name": "ACME CORPORATION"}
    assert body["patient"]["firstName"] == "JOHN" and body["patient"]["lastName"] == "DOE"
    assert body["patient"]["dateOfBirth"] == "09/20/2006"
    assert body["patient"]["address"]["city"] == "LOS ANGELES"
    assert {b["networkStatus"] for b in body["benefits"]} == {"inn", "oon"}
    inn = next(b for b in body["benefits"] if b["networkStatus"] == "inn")
    assert inn["copay"] == 30 and inn["coinsurance"] == 0.1
    assert inn["deductible"] == {"total": 1000, "remaining": 847.56, "coverageLevelCode": "IND"}
    assert body["relatedEntities"][0]["id"] == "01260" and body["relatedEntities"][0]["name"] == "Magellan"
    assert body["created"].endswith("Z") and len(body["created"]) == len("2024-01-01T12:00:00.000Z")


@pytest.mark.parametrize(
    ("patient", "status"),
    [
        ({"lastName": "Smith"}, "error.member.name"),
        ({"firstName": "Jon"}, "error.member.name"),
        ({"dateOfBirth": "09/21/2006"}, "error.member.dob"),
        # Case, whitespace and punctuation do not make a different name.
        ({"firstName": "  JOHN ", "lastName": "doe."}, "complete.eligible"),
    ],
)
def test_roster_mismatches_of_the_sandbox_member(mock: RunningMock, patient: dict[str, str], status: str) -> None:
    assert create_and_get(mock, request_for("00000000", **patient))["status"] == status


def test_other_specialty_is_covered_for_the_non_covered_member(mock: RunningMock) -> None:
    body = create_and_get(mock, {**request_for("00000002"), "specialtyCode": "PRC"})
    assert body["status"] == "complete.eligible"


def test_pending_then_eligible_once_the_payer_recovers(mock: RunningMock) -> None:
    headers = mock.headers()
    created = mock.http.post("/v2/verifications", json=request_for("30000000"), headers=headers).json()
    url = f"/v2/verifications/{created['verificationId']}"
    first = mock.http.get(url, headers=headers).json()
    assert first["status"] == "pending"  # the payer's outage lasts 5 s of mock clock
    assert_conforms("FullVerificationV2Response", first)
    mock.advance(4.999)  # the shared mock's clock is frozen: only advances move it
    assert mock.http.get(url, headers=headers).json()["status"] == "pending"
    mock.advance(0.001)
    final = mock.http.get(url, headers=headers).json()
    assert final["status"] == "complete.eligible"
    assert final["benefits"]
    assert_conforms("FullVerificationV2Response", final)
    # Not a moment early, by the times the mock recorded too.
    summary = mock.http.get(f"/__admin/verifications/{created['verificationId']}").json()
    assert milliseconds(summary["updated"]) - milliseconds(summary["created"]) >= 5000


def test_unknown_payer_is_rejected_at_create(mock: RunningMock) -> None:
    response = mock.http.post("/v2/verifications", json={**request_for(), "payerId": "99999"}, headers=mock.headers())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request_error", "param": "payerId"}


@pytest.mark.parametrize("payer_id", ["AETNA", "aetna", "68246"])
def test_alias_payer_ids_route_to_the_payer(mock: RunningMock, payer_id: str) -> None:
    body = create_and_get(mock, {**request_for(), "payerId": payer_id})
    assert body["status"] == "complete.eligible"
    assert body["payer"]["id"] == "60054"


def test_production_credentials_resolve_the_same_way(mock: RunningMock) -> None:
    assert create_and_get(mock, request_for("10000000"), "production")["status"] == "error.member.id"


def mock_today(mock: RunningMock) -> date:
    """The mock's today: the UTC date of its clock, whatever this machine's time zone or date."""
    return datetime.fromisoformat(mock.http.get("/__admin/clock").json()["now"]).date()


# 200 days ahead, dates relative to the mock's today lie outside the plans around the real today.
CLOCK_AHEAD = [pytest.param(0, id="clock-now"), pytest.param(200 * 24 * 3600, id="clock-200-days-ahead")]


@pytest.mark.parametrize("ahead", CLOCK_AHEAD)
def test_benefits_are_coherent(mock: RunningMock, ahead: int) -> None:
    mock.advance(ahead)
    body = create_and_get(mock, request_for())
    for benefit in body["benefits"]:
        for part in ("deductible", "outOfPocket"):
            assert benefit[part]["remaining"] <= benefit[part]["total"]
    by_network = {b["networkStatus"]: b for b in body["benefits"]}
    assert by_network["oon"]["coinsurance"] >= by_network["inn"]["coinsurance"]
    start = datetime.strptime(body["plan"]["startDate"], "%m/%d/%Y").date()
    end = datetime.strptime(body["plan"]["endDate"], "%m/%d/%Y").date()
    assert start <= mock_today(mock) <= end
    for name in (body["patient"]["firstName"], body["patient"]["lastName"], body["group"]["name"]):
        assert name == name.upper()


@pytest.mark.parametrize("ahead", CLOCK_AHEAD)
def test_inactive_member_plan_ended_before_today(mock: RunningMock, ahead: int) -> None:
    mock.advance(ahead)
    body = create_and_get(mock, request_for("00000001"))
    assert datetime.strptime(body["plan"]["endDate"], "%m/%d/%Y").date() < mock_today(mock)
    assert body["benefits"] == []
