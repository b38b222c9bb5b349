"""Scenario resolution order (`scenarios/resolver.ScenarioSet`, `scenarios/registry.ScenarioRegistry`).

Files combine in load order: later files override payers, profiles and members by key, and
defaults field by field; rules are tried in order and the first match decides. In the registry,
files loaded at run time go before the start-up ones, the latest first, so their rules win; a
reset drops them all; a file whose references do not resolve is refused and leaves the registry
exactly as it was. A stateful hypothesis model checks any sequence of loads, refused loads and
resets.
"""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mock_server.scenarios import (
    Coverage,
    Member,
    Outcome,
    Payer,
    Rule,
    ScenarioError,
    ScenarioFile,
    ScenarioRegistry,
    ScenarioSet,
    load_text,
)
from mock_server.scenarios.model import Defaults, Matcher

TODAY = date(2026, 6, 15)


def fields(member_id: str = "M1", label: str | None = None, payer_id: str = "P1") -> dict[str, str | None]:
    return {
        "environment": "sandbox",
        "payerId": payer_id,
        "placeOfServiceCode": "10",
        "specialtyCode": "PSY",
        "id": label,
        "patient.firstName": "Ada",
        "patient.lastName": "Lovelace",
        "patient.dateOfBirth": "12/10/1985",
        "patient.state": "CA",
        "patient.memberId": member_id,
    }


def member(member_id: str, first_name: str = "Ada", payer_id: str = "P1", profile: str | None = None) -> Member:
    return Member(
        member_id=member_id,
        payer_id=payer_id,
        first_name=first_name,
        last_name="Lovelace",
        date_of_birth="12/10/1985",
        coverage=Coverage(),
        profile=profile,
        source=f"{member_id}.yaml",
    )


def when(label: str, status: str, name: str) -> Rule:
    """A rule matching the request's `id` label."""
    return Rule(name, (Matcher("id", values=(label,)),), Outcome(status), f"{name}.yaml")


def file(
    name: str,
    *,
    payers: tuple[Payer, ...] = (),
    profiles: dict[str, Coverage] | None = None,
    members: tuple[Member, ...] = (),
    rules: tuple[Rule, ...] = (),
    defaults: Defaults | None = None,
) -> ScenarioFile:
    return ScenarioFile(
        source=f"{name}.yaml",
        name=name,
        defaults=defaults or Defaults(),
        payers=payers,
        profiles=profiles or {},
        members=members,
        rules=rules,
    )


BASE = file("base", payers=(Payer("P1", "Payer One"),), members=(member("M1"),))


def decided_by(scenarios: ScenarioSet, label: str) -> str | None:
    found = scenarios.decide(fields(label=label)).rule
    return found.name if found else None


# -- ScenarioSet ------------------------------------------------------------------------------------


def test_rules_are_tried_in_load_order_and_the_first_match_decides() -> None:
    first = file("first", rules=(when("x", "error.payer", "first-x"), when("y", "error.payer", "first-y")))
    second = file("second", rules=(when("x", "error.member.id", "second-x"), when("z", "error.payer", "second-z")))
    combined = ScenarioSet([BASE, first, second])
    assert [r.name for r in combined.rules] == ["first-x", "first-y", "second-x", "second-z"]
    assert decided_by(combined, "x") == "first-x"
    assert decided_by(combined, "z") == "second-z"
    assert decided_by(combined, "none") is None  # no rule: the roster decides
    assert combined.decide(fields(label="none")).outcome.status == "roster"
    # `rule_files` gives the rules another order; payers and members still combine in load order.
    reordered = ScenarioSet([BASE, first, second], rule_files=[second, first])
    assert decided_by(reordered, "x") == "second-x"
    assert [r.name for r in reordered.rules] == ["second-x", "second-z", "first-x", "first-y"]


def test_later_files_override_payers_and_their_aliases() -> None:
    first = file("first", payers=(Payer("P1", "Payer One", alias_payer_ids=("OLD",)), Payer("P2", "Payer Two")))
    second = file("second", payers=(Payer("P1", "Payer One, renamed", alias_payer_ids=("NEW",)),))
    combined = ScenarioSet([first, second])
    assert list(combined.payers) == ["P1", "P2"]  # overriding keeps the first place
    renamed = combined.find_payer("p1")
    assert renamed is not None and renamed.payer_name == "Payer One, renamed"
    assert combined.find_payer("new") is renamed
    assert combined.find_payer("OLD") is None  # the overridden payer's aliases went with it


