"""Get Network Status over loopback, from the default scenarios and from a custom file's `network:` rules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conformance import validating_mock
from conftest import assert_conforms, request_for

from mock_server.resources import default_scenarios_dir
from mock_server.testing import RunningMock

CONTRACTS = """
name: contracts
payers:
  - {payerId: "62308", payerName: Cigna, aliasPayerIds: [CIGNA]}
members:
  - {memberId: C1, payerId: "62308", firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985,
     profile: aetna-open-choice}
  - {memberId: C2, payerId: "62308", firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985,
     profile: aetna-open-choice, plan: {name: BRONZE HMO, startDate: today-10d, endDate: today+10d}}
network:
  - name: cigna-psychiatry-in-ny
    match: {payerId: CIGNA, specialty: PCH, state: [NY, NJ]}
    status: inn
    labels: [{color: blue}, {id: my-label, color: red}]
    providerGroups:
      - {name: Mind Group, tin: "111222333", status: inn}
      - {id: g-2, name: Other Group, tin: "444555666", status: oon}
  - name: cigna-open-choice
    match: {payerId: "62308", plan: open choice}
    status: inn
  - name: cigna-else
    match: {payerId: "62308"}
    status: oon
    labels: [{color: orange}]
"""


def network_status(mock: RunningMock, verification_id: str, environment: str = "sandbox") -> dict[str, object]:
    response = mock.http.get(f"/v2/verifications/{verification_id}/network-status", headers=mock.headers(environment))
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert_conforms("NetworkStatusResponse", body)
    assert body["verificationId"] == verification_id
    return body


def create(mock: RunningMock, member_id: str = "00000000", environment: str = "sandbox", **fields: object) -> str:
    body = {**request_for(member_id), **fields}
    response = mock.http.post("/v2/verifications", json=body, headers=mock.headers(environment))
    assert response.status_code == 201, response.text
    return str(response.json()["verificationId"])


def test_an_eligible_60054_verification_is_in_network(mock: RunningMock) -> None:
    body = network_status(mock, create(mock))
    assert body["status"] == "inn"
    assert body["labels"] == [{"id": "cb075a05-4510-456c-addb-fc2efdb74686", "color": "green"}]
    assert body["providerGroups"] == [
        {"id": "992d71b7-ef7e-47e3-92c4-1a1c459d3333", "name": "My Group", "tin": "123456789", "status": "inn"}
    ]


def test_a_pending_verification_is_pending_until_it_resolves(mock: RunningMock) -> None:
    verification_id = create(mock, "30000000")  # pending while its payer is down, 5 s of mock time
    assert network_status(mock, verification_id) == {
        "status": "pending",
        "verificationId": verification_id,
        "labels": [],
        "providerGroups": [],
    }
    mock.advance(5)
    assert network_status(mock, verification_id)["status"] == "inn"


def test_a_result_not_yet_due_is_pending_too() -> None:
    with validating_mock(latency=30, freeze_clock=True) as mock:
        verification_id = create(mock)
        assert network_status(mock, verification_id)["status"] == "pending"
        mock.advance(30)
        assert network_status(mock, verification_id)["status"] == "inn"


def test_a_payer_without_a_contract_is_out_of_network(mock: RunningMock) -> None:
    body = network_status(mock, create(mock, payerId="62308"))  # no Cigna rule in the defaults
    assert (body["status"], body["labels"], body["providerGroups"]) == ("oon", [], [])


def test_unknown_and_other_environment_ids_are_404(mock: RunningMock) -> None:
    sandbox_id = create(mock)
    for verification_id, environment in [("no-such-id", "sandbox"), (sandbox_id, "production")]:
        response = mock.http.get(
            f"/v2/verifications/{verification_id}/network-status", headers=mock.headers(environment)
        )
        assert response.status_code == 404
        assert response.json() == {"error": "invalid_request_error"}
    assert mock.http.get(f"/v2/verifications/{sandbox_id}/network-status").status_code == 403
    journal = mock.http.get("/__admin/requests", params={"operationId": "getNetworkStatus"}).json()["requests"]
    assert [r["statusCode"] for r in journal] == [404, 404, 403]


@pytest.fixture(scope="module")
def contracts_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    folder = tmp_path_factory.mktemp("contracts")
    (folder / "contracts.yaml").write_text(CONTRACTS)
    with validating_mock(scenario_paths=(default_scenarios_dir(), folder / "contracts.yaml"), freeze_clock=True) as m:
        yield m


@pytest.fixture
def contracts(contracts_live: RunningMock) -> RunningMock:
    contracts_live.reset()
    return contracts_live


def cigna(member_id: str, state: str = "CA", specialty: str = "PSY") -> dict[str, object]:
    body = request_for(member_id, firstName="Ada", lastName="Lovelace", dateOfBirth="12/10/1985", state=state)
    return {**body, "payerId": "62308", "specialtyCode": specialty}


def status_for(mock: RunningMock, body: dict[str, object]) -> dict[str, object]:
    response = mock.http.post("/v2/verifications", json=body, headers=mock.headers())
    assert response.status_code == 201, response.text
    return network_status(mock, response.json()["verificationId"])


def test_the_first_rule_that_fits_by_payer_state_and_specialty_answers(contracts: RunningMock) -> None:
    body = status_for(contracts, cigna("C1", state="NY", specialty="PCH"))
    assert body["status"] == "inn"
    assert body["labels"] == [
        {"id": "d7d9a80a-985b-429a-9163-07539f281382", "color": "blue"},
        {"id": "my-label", "color": "red"},
    ]
    groups = body["providerGroups"]
    assert [(g["name"], g["tin"], g["status"]) for g in groups] == [
        ("Mind Group", "111222333", "inn"),
        ("Other Group", "444555666", "oon"),
    ]
    assert groups[1]["id"] == "g-2"
    # A group without an id gets one derived from what it is: the same on every answer.
    assert status_for(contracts, cigna("C1", state="NJ", specialty="PCH"))["providerGroups"] == groups


def test_rules_match_the_plan_the_payer_answered_with(contracts: RunningMock) -> None:
    assert status_for(contracts, cigna("C1"))["status"] == "inn"  # OPEN CHOICE, any case in the file
    other_plan = status_for(contracts, cigna("C2"))
    assert (other_plan["status"], other_plan["labels"][0]["color"]) == ("oon", "orange")
    # No plan at all (the payer did not find the member): only rules without `plan` can fit.
    assert status_for(contracts, cigna("C404"))["status"] == "oon"


def test_a_runtime_file_s_network_rules_go_first_and_go_at_reset(mock: RunningMock) -> None:
    override = "name: o\nnetwork:\n  - {match: {payerId: AETNA}, status: oon}\n"
    assert mock.http.post("/__admin/scenarios", content=override.encode()).status_code == 201
    assert network_status(mock, create(mock))["status"] == "oon"
    mock.reset()
    assert network_status(mock, create(mock))["status"] == "inn"
