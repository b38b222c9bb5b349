"""Scenario files: schema and semantic checks with file:line, and how rules and the roster decide."""

from __future__ import annotations

import itertools
import string
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT

from mock_server.limits import MAX_DURATION_SECONDS
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
    assert len(scenarios.rules) == 5


def test_name_folding() -> None:
    assert fold_name(" O'Brien-Smith ") == fold_name("obriensmith")
    assert fold_name("José") == fold_name("JOSE")
    assert fold_name("Ann") != fold_name("Anne")


def test_check_command_accepts_the_defaults_and_rejects_a_bad_file(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "mock_server", "check"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "default.yaml" in ok.stdout
    assert ", 10 discovery rules," in ok.stdout  # Sohar's ten sandbox values (the partner roster follows)
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


RULE = "rules:\n  - match: {patient.memberId: X}\n    outcome: {status: error.payer, delay: %s}\n"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        # Only text, numbers, booleans, null, lists and text-keyed mappings.
        ("name: !!binary aGVsbG8=\n", 1, "name: the tag !!binary is not allowed"),
        ("name: x\ndescription: !!set {a, b}\n", 2, "description: the tag !!set is not allowed"),
        ("payers: !!omap [{a: 1}]\n", 1, "payers: the tag !!omap is not allowed"),
        ('name: !!python/object/apply:os.system ["true"]\n', 1, "the tag !!python/object/apply:os.system"),
        ("name: !!python/name:os.system\n", 1, "the tag !!python/name:os.system is not allowed"),
        ("name: !!timestamp 2001-01-01\n", 1, "the tag !!timestamp is not allowed"),
        ("name: !custom x\n", 1, "the tag !custom is not allowed"),
        ("name: x\n1: y\n", 2, "the key '1' is read as a number: keys must be text (quote it"),
        ("profiles:\n  gold: {}\n  2024: {}\n", 3, "profiles: the key '2024' is read as a number"),
        ("yes: y\n", 1, "the key 'yes' is read as a boolean"),
        ("~: y\n", 1, "the key '~' is read as null"),
        ("name: x\n? [a, b]\n: y\n", 2, "a key is a list: keys must be text"),
        ("name: x\n? {a: 1}\n: y\n", 2, "a key is a mapping: keys must be text"),
        ("defaults: {delay: !!int abc}\n", 1, "defaults.delay: 'abc' cannot be read as !!int"),
        ("defaults: {delay: " + "9" * 5000 + "}\n", 1, "(5000 characters)' cannot be read as !!int"),
        ("name: a\n---\nname: b\n", 2, "one YAML document, not several"),
        ("name: a\ndescription: b\x07\n", 2, "not valid YAML: character #x0007"),
        # Aliases: defined before use, not inside themselves.
        ("name: x\ndescription: *nowhere\n", 2, "alias *nowhere is used before its anchor"),
        ("name: x\nprofiles: &p {gold: *p}\n", 2, "alias *p is used inside the list or mapping it names"),
    ],
)
def test_only_plain_data_is_accepted(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "bad.yaml", TODAY)
    assert str(caught.value).startswith(f"bad.yaml:{line}: "), str(caught.value)
    assert fragment in str(caught.value)


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """A few hundred bytes that expand to width**levels strings."""
    names = string.ascii_letters[:levels]
    lines = ["profiles:", f"  {names[0]}: &{names[0]} [{','.join(['lol'] * width)}]"]
    lines += [f"  {name}: &{name} [{','.join([f'*{below}'] * width)}]" for below, name in itertools.pairwise(names)]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_before_expanding() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 400
    with pytest.raises(ScenarioError, match=r"aliases expand the file by more than 100,000 nodes"):
        load_text(text, "lol.yaml", TODAY)
    # Orders of magnitude more: refused as soon, since expansion is counted, never done.
    with pytest.raises(ScenarioError, match=r"^lol.yaml:5: profiles.d.2: aliases expand"):
        load_text(billion_laughs(levels=30, width=30), "lol.yaml", TODAY)


def test_aliases_within_the_budget_load_and_share() -> None:
    text = MINIMAL.replace("    dateOfBirth: 12/10/1985\n", "    dateOfBirth: &dob 12/10/1985\n") + textwrap.dedent(
        """\
          - {memberId: M2, payerId: "P1", firstName: Bo, lastName: Lee, dateOfBirth: *dob}
        profiles:
          base: &base {plan: {name: BASE, startDate: today-1y}, group: {name: ACME}}
          gold:
            <<: *base
            plan: {name: GOLD}
        """
    )
    scenario = load_text(text, "ok.yaml", TODAY)
    assert [m.date_of_birth for m in scenario.members] == ["12/10/1985", "12/10/1985"]
    assert scenario.profiles["gold"].plan == {"name": "GOLD"}  # its own key wins over the merged one
    assert scenario.profiles["gold"].group == {"name": "ACME"}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # libyaml's own composer crashed the process on this
        "- " * 400 + "x\n",
        "profiles:\n  gold:\n" + "".join("    " + "  " * i + f"k{i}:\n" for i in range(40)),
    ],
    ids=["flow", "block-sequence", "block-mapping"],
)
def test_deep_nesting_is_refused(text: str) -> None:
    with pytest.raises(ScenarioError, match=r"^deep.yaml:\d+: .*nest deeper than 32 levels"):
        load_text(text, "deep.yaml", TODAY)