def test_a_payer_id_beats_another_payers_alias_and_the_first_alias_holder_wins() -> None:
    payers = (
        Payer("P1", "One", alias_payer_ids=("P2", "SHARED")),
        Payer("P2", "Two", alias_payer_ids=("SHARED",)),
    )
    combined = ScenarioSet([file("payers", payers=payers)])
    two = combined.find_payer("P2")
    assert two is not None and two.payer_name == "Two"
    shared = combined.find_payer("shared")
    assert shared is not None and shared.payer_name == "One"


def test_later_files_override_members_by_payer_and_member_id() -> None:
    other_payer = file("other", payers=(Payer("P2", "Payer Two"),), members=(member("M1", "Grace", payer_id="P2"),))
    override = file("override", members=(member("M1", "Augusta"),))
    combined = ScenarioSet([BASE, other_payer, override])
    assert combined.members[("P1", "M1")].first_name == "Augusta"
    assert combined.members[("P2", "M1")].first_name == "Grace"  # another payer's M1 is another member
    assert combined.resolve(Outcome("roster"), fields(), TODAY).status == "error.member.name"
    assert combined.resolve(Outcome("roster"), fields(payer_id="P2"), TODAY).status == "error.member.name"


def test_a_profile_is_the_last_loaded_definition_even_for_an_earlier_files_member() -> None:
    first = textwrap.dedent(
        """\
        payers: [{payerId: P1, payerName: Payer One}]
        profiles:
          gold: {plan: {name: GOLD 1}, coveredSpecialties: [PSY]}
        members:
          - {memberId: M1, payerId: P1, firstName: Ada, lastName: Lovelace, dateOfBirth: 12/10/1985, profile: gold}
          - memberId: M2
            payerId: P1
            firstName: Ada
            lastName: Lovelace
            dateOfBirth: 12/10/1985
            profile: gold
            plan: {name: OWN}
        """
    )
    second = "profiles:\n  gold: {plan: {name: GOLD 2}, coveredSpecialties: [PRC]}\n"
    combined = ScenarioSet([load_text(first, "first.yaml", TODAY), load_text(second, "second.yaml", TODAY)])
    inherits, own = combined.members[("P1", "M1")].coverage, combined.members[("P1", "M2")].coverage
    assert inherits.plan == {"name": "GOLD 2"} and inherits.covered_specialties == frozenset({"PRC"})
    assert own.plan == {"name": "OWN"} and own.covered_specialties == frozenset({"PRC"})  # own keys beat it


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ([Defaults(delay=1, recover_after=2, profile="a")], Defaults(1, 2, "a")),
        ([Defaults(delay=1, recover_after=2, profile="a"), Defaults(delay=3)], Defaults(3, 2, "a")),
        ([Defaults(delay=1), Defaults(recover_after=4), Defaults(profile="b")], Defaults(1, 4, "b")),
        ([Defaults(delay=1), Defaults(delay=0)], Defaults(0, None, None)),  # 0 is a value, not "unset"
        ([Defaults(profile="a"), Defaults(profile="b"), Defaults()], Defaults(None, None, "b")),
        ([Defaults(), Defaults()], Defaults()),
    ],
)
def test_defaults_combine_field_by_field(layers: list[Defaults], expected: Defaults) -> None:
    profiles = {"a": Coverage(), "b": Coverage()}
    combined = ScenarioSet([file(f"f{i}", defaults=d, profiles=profiles) for i, d in enumerate(layers)])
    assert combined.defaults == expected


# -- ScenarioRegistry -------------------------------------------------------------------------------

STARTUP = file(
    "startup",
    payers=(Payer("P1", "Payer One"),),
    members=(member("M1"),),
    rules=(when("x", "error.payer", "startup-x"),),
)
DANGLING = {
    "member of an unknown payer": file("bad", members=(member("M9", payer_id="NOPE"),)),
    "member with an unknown profile": file("bad", members=(member("M9", profile="nope"),)),
    "rule with an unknown profile": file(
        "bad", rules=(Rule("r", (Matcher("id", values=("x",)),), Outcome("complete.eligible", profile="nope"), "r"),)
    ),
    "pending rule whose result has an unknown profile": file(
        "bad",
        rules=(
            Rule(
                "r",
                (Matcher("id", values=("x",)),),
                Outcome("pending", then=Outcome("complete.eligible", profile="nope")),
                "r",
            ),
        ),
    ),
    "group payer of an unknown payer": file("bad", payers=(Payer("G1", "Group", group_of=("NOPE",)),)),
    "unknown default profile": file("bad", defaults=Defaults(profile="nope")),
}


