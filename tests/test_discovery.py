"""Insurance discovery end to end over loopback: create (v2 and v1) -> a Svix-verified
`*discovery.updated` -> Get Discovery -> Create Verification with what was found.

The sandbox values are Sohar's documented table (the state decides payer and member id); the
verification each chain ends in is the trigger table's for the documented patient.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance import validating_mock
from conftest import ADMIN_SPEC, JOHN_DOE, assert_conforms, received_about, receiving
from svix.webhooks import Webhook

from contract_tests.receiver import WebhookReceiver
from mock_server.limits import MAX_DISCOVERY_COVERAGES
from mock_server.resources import default_scenarios_dir
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import RunningMock

DOCUMENTED_PATIENT = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006"}

# Sohar's sandbox values (state -> payer id, member id), and where a verification of the
# documented patient with them ends (status, statusReason).
SANDBOX_VALUES: dict[str, tuple[str | None, str | None, tuple[str, str | None] | None]] = {
    "CA": ("60054", "00000000", ("complete.eligible", None)),
    "DE": ("60054", "00000001", ("complete.ineligible", "INACTIVE")),
    "FL": ("60054", "10000000", ("error.member.id", None)),
    "GA": ("60054", "10000001", ("error.member.dob", None)),
    "IL": ("60054", "10000002", ("error.member.name", None)),
    "KY": ("OSCAR", "00000000", ("complete.eligible", None)),
    "MA": ("06111", "00000000", ("complete.eligible", None)),
    "OH": (None, None, None),
    "NY": ("62308", "00000000", ("complete.eligible", None)),
    "TX": ("84980", "00000000", ("complete.eligible", None)),
}


@pytest.fixture
def hook_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def hooked(hook_receiver: WebhookReceiver) -> Iterator[RunningMock]:
    """A new receiver and mock for each test, as for verification webhooks (test_webhooks.py)."""
    with validating_mock(webhook_urls=(hook_receiver.url,), freeze_clock=True) as running:
        yield running


def v2_body(state: str, **patient: str) -> dict[str, Any]:
    return {"patient": {**DOCUMENTED_PATIENT, "state": state, **patient}, "id": f"intake-{state}"}


def v1_body(state: str) -> dict[str, Any]:
    return {**DOCUMENTED_PATIENT, "state": state, "npi": "0123456789", "zipCode": "90210", "id": f"intake-{state}"}


def create(mock: RunningMock, body: dict[str, Any], path: str = "/v2/discovery", environment: str = "sandbox") -> str:
    response = mock.http.post(path, json=body, headers=mock.headers(environment))
    assert response.status_code == 201, response.text
    created = response.json()
    assert_conforms("CreateDiscoveryResponse", created)
    assert created["id"] == body.get("id")
    return str(created["discoveryId"])


def get(mock: RunningMock, discovery_id: str, environment: str = "sandbox") -> dict[str, Any]:
    response = mock.http.get(f"/v2/discovery/{discovery_id}", headers=mock.headers(environment))
    assert response.status_code == 200, response.text
    body = dict(response.json())
    assert_conforms("FullDiscoveryResponse", body)
    return body


def verified_payloads(receiver: WebhookReceiver, discovery_id: str, count: int) -> list[dict[str, Any]]:
    """The discovery's first `count` deliveries, each checked by the official svix verifier over the raw bytes."""
    deliveries = received_about(receiver, count, discovery_id)
    for delivery in deliveries:
        Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    return [dict(d.payload) for d in deliveries]


