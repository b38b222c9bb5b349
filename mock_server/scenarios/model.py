"""What a scenario file declares, as plain immutable Python objects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# In place of a status: decide from the members list.
ROSTER = "roster"
# What a payer may need on file before it answers: an individual's (Type 1) NPI or a group's (Type 2).
PROVIDER_KINDS = ("rendering", "group")
NETWORK_STATUSES = ("inn", "oon")
# Sohar's two-letter state codes (its Create Patient and Create Provider enums).
_STATE_CODES = (
    "AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM NV NY "
    "OH OK OR PA RI SC SD TN TX UT VA VT WA WI WV WY"
)
US_STATES = frozenset(_STATE_CODES.split())


@dataclass(frozen=True, slots=True)
class Payer:
    payer_id: str
    payer_name: str
    alias_payer_ids: tuple[str, ...] = ()
    alias_payer_names: tuple[str, ...] = ()
    group_of: tuple[str, ...] = ()
    # "rendering" or "group": without such a provider enrolled, the roster answers error.payer.npi.
    requires_provider: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "payerId": self.payer_id,
            "payerName": self.payer_name,
            "aliasPayerIds": list(self.alias_payer_ids),
            "aliasPayerNames": list(self.alias_payer_names),
        }


@dataclass(frozen=True, slots=True)
class Coverage:
    """The part of a payer's answer that describes a member's plan and benefits."""

    plan: dict[str, Any] | None = None
    group: dict[str, Any] | None = None
    benefits: tuple[dict[str, Any], ...] = ()
    limitations: tuple[dict[str, Any], ...] = ()
    related_entities: tuple[dict[str, Any], ...] = ()
    covered_specialties: frozenset[str] | None = None

    def merged(self, overrides: dict[str, Any]) -> Coverage:
        """This coverage with a member's own keys taking precedence."""
        return Coverage(
            plan=overrides.get("plan", self.plan),
            group=overrides.get("group", self.group),
            benefits=tuple(overrides.get("benefits", self.benefits)),
            limitations=tuple(overrides.get("limitations", self.limitations)),
            related_entities=tuple(overrides.get("relatedEntities", self.related_entities)),
            covered_specialties=(
                frozenset(overrides["coveredSpecialties"])
                if "coveredSpecialties" in overrides
                else self.covered_specialties
            ),
        )


@dataclass(frozen=True, slots=True)
class Member:
    """One record on a payer's roster."""

    member_id: str
    payer_id: str
    first_name: str
    last_name: str
    date_of_birth: str
    coverage: Coverage
    gender: str | None = None
    relationship_code: str | None = None
    address: dict[str, Any] | None = None
    subscriber: dict[str, Any] | None = None
    # The profile is applied when files are combined, since it may live in another file.
    profile: str | None = None
    own_coverage: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    # A plan that needs an enrolled provider though its payer as a whole does not.
    requires_provider: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a rule decides: a status (or `roster`), its timing and what follows `pending`."""

    status: str
    status_reason: str | None = None
    delay: float | None = None
    recover_after: float | None = None
    then: Outcome | None = None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class Matcher:
    path: str
    values: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.pattern is not None:
            return self.pattern.fullmatch(value) is not None
        return value in self.values


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    matchers: tuple[Matcher, ...]
    outcome: Outcome
    source: str

    def matches(self, fields: Mapping[str, str | None]) -> bool:
        return all(m.matches(fields.get(m.path)) for m in self.matchers)


@dataclass(frozen=True, slots=True)
class CoverageRef:
    """A coverage a discovery outcome names: a payer and the member id it knows the patient by."""

    payer_id: str
    member_id: str


@dataclass(frozen=True, slots=True)
class DiscoveryOutcome:
    """What a discovery rule decides: `complete` with its coverages, `roster` (search the
    members), or `pending` first and what follows after `recover_after`."""

    status: str
    coverages: tuple[CoverageRef, ...] = ()
    delay: float | None = None
    recover_after: float | None = None
    then: DiscoveryOutcome | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryRule:
    name: str
    matchers: tuple[Matcher, ...]
    outcome: DiscoveryOutcome
    source: str

    def matches(self, fields: Mapping[str, str | None]) -> bool:
        return all(m.matches(fields.get(m.path)) for m in self.matchers)


@dataclass(frozen=True, slots=True)
class DeclaredProvider:
    """A provider enrolled from a scenario file, as if in Sohar's dashboard: it outlives a reset."""

    provider_id: str
    environment: str
    npi: str
    payer_id: str
    state: str
    kind: str
    provider_group_id: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    color: str


@dataclass(frozen=True, slots=True)
class ProviderGroup:
    id: str
    name: str
    tin: str
    status: str


@dataclass(frozen=True, slots=True)
class NetworkRule:
    """A contract rule: where it applies (payers, plans, states, specialties; empty = any) and its answer."""

    name: str
    payer_ids: tuple[str, ...]
    plans: tuple[str, ...]
    states: tuple[str, ...]
    specialties: tuple[str, ...]
    status: str
    labels: tuple[Label, ...]
    provider_groups: tuple[ProviderGroup, ...]
    source: str

    def matches(self, payer_id: str, plan: str | None, state: str, specialty: str) -> bool:
        return (
            (not self.payer_ids or payer_id in self.payer_ids)
            and (not self.plans or (plan is not None and plan.casefold() in self.plans))
            and (not self.states or state in self.states)
            and (not self.specialties or specialty in self.specialties)
        )


@dataclass(frozen=True, slots=True)
class Defaults:
    delay: float | None = None
    recover_after: float | None = None
    profile: str | None = None


@dataclass(frozen=True)
class ScenarioFile:
    """One loaded file; `source` names it in messages (a path, or a name given at upload)."""

    source: str
    name: str
    description: str = ""
    defaults: Defaults = field(default_factory=Defaults)
    payers: tuple[Payer, ...] = ()
    profiles: dict[str, Coverage] = field(default_factory=dict)
    members: tuple[Member, ...] = ()
    rules: tuple[Rule, ...] = ()
    discovery_rules: tuple[DiscoveryRule, ...] = ()
    providers: tuple[DeclaredProvider, ...] = ()
    network: tuple[NetworkRule, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "description": self.description,
            "payers": len(self.payers),
            "profiles": len(self.profiles),
            "members": len(self.members),
            "rules": [rule.name for rule in self.rules],
            "discoveryRules": [rule.name for rule in self.discovery_rules],
            "providers": len(self.providers),
            "network": [rule.name for rule in self.network],
        }
