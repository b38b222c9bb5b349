"""The `partner:` section of scenario files: checked at load with file:line, combined across files."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT

from mock_server.core import SCENARIO_SECTIONS
from mock_server.limits import MAX_PARTNER_COVERAGES_PER_PERSON, MAX_PARTNER_FAMILY_MEMBERS
from mock_server.partner.names import fold_partner_name
from mock_server.partner.roster import Roster
from mock_server.scenarios import ScenarioError, ScenarioRegistry, load_text
from mock_server.testing import RunningMock

TODAY = date(2026, 6, 15)

VALID = """\
partner:
  partnerName: P
  partnerId: p-1
  families:
    - id: f1
      subscriptionType: PPO
      address: {address1: 1 A St, city: X, state: WA, zip: "98000"}
      members:
        - memberId: M1
          relationship: "18"
          firstName: Ann
          lastName: Lee
          birthDate: "1980-01-01"
          sex: F
        - memberId: M2
          relationship: "19"
          firstName: Bo
          lastName: Lee
          birthDate: today-10y
          sex: M
"""


def family(family_id: str, *members: str, partner: str = "") -> str:
    """A second file's family; each member a flow mapping."""
    lines = [
        "partner:",
        *([partner] if partner else []),
        "  families:",
        f"    - id: {family_id}",
        "      subscriptionType: HMO",
        "      address: {address1: 2 B St, city: Y, state: OR, zip: '97000'}",
        "      members:",
    ]
    return "\n".join([*lines, *(f"        - {m}" for m in members)]) + "\n"


def load(text: str, source: str = "r.yaml"):  # type: ignore[no-untyped-def]
    return load_text(text, source, TODAY, SCENARIO_SECTIONS)


def combined(*texts: str) -> Roster:
    files = [load(text, f"f{i}.yaml") for i, text in enumerate(texts)]
    return ScenarioRegistry(files, SCENARIO_SECTIONS).section("partner")  # type: ignore[no-any-return]


def test_a_valid_section_loads_and_says_what_it_holds() -> None:
    scenario = load(VALID)
    assert scenario.summary()["partner"] == {"families": 1, "coverages": 2}
    roster = combined(VALID)
    assert (roster.partner_name, roster.partner_id) == ("P", "p-1")
    assert [p.first_name for p in roster.namesakes("ANN", "lee")] == ["Ann"]
    assert roster.summary() == {"families": 1, "people": 2, "coverages": 2}


