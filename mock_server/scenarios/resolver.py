"""Combine loaded scenario files and decide a verification's outcome, as a payer would."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from .dates import parse_date
from .discovery import DiscoveryDecision, DiscoveryResolution, FoundCoverage, RosterSearch
from .loader import ScenarioError
from .model import (
    ROSTER,
    Coverage,
    CoverageRef,
    DeclaredProvider,
    Defaults,
    DiscoveryOutcome,
    DiscoveryRule,
    Member,
    NetworkRule,
    Outcome,
    Payer,
    Rule,
    ScenarioFile,
)
from .names import fold_name

__all__ = ["Decision", "EnrolledCheck", "Resolution", "ScenarioSet", "fold_name"]

# How long a `pending` outcome waits for its payer when neither the rule nor the defaults say.
DEFAULT_RECOVER_AFTER = 5.0

# Asked while resolving from the roster: is a provider of this kind ("rendering" or "group")
# enrolled for this payer, in the verification's environment and state? The domain answers.
EnrolledCheck = Callable[[str, Payer], bool]
ProviderKey = tuple[str, str, str, str]  # environment, payer id, state, kind


@dataclass(frozen=True, slots=True)
class Resolution:
    """A final answer: the status and what the payer returned with it."""

    status: str
    status_reason: str | None
    payer: Payer
    member: Member | None = None
    coverage: Coverage | None = None
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The first step of an outcome: which rule (if any) spoke, and what it said."""

    outcome: Outcome
    rule: Rule | None


_ROSTER = Outcome(status=ROSTER)


