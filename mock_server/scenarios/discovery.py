"""Discovery as a payer network answers it: the roster searched by name and date of birth."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ..limits import MAX_DISCOVERY_COVERAGES
from .dates import parse_date
from .model import DiscoveryOutcome, DiscoveryRule, Member, Payer
from .names import fold_name


@dataclass(frozen=True, slots=True)
class FoundCoverage:
    """One coverage a discovery found: the payer, the member id it knows the patient by and,
    when the roster holds that member, the payer's record of them (updated demographics)."""

    payer: Payer
    member_id: str
    member: Member | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryResolution:
    coverages: tuple[FoundCoverage, ...]
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoveryDecision:
    outcome: DiscoveryOutcome
    rule: DiscoveryRule | None


def _zip5(zip_code: str) -> str:
    """`90210-1234` and `90210` are the same place to a payer."""
    return zip_code[:5]


class RosterSearch:
    """Members by folded name, so a search reads only the namesakes, whatever the roster's size."""

    def __init__(self, members: Iterable[Member]) -> None:
        self._by_name: dict[tuple[str, str], list[Member]] = {}
        for member in members:
            key = (fold_name(member.first_name), fold_name(member.last_name))
            self._by_name.setdefault(key, []).append(member)

    def search(self, fields: Mapping[str, str | None], today: date, payer_ids: frozenset[str] | None) -> list[Member]:
        """Members with the patient's name (folded) and exact date of birth, in roster order.

        `payer_ids` (the request's payer and the payers it groups), the state and the zip code
        narrow the matches; a member whose record lacks a state or zip is not ruled out by it.
        At most MAX_DISCOVERY_COVERAGES.
        """
        key = (fold_name(fields.get("patient.firstName") or ""), fold_name(fields.get("patient.lastName") or ""))
        namesakes = self._by_name.get(key, ())
        if not namesakes:
            return []
        try:
            born = parse_date(fields.get("patient.dateOfBirth") or "", today)
        except ValueError:
            return []  # well-formed but impossible (02/31/2000): nobody was born that day
        state = fields.get("patient.state")
        zip_code = fields.get("patient.zipCode")
        found: list[Member] = []
        for member in namesakes:
            if payer_ids is not None and member.payer_id not in payer_ids:
                continue
            if parse_date(member.date_of_birth, today) != born:
                continue
            address = member.address or {}
            if state and address.get("state") and address["state"] != state:
                continue
            if zip_code and address.get("zipCode") and _zip5(str(address["zipCode"])) != _zip5(zip_code):
                continue
            found.append(member)
            if len(found) == MAX_DISCOVERY_COVERAGES:
                break
        return found
