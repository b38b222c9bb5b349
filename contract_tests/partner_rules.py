"""The partner eligibility contract's rules that no schema can express, as plain functions.

Each rule has a name (what a failure prints) and a one-line statement. `answer_breaches` holds
a search or check answer to the rules every answer keeps, whatever the partner's data; the
suite (`contract_tests.partner`) runs it over every response schemathesis provokes and over its
own probes, which add the rules that need a known member.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

SEARCH_PATH = "/v1/eligibility/search"
CHECK_PATH = "/v1/eligibility/check"
CONFIRMATION_FIELDS = ("last4Ssn", "email", "memberId")

PRELIMINARY_NO_MEMBERS = "preliminary-search-returns-no-members"
NO_MEMBERS_WITHOUT_MATCH = "no-members-without-a-definitive-match"
ISO_DATES = "member-birth-dates-are-iso"
RANK_ORDER = "ranks-order-a-persons-coverages"
PRIMARY_ID = "primary-id-marks-the-subscriber"
NO_SSN = "answers-carry-no-ssn"
FINAL_FAMILY = "final-search-returns-the-family"
WRONG_CONFIRMATION = "wrong-confirmation-leaks-nothing"
CHECK_AS_SEARCH = "check-answers-as-search"
API_KEY = "api-key-required"
PROBE_FOUND = "probe-member-is-found"
GENEROUS_NAMES = "names-match-generously"

RULES: dict[str, str] = {
    PRELIMINARY_NO_MEMBERS: "a search with only firstName, lastName and birthDate returns no member data",
    NO_MEMBERS_WITHOUT_MATCH: "matchFound false, or canDisambiguate true, comes with no members",
    ISO_DATES: "every member's birthDate is a calendar date written YYYY-MM-DD",
    RANK_ORDER: "a person listed more than once has a distinct rank on each entry, in ascending order",
    PRIMARY_ID: "primaryId is the member's own memberId exactly when relationship is 18 (self)",
    NO_SSN: "no member object carries last4Ssn or an SSN",
    FINAL_FAMILY: "a final search that confirms the probe member answers true/false with their entry",
    WRONG_CONFIRMATION: "a final search with a wrong confirmation value returns no member data",
    CHECK_AS_SEARCH: "check with a memberId the final search returned answers with the same members",
    API_KEY: "without the API key, the partner refuses the call (401 or 403)",
    PROBE_FOUND: "the probe member given with --probe is found by a preliminary search",
    GENEROUS_NAMES: "(recommended) case, hyphens, accents and suffixes do not change who a name finds",
}
# Rules 98point6 only recommends: reported, never failing the run.
ADVISORY = frozenset({GENEROUS_NAMES})

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SSN_KEYS = frozenset({"last4ssn", "ssn", "socialsecuritynumber"})


@dataclass(frozen=True)
class Breach:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def is_preliminary(body: Any) -> bool:
    """A search body naming no confirmation field."""
    return isinstance(body, Mapping) and not any(body.get(field) not in (None, "") for field in CONFIRMATION_FIELDS)


def members_of(answer: Any) -> list[Any]:
    """The answer's members; a missing `members` is an empty list (98point6's table omits it)."""
    if not isinstance(answer, Mapping):
        return []
    members = answer.get("members")
    return members if isinstance(members, list) else []


def member_id(member: Any) -> str | None:
    if isinstance(member, Mapping) and isinstance(member.get("uniqueIdentifier"), Mapping):
        value = member["uniqueIdentifier"].get("memberId")
        return value if isinstance(value, str) else None
    return None


def fold(name: Any) -> str:
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    return re.sub(r"[^0-9a-z]", "", text)


def same_person(member: Mapping[str, Any]) -> tuple[str, str, str]:
    return fold(member.get("firstName", "")), fold(member.get("lastName", "")), str(member.get("birthDate", ""))


def answer_breaches(operation: str, request_body: Any, answer: Any) -> list[Breach]:
    """What a 200 answer to `search` or `check` breaks of the rules every answer keeps."""
    members = members_of(answer)
    breaches: list[Breach] = []
    if operation == "search" and is_preliminary(request_body) and members:
        breaches.append(
            Breach(
                PRELIMINARY_NO_MEMBERS,
                f"a preliminary search (no confirmation field) returned {len(members)} member(s)",
            )
        )
    if isinstance(answer, Mapping) and members:
        if answer.get("matchFound") is False:
            breaches.append(
                Breach(NO_MEMBERS_WITHOUT_MATCH, f"matchFound is false, yet {len(members)} member(s) came back")
            )
        elif answer.get("canDisambiguate") is True:
            breaches.append(
                Breach(NO_MEMBERS_WITHOUT_MATCH, f"canDisambiguate is true, yet {len(members)} member(s) came back")
            )
    breaches.extend(_member_breaches([m for m in members if isinstance(m, Mapping)]))
    return breaches


def _member_breaches(members: list[Mapping[str, Any]]) -> list[Breach]:
    breaches: list[Breach] = []
    for index, member in enumerate(members):
        where = f"members[{index}]"
        born = member.get("birthDate")
        if isinstance(born, str) and not _is_iso_date(born):
            breaches.append(Breach(ISO_DATES, f"{where}.birthDate {born!r} is not a YYYY-MM-DD calendar date"))
        own, primary = member_id(member), member.get("primaryId")
        if own is not None and isinstance(primary, str) and member.get("relationship") is not None:
            is_self = member.get("relationship") == "18"
            if is_self and primary != own:
                breaches.append(
                    Breach(
                        PRIMARY_ID,
                        f"{where} is the subscriber (18) but primaryId {primary!r} is not its memberId {own!r}",
                    )
                )
            if not is_self and primary == own:
                breaches.append(
                    Breach(
                        PRIMARY_ID,
                        f"{where} is a dependent ({member.get('relationship')}) whose primaryId is its own memberId",
                    )
                )
        leaked = sorted(key for key in member if fold(key) in _SSN_KEYS)
        if leaked:
            breaches.append(Breach(NO_SSN, f"{where} carries {', '.join(leaked)}"))
    breaches.extend(_rank_breaches(members))
    return breaches


def _is_iso_date(text: str) -> bool:
    if not _ISO_DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _rank_breaches(members: list[Mapping[str, Any]]) -> list[Breach]:
    by_person: dict[tuple[str, str, str], list[tuple[int, Any]]] = {}
    for index, member in enumerate(members):
        by_person.setdefault(same_person(member), []).append((index, member.get("rank")))
    breaches = []
    for (_, _, born), entries in by_person.items():
        if len(entries) < 2:
            continue
        first = members[entries[0][0]]
        who = f"{first.get('firstName')} {first.get('lastName')} ({born}), entries {[i for i, _ in entries]}"
        ranks = [rank for _, rank in entries]
        if any(not isinstance(rank, int) or isinstance(rank, bool) for rank in ranks):
            breaches.append(
                Breach(RANK_ORDER, f"{who}: a person covered more than once needs a rank on every entry, got {ranks}")
            )
        elif len(set(ranks)) != len(ranks) or ranks != sorted(ranks):
            breaches.append(Breach(RANK_ORDER, f"{who}: ranks {ranks} are not distinct and ascending"))
    return breaches