class ScenarioSet:
    """Every loaded file, combined: later files override payers, profiles and members by
    key; rules are tried in load order unless `rule_files` gives another order."""

    def __init__(self, files: Iterable[ScenarioFile], rule_files: Iterable[ScenarioFile] | None = None) -> None:
        self.files = tuple(files)
        self.payers: dict[str, Payer] = {}
        self.profiles: dict[str, Coverage] = {}
        members: dict[tuple[str, str], Member] = {}
        self.rules: list[Rule] = []
        self.discovery_rules: list[DiscoveryRule] = []
        defaults = Defaults()
        for scenario in self.files:
            self.payers.update((p.payer_id, p) for p in scenario.payers)
            self.profiles.update(scenario.profiles)
            members.update(((m.payer_id, m.member_id), m) for m in scenario.members)
            defaults = Defaults(
                delay=scenario.defaults.delay if scenario.defaults.delay is not None else defaults.delay,
                recover_after=(
                    scenario.defaults.recover_after
                    if scenario.defaults.recover_after is not None
                    else defaults.recover_after
                ),
                profile=scenario.defaults.profile or defaults.profile,
            )
        self.defaults = defaults
        self.network: list[NetworkRule] = []
        for scenario in self.files if rule_files is None else rule_files:
            self.rules.extend(scenario.rules)
            self.discovery_rules.extend(scenario.discovery_rules)
            self.network.extend(scenario.network)
        self._lookup: dict[str, Payer] = {}
        for payer in self.payers.values():
            for alias in payer.alias_payer_ids:
                self._lookup.setdefault(alias.upper(), payer)
        for payer in self.payers.values():
            self._lookup[payer.payer_id.upper()] = payer
        self.members = {key: self._with_profile(m) for key, m in members.items()}
        self._check_references()
        self.network = [self._with_payer_ids(rule) for rule in self.network]
        # Declared providers by id, their payer as the directory names it; and by what they satisfy.
        self.providers: dict[str, DeclaredProvider] = {}
        self.provider_index: dict[ProviderKey, tuple[str, ...]] = {}
        for scenario in self.files:
            for provider in scenario.providers:
                provider = replace(provider, payer_id=self._known_payer(provider.payer_id, provider.source).payer_id)
                self.providers[provider.provider_id] = provider
        for provider in self.providers.values():
            key = (provider.environment, provider.payer_id, provider.state, provider.kind)
            self.provider_index[key] = (*self.provider_index.get(key, ()), provider.provider_id)
        self._resolutions: dict[tuple[object, ...], Resolution] = {}
        self._roster_search: RosterSearch | None = None

    def _with_profile(self, member: Member) -> Member:
        if member.profile is None:
            return member
        if member.profile not in self.profiles:
            raise ScenarioError(member.source, None, f"member {member.member_id}: unknown profile {member.profile!r}")
        return replace(member, coverage=self.profiles[member.profile].merged(member.own_coverage))

    def _check_references(self) -> None:
        known = ", ".join(sorted(self.payers)) or "none"
        for member in self.members.values():
            if member.payer_id not in self.payers:
                raise ScenarioError(
                    member.source,
                    None,
                    f"member {member.member_id}: unknown payer {member.payer_id!r} (known: {known})",
                )
        for payer in self.payers.values():
            for grouped in payer.group_of:
                if grouped not in self.payers:
                    raise ScenarioError(
                        payer.payer_id, None, f"group payer {payer.payer_id} routes to unknown payer {grouped!r}"
                    )
        if self.defaults.profile and self.defaults.profile not in self.profiles:
            raise ScenarioError("defaults", None, f"unknown default profile {self.defaults.profile!r}")
        for rule in self.rules:
            outcome: Outcome | None = rule.outcome
            while outcome is not None:
                if outcome.profile and outcome.profile not in self.profiles:
                    raise ScenarioError(rule.source, None, f"rule {rule.name}: unknown profile {outcome.profile!r}")
                outcome = outcome.then
        for discovery_rule in self.discovery_rules:
            found: DiscoveryOutcome | None = discovery_rule.outcome
            while found is not None:
                for ref in found.coverages:
                    if self.find_payer(ref.payer_id) is None:
                        raise ScenarioError(
                            discovery_rule.source,
                            None,
                            f"discovery rule {discovery_rule.name}: unknown payer {ref.payer_id!r} (known: {known})",
                        )
                found = found.then

    def recovery(self, seconds: float | None) -> float:
        """How long a `pending` outcome waits: its own `recoverAfter`, else the defaults'."""
        for value in (seconds, self.defaults.recover_after):
            if value is not None:
                return value
        return DEFAULT_RECOVER_AFTER

    def _known_payer(self, payer_id: str, source: str) -> Payer:
        payer = self.find_payer(payer_id)
        if payer is None:
            known = ", ".join(sorted(self.payers)) or "none"
            raise ScenarioError(source, None, f"unknown payer {payer_id!r} (known: {known})")
        return payer

    def _with_payer_ids(self, rule: NetworkRule) -> NetworkRule:
        """A network rule naming payers by alias matches them by the id a verification resolves to."""
        ids = tuple(
            dict.fromkeys(
                self._known_payer(p, f"{rule.source} network rule {rule.name}").payer_id for p in rule.payer_ids
            )
        )
        return replace(rule, payer_ids=ids)

    def network_rule(self, payer_id: str, plan: str | None, state: str, specialty: str) -> NetworkRule | None:
        """The first contract rule that covers this payer, plan, state and specialty."""
        for rule in self.network:
            if rule.matches(payer_id, plan, state, specialty):
                return rule
        return None

    def find_payer(self, payer_id: str) -> Payer | None:
        """By payer id or alias id, case-insensitively, as Sohar accepts either."""
        return self._lookup.get(payer_id.upper())

    def decide(self, fields: Mapping[str, str | None]) -> Decision:
        for rule in self.rules:
            if rule.matches(fields):
                return Decision(rule.outcome, rule)
        return Decision(_ROSTER, None)

    def resolve(
        self,
        outcome: Outcome,
        fields: Mapping[str, str | None],
        today: date,
        rule: str | None = None,
        enrolled: EnrolledCheck | None = None,
    ) -> Resolution:
        """The final answer for an outcome that is not `pending`. Only the roster asks `enrolled`:
        a rule's outcome is what it says, whatever providers are enrolled."""
        payer = self.find_payer(fields["payerId"] or "")
        if payer is None:  # the payer list changed under a live verification
            return Resolution("error.payer", None, Payer(fields["payerId"] or "", fields["payerId"] or ""), rule=rule)
        if outcome.status == ROSTER:
            return self._from_roster(payer, fields, today, rule, enrolled)
        member = self._find_member(payer, fields)
        status = outcome.status
        coverage = None
        if status.startswith("complete."):
            profile = outcome.profile or self.defaults.profile
            coverage = member.coverage if member and not outcome.profile else self.profiles.get(profile or "")
        return self._answer(status, outcome.status_reason, payer, member if coverage else None, coverage, rule)

    def _answer(
        self,
        status: str,
        status_reason: str | None,
        payer: Payer,
        member: Member | None = None,
        coverage: Coverage | None = None,
        rule: str | None = None,
    ) -> Resolution:
        """One shared Resolution per distinct answer: they are immutable, and every stored
        verification holds one, so 100 000 of them need not mean 100 000 copies of a few.
        Keyed by identity: the payer, member and coverage are this set's own objects."""
        key = (status, status_reason, id(payer), id(member), id(coverage), rule)
        found = self._resolutions.get(key)
        if found is None:
            found = self._resolutions[key] = Resolution(status, status_reason, payer, member, coverage, rule)
        return found

    def _find_member(self, payer: Payer, fields: Mapping[str, str | None]) -> Member | None:
        member_id = fields["patient.memberId"] or ""
        for payer_id in (payer.payer_id, *payer.group_of):
            member = self.members.get((payer_id, member_id))
            if member is not None:
                return member
        return None

    def _from_roster(
        self,
        payer: Payer,
        fields: Mapping[str, str | None],
        today: date,
        rule: str | None,
        enrolled: EnrolledCheck | None,
    ) -> Resolution:
        # A payer that needs an NPI on file refuses before it looks the member up.
        if not _provider_on_file(payer.requires_provider, payer, enrolled):
            return self._answer("error.payer.npi", None, payer, rule=rule)
        member = self._find_member(payer, fields)
        if member is None:
            return self._answer("error.member.id", None, payer, rule=rule)
        # A group payer id resolves to the payer that actually holds the member.
        payer = self.payers[member.payer_id]
        if not _provider_on_file(member.requires_provider or payer.requires_provider, payer, enrolled):
            return self._answer("error.payer.npi", None, payer, rule=rule)
        try:
            same_birth_date = parse_date(member.date_of_birth, today) == parse_date(
                fields["patient.dateOfBirth"] or "", today
            )
        except ValueError:
            # Well-formed but impossible (02/31/2000): no member was born that day.
            same_birth_date = False
        if not same_birth_date:
            return self._answer("error.member.dob", None, payer, rule=rule)
        same_name = fold_name(member.first_name) == fold_name(fields["patient.firstName"] or "") and fold_name(
            member.last_name
        ) == fold_name(fields["patient.lastName"] or "")
        if not same_name:
            return self._answer("error.member.name", None, payer, rule=rule)
        coverage = member.coverage
        plan = coverage.plan or {}
        start = parse_date(plan["startDate"], today) if plan.get("startDate") else None
        end = parse_date(plan["endDate"], today) if plan.get("endDate") else None
        if (start and start > today) or (end and end < today):
            return self._answer("complete.ineligible", "INACTIVE", payer, member, coverage, rule)
        covered = coverage.covered_specialties
        if covered is not None and fields["specialtyCode"] not in covered:
            return self._answer("complete.ineligible", "NON_COVERED", payer, member, coverage, rule)
        return self._answer("complete.eligible", None, payer, member, coverage, rule)

    # -- discovery -------------------------------------------------------------------------

    def decide_discovery(self, fields: Mapping[str, str | None]) -> DiscoveryDecision:
        for rule in self.discovery_rules:
            if rule.matches(fields):
                return DiscoveryDecision(rule.outcome, rule)
        return DiscoveryDecision(DiscoveryOutcome(ROSTER), None)

    def discover(
        self, outcome: DiscoveryOutcome, fields: Mapping[str, str | None], today: date, rule: str | None = None
    ) -> DiscoveryResolution:
        """The coverages a final (not `pending`) discovery outcome finds."""
        if outcome.status == ROSTER:
            payer_ids = None
            if fields.get("payerId"):
                payer = self.find_payer(fields["payerId"] or "")
                payer_ids = frozenset((payer.payer_id, *payer.group_of)) if payer else frozenset()
            if self._roster_search is None:
                self._roster_search = RosterSearch(self.members.values())
            found = tuple(
                FoundCoverage(self.payers[m.payer_id], m.member_id, m)
                for m in self._roster_search.search(fields, today, payer_ids)
            )
            return DiscoveryResolution(found, rule)
        return DiscoveryResolution(tuple(self._named(ref) for ref in outcome.coverages), rule)

    def _named(self, ref: CoverageRef) -> FoundCoverage:
        payer = self.find_payer(ref.payer_id)
        if payer is None:  # the payer list changed under a live discovery
            return FoundCoverage(Payer(ref.payer_id, ref.payer_id), ref.member_id, None)
        member = None
        for payer_id in (payer.payer_id, *payer.group_of):
            member = self.members.get((payer_id, ref.member_id))
            if member is not None:
                break
        return FoundCoverage(self.payers[member.payer_id] if member else payer, ref.member_id, member)


def _provider_on_file(kind: str | None, payer: Payer, enrolled: EnrolledCheck | None) -> bool:
    return kind is None or (enrolled is not None and enrolled(kind, payer))
