"""The partner eligibility API over loopback: the default roster's rows, visibility, check against
search, eligibility on the mock clock, forced coverage, bad input, the API key, the journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from conformance import validating_mock
from conftest import PARTNER_SPEC, ROOT, assert_conforms

from contract_tests import partner_rules
from mock_server.limits import MAX_JSON_DEPTH
from mock_server.testing import RunningMock

SEARCH = "/v1/eligibility/search"
CHECK = "/v1/eligibility/check"
DANA = {"firstName": "Dana", "lastName": "Whitaker", "birthDate": "1980-07-14"}
DANA_FAMILY = ["EVG-100-01", "EVG-100-02", "EVG-100-03", "EVG-100-04", "EVG-100-05"]
CHRIS = {"firstName": "Chris", "lastName": "Whitaker", "birthDate": "1979-02-03"}
MARIA = {"firstName": "Maria", "lastName": "Garcia", "birthDate": "1985-03-02"}
ALEX = {"firstName": "Alex", "lastName": "Morgan", "birthDate": "1979-11-30"}
TERRY = {"firstName": "Terry", "lastName": "Holt", "birthDate": "1970-05-05"}
JOSE = {"firstName": "José", "lastName": "Núñez-O'Brien", "birthDate": "1991-09-09"}
# A birth date written relative to today in the roster: resolved from the admin listing.
SPOKANE = "maria.garcia.spokane@example.com"
JORDAN = {"firstName": "Jordan", "lastName": "Whitaker", "birthDate": "@EVG-100-03"}


def roster(mock: RunningMock) -> dict[str, Any]:
    response = mock.http.get("/__admin/partner/roster")
    assert response.status_code == 200
    return dict(response.json())


def coverages(mock: RunningMock) -> dict[str, dict[str, Any]]:
    return {m["memberId"]: m for family in roster(mock)["families"] for m in family["members"]}


def resolved(mock: RunningMock, body: dict[str, str]) -> dict[str, str]:
    born = body.get("birthDate", "")
    if born.startswith("@"):
        return {**body, "birthDate": coverages(mock)[born[1:]]["birthDate"]}
    return body


def answer(mock: RunningMock, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = mock.http.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    found = response.json()
    assert_conforms("EligibilityResponse", found, PARTNER_SPEC)
    # The rules the contract kit holds every partner to hold for the mock's every answer.
    assert partner_rules.answer_breaches("check" if path == CHECK else "search", body, found) == []
    return dict(found)


def search(mock: RunningMock, **body: str) -> dict[str, Any]:
    return answer(mock, SEARCH, resolved(mock, body))


def check(mock: RunningMock, member_id: str) -> dict[str, Any]:
    return answer(mock, CHECK, {"memberId": member_id})


def ids(found: dict[str, Any]) -> list[str]:
    return [m["uniqueIdentifier"]["memberId"] for m in found["members"]]


def flags(found: dict[str, Any]) -> tuple[bool, bool, list[str]]:
    return found["matchFound"], found["canDisambiguate"], ids(found)


# Every row of 98point6's scenario table (preliminary calls), the final searches that follow,
# and the rows the default roster adds (README, "Partner eligibility").
ROWS = [
    ("single match", DANA, (True, True, [])),
    ("single match, final by last4Ssn", {**DANA, "last4Ssn": "4821"}, (True, False, DANA_FAMILY)),
    ("single match, final by email", {**DANA, "email": " Dana.Whitaker@EXAMPLE.com "}, (True, False, DANA_FAMILY)),
    ("single match, final by memberId", {**DANA, "memberId": "EVG-100-01"}, (True, False, DANA_FAMILY)),
    ("single match, every field given", {**DANA, "last4Ssn": "4821", "email": "dana.whitaker@example.com"},
     (True, False, DANA_FAMILY)),
    ("no match", {"firstName": "Pat", "lastName": "Nobody", "birthDate": "1990-01-01"}, (False, False, [])),
    ("no match: another birth date", {**DANA, "birthDate": "1980-07-15"}, (False, False, [])),
    ("several, a field narrows", MARIA, (True, True, [])),
    ("several, narrowed by last4Ssn", {**MARIA, "last4Ssn": "1111"}, (True, False, ["EVG-200-01", "EVG-200-02"])),
    ("several, narrowed by email", {**MARIA, "email": SPOKANE}, (True, False, ["EVG-210-01"])),
    ("several, nothing narrows", ALEX, (True, False, [])),
    ("several, the shared email matches both", {**ALEX, "email": "morgans@example.com"}, (True, False, [])),
    ("several, a memberId singles one out", {**ALEX, "memberId": "EVG-410-01"}, (True, False, ["EVG-410-01"])),
    ("found but not eligible", TERRY, (False, False, [])),
    ("found but not eligible, final", {**TERRY, "last4Ssn": "9090"}, (False, False, [])),
    ("adult dependent", {**JORDAN, "last4Ssn": "5532"}, (True, False, ["EVG-100-03", "EVG-100-04"])),
    ("two coverages", {**CHRIS, "last4Ssn": "7310"}, (True, False, ["EVG-300-01", "EVG-100-02", "EVG-100-04"])),
    ("wrong confirmation", {**DANA, "last4Ssn": "0000"}, (False, False, [])),
    ("one of two confirmations wrong", {**DANA, "last4Ssn": "4821", "email": "x@example.com"}, (False, False, [])),
    ("generous names", {**JOSE, "firstName": "JOSE", "lastName": "nunez obrien jr"}, (True, True, [])),
    ("generous names, final", {**JOSE, "firstName": "jose", "lastName": "Nunez-OBrien, Jr.",
                               "email": "JOSE.NUNEZ@example.com"}, (True, False, ["EVG-600-01"])),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_each_default_row_answers_as_documented(
    mock: RunningMock, body: dict[str, str], expected: tuple[bool, bool, list[str]]
) -> None:
    assert flags(search(mock, **body)) == expected


def test_a_members_entry_carries_the_roster_and_never_the_ssn(mock: RunningMock) -> None:
    dana = search(mock, **DANA, last4Ssn="4821")["members"][0]
    assert dana == {
        "primaryId": "EVG-100-01",
        "uniqueIdentifier": {"memberId": "EVG-100-01"},
        "groupId": "GRP-100",
        "relationship": "18",
        "birthDate": "1980-07-14",
        "sex": "F",
        "firstName": "Dana",
        "lastName": "Whitaker",
        "address1": "1200 Alder St",
        "city": "Tacoma",
        "state": "WA",
        "zip": "98402",
        "cellPhone": "2065550101",
        "email": "dana.whitaker@example.com",
        "language": "English",
        "partnerName": "Evergreen Health Plan",
        "partnerId": "evergreen-rte-001",
        "subscriptionType": "PPO",
        "employerName": "Cascade Timber Co",
        "employerId": "EMP-100",
        "planType": "PPO Gold",
        "referralTier": "COORDINATED",
    }
    jose = search(mock, **JOSE, last4Ssn="6006")["members"][0]
    assert (jose["prefix"], jose["middleName"], jose["suffix"], jose["workPhone"]) == (
        "Mr",
        "Luis",
        "Jr.",
        "5095550199",
    )
    assert "4821" not in json.dumps(search(mock, **DANA, last4Ssn="4821"))


def test_visibility_in_the_whitaker_family(mock: RunningMock) -> None:
    people = coverages(mock)
    # The primary sees everyone; the spouse's entry on her plan carries its rank there.
    dana = search(mock, **DANA, last4Ssn="4821")
    assert [(m["firstName"], m["relationship"], m.get("rank")) for m in dana["members"]] == [
        ("Dana", "18", None),
        ("Chris", "01", 2),
        ("Jordan", "19", None),
        ("Sam", "19", None),
        ("Riley", "09", None),
    ]
    assert {m["primaryId"] for m in dana["members"]} == {"EVG-100-01"}
    # An adult dependent: themself and the minors they may access (not Riley: only Dana may).
    assert people["EVG-100-03"]["minor"] is False and people["EVG-100-04"]["minor"] is True
    jordan = search(mock, **JORDAN, email="jordan.whitaker@example.com")
    assert ids(jordan) == ["EVG-100-03", "EVG-100-04"]
    # Two coverages: his own plan first (rank 1), then his place on Dana's (rank 2), where as an
    # adult dependent he sees Sam, never Dana, Jordan or Riley.
    chris = search(mock, **CHRIS, email="chris.whitaker@example.com")
    entries = [
        (m["uniqueIdentifier"]["memberId"], m["relationship"], m.get("rank"), m["primaryId"]) for m in chris["members"]
    ]
    assert entries == [
        ("EVG-300-01", "18", 1, "EVG-300-01"),
        ("EVG-100-02", "01", 2, "EVG-100-01"),
        ("EVG-100-04", "19", None, "EVG-100-01"),
    ]  # fmt: skip
    # A minor matched (by check) sees only themself.
    assert ids(check(mock, "EVG-100-05")) == ["EVG-100-05"]
    assert ids(check(mock, "EVG-200-02")) == ["EVG-200-02"]


def test_check_answers_as_the_final_search_for_every_coverage(mock: RunningMock) -> None:
    for member_id, coverage in coverages(mock).items():
        person = {
            "firstName": coverage["firstName"],
            "lastName": coverage["lastName"],
            "birthDate": coverage["birthDate"],
        }
        by_id = search(mock, **person, memberId=member_id)
        assert check(mock, member_id) == by_id, member_id
        if coverage["last4Ssn"]:
            assert search(mock, **person, last4Ssn=coverage["last4Ssn"]) == by_id, member_id
    for unknown in ("EVG-999-99", "evg-100-01", " EVG-100-01"):
        assert flags(check(mock, unknown)) == (False, False, [])
    assert flags(check(mock, "EVG-500-01")) == (False, False, [])  # ended coverage
    assert (
        ids(check(mock, "EVG-100-02")) == ids(check(mock, "EVG-300-01")) == ["EVG-300-01", "EVG-100-02", "EVG-100-04"]
    )


def test_forced_coverage_changes_answers_until_reset(mock: RunningMock) -> None:
    forced = mock.http.post("/__admin/partner/coverage/EVG-100-01", json={"eligible": False})
    assert forced.status_code == 200 and forced.json()["eligible"] is False and forced.json()["forced"] is False
    assert flags(search(mock, **DANA)) == (False, False, [])
    assert flags(check(mock, "EVG-100-01")) == (False, False, [])
    # Sam's coverage ends: Jordan sees only themself, and Chris loses Sam on Dana's plan.
    mock.http.post("/__admin/partner/coverage/EVG-100-04", json={"eligible": False}).raise_for_status()
    assert ids(search(mock, **JORDAN, last4Ssn="5532")) == ["EVG-100-03"]
    assert ids(search(mock, **CHRIS, last4Ssn="7310")) == ["EVG-300-01", "EVG-100-02"]
    # Chris's own plan forced off: his place on Dana's plan still covers him.
    mock.http.post("/__admin/partner/coverage/EVG-300-01", json={"eligible": False}).raise_for_status()
    assert ids(search(mock, **CHRIS, last4Ssn="7310")) == ["EVG-100-02"]
    # Terry's ended coverage forced on: found again.
    mock.http.post("/__admin/partner/coverage/EVG-500-01", json={"eligible": True}).raise_for_status()
    assert ids(search(mock, **TERRY, last4Ssn="9090")) == ["EVG-500-01"]
    mock.http.post("/__admin/partner/coverage/EVG-500-01", json={"eligible": None}).raise_for_status()
    assert flags(search(mock, **TERRY)) == (False, False, [])
    mock.reset()
    assert coverages(mock)["EVG-100-01"]["forced"] is None
    assert ids(search(mock, **DANA, last4Ssn="4821")) == DANA_FAMILY


@pytest.mark.parametrize(
    ("member_id", "body", "status", "param"),
    [
        ("EVG-100-01", {"eligible": "no"}, 400, "eligible"),
        ("EVG-100-01", {}, 400, "eligible"),
        ("EVG-100-01", [], 400, "eligible"),
        ("EVG-999-99", {"eligible": False}, 404, "memberId"),
    ],
)
def test_forcing_a_coverage_refuses_what_it_cannot_do(
    mock: RunningMock, member_id: str, body: Any, status: int, param: str
) -> None:
    response = mock.http.post(f"/__admin/partner/coverage/{member_id}", json=body)
    assert response.status_code == status
    assert response.json()["param"] == param and response.json()["message"]


def runtime_family(today: date) -> str:
    """A family whose dates are absolute, so advancing the mock clock moves them past today."""
    tomorrow, next_week = today + timedelta(days=1), today + timedelta(days=7)
    turning_18 = tomorrow.replace(year=tomorrow.year - 18)  # the caller keeps tomorrow off 29 February
    return f"""
