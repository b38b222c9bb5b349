"""A partner's roster as plain immutable objects: people, their coverages and their families."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..scenarios.dates import parse_iso_date

# X12 individual relationship codes: 98point6's appendix lists 18, 01, 19, 23 and 09; its
# dictionary's stray pattern adds 10, 25 and 53, which X12 names as below.
RELATIONSHIPS = {
    "18": "self",
    "01": "spouse",
    "19": "child",
    "23": "covered dependent",
    "09": "adopted child",
    "10": "foster child",
    "25": "ex-spouse",
    "53": "life partner",
}
SELF = "18"
SUBSCRIPTION_TYPES = ("HSA", "PPO", "HMO", "EPO", "UNKNOWN", "UNINSURED")
REFERRAL_TIERS = (
    "NO_COORDINATION",
    "RESOURCE_LINK",
    "REFER_TO_CENTRAL_COORDINATOR",
    "COORDINATED",
    "COORDINATED_PLUS_FOLLOWUP",
)
# 98point6 leaves the age of majority to the partner; 18 is the common one.
MAJORITY_AGE = 18


@dataclass(frozen=True, slots=True)
class Address:
    address1: str
    city: str
    state: str
    zip: str
    address2: str | None = None

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Address:
        return cls(raw["address1"], raw["city"], raw["state"], raw["zip"], raw.get("address2"))


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on the roster, once, however many coverages they hold."""

    # The memberId of the coverage entry that describes them.
    key: str
    first_name: str
    last_name: str
    # YYYY-MM-DD, or relative to the mock clock's today (`today-15y`), so a minor stays one.
    birth_date: str
    sex: str
    address: Address
    prefix: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    home_phone: str | None = None
    cell_phone: str | None = None
    work_phone: str | None = None
    email: str | None = None
    language: str | None = None
    # A confirmation value; never part of an answer.
    last4_ssn: str | None = None
    source: str = ""

    def born(self, today: date) -> date:
        return parse_iso_date(self.birth_date, today)

    def is_minor(self, today: date) -> bool:
        born = self.born(today)
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        return age < MAJORITY_AGE


@dataclass(frozen=True, slots=True)
class Enrollment:
    """One coverage: a person's place in one family's plan."""

    member_id: str
    relationship: str
    family_id: str
    # The person is described here, or (`samePersonAs`) on the entry with this memberId.
    person: Person | None
    same_person_as: str | None = None
    rank: int | None = None
    eligible_from: str | None = None
    # Inclusive: the coverage is still active that day.
    eligible_until: str | None = None
    # For a minor: the memberIds of this family with medical access to them (None: every adult's).
    access_by: frozenset[str] | None = None
    source: str = ""

    @property
    def person_key(self) -> str:
        return self.same_person_as or self.member_id

    def active_on(self, today: date) -> bool:
        start = parse_iso_date(self.eligible_from, today) if self.eligible_from else None
        end = parse_iso_date(self.eligible_until, today) if self.eligible_until else None
        return (start is None or start <= today) and (end is None or today <= end)


@dataclass(frozen=True, slots=True)
class Family:
    """A subscriber's plan: the primary (relationship 18) and their dependents."""

    family_id: str
    subscription_type: str
    members: tuple[Enrollment, ...]
    primary: Enrollment
    group_id: str | None = None
    plan_type: str | None = None
    employer_name: str | None = None
    employer_id: str | None = None
    referral_tier: str | None = None
    source: str = ""


@dataclass(frozen=True)
class RosterFile:
    """What one scenario file's `partner:` section declares."""

    source: str
    partner_name: str | None
    partner_id: str | None
    families: tuple[Family, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "families": len(self.families),
            "coverages": sum(len(family.members) for family in self.families),
        }
