"""Properties of the partner API, over loopback, for inputs nobody wrote down (hypothesis).

- however a roster name is spelled (case, accents, hyphens, apostrophes, a suffix), it finds its
  person;
- a preliminary search never returns member data, whatever it is sent;
- a final search returns members only when its confirmation value is the one on file;
- forced coverage, the mock clock and resets, interleaved at random, never make a check or a
  search disagree with a model of who is eligible (stateful).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mock_server.testing import RunningMock

SEARCH = "/v1/eligibility/search"
CHECK = "/v1/eligibility/check"
SETTINGS = hypothesis.settings(
    max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
SUFFIXES = ("Jr", "Jr.", ", Jr.", "JR", "Sr.", "II", "iii", "IV", "2nd", "3rd")


@dataclass(frozen=True)
class Coverage:
    member_id: str
    person: str  # the memberId of the entry that describes the person
    first_name: str
    last_name: str
    birth_date: str
    email: str | None
    last4_ssn: str | None
    eligible_from: str | None
    eligible_until: str | None


def listing(mock: RunningMock) -> tuple[date, list[Coverage]]:
    body = mock.http.get("/__admin/partner/roster").json()
    coverages = [
        Coverage(
            m["memberId"],
            m["samePersonAs"] or m["memberId"],
            m["firstName"],
            m["lastName"],
            m["birthDate"],
            m["email"],
            m["last4Ssn"],
            m["eligibleFrom"],
            m["eligibleUntil"],
        )
        for family in body["families"]
        for m in family["members"]
    ]
    return date.fromisoformat(body["today"]), coverages


@pytest.fixture
def shared(mock: RunningMock) -> RunningMock:
    """The session's mock, reset: nothing another test left (forced coverage, files, clock) counts."""
    return mock


@pytest.fixture
def people(shared: RunningMock) -> list[Coverage]:
    """One coverage per eligible person of the default roster (each a person's describing entry)."""
    return [c for c in listing(shared)[1] if c.person == c.member_id and c.member_id != "EVG-500-01"]


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@st.composite
def spelled(draw: st.DrawFn, name: str, *, suffix: bool) -> str:
    """The same name as a careless or different system would write it."""
    letters = draw(st.sampled_from([name, _strip_accents(name)]))
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in letters)
    # Punctuation inside a word (never a space: a space would make a new word, maybe a suffix).
    out = ""
    for char in cased:
        out += char + draw(st.sampled_from(["", "", "", "-", "'", "."]))
    if suffix and draw(st.booleans()):
        chosen = draw(st.sampled_from(SUFFIXES))
        out += chosen if chosen.startswith(",") else f" {chosen}"
    pad = draw(st.sampled_from(["", " ", "  "]))
    return f"{pad}{out}{pad}"


