"""Search and check, as 98point6 asks a partner to answer them (the reconciled state machine in
openapi/partner-eligibility.yaml): plain Python, no HTTP."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..errors import InvalidRequest, NotFound
from .family import family_view
from .model import Enrollment, Person
from .render import member_object
from .roster import Roster

# The fields a final search adds to name and birth date; any of them confirms who the patient is.
CONFIRMATION_FIELDS = ("last4Ssn", "email", "memberId")
# What a patient can be asked to tell namesakes apart (98point6's own examples): a memberId is
# not counted, since the search exists to find it.
DISAMBIGUATING_FIELDS = ("last4Ssn", "email")


def _text(body: Mapping[str, Any], field: str, required: bool) -> str | None:
    """A field's text; a 400 naming it when it is missing or not text (request checks may be off)."""
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequest(field, f"{field} must be a non-empty string")
    return value


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("body", "the body must be a JSON object")
    return body


@dataclass(frozen=True, slots=True)
class Query:
    """A search: name and birth date, and for a final search the confirmation fields given."""

    first_name: str
    last_name: str
    birth_date: str
    confirmations: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_body(cls, body: Any) -> Query:
        body = _object(body)
        first, last, born = (_text(body, f, required=True) for f in ("firstName", "lastName", "birthDate"))
        given = tuple((f, value) for f in CONFIRMATION_FIELDS if (value := _text(body, f, required=False)) is not None)
        return cls(str(first), str(last), str(born), given)

    @property
    def is_preliminary(self) -> bool:
        return not self.confirmations


def member_id_of(body: Any) -> str:
    return str(_text(_object(body), "memberId", required=True))


@dataclass(frozen=True, slots=True)
class Answer:
    match_found: bool
    can_disambiguate: bool
    members: tuple[dict[str, Any], ...] = ()

    def to_api(self) -> dict[str, Any]:
        # Always an array, also where 98point6's table says "do not return members property".
        return {"matchFound": self.match_found, "canDisambiguate": self.can_disambiguate, "members": list(self.members)}


NO_MATCH = Answer(False, False)


def _value(person: Person, roster: Roster, field: str) -> set[str]:
    """What the roster holds for a confirmation field, compared as the field is compared."""
    if field == "last4Ssn":
        return {person.last4_ssn} if person.last4_ssn else set()
    if field == "email":
        return {_email(person.email)} if person.email else set()
    return {e.member_id for e in roster.coverages(person)}


def _email(text: str) -> str:
    return text.strip().casefold()


def _given(field: str, value: str) -> str:
    return _email(value) if field == "email" else value


def confirms(person: Person, roster: Roster, confirmations: Sequence[tuple[str, str]]) -> bool:
    """Every confirmation field given matches what the roster holds for the person, exactly."""
    return all(_given(field, value) in _value(person, roster, field) for field, value in confirmations)


def tells_apart(candidates: Sequence[Person], roster: Roster) -> bool:
    """Whether a patient's answer to one disambiguating field could single out one of them."""
    for field in DISAMBIGUATING_FIELDS:
        # A person holds at most one value of these fields: a value held once singles its holder out.
        held = Counter(value for person in candidates for value in _value(person, roster, field))
        if 1 in held.values():
            return True
    return False


class PartnerEligibility:
    """The partner's answers over the roster in force, on the mock clock's today.

    `force` makes a coverage eligible or not whatever its dates say, until `reset`.
    """

    def __init__(self, roster: Callable[[], Roster], today: Callable[[], date]) -> None:
        self._roster = roster
        self._today = today
        self._forced: dict[str, bool] = {}

    @property
    def roster(self) -> Roster:
        return self._roster()

    def today(self) -> date:
        return self._today()

    def eligible(self, enrollment: Enrollment, today: date) -> bool:
        forced = self._forced.get(enrollment.member_id)
        return enrollment.active_on(today) if forced is None else forced

    def forced(self, member_id: str) -> bool | None:
        return self._forced.get(member_id)

    def is_eligible_person(self, roster: Roster, person: Person, today: date) -> bool:
        return any(self.eligible(e, today) for e in roster.coverages(person))

    def candidates(self, query: Query, roster: Roster, today: date) -> list[Person]:
        """The eligible people answering to the query's name and born on its birth date."""
        try:
            born = date.fromisoformat(query.birth_date)
        except ValueError:  # the schema's `format: date` admits a year 0000 no calendar has
            return []
        return [
            person
            for person in roster.namesakes(query.first_name, query.last_name)
            if person.born(today) == born and self.is_eligible_person(roster, person, today)
        ]

    def search(self, query: Query) -> Answer:
        roster, today = self.roster, self.today()
        candidates = self.candidates(query, roster, today)
        if not candidates:
            return NO_MATCH
        if query.is_preliminary:
            # One namesake can always be confirmed (by a memberId if nothing else is on file).
            return Answer(True, len(candidates) == 1 or tells_apart(candidates, roster))
        confirmed = [p for p in candidates if confirms(p, roster, query.confirmations)]
        if not confirmed:
            # 98point6 leaves it open; no match leaks nothing about who is on the roster.
            return NO_MATCH
        if len(confirmed) > 1:
            return Answer(True, tells_apart(confirmed, roster))
        return self.answer_for(confirmed[0], roster, today)

    def check(self, member_id: str) -> Answer:
        roster, today = self.roster, self.today()
        enrollment = roster.enrollments.get(member_id)
        if enrollment is None:
            return NO_MATCH
        person = roster.person_of(enrollment)
        if not self.is_eligible_person(roster, person, today):
            return NO_MATCH
        return self.answer_for(person, roster, today)

    def answer_for(self, person: Person, roster: Roster, today: date) -> Answer:
        """A definitive match: the person and the family they may see."""

        def eligible(enrollment: Enrollment) -> bool:
            return self.eligible(enrollment, today)

        entries = family_view(roster, person, today, eligible)
        return Answer(True, False, tuple(member_object(roster, entry, today) for entry in entries))

    def force(self, member_id: str, eligible: bool | None) -> Enrollment:
        """Make a coverage eligible (True) or not (False) whatever its dates, or follow them again (None)."""
        enrollment = self.roster.enrollments.get(member_id)
        if enrollment is None:
            raise NotFound("memberId", f"no coverage with memberId {member_id} on the partner roster")
        if eligible is None:
            self._forced.pop(member_id, None)
        else:
            self._forced[member_id] = eligible
        return enrollment

    def reset(self) -> None:
        self._forced.clear()