partner:
  families:
    - id: kowalski
      subscriptionType: HMO
      address: {{address1: 1 Elm St, city: Boise, state: ID, zip: "83702"}}
      members:
        - {{memberId: K-1, relationship: "18", firstName: Ola, lastName: Kowalski, birthDate: "1975-01-01",
           sex: F, last4Ssn: "1212", eligibleUntil: "{tomorrow.isoformat()}"}}
        - {{memberId: K-2, relationship: "19", firstName: Piotr, lastName: Kowalski, birthDate: "1999-01-01",
           sex: M, last4Ssn: "3434"}}
        - {{memberId: K-3, relationship: "19", firstName: Zofia, lastName: Kowalski,
           birthDate: "{turning_18.isoformat()}", sex: F}}
        - {{memberId: K-4, relationship: "01", firstName: Jan, lastName: Kowalski, birthDate: "1974-01-01",
           sex: M, last4Ssn: "5656", eligibleFrom: "{next_week.isoformat()}"}}
"""


def test_eligibility_and_age_follow_the_mock_clock(mock: RunningMock) -> None:
    today = date.fromisoformat(roster(mock)["today"])
    if (today + timedelta(days=1)).strftime("%m-%d") == "02-29":  # a birthday 18 years before may not exist
        mock.advance(86_400)
        today += timedelta(days=1)
    loaded = mock.http.post("/__admin/scenarios", params={"name": "kowalski.yaml"}, content=runtime_family(today))
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["partner"] == {"families": 1, "coverages": 4}
    ola = {"firstName": "Ola", "lastName": "Kowalski", "birthDate": "1975-01-01", "last4Ssn": "1212"}
    piotr = {"firstName": "Piotr", "lastName": "Kowalski", "birthDate": "1999-01-01", "last4Ssn": "3434"}
    jan = {"firstName": "Jan", "lastName": "Kowalski", "birthDate": "1974-01-01", "last4Ssn": "5656"}
    # Today: Ola's coverage runs until tomorrow, Zofia is a minor, Jan's starts next week.
    assert ids(search(mock, **ola)) == ["K-1", "K-2", "K-3"]
    assert ids(search(mock, **piotr)) == ["K-2", "K-3"]
    assert flags(search(mock, **jan)) == (False, False, [])
    mock.advance(86_400)  # tomorrow: Ola's last day; Zofia turns 18, an adult Piotr no longer sees
    assert ids(search(mock, **ola)) == ["K-1", "K-2", "K-3"]
    assert ids(search(mock, **piotr)) == ["K-2"]
    mock.advance(86_400)
    assert flags(search(mock, **ola)) == (False, False, [])
    mock.advance(5 * 86_400)  # next week: Jan's coverage starts; as the spouse he sees no minors now
    assert ids(search(mock, **jan)) == ["K-4"]
    mock.reset()
    assert flags(search(mock, **ola)) == (False, False, [])
    assert "kowalski" not in [f["id"] for f in roster(mock)["families"]]


def test_a_runtime_file_replaces_a_family_by_id(mock: RunningMock) -> None:
    holt = """
