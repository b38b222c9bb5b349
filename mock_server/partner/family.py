"""Who a matched patient may see: 98point6's visibility rules over a partner's families.

- through a coverage where they are the primary (18): everyone of that family who is eligible,
  adults all, minors when the patient has medical access to them;
- through a coverage where they are an adult dependent: themself and the minors they have
  access to, never the primary nor the other adult dependents;
- through a coverage where they are a minor: themself only.
A minor's `accessBy` lists who has access; without it every adult of the family has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from .model import SELF, Enrollment, Person
from .roster import Roster, rank_order

Eligible = Callable[[Enrollment], bool]


def may_access(viewer: Enrollment, minor: Enrollment) -> bool:
    return minor.access_by is None or viewer.member_id in minor.access_by


def visible_through(roster: Roster, viewer: Enrollment, today: date, eligible: Eligible) -> list[Enrollment]:
    """The entries one of the patient's coverages shows: the patient's own first, then the family's."""
    if roster.person_of(viewer).is_minor(today):
        return [viewer]
    seen = [viewer]
    for other in roster.family_of(viewer).members:
        if other is viewer or not eligible(other):
            continue
        if roster.person_of(other).is_minor(today):
            if may_access(viewer, other):
                seen.append(other)
        elif viewer.relationship == SELF:
            seen.append(other)
    return seen


def family_view(roster: Roster, patient: Person, today: date, eligible: Eligible) -> list[Enrollment]:
    """Every entry the patient may see, through each eligible coverage of theirs, highest priority first.

    A person met through two of the patient's coverages appears once per coverage of their own,
    and a person's entries are listed in ascending rank wherever they fall in the list.
    """
    entries: list[Enrollment] = []
    listed: set[str] = set()
    for coverage in roster.coverages(patient):
        if not eligible(coverage):
            continue
        for entry in visible_through(roster, coverage, today, eligible):
            if entry.member_id not in listed:
                listed.add(entry.member_id)
                entries.append(entry)
    return _ranked_per_person(entries)


def _ranked_per_person(entries: list[Enrollment]) -> list[Enrollment]:
    """Each person's entries put in rank order into the places that person's entries hold."""
    places: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        places.setdefault(entry.person_key, []).append(index)
    ordered = list(entries)
    for indexes in places.values():
        if len(indexes) > 1:
            ranked = sorted((entries[i] for i in indexes), key=rank_order)
            for index, entry in zip(indexes, ranked, strict=True):
                ordered[index] = entry
    return ordered
