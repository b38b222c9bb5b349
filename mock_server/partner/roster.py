"""A partner's whole roster, combined from every loaded file and indexed for its two questions:
who answers to this name (search), and who holds this memberId (check)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .model import Enrollment, Family, Person
from .names import fold_partner_name


def rank_order(enrollment: Enrollment) -> tuple[int, int]:
    """Highest priority first (rank 1 before rank 2); unranked last: a person with one coverage may leave rank out."""
    return (0, enrollment.rank) if enrollment.rank is not None else (1, 0)


class Roster:
    def __init__(
        self,
        partner_name: str,
        partner_id: str,
        families: Mapping[str, Family],
        people: Mapping[str, Person],
        coverages: Mapping[str, Sequence[Enrollment]],
    ) -> None:
        self.partner_name = partner_name
        self.partner_id = partner_id
        self.families = dict(families)
        self.people = dict(people)
        self.enrollments = {e.member_id: e for family in self.families.values() for e in family.members}
        # Highest priority first (rank 1 before rank 2).
        self._coverages = {key: tuple(sorted(held, key=rank_order)) for key, held in coverages.items()}
        # By folded name only: birth dates may be relative to the mock clock's today, so the
        # date is compared per search, among the few people who share a name.
        self._by_name: dict[tuple[str, str], list[Person]] = {}
        for person in self.people.values():
            key = (fold_partner_name(person.first_name), fold_partner_name(person.last_name))
            self._by_name.setdefault(key, []).append(person)

    def summary(self) -> dict[str, int]:
        return {"families": len(self.families), "people": len(self.people), "coverages": len(self.enrollments)}

    def namesakes(self, first_name: str, last_name: str) -> Sequence[Person]:
        return self._by_name.get((fold_partner_name(first_name), fold_partner_name(last_name)), ())

    def coverages(self, person: Person) -> tuple[Enrollment, ...]:
        """The person's coverages, highest priority (lowest rank) first."""
        return self._coverages[person.key]

    def person_of(self, enrollment: Enrollment) -> Person:
        return self.people[enrollment.person_key]

    def family_of(self, enrollment: Enrollment) -> Family:
        return self.families[enrollment.family_id]


EMPTY = Roster("", "", {}, {}, {})