def post(mock: RunningMock, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = mock.http.post(path, json=body)
    assert response.status_code == 200, (body, response.text)
    return dict(response.json())


def test_any_spelling_of_a_roster_name_finds_its_person(shared: RunningMock, people: list[Coverage]) -> None:
    @SETTINGS
    @hypothesis.given(data=st.data())
    def property_(data: st.DataObject) -> None:
        person = data.draw(st.sampled_from(people))
        first = data.draw(spelled(person.first_name, suffix=False))
        last = data.draw(spelled(person.last_name, suffix=True))
        found = post(shared, SEARCH, {"firstName": first, "lastName": last, "birthDate": person.birth_date})
        assert found["matchFound"] is True and found["members"] == []
        confirmed = post(
            shared,
            SEARCH,
            {"firstName": first, "lastName": last, "birthDate": person.birth_date, "memberId": person.member_id},
        )
        assert person.member_id in [m["uniqueIdentifier"]["memberId"] for m in confirmed["members"]]

    property_()


CONFIRMATIONS = ("last4Ssn", "email", "memberId")


def test_a_preliminary_search_never_returns_members(shared: RunningMock, people: list[Coverage]) -> None:
    names = st.sampled_from([p.first_name for p in people] + [p.last_name for p in people])
    free_text = st.text(min_size=1, max_size=100)
    born = st.one_of(st.sampled_from([p.birth_date for p in people]), st.dates().map(date.isoformat))
    extra = st.dictionaries(
        st.text(max_size=10).filter(lambda key: key not in {"firstName", "lastName", "birthDate", *CONFIRMATIONS}),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        max_size=3,
    )

    @st.composite
    def someone_on_the_roster(draw: st.DrawFn) -> tuple[str, str, str]:
        person = draw(st.sampled_from(people))
        return (
            draw(spelled(person.first_name, suffix=False)),
            draw(spelled(person.last_name, suffix=True)),
            person.birth_date,
        )

    # Half the searches name someone on the roster (who could be leaked), half anything at all.
    searched = st.one_of(
        someone_on_the_roster(), st.tuples(st.one_of(names, free_text), st.one_of(names, free_text), born)
    )

    @SETTINGS
    @hypothesis.given(searched=searched, extra=extra)
    def property_(searched: tuple[str, str, str], extra: dict[str, Any]) -> None:
        first, last, birth_date = searched
        found = post(shared, SEARCH, {**extra, "firstName": first, "lastName": last, "birthDate": birth_date})
        assert found["members"] == []
        assert found["canDisambiguate"] is False or found["matchFound"] is True

    property_()


def _on_file(person: Coverage, field: str, value: str, coverages: list[Coverage]) -> bool:
    if field == "last4Ssn":
        return value == person.last4_ssn
    if field == "email":
        return person.email is not None and value.strip().casefold() == person.email.casefold()
    return any(c.member_id == value and c.person == person.person for c in coverages)


def test_a_final_search_returns_members_only_for_the_value_on_file(shared: RunningMock, people: list[Coverage]) -> None:
    coverages = listing(shared)[1]

    @SETTINGS
    @hypothesis.given(data=st.data())
    def property_(data: st.DataObject) -> None:
        person = data.draw(st.sampled_from(people))
        field = data.draw(st.sampled_from(CONFIRMATIONS))
        held = {"last4Ssn": person.last4_ssn, "email": person.email, "memberId": person.member_id}[field]
        near = [held, held.upper(), held[:-1], held + "0", f" {held} "] if held else []
        others = [
            c.last4_ssn if field == "last4Ssn" else c.email if field == "email" else c.member_id for c in coverages
        ]
        usable = [v for v in [*near, *others] if v and (field != "last4Ssn" or re.fullmatch(r"[0-9]{4}", v))]
        value = data.draw(
            st.one_of(
                st.sampled_from(usable),
                st.from_regex(r"\A[0-9]{4}\Z") if field == "last4Ssn" else st.text(min_size=1, max_size=20),
            )
        )
        body = {"firstName": person.first_name, "lastName": person.last_name, "birthDate": person.birth_date}
        found = post(shared, SEARCH, {**body, field: value})
        if found["members"]:
            assert _on_file(person, field, value, coverages) or any(
                _on_file(other, field, value, coverages)
                for other in people
                if (other.first_name, other.last_name, other.birth_date) == tuple(body.values())
            ), (field, value)
            assert found["matchFound"] is True and found["canDisambiguate"] is False
        elif _on_file(person, field, value, coverages) and not (field == "email" and person.last_name == "Morgan"):
            # Only the two Alex Morgans share a value (a household email): elsewhere what is on file confirms.
            pytest.fail(f"{field}={value!r} is on file for {person.member_id} yet found no members: {found}")

    property_()


# -- stateful: forced coverage, the clock and resets against a model of eligibility ---------------

_RELATIVE = re.compile(r"^today(?:([+-])(\d+)([dy]))?$")


def _day(text: str | None, today: date) -> date | None:
    """The test's own reading of a roster date (the defaults use only `today±Nd` and `today±Ny`)."""
    if text is None:
        return None
    match = _RELATIVE.match(text)
    if match is None:
        return date.fromisoformat(text)
    sign, amount, unit = match.groups()
    if sign is None:
        return today
    n = int(amount) * (1 if sign == "+" else -1)
    if unit == "d":
        return today + timedelta(days=n)
    try:
        return today.replace(year=today.year + n)
    except ValueError:  # 29 February in a year without one: the 28th, as the mock counts
        return today.replace(year=today.year + n, day=28)


def timed_family(today: date) -> str:
    """Coverages with absolute dates around today, so advancing the clock starts and ends them."""

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    return f"""
partner:
  families:
    - id: timed
      subscriptionType: PPO
      address: {{address1: 3 Oak Rd, city: Reno, state: NV, zip: "89501"}}
      members:
        - {{memberId: T-1, relationship: "18", firstName: Vera, lastName: Timed, birthDate: "1960-03-03", sex: F,
           last4Ssn: "1001", eligibleFrom: "{day(2)}", eligibleUntil: "{day(6)}"}}
        - {{memberId: T-2, relationship: "01", firstName: Walt, lastName: Timed, birthDate: "1961-04-04", sex: M,
           last4Ssn: "1002", eligibleUntil: "{day(3)}", rank: 1}}
        - {{memberId: T-3, relationship: "19", firstName: Xena, lastName: Timed, birthDate: "2015-05-05", sex: F,
           eligibleFrom: "{day(-1)}"}}
    - id: timed-walt
      subscriptionType: HMO
      members:
        - {{memberId: T-4, relationship: "18", samePersonAs: T-2, rank: 2, eligibleFrom: "{day(5)}"}}
"""


@pytest.fixture(scope="module")
def model_mock() -> Iterator[RunningMock]:
    with RunningMock(freeze_clock=True, validate_responses=True) as mock:
        yield mock
    assert mock.core.contract_violations == []


def test_eligibility_follows_its_model(model_mock: RunningMock) -> None:
    mock = model_mock

    class EligibilityModel(RuleBasedStateMachine):
        @initialize()
        def start_clean(self) -> None:
            self.restart()

        def restart(self) -> None:
            assert mock.http.post("/__admin/reset").status_code == 200
            today = date.fromisoformat(mock.http.get("/__admin/partner/roster").json()["today"])
            loaded = mock.http.post("/__admin/scenarios", params={"name": "timed.yaml"}, content=timed_family(today))
            assert loaded.status_code == 201, loaded.text
            self.start, self.coverages = listing(mock)
            self.days = 0
            self.forced: dict[str, bool] = {}

        @property
        def today(self) -> date:
            return self.start + timedelta(days=self.days)

        def eligible(self, coverage: Coverage) -> bool:
            if coverage.member_id in self.forced:
                return self.forced[coverage.member_id]
            start = _day(coverage.eligible_from, self.today)
            end = _day(coverage.eligible_until, self.today)
            return (start is None or start <= self.today) and (end is None or self.today <= end)

        def person_eligible(self, person: str) -> bool:
            return any(self.eligible(c) for c in self.coverages if c.person == person)

        @rule(index=st.integers(min_value=0, max_value=100), eligible=st.sampled_from([True, False, None]))
        def force(self, index: int, eligible: bool | None) -> None:
            member_id = self.coverages[index % len(self.coverages)].member_id
            response = mock.http.post(f"/__admin/partner/coverage/{member_id}", json={"eligible": eligible})
            assert response.status_code == 200
            if eligible is None:
                self.forced.pop(member_id, None)
            else:
                self.forced[member_id] = eligible
            assert response.json()["eligible"] is self.eligible(
                next(c for c in self.coverages if c.member_id == member_id)
            )

        @rule(days=st.integers(min_value=0, max_value=4))
        def advance(self, days: int) -> None:
            assert mock.http.post("/__admin/clock/advance", json={"seconds": days * 86_400}).status_code == 200
            self.days += days

        @rule()
        def reset(self) -> None:
            self.restart()

        @invariant()
        def check_and_search_agree_with_the_model(self) -> None:
            if not hasattr(self, "coverages"):
                return
            # Birth dates written relative to today move with the clock: read them as they are now.
            born = {c.member_id: c.birth_date for c in listing(mock)[1]}
            for coverage in self.coverages:
                answer = post(mock, CHECK, {"memberId": coverage.member_id})
                listed = [m["uniqueIdentifier"]["memberId"] for m in answer["members"]]
                expected = self.person_eligible(coverage.person)
                assert answer["matchFound"] is expected, (coverage.member_id, self.days, self.forced)
                own = [c.member_id for c in self.coverages if c.person == coverage.person and self.eligible(c)]
                assert set(own) <= set(listed), (coverage.member_id, own, listed)
                by_id = {c.member_id: c for c in self.coverages}
                assert all(self.eligible(by_id[m]) for m in listed), (coverage.member_id, listed, self.forced)
                if coverage.person == coverage.member_id:
                    name = {"firstName": coverage.first_name, "lastName": coverage.last_name}
                    found = post(mock, SEARCH, {**name, "birthDate": born[coverage.member_id]})
                    namesakes = [
                        c.person
                        for c in self.coverages
                        if c.person == c.member_id
                        and (c.first_name, c.last_name, born[c.member_id])
                        == (coverage.first_name, coverage.last_name, born[coverage.member_id])
                    ]
                    assert found["matchFound"] is any(self.person_eligible(p) for p in namesakes)
                    assert found["members"] == []

    EligibilityModel.TestCase.settings = hypothesis.settings(
        max_examples=20,
        stateful_step_count=10,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    EligibilityModel.TestCase().runTest()
