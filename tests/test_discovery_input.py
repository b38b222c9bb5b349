"""Bad input to every discovery operation: Sohar's 400 envelope with the dotted `param`, 403 and
404 as for verifications, never a 5xx; and discovery sections of scenario files checked at load."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from conftest import ADMIN_SPEC, assert_conforms

from mock_server.limits import MAX_DISCOVERY_COVERAGES as MAX_COVERAGES
from mock_server.resources import default_scenarios_dir
from mock_server.scenarios import ScenarioError, ScenarioSet, load_file, load_text
from mock_server.testing import RunningMock

PATIENT = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA"}
FORBIDDEN = {"error": "invalid_request_error"}


def bad(param: str) -> dict[str, str]:
    return {"error": "invalid_request_error", "param": param}


V2_CASES: list[tuple[Any, str]] = [
    ({}, "patient"),
    ([], "body"),
    ("CA", "body"),
    ({"patient": "John"}, "patient"),
    ({"patient": {**PATIENT, "firstName": ""}}, "patient.firstName"),
    ({"patient": {k: v for k, v in PATIENT.items() if k != "lastName"}}, "patient.lastName"),
    ({"patient": {**PATIENT, "dateOfBirth": "2006-09-20"}}, "patient.dateOfBirth"),
    ({"patient": {**PATIENT, "dateOfBirth": 9202006}}, "patient.dateOfBirth"),
    ({"patient": {**PATIENT, "state": "ZZ"}}, "patient.state"),
    ({"patient": {k: v for k, v in PATIENT.items() if k != "state"}}, "patient.state"),
    ({"patient": {**PATIENT, "zipCode": "9021"}}, "patient.zipCode"),
    ({"patient": {**PATIENT, "zipCode": 90210}}, "patient.zipCode"),
    ({"patient": PATIENT, "payerId": ""}, "payerId"),
    ({"patient": PATIENT, "payerId": "no-such-payer"}, "payerId"),
    ({"patient": PATIENT, "id": "x" * 46}, "id"),
    ({"patient": PATIENT, "id": 7}, "id"),
]
V1_CASES: list[tuple[Any, str]] = [
    ({}, "firstName"),
    ({**PATIENT, "firstName": None}, "firstName"),
    ({**PATIENT, "dateOfBirth": "13/01/2000"}, "dateOfBirth"),
    ({**PATIENT, "state": "ca"}, "state"),
    ({**PATIENT, "npi": "123"}, "npi"),
    ({**PATIENT, "zipCode": "ABCDE"}, "zipCode"),
    ({**PATIENT, "id": "y" * 46}, "id"),
    ({"patient": PATIENT}, "firstName"),
]


@pytest.mark.parametrize(("body", "param"), V2_CASES)
def test_create_discovery_refuses_with_the_dotted_param(mock: RunningMock, body: Any, param: str) -> None:
    response = mock.http.post("/v2/discovery", json=body, headers=mock.headers())
    assert (response.status_code, response.json()) == (400, bad(param))


def test_a_lone_surrogate_names_its_field(mock: RunningMock) -> None:
    raw = json.dumps({"patient": {**PATIENT, "lastName": "Do\ud800e"}}).encode()  # ASCII JSON: travels as \ud800
    headers = {**mock.headers(), "content-type": "application/json"}
    response = mock.http.post("/v2/discovery", content=raw, headers=headers)
    assert (response.status_code, response.json()) == (400, bad("patient.lastName"))


@pytest.mark.parametrize(("body", "param"), V1_CASES)
def test_create_discovery_v1_refuses_with_the_param(mock: RunningMock, body: Any, param: str) -> None:
    response = mock.http.post("/v1/discovery", json=body, headers=mock.headers())
    assert (response.status_code, response.json()) == (400, bad(param))


@pytest.mark.parametrize("path", ["/v2/discovery", "/v1/discovery"])
@pytest.mark.parametrize(
    "raw", [b"{", b"", b"\xff\xfe{", b"[" * 40 + b"]" * 40], ids=["truncated", "empty", "not-utf", "too-deep"]
)
def test_a_body_that_is_not_usable_json_is_param_body(mock: RunningMock, path: str, raw: bytes) -> None:
    response = mock.http.post(path, content=raw, headers={**mock.headers(), "content-type": "application/json"})
    assert (response.status_code, response.json()) == (400, bad("body"))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v2/discovery", {"patient": PATIENT}),
        ("POST", "/v1/discovery", PATIENT),
        ("GET", "/v2/discovery/any-id", None),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer forged.token", "Basic abc"])
def test_no_usable_token_is_403(
    mock: RunningMock, method: str, path: str, body: Any, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    response = mock.http.request(method, path, json=body, headers=headers)
    assert (response.status_code, response.json()) == (403, FORBIDDEN)


def test_an_unknown_discovery_is_404(mock: RunningMock) -> None:
    response = mock.http.get("/v2/discovery/fb701ac1-1246-4860-b1ec-bd916b97a990", headers=mock.headers())
    assert (response.status_code, response.json()) == (404, FORBIDDEN)


def test_a_wrong_method_is_405_with_allow(mock: RunningMock) -> None:
    response = mock.http.delete("/v2/discovery", headers=mock.headers())
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_the_journal_records_discovery_requests(mock: RunningMock) -> None:
    headers = mock.headers()
    created = mock.http.post("/v2/discovery", json={"patient": PATIENT}, headers=headers).json()
    mock.http.get(f"/v2/discovery/{created['discoveryId']}", headers=headers)
    mock.http.post("/v1/discovery", json={**PATIENT, "npi": "1"}, headers=headers)
    records = mock.http.get("/__admin/requests").json()["requests"]
    for record in records:
        assert_conforms("RequestRecord", record, ADMIN_SPEC)
    mine = [(r["operationId"], r["statusCode"], r["discoveryStatus"], r["errorParam"], r["conforms"]) for r in records]
    assert mine[-3:] == [
        ("createDiscovery", 201, None, None, True),
        ("getDiscovery", 200, "complete", None, True),
        ("createDiscoveryV1", 400, None, "npi", False),
    ]
    violation = records[-1]["violation"]
    assert (violation["kind"], violation["rule"], violation["param"]) == ("schema", "pattern", "npi")


# -- the admin API ------------------------------------------------------------------------------


def created(mock: RunningMock, state: str = "CA") -> str:
    response = mock.http.post("/v2/discovery", json={"patient": {**PATIENT, "state": state}}, headers=mock.headers())
    assert response.status_code == 201, response.text
    return str(response.json()["discoveryId"])


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "status"),
        ({"status": "complete.eligible"}, "status"),
        ({"status": 1}, "status"),
        ({"status": "complete", "coverages": "60054"}, "coverages"),
        ({"status": "complete", "coverages": [1]}, "coverages.0"),
        ({"status": "complete", "coverages": [{"payerId": "60054"}]}, "coverages.0.memberId"),
        ({"status": "complete", "coverages": [{"payerId": "", "memberId": "1"}]}, "coverages.0.payerId"),
        ({"status": "complete", "coverages": [{"payerId": "nope", "memberId": "1"}]}, "coverages.0.payerId"),
        ({"status": "pending", "coverages": []}, "coverages"),
        (
            {"status": "complete", "coverages": [{"payerId": "60054", "memberId": "1"}] * (MAX_COVERAGES + 1)},
            "coverages",
        ),
    ],
)
def test_forcing_a_bad_status_is_400_with_a_message(mock: RunningMock, body: dict[str, Any], param: str) -> None:
    discovery_id = created(mock)
    response = mock.http.post(f"/__admin/discoveries/{discovery_id}/status", json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert_conforms("AdminError", answer, ADMIN_SPEC)
    assert answer["param"] == param and answer["message"]


def test_admin_404s_and_filters(mock: RunningMock) -> None:
    assert mock.http.get("/__admin/discoveries/nope").status_code == 404
    assert mock.http.post("/__admin/discoveries/nope/status", json={"status": "complete"}).status_code == 404
    response = mock.http.get("/__admin/discoveries", params={"environment": "staging"})
    assert (response.status_code, response.json()["param"]) == (400, "environment")
    response = mock.http.get("/__admin/discoveries", params={"status": "completed"})
    assert (response.status_code, response.json()["param"]) == (400, "status")
    assert mock.http.get("/__admin/discoveries", params={"status": "complete"}).json()["count"] == 0


def test_admin_lists_gets_and_resets_discoveries(mock: RunningMock) -> None:
    sandbox = created(mock, "TX")
    production = mock.http.post(
        "/v2/discovery", json={"patient": {**PATIENT, "state": "NY"}, "id": "p"}, headers=mock.headers("production")
    ).json()["discoveryId"]
    listing = mock.http.get("/__admin/discoveries").json()
    for item in listing["discoveries"]:
        assert_conforms("DiscoverySummary", item, ADMIN_SPEC)
    by_id = {d["discoveryId"]: d for d in listing["discoveries"]}
    assert by_id[sandbox]["coverages"] == [{"payerId": "84980", "memberId": "00000000"}]
    assert by_id[sandbox]["rule"] == "sandbox-discovery-TX"
    assert by_id[production]["rule"] is None  # production searches the roster
    assert by_id[production]["coverages"] == [{"payerId": "62308", "memberId": "00000000"}]
    only = mock.http.get("/__admin/discoveries", params={"environment": "production"}).json()
    assert [d["discoveryId"] for d in only["discoveries"]] == [production]
    one = mock.http.get(f"/__admin/discoveries/{sandbox}").json()
    assert one["body"]["payerId"] == "84980"
    assert_conforms("FullDiscoveryResponse", one["body"])
    health = mock.http.get("/__admin/health").json()
    assert (health["discoveries"], health["maxDiscoveries"]) == (2, None)
    assert_conforms("Health", health, ADMIN_SPEC)
    mock.reset()
    assert mock.http.get("/__admin/discoveries").json()["count"] == 0
    gone = mock.http.get(f"/v2/discovery/{sandbox}", headers=mock.headers())
    assert gone.status_code == 404


def test_admin_lists_the_discovery_rules_in_force(mock: RunningMock) -> None:
    listing = mock.http.get("/__admin/scenarios").json()
    names = [r["name"] for r in listing["discoveryRules"]]
    assert names[:2] == ["sandbox-discovery-CA", "sandbox-discovery-DE"] and len(names) == 10
    assert listing["files"][0]["discoveryRules"] == names


# -- scenario files --------------------------------------------------------------------------------

BASE = "name: t\npayers: [{payerId: P1, payerName: One}]\n"


@pytest.mark.parametrize(
    ("discovery", "problem"),
    [
        ("rules: [{match: {environment: sandbox}, outcome: {status: complete}}]", "lists its coverages"),
        (
            "rules: [{match: {id: x}, outcome: {status: roster, coverages: []}}]",
            "`coverages` belong to a complete outcome",
        ),
        (
            "rules: [{match: {id: x}, outcome: {status: complete, coverages: [], recoverAfter: 3}}]",
            "belong to a pending",
        ),
        (
            "rules: [{match: {id: x}, outcome: {status: pending, then: {status: pending}}}]",
            "followed by a final one",
        ),
        ("rules: [{match: {patient.memberId: x}, outcome: {status: roster}}]", "patient.memberId"),
        ("rules: [{match: {id: x}, outcome: {status: complete.eligible}}]", "status"),
        (
            "rules: [{match: {id: x}, outcome: {status: complete, coverages: [{payerId: P1, memberId: 00000000}]}}]",
            "quote it",
        ),
        ("rules: [{match: {id: x}, outcome: {status: complete, coverages: [{payerId: P1}]}}]", "memberId"),
        ("rules: [{match: {id: {pattern: '('}}, outcome: {status: roster}}]", "bad pattern"),
        ("rules: [{match: {id: x}, outcome: {status: roster, delay: -1}}]", "delay"),
        ("surprise: 1", "surprise"),
    ],
)
def test_a_bad_discovery_section_names_file_line_and_problem(discovery: str, problem: str) -> None:
    text = BASE + "discovery:\n  " + discovery + "\n"
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "team.yaml")
    assert str(caught.value).startswith("team.yaml:") and problem in str(caught.value)


def test_too_many_coverages_are_refused_at_load() -> None:
    coverages = ", ".join(['{payerId: P1, memberId: "1"}'] * (MAX_COVERAGES + 1))
    outcome = f"{{status: complete, coverages: [{coverages}]}}"
    text = BASE + f"discovery:\n  rules: [{{match: {{id: x}}, outcome: {outcome}}}]\n"
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "team.yaml")
    where = "team.yaml:4: discovery.rules.0.outcome.coverages"
    assert str(caught.value).startswith(f"{where}: {MAX_COVERAGES + 1} coverages, more than the {MAX_COVERAGES}")


def test_a_coverage_of_an_unknown_payer_is_refused_when_files_combine() -> None:
    scenario = load_text(
        textwrap.dedent(
            """\
            name: t
            discovery:
              rules:
                - name: ghost
                  match: {id: x}
                  outcome: {status: pending, then: {status: complete, coverages: [{payerId: GHOST, memberId: "1"}]}}
            """
        ),
        "team.yaml",
    )
    defaults = load_file(next(default_scenarios_dir().glob("*.yaml")))
    with pytest.raises(ScenarioError, match="discovery rule ghost: unknown payer 'GHOST'"):
        ScenarioSet([defaults, scenario])


def test_an_upload_with_a_bad_discovery_section_is_400_and_changes_nothing(mock: RunningMock) -> None:
    text = BASE + "discovery:\n  rules: [{match: {id: x}, outcome: {status: complete}}]\n"
    response = mock.http.post("/__admin/scenarios", params={"name": "bad.yaml"}, content=text.encode())
    assert response.status_code == 400
    assert response.json()["param"] == "scenario" and response.json()["message"].startswith("bad.yaml:4:")
    assert len(mock.http.get("/__admin/scenarios").json()["discoveryRules"]) == 10
