"""Scenario files' `providers:`, `network:` and `requiresProvider`: checked at load, and declared
providers outliving a reset on a running mock."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conformance import validating_mock
from conftest import ADMIN_SPEC, assert_conforms, request_for

from mock_server.resources import default_scenarios_dir
from mock_server.scenarios import Payer, ScenarioError, ScenarioSet, load_text
from mock_server.testing import RunningMock

TODAY = date(2026, 6, 15)
BASE = """\
payers:
  - {payerId: "P1", payerName: Payer One, aliasPayerIds: [ONE]}
members:
  - {memberId: M1, payerId: "P1", firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985}
"""
FIELDS: dict[str, str | None] = {
    "environment": "sandbox",
    "payerId": "P1",
    "placeOfServiceCode": "10",
    "specialtyCode": "PSY",
    "id": None,
    "patient.firstName": "Ada",
    "patient.lastName": "Lovelace",
    "patient.dateOfBirth": "12/10/1985",
    "patient.state": "CA",
    "patient.memberId": "M1",
}


def roster_status(scenarios: ScenarioSet, enrolled: set[tuple[str, str]], member_id: str = "M1") -> str:
    """The roster's answer when the providers in `enrolled` (kind, payer id) are on file."""
    outcome = scenarios.decide({**FIELDS, "patient.memberId": member_id}).outcome

    def check(kind: str, payer: Payer) -> bool:
        return (kind, payer.payer_id) in enrolled

    return scenarios.resolve(outcome, {**FIELDS, "patient.memberId": member_id}, TODAY, enrolled=check).status


@pytest.mark.parametrize(
    ("extra", "line", "fragment"),
    [
        ("providers:\n  - {npi: '1234567890', payerId: P1, state: CA}\n", 6, "fails the NPI check digit"),
        ("providers:\n  - {npi: '123456789', payerId: P1, state: CA}\n", 6, "does not match"),
        ("providers:\n  - {npi: '1234567893', payerId: P1, state: XX}\n", 6, "state"),
        ("providers:\n  - {npi: '1234567893', payerId: P1, state: CA, type: solo}\n", 6, "type"),
        ("providers:\n  - {npi: '1234567893', payerId: P1, state: CA, environment: dev}\n", 6, "environment"),
        ("network:\n  - {status: maybe}\n", 6, "status"),
        ("network:\n  - {status: inn, match: {specialty: XYZ}}\n", 6, "specialty"),
        ("network:\n  - {status: inn, labels: [{color: purple}]}\n", 6, "color"),
        ("network:\n  - {status: inn, providerGroups: [{name: G, tin: '12-345', status: inn}]}\n", 6, "tin"),
        ("network:\n  - {status: inn, match: {planName: X}}\n", 6, "planName"),
    ],
)
def test_bad_provider_and_network_entries_name_file_and_line(extra: str, line: int, fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_text(BASE + extra, "bad.yaml", TODAY)
    assert caught.value.line == line, str(caught.value)
    assert fragment in str(caught.value)


def test_requires_provider_takes_rendering_or_group_only() -> None:
    with pytest.raises(ScenarioError, match="requiresProvider"):
        load_text(BASE.replace("Payer One,", "Payer One, requiresProvider: yes,"), "bad.yaml", TODAY)


@pytest.mark.parametrize(
    "extra",
    [
        "providers:\n  - {npi: '1234567893', payerId: P9, state: CA}\n",
        "network:\n  - {status: inn, match: {payerId: [P1, P9]}}\n",
    ],
)
def test_unknown_payers_are_caught_when_files_combine(extra: str) -> None:
    with pytest.raises(ScenarioError, match="unknown payer 'P9'"):
        ScenarioSet([load_text(BASE + extra, "bad.yaml", TODAY)])


def test_a_payer_that_requires_a_provider_refuses_every_member_until_one_is_on_file() -> None:
    scenarios = ScenarioSet([load_text(BASE.replace("Payer One,", "Payer One, requiresProvider: group,"), "f", TODAY)])
    assert roster_status(scenarios, set()) == "error.payer.npi"
    assert roster_status(scenarios, set(), member_id="NOBODY") == "error.payer.npi"  # before the lookup
    assert roster_status(scenarios, {("rendering", "P1")}) == "error.payer.npi"
    assert roster_status(scenarios, {("group", "P1")}) == "complete.eligible"
    assert roster_status(scenarios, {("group", "P1")}, member_id="NOBODY") == "error.member.id"


def test_a_member_s_plan_may_require_a_provider_of_its_own() -> None:
    text = BASE + "  - {memberId: M2, payerId: P1, firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985,\n"
    text += "     requiresProvider: rendering}\n"
    scenarios = ScenarioSet([load_text(text, "f", TODAY)])
    assert roster_status(scenarios, set()) == "complete.eligible"
    assert roster_status(scenarios, set(), member_id="M2") == "error.payer.npi"
    assert roster_status(scenarios, {("rendering", "P1")}, member_id="M2") == "complete.eligible"


def test_a_rule_s_outcome_does_not_ask_for_providers() -> None:
    text = BASE.replace("Payer One,", "Payer One, requiresProvider: rendering,")
    text += "rules:\n  - {match: {patient.memberId: M1}, outcome: {status: complete.eligible}}\n"
    scenarios = ScenarioSet([load_text(text, "f", TODAY)])
    assert roster_status(scenarios, set()) == "complete.eligible"


def test_declared_providers_are_keyed_by_the_payer_they_resolve_to() -> None:
    text = BASE + "providers:\n  - {npi: '1234567893', payerId: one, state: NY, type: group, environment: production}\n"
    text += "  - {npi: '1234567893', payerId: one, state: NY, type: group, environment: production}\n"
    scenarios = ScenarioSet([load_text(text, "f", TODAY)])
    (provider,) = scenarios.providers.values()  # the same enrolment twice is one provider
    assert (provider.payer_id, provider.environment, provider.kind) == ("P1", "production", "group")
    assert scenarios.provider_index == {("production", "P1", "NY", "group"): (provider.provider_id,)}
    # Its id comes from what it is: the same file gives the same id on every load.
    again = ScenarioSet([load_text(text, "f", TODAY)])
    assert list(again.providers) == [provider.provider_id]


DECLARED = """\
name: enrolled
providers:
  - {npi: "1558598797", payerId: "60054", state: CA}
"""


@pytest.fixture(scope="module")
def declared_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    path = tmp_path_factory.mktemp("declared") / "enrolled.yaml"
    path.write_text(DECLARED)
    with validating_mock(scenario_paths=(default_scenarios_dir(), path), freeze_clock=True) as mock:
        yield mock


@pytest.fixture
def declared(declared_live: RunningMock) -> RunningMock:
    declared_live.reset()
    return declared_live


def status_of_new(mock: RunningMock, member_id: str = "20000003") -> str:
    headers = mock.headers()
    created = mock.http.post("/v2/verifications", json=request_for(member_id), headers=headers)
    assert created.status_code == 201, created.text
    got = mock.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers)
    return str(got.json()["status"])