partner:
  families:
    - id: holt
      subscriptionType: EPO
      members:
        - {memberId: EVG-500-77, relationship: "18", firstName: Terry, lastName: Holt, birthDate: "1970-05-05",
           sex: U, last4Ssn: "9090", address: {address1: 400 Main St, city: Olympia, state: WA, zip: "98501"}}
"""
    assert mock.http.post("/__admin/scenarios", content=holt).status_code == 201
    assert ids(search(mock, **TERRY, last4Ssn="9090")) == ["EVG-500-77"]
    assert flags(check(mock, "EVG-500-01")) == (False, False, [])
    mock.reset()
    assert ids(check(mock, "EVG-500-01")) == [] and "EVG-500-01" in coverages(mock)


LONE_SURROGATE = b'{"firstName": "\\ud800", "lastName": "W", "birthDate": "1980-07-14"}'
TOO_DEEP = json.dumps({**DANA, "x": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)}).encode()


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (SEARCH, {}, "firstName"),
        (SEARCH, {"firstName": "Dana", "lastName": "Whitaker"}, "birthDate"),
        (SEARCH, {**DANA, "birthDate": "07/14/1980"}, "birthDate"),
        (SEARCH, {**DANA, "birthDate": "1980-02-30"}, "birthDate"),
        (SEARCH, {**DANA, "last4Ssn": "12345"}, "last4Ssn"),
        (SEARCH, {**DANA, "last4Ssn": 4821}, "last4Ssn"),
        (SEARCH, {**DANA, "email": ""}, "email"),
        (SEARCH, {**DANA, "memberId": None}, "memberId"),
        (SEARCH, {**DANA, "firstName": 5}, "firstName"),
        (SEARCH, {**DANA, "lastName": ""}, "lastName"),
        (SEARCH, {**DANA, "firstName": "x" * 101}, "firstName"),
        (SEARCH, [DANA], "body"),
        (SEARCH, b"not json", "body"),
        (SEARCH, LONE_SURROGATE, "firstName"),
        (SEARCH, TOO_DEEP, "body"),
        (CHECK, {}, "memberId"),
        (CHECK, {"memberId": 7}, "memberId"),
        (CHECK, {"memberId": "x" * 81}, "memberId"),
        (CHECK, b"", "body"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(mock: RunningMock, path: str, body: Any, param: str) -> None:
    if isinstance(body, bytes):
        response = mock.http.post(path, content=body, headers={"content-type": "application/json"})
    else:
        response = mock.http.post(path, json=body)
    assert response.status_code == 400, response.text
    found = response.json()
    assert_conforms("Error", found, PARTNER_SPEC)
    assert (found["error"], found["param"]) == ("invalid_request", param) and found["message"]
    record = mock.http.get("/__admin/requests").json()["requests"][-1]
    assert record["operationId"] == ("searchEligibility" if path == SEARCH else "checkEligibility")
    assert record["conforms"] is False and record["errorParam"] == param


def test_an_oversized_body_is_a_413(mock: RunningMock) -> None:
    response = mock.http.post(SEARCH, content=b" " * (1024 * 1024 + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.fixture(scope="module")
def unvalidated() -> Iterator[RunningMock]:
    with validating_mock(validate_requests=False, freeze_clock=True) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (SEARCH, [DANA], "body"),
        (SEARCH, {**DANA, "firstName": 5}, "firstName"),
        (SEARCH, {"firstName": "Dana", "lastName": "Whitaker"}, "birthDate"),
        (SEARCH, {**DANA, "email": ["a@b.c"]}, "email"),
        (CHECK, "EVG-100-01", "body"),
        (CHECK, {"memberId": {"id": 1}}, "memberId"),
    ],
)
def test_without_request_checks_wrong_types_are_still_400s(
    unvalidated: RunningMock, path: str, body: Any, param: str
) -> None:
    response = unvalidated.http.post(path, json=body)
    assert response.status_code == 400 and response.json()["param"] == param


def test_without_request_checks_a_malformed_value_finds_nobody(unvalidated: RunningMock) -> None:
    for body in (
        {**DANA, "birthDate": "14/07/1980"},
        {**DANA, "birthDate": "0000-01-01"},
        {**DANA, "last4Ssn": "48211"},
    ):
        response = unvalidated.http.post(SEARCH, json=body)
        assert response.status_code == 200 and response.json()["members"] == []


def test_the_journal_records_partner_calls(mock: RunningMock) -> None:
    search(mock, **DANA)
    check(mock, "EVG-100-01")
    mock.http.post(SEARCH, json={})
    records = mock.http.get("/__admin/requests", params={"operationId": "searchEligibility"}).json()["requests"]
    assert [(r["statusCode"], r["conforms"]) for r in records] == [(200, True), (400, False)]
    assert records[1]["violation"] == {
        "kind": "schema",
        "rule": "required",
        "param": "firstName",
        "message": 'firstName: "firstName" is a required property',
    }
    checks = mock.http.get("/__admin/requests", params={"operationId": "checkEligibility"}).json()["requests"]
    assert [(r["path"], r["statusCode"]) for r in checks] == [(CHECK, 200)]


def test_only_post_is_served(mock: RunningMock) -> None:
    response = mock.http.get(SEARCH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_the_contract_is_served(mock: RunningMock) -> None:
    served = mock.http.get("/partner-eligibility/openapi.yaml")
    assert served.status_code == 200
    assert served.text == (ROOT / "openapi" / "partner-eligibility.yaml").read_text()
    assert mock.http.get("/partner-eligibility/openapi.json").json() == yaml.safe_load(served.text)


def test_the_contract_s_examples_answer_as_their_summaries_say(mock: RunningMock) -> None:
    operations = PARTNER_SPEC["paths"]
    examples = operations[SEARCH]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert flags(answer(mock, SEARCH, examples["preliminary"]["value"])) == (True, True, [])
    assert ids(answer(mock, SEARCH, examples["final"]["value"])) == DANA_FAMILY
    known = operations[CHECK]["post"]["requestBody"]["content"]["application/json"]["examples"]["known"]["value"]
    assert ids(answer(mock, CHECK, known)) == DANA_FAMILY


@pytest.fixture(scope="module")
def keyed() -> Iterator[RunningMock]:
    with validating_mock(partner_api_key="partner-key-123", freeze_clock=True) as running:
        yield running


def test_a_required_api_key_is_checked(keyed: RunningMock) -> None:
    for headers in (
        {},
        {"X-API-Key": "partner-key-12"},
        {"X-API-Key": "partner-key-1234"},
        {"Authorization": "partner-key-123"},
    ):
        response = keyed.http.post(SEARCH, json=DANA, headers=headers)
        assert response.status_code == 401, headers
        assert_conforms("Error", response.json(), PARTNER_SPEC)
        assert response.json()["error"] == "unauthorized"
    assert flags(answer(keyed, SEARCH, DANA, headers={"x-api-key": "partner-key-123"})) == (True, True, [])
    record = keyed.http.get("/__admin/requests", params={"conforms": "false"}).json()["requests"][0]
    assert record["violation"]["kind"] == "auth" and record["violation"]["param"] == "X-API-Key"
    assert roster(keyed)["apiKeyRequired"] is True
    # Sohar's API keeps its own credentials.
    assert keyed.http.get("/v1/payers", headers=keyed.headers()).status_code == 200


def test_without_a_key_setting_no_credentials_are_needed(mock: RunningMock) -> None:
    assert roster(mock)["apiKeyRequired"] is False
    assert flags(answer(mock, SEARCH, DANA, headers={"X-API-Key": "anything"})) == (True, True, [])


def _extensions(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("x-"):
                yield key, value
            yield from _extensions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _extensions(item)


def test_the_contract_is_openapi_and_every_inference_gives_its_reason() -> None:
    from openapi_spec_validator import validate

    validate(PARTNER_SPEC)
    marks = list(_extensions(PARTNER_SPEC))
    assert len(marks) >= 20
    for key, reason in marks:
        assert key == "x-inferred"
        assert isinstance(reason, str) and len(reason) > 30 and "\n" not in reason.strip(), reason
