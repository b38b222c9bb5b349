"""Scenario files: schema and semantic checks with file:line, and how rules and the roster decide."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT

from mock_server.scenarios import ScenarioError, ScenarioSet, fold_name, load_file, load_text

DEFAULT = ROOT / "scenarios" / "default.yaml"
TODAY = date(2026, 6, 15)

MINIMAL = """\
payers:
  - payerId: "P1"
    payerName: Payer One
members:
  - memberId: "M1"
    payerId: "P1"
    firstName: Ada
    lastName: Lovelace
    dateOfBirth: 12/10/1985
"""


BAD_PATTERN_RULE = "rules:\n  - match: {patient.memberId: {pattern: '('}}\n    outcome: {status: error.payer}\n"
DUPLICATE_MEMBER = "  - memberId: M1\n    payerId: P1\n    firstName: A\n    lastName: B\n    dateOfBirth: today\n"


def fields(member_id: str = "M1", **overrides: str) -> dict[str, str | None]:
    base: dict[str, str | None] = {
        "environment": "sandbox",
        "payerId": "P1",
        "placeOfServiceCode": "10",
        "specialtyCode": "PSY",
        "id": None,
        "patient.firstName": "Ada",
        "patient.lastName": "Lovelace",
        "patient.dateOfBirth": "12/10/1985",
        "patient.state": "CA",
        "patient.memberId": member_id,
    }
    return {**base, **overrides}


def decide(scenarios: ScenarioSet, f: dict[str, str | None]) -> tuple[str, str | None]:
    outcome = scenarios.decide(f).outcome
    if outcome.status == "pending":
        outcome = outcome.then
    resolution = scenarios.resolve(outcome, f, TODAY)
    return resolution.status, resolution.status_reason


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (MINIMAL.replace('"M1"', "00000000"), 5, "quote it"),
        (MINIMAL.replace("12/10/1985", "1985-12-10"), 9, "dateOfBirth"),
        (MINIMAL.replace("payerName: Payer One", "payerName: Payer One\n    colour: red"), 4, "colour"),
        (MINIMAL + "rules:\n  - match: {patient.memberId: X}\n    outcome: {status: eligible}\n", 12, "status"),
        (MINIMAL + "rules:\n  - match: {memberId: X}\n    outcome: {status: error.payer}\n", 11, "memberId"),
        (
            MINIMAL + "rules:\n  - match: {patient.memberId: X}\n    outcome: {status: complete.ineligible}\n",
            12,
            "needs a statusReason",
        ),
        (
            MINIMAL
            + "rules:\n  - match: {patient.memberId: X}\n"
            + "    outcome: {status: error.member.id, statusReason: INACTIVE}\n",
            12,
            "carries no statusReason",
        ),
        (MINIMAL + BAD_PATTERN_RULE, 11, "bad pattern"),
        (MINIMAL + DUPLICATE_MEMBER, 10, "twice"),
        ("payers: [\n", 2, "not valid YAML"),
    ],
)
def test_bad_files_name_file_line_and_problem(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "bad.yaml", TODAY)
    assert caught.value.source == "bad.yaml"
    assert caught.value.line == line, str(caught.value)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"bad.yaml:{line}: ")


def test_incoherent_benefits_are_rejected() -> None:
    text = MINIMAL + textwrap.indent(
        textwrap.dedent(
            """\
            benefits:
              - {networkStatus: inn, coinsurance: 0.3, deductible: {total: 100, remaining: 50}}
              - {networkStatus: oon, coinsurance: 0.1}
            """
        ),
        "    ",
    )
    with pytest.raises(ScenarioError, match=r"out-of-network coinsurance 0\.1 is below in-network 0\.3"):
        load_text(text, "b.yaml", TODAY)
    with pytest.raises(ScenarioError, match=r"remaining .* exceeds total"):
        load_text(text.replace("remaining: 50", "remaining: 500"), "b.yaml", TODAY)


def test_unknown_payer_and_profile_are_caught_when_files_combine() -> None:
    with pytest.raises(ScenarioError, match="unknown payer 'P2'"):
        wrong_payer = MINIMAL.replace('payerId: "P1"\n    firstName', 'payerId: "P2"\n    firstName')
        ScenarioSet([load_text(wrong_payer, "x", TODAY)])
    with pytest.raises(ScenarioError, match="unknown profile 'gold'"):
        ScenarioSet([load_text(MINIMAL + "    profile: gold\n", "x", TODAY)])


def test_roster_decides_like_a_payer() -> None:
    scenarios = ScenarioSet([load_text(MINIMAL, "m.yaml", TODAY)])
    assert decide(scenarios, fields()) == ("complete.eligible", None)
    assert decide(scenarios, fields("M2")) == ("error.member.id", None)
    assert decide(scenarios, fields(**{"patient.dateOfBirth": "12/11/1985"})) == ("error.member.dob", None)
    assert decide(scenarios, fields(**{"patient.lastName": "Byron"})) == ("error.member.name", None)
    assert decide(scenarios, fields(**{"patient.lastName": "LOVE-LACE"})) == ("complete.eligible", None)


def test_coverage_dates_and_specialties() -> None:
    text = MINIMAL + "    plan: {startDate: today-1y, endDate: today-1d}\n"
    assert decide(ScenarioSet([load_text(text, "x", TODAY)]), fields()) == ("complete.ineligible", "INACTIVE")
    text = MINIMAL + "    plan: {startDate: today+1d}\n"
    assert decide(ScenarioSet([load_text(text, "x", TODAY)]), fields()) == ("complete.ineligible", "INACTIVE")
    text = MINIMAL + "    coveredSpecialties: [PRC]\n"
    scenarios = ScenarioSet([load_text(text, "x", TODAY)])
    assert decide(scenarios, fields()) == ("complete.ineligible", "NON_COVERED")
    assert decide(scenarios, fields(specialtyCode="PRC")) == ("complete.eligible", None)


def test_first_matching_rule_wins_and_matches_lists_patterns_and_environment() -> None:
    text = MINIMAL + textwrap.dedent(
        """\
        rules:
          - match: {environment: production, patient.memberId: M1}
            outcome: {status: error.payer.npi}
          - match: {patient.memberId: [A, B]}
            outcome: {status: error.payer}
          - match: {patient.memberId: {pattern: "Z\\\\d+"}}
            outcome: {status: complete.ineligible, statusReason: ACTIVE_PENDING_INVESTIGATION}
          - match: {patient.memberId: A}
            outcome: {status: error.member.id}
        """
    )
    scenarios = ScenarioSet([load_text(text, "r.yaml", TODAY)])
    assert decide(scenarios, fields()) == ("complete.eligible", None)
    assert decide(scenarios, fields(environment="production")) == ("error.payer.npi", None)
    assert decide(scenarios, fields("A")) == ("error.payer", None)
    assert decide(scenarios, fields("Z12")) == ("complete.ineligible", "ACTIVE_PENDING_INVESTIGATION")
    assert decide(scenarios, fields("Z12x")) == ("error.member.id", None)


def test_group_payer_routes_to_the_payer_holding_the_member() -> None:
    scenarios = ScenarioSet([load_file(DEFAULT)])
    text = textwrap.dedent(
        """\
        members:
          - {memberId: MC1, payerId: "06111", firstName: Ann, lastName: Lee, dateOfBirth: 01/02/1990}
        """
    )
    scenarios = ScenarioSet([load_file(DEFAULT), load_text(text, "g.yaml", TODAY)])
    f = fields("MC1", payerId="SH03D959", **{"patient.firstName": "Ann", "patient.lastName": "Lee"})
    f["patient.dateOfBirth"] = "01/02/1990"
    resolution = scenarios.resolve(scenarios.decide(f).outcome, f, TODAY)
    assert resolution.status == "complete.eligible"
    assert resolution.payer.payer_id == "06111"


def test_later_files_override_members_and_add_rules() -> None:
    override = textwrap.dedent(
        """\
        members:
          - {memberId: "00000000", payerId: "60054", firstName: Jane, lastName: Roe, dateOfBirth: 01/01/1990}
        """
    )
    scenarios = ScenarioSet([load_file(DEFAULT), load_text(override, "o.yaml", TODAY)])
    assert scenarios.members[("60054", "00000000")].first_name == "Jane"
    assert len(scenarios.rules) == 4


def test_name_folding() -> None:
    assert fold_name(" O'Brien-Smith ") == fold_name("obriensmith")
    assert fold_name("José") == fold_name("JOSE")
    assert fold_name("Ann") != fold_name("Anne")


def test_check_command_accepts_the_defaults_and_rejects_a_bad_file(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "mock_server", "check"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "default.yaml" in ok.stdout
    bad = tmp_path / "broken.yaml"
    bad.write_text(MINIMAL.replace('"M1"', "12345"))
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", "--scenarios", str(DEFAULT), str(bad)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert f"{bad}:5: members.0.memberId" in result.stderr


def test_check_command_reports_a_missing_path(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", "--scenarios", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