def test_runtime_rules_win_the_latest_first_and_reset_drops_them() -> None:
    registry = ScenarioRegistry([STARTUP])
    assert decided_by(registry.current, "x") == "startup-x"
    registry.add(file("one", rules=(when("x", "error.member.id", "one-x"), when("y", "error.payer", "one-y"))))
    registry.add(file("two", rules=(when("x", "error.payer.npi", "two-x"),)))
    assert decided_by(registry.current, "x") == "two-x"
    assert decided_by(registry.current, "y") == "one-y"
    assert [r.name for r in registry.current.rules] == ["two-x", "one-x", "one-y", "startup-x"]
    registry.reset()
    assert registry.runtime == () and [r.name for r in registry.current.rules] == ["startup-x"]
    assert decided_by(registry.current, "y") is None


def test_runtime_files_override_startup_members_and_payers_until_reset() -> None:
    registry = ScenarioRegistry([STARTUP])
    registry.add(file("runtime", payers=(Payer("P1", "Renamed"), Payer("P2", "New")), members=(member("M1", "Grace"),)))
    assert registry.current.members[("P1", "M1")].first_name == "Grace"
    assert registry.current.find_payer("P2") is not None
    registry.reset()
    assert registry.current.members[("P1", "M1")].first_name == "Ada"
    assert registry.current.find_payer("P2") is None
    p1 = registry.current.find_payer("P1")
    assert p1 is not None and p1.payer_name == "Payer One"


def test_a_runtime_file_may_use_what_startup_and_earlier_runtime_files_declare() -> None:
    registry = ScenarioRegistry([STARTUP])
    registry.add(file("payer", payers=(Payer("P2", "Payer Two"),)))
    registry.add(file("member", members=(member("M2", payer_id="P2"),)))  # P2 from the file before
    registry.add(file("startup-payer", members=(member("M3", payer_id="P1"),)))  # P1 from start-up
    assert {("P2", "M2"), ("P1", "M3")} <= set(registry.current.members)
    registry.reset()
    with pytest.raises(ScenarioError, match="unknown payer 'P2'"):
        registry.add(file("member", members=(member("M2", payer_id="P2"),)))  # P2 went with the reset


@pytest.mark.parametrize("dangling", list(DANGLING), ids=list(DANGLING))
def test_a_file_with_a_dangling_reference_leaves_the_registry_as_it_was(dangling: str) -> None:
    registry = ScenarioRegistry([STARTUP])
    registry.add(file("good", rules=(when("y", "error.payer", "good-y"),)))
    current, runtime = registry.current, registry.runtime
    with pytest.raises(ScenarioError):
        registry.add(DANGLING[dangling])
    assert registry.current is current and registry.runtime == runtime
    registry.add(file("later", rules=(when("z", "error.payer", "later-z"),)))  # and it still loads files
    assert [f.name for f in registry.runtime] == ["good", "later"]
    assert [r.name for r in registry.current.rules] == ["later-z", "good-y", "startup-x"]


# -- any sequence of loads, refused loads and resets -----------------------------------------------


class RegistryModel(RuleBasedStateMachine):
    """Each runtime file holds a rule for label `x` and a version of member M1, both named after it."""

    def __init__(self) -> None:
        super().__init__()
        self.registry = ScenarioRegistry([STARTUP])
        self.loaded: list[str] = []  # runtime files in force, in load order
        self.shapes: dict[str, tuple[bool, bool]] = {}  # file name: (has a member, has a rule)
        self.count = 0

    @rule(with_member=st.booleans(), with_rule=st.booleans())
    def load(self, with_member: bool, with_rule: bool) -> None:
        self.count += 1
        name = f"file{self.count}"
        members = (member("M1", name),) if with_member else ()
        rules = (when("x", "error.payer", name),) if with_rule else ()
        self.registry.add(file(name, members=members, rules=rules))
        self.loaded.append(name)
        self.shapes[name] = (with_member, with_rule)

    @rule(kind=st.sampled_from(sorted(DANGLING)))
    def load_dangling(self, kind: str) -> None:
        with pytest.raises(ScenarioError):
            self.registry.add(DANGLING[kind])

    @rule()
    def reset(self) -> None:
        self.registry.reset()
        self.loaded = []

    @invariant()
    def the_latest_rule_decides(self) -> None:
        with_rules = [name for name in self.loaded if self.shapes[name][1]]
        assert decided_by(self.registry.current, "x") == (with_rules[-1] if with_rules else "startup-x")

    @invariant()
    def the_latest_member_stands(self) -> None:
        with_members = [name for name in self.loaded if self.shapes[name][0]]
        expected = with_members[-1] if with_members else "Ada"
        assert self.registry.current.members[("P1", "M1")].first_name == expected

    @invariant()
    def runtime_is_what_was_loaded_since_the_reset(self) -> None:
        assert [f.name for f in self.registry.runtime] == self.loaded
        assert self.registry.startup == (STARTUP,)


RegistryModel.TestCase.settings = settings(derandomize=True, deadline=None, max_examples=40, stateful_step_count=20)
TestRegistryModel = RegistryModel.TestCase