def test_nesting_through_aliases_is_refused() -> None:
    chain = "".join(f"  l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, 40))
    with pytest.raises(ScenarioError, match=r"nest deeper than 32 levels once aliases are expanded"):
        load_text("profiles:\n  l0: &l0 []\n" + chain, "deep.yaml", TODAY)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("99999999999999999999999", "99999999999999999999999 seconds is longer than the mock accepts (31622400 s"),
        ("31622401", "31622401 seconds is longer than the mock accepts"),
        (".nan", ".nan is not a finite number"),
        (".inf", ".inf is not a finite number"),
        ("-.inf", "-.inf is not a finite number"),
        ("1.0e+308", "1e+308 seconds is longer than the mock accepts"),
        (
            "1e308",
            '"1e308" is text, not a number (YAML needs a dot and a signed exponent: 1.0e+308), and as a number it'
            " would be longer than the mock accepts",
        ),
        ('"5"', '"5" is text, not a number'),
    ],
)
def test_durations_are_finite_numbers_within_the_bound(value: str, fragment: str) -> None:
    for text, line in ((RULE % value, 3), (f"defaults: {{recoverAfter: {value}}}\n", 1)):
        with pytest.raises(ScenarioError) as caught:
            load_text(text, "d.yaml", TODAY)
        assert str(caught.value).startswith(f"d.yaml:{line}: "), str(caught.value)
        assert fragment in str(caught.value)
        assert "quote it" not in str(caught.value)


def test_the_longest_duration_is_accepted() -> None:
    scenario = load_text(RULE % MAX_DURATION_SECONDS, "d.yaml", TODAY)
    assert scenario.rules[0].outcome.delay == MAX_DURATION_SECONDS


def test_non_finite_numbers_are_refused_anywhere() -> None:
    # A nullable number: the schema validator reads NaN as null, so only the reader can catch it.
    text = MINIMAL + "    benefits:\n      - {networkStatus: inn, copay: .nan}\n"
    with pytest.raises(ScenarioError, match=r"^bad.yaml:11: members.0.benefits.0.copay: .nan is not a finite number"):
        load_text(text, "bad.yaml", TODAY)


def test_quote_hint_only_where_text_was_expected() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_text("rules: 5\n", "r.yaml", TODAY)
    assert str(caught.value) == 'r.yaml:1: rules: 5 is not of type "array"'
    with pytest.raises(ScenarioError, match=r"memberId: 12345 is not of type \"string\" \(quote it"):
        load_text(MINIMAL.replace('"M1"', "12345"), "r.yaml", TODAY)


def test_a_message_does_not_echo_a_whole_file() -> None:
    text = "name: [" + ", ".join(f"item{i}" for i in range(20_000)) + "]\n"
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "n.yaml", TODAY)
    assert str(caught.value).startswith("n.yaml:1: name: ")
    assert len(str(caught.value)) < 400


def check_refuses(bad: Path, content: str) -> str:
    """`sohar-mock check` on a file holding `content`: exit 1, no traceback; what it printed."""
    bad.write_text(content)
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", "--scenarios", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_nesting_past_what_the_yaml_parser_allows_is_the_same_one_line_error(tmp_path: Path) -> None:
    # Some PyYAML/libyaml builds refuse 1000 levels of flow nesting in their scanner, before this
    # loader's own count of 32 is reached: the file is refused the same way with either.
    bad = tmp_path / "bad.yaml"
    printed = check_refuses(bad, "[" * 100_000 + "]" * 100_000)
    assert f"{bad}:1: " in printed and "nest deeper than 32 levels (the limit)" in printed


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("name: !!binary aGVsbG8=\n", ":1: name: the tag !!binary is not allowed"),
        ("name: !!python/object/apply:os.system [echo]\n", ":1: name: the tag !!python/object/apply:os.system"),
        ("name: x\n1: y\n", ":2: the key '1' is read as a number"),
        ("[" * 40 + "]" * 40, ":1: " + ".".join(["0"] * 32) + ": lists and mappings nest deeper"),
        (billion_laughs(), ":7: profiles.f.0: aliases expand the file by more than 100,000 nodes"),
        (RULE % "99999999999999999999999", ":3: rules.0.outcome.delay: 99999999999999999999999 seconds is longer"),
    ],
    ids=["binary", "python", "int-key", "deep", "laughs", "duration"],
)
def test_check_command_reports_bad_content_without_a_traceback(tmp_path: Path, content: str, fragment: str) -> None:
    bad = tmp_path / "bad.yaml"
    assert f"{bad}{fragment}" in check_refuses(bad, content)


@pytest.mark.parametrize(
    ("birth", "subscriber_birth", "line", "year"),
    [
        ("today-2000y", None, 9, "26"),
        ("today+99999999d", None, 9, None),
        ("12/10/1985", "today+80y", 10, "2106"),
        ("12/10/1985", "today+99999999999d", 10, None),
    ],
)
def test_scenario_dates_stay_in_the_years_sohar_dates_carry(
    birth: str, subscriber_birth: str | None, line: int, year: str | None
) -> None:
    # Such a date would render outside the contract's 19xx/20xx pattern, or past what a date
    # holds once the clock moves, leaving a verification that can never resolve.
    text = MINIMAL.replace("dateOfBirth: 12/10/1985", f"dateOfBirth: {birth}")
    if subscriber_birth is not None:
        text += f"    subscriber: {{firstName: Ada, lastName: Lovelace, dateOfBirth: {subscriber_birth}}}\n"
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "dates.yaml", TODAY)
    message = str(caught.value)
    assert message.startswith(f"dates.yaml:{line}: ")
    assert (f"the year {year}, outside 1900-2099" in message) if year else ("calendar's range" in message)


def test_scenario_dates_at_the_edges_of_the_carried_years_load() -> None:
    text = MINIMAL.replace("dateOfBirth: 12/10/1985", "dateOfBirth: 01/01/1900")
    text += "    subscriber: {firstName: Ada, lastName: Lovelace, dateOfBirth: today+73y}\n"
    assert load_text(text, "edges.yaml", TODAY).members[0].subscriber is not None