M0 = "partner.families.0.members.0"
M1 = "partner.families.0.members.1"
BO = "          firstName: Bo\n          lastName: Lee\n          birthDate: today-10y\n          sex: M\n"
AFTER_BO = "          sex: M\n"
TOO_HIGH = MAX_PARTNER_COVERAGES_PER_PERSON + 1


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (
            'relationship: "18"',
            "relationship: 18",
            f'r.yaml:10: {M0}.relationship: 18 is not of type "string" (quote it',
        ),
        ('relationship: "19"', 'relationship: "02"', f"r.yaml:16: {M1}.relationship:"),
        ('birthDate: "1980-01-01"', 'birthDate: "1980-02-30"', f"r.yaml:13: {M0}.birthDate: day is out of range"),
        ("birthDate: today-10y", "birthDate: 10 years ago", f"r.yaml:19: {M1}.birthDate:"),
        (AFTER_BO, AFTER_BO + "          colour: red\n", f"r.yaml:21: {M1}: Additional properties are not allowed"),
        (
            'relationship: "19"',
            'relationship: "18"',
            "r.yaml:8: partner.families.0.members: a family has exactly one primary (relationship 18); found M1, M2",
        ),
        (
            'relationship: "18"',
            'relationship: "01"',
            "r.yaml:8: partner.families.0.members: a family has exactly one primary (relationship 18); found none",
        ),
        (
            "memberId: M2",
            "memberId: M1",
            f"r.yaml:15: {M1}.memberId: memberId M1 is listed twice (first at families.0.members.0)",
        ),
        (
            "          firstName: Bo\n",
            "          samePersonAs: M1\n          firstName: Bo\n",
            f"r.yaml:18: {M1}.firstName: samePersonAs takes the person from member M1; firstName, lastName, birthDate,"
            " sex belong there",
        ),
        (BO, "          samePersonAs: M2\n", f"r.yaml:17: {M1}.samePersonAs: samePersonAs names the member itself"),
        ("          sex: F\n", "", f"r.yaml:9: {M0}: sex missing: describe the person, or name the entry that does"),
        (
            AFTER_BO,
            AFTER_BO + "          accessBy: [Z9]\n",
            f"r.yaml:21: {M1}.accessBy: accessBy names Z9, who is not in family f1",
        ),
        (
            AFTER_BO,
            AFTER_BO + "          accessBy: [M2]\n",
            f"r.yaml:21: {M1}.accessBy: accessBy names the member itself (M2)",
        ),
        (
            AFTER_BO,
            AFTER_BO + "          eligibleFrom: today\n          eligibleUntil: today-1d\n",
            f"r.yaml:21: {M1}.eligibleFrom: eligibleFrom is after eligibleUntil",
        ),
        (
            '      address: {address1: 1 A St, city: X, state: WA, zip: "98000"}\n',
            "",
            f"r.yaml:8: {M0}: no address: give the member one, or the family a default",
        ),
        ('zip: "98000"', 'zip: "980"', "r.yaml:7: partner.families.0.address.zip:"),
        (AFTER_BO, AFTER_BO + "          rank: 0\n", f"r.yaml:21: {M1}.rank: 0 is less than the minimum of 1"),
        (AFTER_BO, AFTER_BO + f"          rank: {TOO_HIGH}\n", f"{M1}.rank: {TOO_HIGH} is greater than the maximum"),
        (AFTER_BO, AFTER_BO + "          email: not-an-address\n", f"r.yaml:21: {M1}.email:"),
        (AFTER_BO, AFTER_BO + '          last4Ssn: "123"\n', f"r.yaml:21: {M1}.last4Ssn:"),
        ("subscriptionType: PPO", "subscriptionType: GOLD", "r.yaml:6: partner.families.0.subscriptionType:"),
        ("  partnerId: p-1\n", "  partnerId: p-1\n  extra: 1\n", "r.yaml:4: partner: Additional properties"),
    ],
)
def test_a_bad_section_names_file_line_and_path(old: str, new: str, where: str) -> None:
    assert old in VALID
    with pytest.raises(ScenarioError) as raised:
        load(VALID.replace(old, new, 1))
    assert where in str(raised.value)


def person(member_id: str, relationship: str, first: str, born: str = "1970-01-01", last: str = "Lee") -> str:
    return (
        f'{{memberId: {member_id}, relationship: "{relationship}", firstName: {first}, lastName: {last},'
        f' birthDate: "{born}", sex: U}}'
    )


def same(member_id: str, relationship: str, of: str, rank: int | None = None) -> str:
    ranked = f", rank: {rank}" if rank is not None else ""
    return f'{{memberId: {member_id}, relationship: "{relationship}", samePersonAs: {of}{ranked}}}'


def test_a_family_id_listed_twice_is_refused() -> None:
    text = VALID + family("f1", person("M9", "18", "Cy")).split("families:\n", 1)[1]
    with pytest.raises(ScenarioError, match=r"r.yaml:21: partner.families.1.id: family f1 is listed twice \(first at"):
        load(text)


def test_a_family_past_the_bound_is_refused() -> None:
    members = [person(f"X{i}", "18" if i == 0 else "19", f"A{i}") for i in range(MAX_PARTNER_FAMILY_MEMBERS + 1)]
    named = "  partnerName: P\n  partnerId: p"
    with pytest.raises(ScenarioError, match=r"r.yaml:8: partner.families.0.members: 101 items, more than the 100 the"):
        load(family("big", *members, partner=named))
    assert combined(family("big", *members[:MAX_PARTNER_FAMILY_MEMBERS], partner=named))