def test_a_declared_provider_satisfies_the_payer_and_outlives_a_reset(declared: RunningMock) -> None:
    assert status_of_new(declared) == "complete.eligible"
    listed = declared.http.get("/__admin/providers").json()["providers"]
    assert [(p["npi"], p["source"], p["environment"], p["created"]) for p in listed] == [
        ("1558598797", "scenario", "sandbox", None)
    ]
    for provider in listed:
        assert_conforms("ProviderSummary", provider, ADMIN_SPEC)
    declared.reset()
    assert status_of_new(declared) == "complete.eligible"
    api = declared.http.get("/v1/providers", headers=declared.headers()).json()
    assert [p["providerId"] for p in api] == [listed[0]["providerId"]]
    assert declared.http.get("/v1/providers", headers=declared.headers("production")).json() == []


def test_deleting_a_declared_provider_lasts_until_the_next_reset(declared: RunningMock) -> None:
    (provider,) = declared.http.get("/v1/providers", headers=declared.headers()).json()
    gone = declared.http.delete(f"/v1/providers/{provider['providerId']}", headers=declared.headers())
    assert gone.status_code == 200
    assert status_of_new(declared) == "error.payer.npi"
    assert declared.http.get(f"/__admin/providers/{provider['providerId']}").status_code == 404
    declared.reset()
    assert status_of_new(declared) == "complete.eligible"


def test_a_runtime_file_s_providers_go_at_reset(mock: RunningMock) -> None:
    loaded = mock.http.post("/__admin/scenarios", params={"name": "late.yaml"}, content=DECLARED.encode())
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["providers"] == 1
    assert status_of_new(mock) == "complete.eligible"
    mock.reset()
    assert status_of_new(mock) == "error.payer.npi"


def test_an_upload_with_a_bad_npi_changes_nothing(mock: RunningMock) -> None:
    bad = DECLARED.replace("1558598797", "1558598798")
    refused = mock.http.post("/__admin/scenarios", params={"name": "bad.yaml"}, content=bad.encode())
    assert refused.status_code == 400
    assert refused.json()["param"] == "scenario"
    assert refused.json()["message"].startswith("bad.yaml:3: providers.0.npi: 1558598798 fails the NPI check digit")
    assert status_of_new(mock) == "error.payer.npi"


def test_check_counts_providers_and_network_rules(tmp_path: Path) -> None:
    path = tmp_path / "enrolled.yaml"
    path.write_text(DECLARED + "network:\n  - {match: {payerId: AETNA}, status: inn}\n")
    checked = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", "--scenarios", str(default_scenarios_dir()), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "1 providers, 2 network rules" in checked.stdout