def verification_status(mock: RunningMock, payer_id: str, member_id: str) -> tuple[str, str | None]:
    body = {**JOHN_DOE, "payerId": payer_id, "patient": {**JOHN_DOE["patient"], "memberId": member_id}}
    headers = mock.headers()
    created = mock.http.post("/v2/verifications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    result = mock.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers).json()
    return result["status"], result["statusReason"]


# -- the ten sandbox values, both versions of Create Discovery ----------------------------------


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize("state", sorted(SANDBOX_VALUES))
def test_each_sandbox_state_chains_to_its_verification(
    hooked: RunningMock, hook_receiver: WebhookReceiver, state: str, version: str
) -> None:
    payer_id, member_id, ends_in = SANDBOX_VALUES[state]
    if version == "v2":
        discovery_id = create(hooked, v2_body(state))
    else:
        discovery_id = create(hooked, v1_body(state), "/v1/discovery")

    [payload] = verified_payloads(hook_receiver, discovery_id, 1)
    assert payload == {
        "event": "sandbox.discovery.updated",
        "discoveryId": discovery_id,
        "status": "complete",
        "id": f"intake-{state}",
    }
    assert_conforms("DiscoveryWebhookPayload", payload)

    body = get(hooked, discovery_id)
    assert (body["status"], body["payerId"], body["memberId"]) == ("complete", payer_id, member_id)
    assert body["patient"]["firstName"] == "JOHN" and body["patient"]["address"]["state"] == state
    if payer_id is None:
        assert body["payer"] is None and body["coverages"] == []
        assert "memberId" not in body["patient"]
        return
    assert body["payer"]["id"] == payer_id and body["patient"]["memberId"] == member_id
    assert [(c["payer"]["id"], c["memberId"]) for c in body["coverages"]] == [(payer_id, member_id)]
    assert verification_status(hooked, payer_id, member_id) == ends_in


def test_the_payload_is_sohars_byte_order(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    discovery_id = create(hooked, v2_body("CA"))
    [delivery] = received_about(hook_receiver, 1, discovery_id)
    # Sohar's event table lists event, discoveryId, status, id in that order.
    assert list(delivery.payload) == ["event", "discoveryId", "status", "id"]
    assert delivery.payload["discoveryId"] == discovery_id
    assert delivery.headers["svix-id"].startswith("msg_")


def test_a_discovery_belongs_to_its_environment(hooked: RunningMock) -> None:
    discovery_id = create(hooked, v2_body("CA"))
    response = hooked.http.get(f"/v2/discovery/{discovery_id}", headers=hooked.headers("production"))
    assert (response.status_code, response.json()) == (404, {"error": "invalid_request_error"})


def test_a_sandbox_state_outside_the_table_searches_the_roster(hooked: RunningMock) -> None:
    # Sohar documents ten states; any other one finds what the roster holds for the patient there.
    found = get(hooked, create(hooked, v2_body("WA")))
    assert (found["status"], found["payerId"], found["coverages"]) == ("complete", None, [])


def test_get_discovery_while_the_result_is_not_due() -> None:
    with receiving() as own, validating_mock(webhook_urls=(own.url,), freeze_clock=True, latency=3) as mock:
        discovery_id = create(mock, v2_body("NY"))
        body = get(mock, discovery_id)
        assert (body["status"], body["payerId"], body["memberId"], body["payer"], body["coverages"]) == (
            "pending",
            None,
            None,
            None,
            [],
        )
        mock.advance(2.999)
        assert get(mock, discovery_id)["status"] == "pending"
        assert own.received == []  # no event before the result: only a slow search sends `pending`
        mock.advance(0.001)
        assert [p["status"] for p in verified_payloads(own, discovery_id, 1)] == ["complete"]
        assert get(mock, discovery_id)["memberId"] == "00000000"


# -- production: the roster, from a team's own scenario file ----------------------------------------

TEAM_SCENARIO = textwrap.dedent(
    """\
    name: team-discovery
    members:
      - {memberId: A100, payerId: "62308", firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985,
         gender: F, address: {address1: 12 St James Sq, city: Albany, state: NY, zipCode: "12207"}}
      - {memberId: B200, payerId: "84980", firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985}
      - {memberId: C300, payerId: "60054", firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985,
         address: {state: NJ}}
      - {memberId: S100, payerId: "62308", firstName: Grace, lastName: Slowpoke, dateOfBirth: 01/02/1990}
    discovery:
      rules:
        - name: slow-search
          match: {patient.lastName: Slowpoke, environment: production}
          outcome: {status: pending, delay: 1, recoverAfter: 30, then: {status: roster}}
    """
)


@pytest.fixture(scope="module")
def team_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def team_live(team_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    team = tmp_path_factory.mktemp("team") / "team.yaml"
    team.write_text(TEAM_SCENARIO)
    with validating_mock(
        scenario_paths=(default_scenarios_dir(), team), webhook_urls=(team_receiver.url,), freeze_clock=True
    ) as running:
        yield running


@pytest.fixture
def team(team_live: RunningMock) -> RunningMock:
    team_live.reset()
    return team_live


def ada(state: str = "NY", **extra: Any) -> dict[str, Any]:
    patient = {"firstName": "  ADA ", "lastName": "lovelace.", "dateOfBirth": "12/10/1985", "state": state}
    return {"patient": {**patient, **extra.pop("patient", {})}, **extra}


def found(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["payer"]["id"], c["memberId"]) for c in body["coverages"]]


def test_production_finds_roster_members_by_folded_name_and_exact_birth_date(
    team: RunningMock, team_receiver: WebhookReceiver
) -> None:
    discovery_id = create(team, ada(), environment="production")
    [payload] = verified_payloads(team_receiver, discovery_id, 1)
    assert (payload["event"], payload["status"]) == ("discovery.updated", "complete")
    body = get(team, discovery_id, "production")
    # NY: the NJ member is ruled out by state; the one without an address on file is not.
    assert found(body) == [("62308", "A100"), ("84980", "B200")]
    assert (body["payerId"], body["memberId"], body["payer"]) == ("62308", "A100", {"id": "62308", "name": "Cigna"})
    # The patient as searched for; each coverage carries the payer's own record of them.
    assert body["patient"]["firstName"] == "  ADA "
    first = body["coverages"][0]["patient"]
    assert (first["firstName"], first["lastName"], first["gender"], first["address"]["city"]) == (
        "ADA",
        "LOVELACE",
        "F",
        "ALBANY",
    )


@pytest.mark.parametrize(
    ("request_body", "expected"),
    [
        (ada("NJ"), [("84980", "B200"), ("60054", "C300")]),
        (ada("NY", patient={"zipCode": "12207-0001"}), [("62308", "A100"), ("84980", "B200")]),
        (ada("NY", patient={"zipCode": "10001"}), [("84980", "B200")]),
        (ada("NY", payerId="CIGNA"), [("62308", "A100")]),
        (ada("NY", payerId="60054"), []),
        (ada("NY", patient={"dateOfBirth": "12/11/1985"}), []),
        (ada("NY", patient={"dateOfBirth": "02/31/1985"}), []),
        (ada("NY", patient={"lastName": "Byron"}), []),
    ],
    ids=["state", "zip+4", "other-zip", "payer-alias", "other-payer", "other-birth-date", "impossible-date", "name"],
)
def test_the_search_narrows_by_state_zip_and_payer(
    team: RunningMock, request_body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert found(get(team, create(team, request_body, environment="production"), "production")) == expected


def test_a_slow_search_is_pending_then_complete_on_the_mock_clock(
    team: RunningMock, team_receiver: WebhookReceiver
) -> None:
    body = {"patient": {"firstName": "Grace", "lastName": "Slowpoke", "dateOfBirth": "01/02/1990", "state": "NY"}}
    discovery_id = create(team, {**body, "id": "slow-1"}, environment="production")
    assert get(team, discovery_id, "production")["status"] == "pending"
    team.advance(1)
    [pending] = verified_payloads(team_receiver, discovery_id, 1)
    assert pending == {"event": "discovery.updated", "discoveryId": discovery_id, "status": "pending", "id": "slow-1"}
    team.advance(29.999)
    assert get(team, discovery_id, "production")["status"] == "pending"
    assert len([d for d in team_receiver.received if d.discovery_id == discovery_id]) == 1
    team.advance(0.001)
    _, complete = verified_payloads(team_receiver, discovery_id, 2)
    assert (complete["event"], complete["status"]) == ("discovery.updated", "complete")
    result = get(team, discovery_id, "production")
    assert (result["status"], result["payerId"], result["memberId"]) == ("complete", "62308", "S100")
    admin = team.http.get(f"/__admin/discoveries/{discovery_id}").json()
    assert_conforms("DiscoverySummary", admin, ADMIN_SPEC)
    assert admin["rule"] == "slow-search"


def test_a_production_chain_ends_in_the_members_verification(team: RunningMock) -> None:
    body = get(team, create(team, ada(), environment="production"), "production")
    headers = team.headers("production")
    verification = {
        "patient": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "dateOfBirth": "12/10/1985",
            "state": "NY",
            "memberId": body["memberId"],
        },
        "payerId": body["payerId"],
        "placeOfServiceCode": "10",
        "specialtyCode": "PSY",
    }
    created = team.http.post("/v2/verifications", json=verification, headers=headers)
    assert created.status_code == 201, created.text
    result = team.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers).json()
    assert (result["status"], result["payer"]["id"], result["patient"]["memberId"]) == (
        "complete.eligible",
        "62308",
        "A100",
    )


def test_the_search_returns_at_most_the_documented_number_of_coverages(tmp_path: Path) -> None:
    namesakes = "\n".join(
        f'  - {{memberId: "N{n}", payerId: "60054", firstName: Pat, lastName: Many, dateOfBirth: 05/05/1975}}'
        for n in range(MAX_DISCOVERY_COVERAGES + 5)
    )
    path = tmp_path / "many.yaml"
    path.write_text(f"name: many\nmembers:\n{namesakes}\n")
    with validating_mock(scenario_paths=(default_scenarios_dir(), path), freeze_clock=True) as mock:
        body = {"patient": {"firstName": "Pat", "lastName": "Many", "dateOfBirth": "05/05/1975", "state": "CA"}}
        result = get(mock, create(mock, body, environment="production"), "production")
        assert [c["memberId"] for c in result["coverages"]] == [f"N{n}" for n in range(MAX_DISCOVERY_COVERAGES)]