def test_without_the_section_the_key_is_unknown() -> None:
    with pytest.raises(ScenarioError, match=r"r.yaml:1: .*'partner' was unexpected"):
        load_text(VALID, "r.yaml", TODAY)


CHRIS = person("C1", "18", "Cy", "1979-01-01")


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        (family("f2", same("D1", "18", "Z9")), "f1.yaml:7: samePersonAs Z9: no member Z9 describes a person"),
        (
            family("f2", CHRIS, same("D2", "01", "C1"), same("D3", "19", "D2")),
            "samePersonAs D2: no member D2 describes a person (it takes its person from another entry itself)",
        ),
        (family("f2", same("D1", "18", "M1")), "member M1 has 2 coverages, so each needs a rank; M1, D1 has none"),
        (family("f2", same("D1", "18", "M1", rank=1)), "member M1 has 2 coverages, so each needs a rank; M1 has none"),
        (family("f1", CHRIS, same("D1", "19", "C1")), "member C1 is in family f1 twice"),
        (family("f2", person("M1", "18", "Ann")), "memberId M1 is also in family f1 (f0.yaml:9)"),
    ],
)
def test_what_only_the_combination_shows_is_refused(second: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        combined(VALID, second)
    assert problem in str(raised.value)


def test_later_files_replace_families_and_ranks_must_differ() -> None:
    replaced = combined(VALID, family("f1", CHRIS))
    assert list(replaced.enrollments) == ["C1"]
    ranked = VALID.replace("          sex: F\n", "          sex: F\n          rank: 1\n", 1)
    two = combined(ranked, family("f2", same("D1", "18", "M1", rank=2)))
    assert [e.member_id for e in two.coverages(two.people["M1"])] == ["M1", "D1"]
    with pytest.raises(ScenarioError, match=r"member M1's coverages share a rank \(1, 1\)"):
        combined(ranked, family("f2", same("D1", "18", "M1", rank=1)))
    # One past the bound (ranks repeat, but the count is what is refused first).
    many = [same(f"D{i}", "18", "M1", rank=i % MAX_PARTNER_COVERAGES_PER_PERSON + 1) for i in range(1, TOO_HIGH)]
    with pytest.raises(
        ScenarioError, match=f"member M1 holds {MAX_PARTNER_COVERAGES_PER_PERSON + 1} coverages; at most"
    ):
        combined(ranked, *(family(f"g{i}", m) for i, m in enumerate(many)))


def test_the_partner_s_name_and_id_come_from_some_file() -> None:
    with pytest.raises(ScenarioError, match="partner: no loaded file gives partnerName and partnerId"):
        combined(family("f2", CHRIS))
    named = combined(family("f2", CHRIS), "partner: {partnerName: Q, partnerId: q-1}\n")
    assert (named.partner_name, named.partner_id) == ("Q", "q-1")
    assert combined("name: nothing-of-the-partner's\n").summary() == {"families": 0, "people": 0, "coverages": 0}


def test_an_upload_with_a_bad_section_is_a_400_and_changes_nothing(mock: RunningMock) -> None:
    before = mock.http.get("/__admin/partner/roster").json()
    bad = VALID.replace('relationship: "19"', 'relationship: "18"')
    response = mock.http.post("/__admin/scenarios", params={"name": "team.yaml"}, content=bad.encode())
    assert response.status_code == 400
    assert response.json()["param"] == "scenario"
    assert response.json()["message"].startswith(
        "team.yaml:8: partner.families.0.members: a family has exactly one primary"
    )
    dangling = family("f9", '{memberId: D1, relationship: "18", samePersonAs: EVG-NOPE}')
    response = mock.http.post("/__admin/scenarios", params={"name": "dangling.yaml"}, content=dangling.encode())
    assert response.status_code == 400 and "samePersonAs EVG-NOPE" in response.json()["message"]
    assert mock.http.get("/__admin/partner/roster").json() == before


def test_the_check_command_counts_the_partner_and_names_a_bad_file(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "mock_server", "check"], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "partner.yaml" in ok.stdout
    assert "partner: 8 families, 12 people, 13 coverages" in ok.stdout
    bad = tmp_path / "team.yaml"
    bad.write_text(VALID.replace("memberId: M2", "memberId: M1"))
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", "--scenarios", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert f"{bad}:15: partner.families.0.members.1.memberId: memberId M1 is listed twice" in result.stderr
    clash = tmp_path / "clash.yaml"
    clash.write_text(family("other", '{memberId: EVG-100-01, relationship: "18", samePersonAs: EVG-300-01, rank: 3}'))
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", "--scenarios", str(ROOT / "scenarios"), str(clash)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1 and "memberId EVG-100-01 is also in family whitaker" in result.stderr


@pytest.mark.parametrize(
    ("stored", "searched"),
    [
        ("Núñez-O'Brien", "nunez obrien"),
        ("Núñez-O'Brien", "NUNEZ-O'BRIEN JR."),
        ("O'Neil", "oneil, jr"),
        ("Mary-Kate", "mary kate"),
        ("Smith III", "smith"),
        ("Lee", "  LEE  "),
    ],
)
def test_names_fold_generously(stored: str, searched: str) -> None:
    assert fold_partner_name(stored) == fold_partner_name(searched)


@pytest.mark.parametrize(("one", "other"), [("Ann", "Anne"), ("Lee", "Leer"), ("Jr", "Sr"), ("Smith V", "Smith")])
def test_names_that_differ_stay_different(one: str, other: str) -> None:
    assert fold_partner_name(one) != fold_partner_name(other)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('birthDate: "1980-01-01"', 'birthDate: "1899-12-31"', f"r.yaml:13: {M0}.birthDate: '1899-12-31' falls in the"),
        ("birthDate: today-10y", "birthDate: today-200y", f"r.yaml:19: {M1}.birthDate: 'today-200y' falls in the year"),
        (
            AFTER_BO,
            AFTER_BO + '          eligibleUntil: "2100-01-01"\n',
            f"r.yaml:21: {M1}.eligibleUntil: '2100-01-01' falls in the year 2100, outside 1900-2099",
        ),
        (
            AFTER_BO,
            AFTER_BO + "          eligibleFrom: today-99999999d\n",
            f"r.yaml:21: {M1}.eligibleFrom: 'today-99999999d' is out of the calendar's range",
        ),
    ],
)
def test_roster_dates_are_kept_to_the_years_every_scenario_date_is(old: str, new: str, where: str) -> None:
    # Birth dates and eligibility bounds are resolved again on every call, on the mock clock's
    # today: a relative one far out (today+2900000d) would load, then fail a search once the
    # clock moved past what a date can hold.
    with pytest.raises(ScenarioError) as raised:
        load(VALID.replace(old, new, 1))
    assert where in str(raised.value)


def test_roster_dates_at_the_edges_of_the_years_load() -> None:
    edges = VALID.replace('"1980-01-01"', '"1900-01-01"').replace(
        AFTER_BO, AFTER_BO + '          eligibleUntil: "2099-12-31"\n'
    )
    assert load(edges).summary()["partner"] == {"families": 1, "coverages": 2}


def test_a_far_relative_roster_date_is_refused_at_upload_not_failed_on_later(mock: RunningMock) -> None:
    far = VALID.replace(AFTER_BO, AFTER_BO + "          eligibleUntil: today+2900000d\n")
    response = mock.http.post("/__admin/scenarios", params={"name": "far.yaml"}, content=far.encode())
    assert response.status_code == 400, response.text
    assert f"far.yaml:21: {M1}.eligibleUntil: 'today+2900000d' falls in the year" in response.json()["message"]
