"""The `partner:` section of scenario files: one file's roster built and checked, and the
rosters of every loaded file combined (later files replace families by id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..limits import MAX_PARTNER_COVERAGES_PER_PERSON, MAX_PARTNER_FAMILY_MEMBERS
from ..scenarios import ScenarioError, Section, SectionPlace, scenario_date
from ..scenarios.dates import parse_iso_date
from .model import SELF, Address, Enrollment, Family, Person, RosterFile
from .roster import Roster

KEY = "partner"
# What describes a person: on the entry that does, never beside `samePersonAs`.
_PERSON_KEYS = (
    "firstName",
    "middleName",
    "lastName",
    "prefix",
    "suffix",
    "birthDate",
    "sex",
    "address",
    "homePhone",
    "cellPhone",
    "workPhone",
    "email",
    "language",
    "last4Ssn",
)
_REQUIRED_PERSON_KEYS = ("firstName", "lastName", "birthDate", "sex")
# The bound every scenario date keeps: a birth date or an eligibility bound is resolved again on
# each call, so a relative one must stay a date whatever the mock clock says.
_WHY_BOUNDED = "the years scenario dates are kept to, so a relative date holds however the clock moves"


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "schema.yaml").read_text())
    # The bounds live in limits.py with every other one; the schema file says where.
    loaded["$defs"]["family"]["properties"]["members"]["maxItems"] = MAX_PARTNER_FAMILY_MEMBERS
    loaded["$defs"]["member"]["properties"]["rank"]["maximum"] = MAX_PARTNER_COVERAGES_PER_PERSON
    return loaded


def build(raw: dict[str, Any], place: SectionPlace, today: date) -> RosterFile:
    """One file's roster; `place.error` names file:line for what the schema cannot check."""
    families: list[Family] = []
    family_at: dict[str, int] = {}
    member_at: dict[str, tuple[int, int]] = {}
    for index, raw_family in enumerate(raw.get("families", [])):
        path: tuple[Any, ...] = ("families", index)
        family_id = raw_family["id"]
        if family_id in family_at:
            raise place.error(
                (*path, "id"), f"family {family_id} is listed twice (first at families.{family_at[family_id]})"
            )
        family_at[family_id] = index
        for position, raw_member in enumerate(raw_family["members"]):
            member_id = raw_member["memberId"]
            if member_id in member_at:
                first = "families.{}.members.{}".format(*member_at[member_id])
                raise place.error(
                    (*path, "members", position, "memberId"), f"memberId {member_id} is listed twice (first at {first})"
                )
            member_at[member_id] = (index, position)
        families.append(_family(raw_family, place, path, today))
    return RosterFile(
        source=place.source,
        partner_name=raw.get("partnerName"),
        partner_id=raw.get("partnerId"),
        families=tuple(families),
    )


def _family(raw: dict[str, Any], place: SectionPlace, path: tuple[Any, ...], today: date) -> Family:
    family_id = raw["id"]
    default_address = raw.get("address")
    ids = {m["memberId"] for m in raw["members"]}
    members = tuple(
        _enrollment(m, family_id, ids, default_address, place, (*path, "members", i), today)
        for i, m in enumerate(raw["members"])
    )
    primaries = [m for m in members if m.relationship == SELF]
    if len(primaries) != 1:
        found = ", ".join(m.member_id for m in primaries) or "none"
        raise place.error((*path, "members"), f"a family has exactly one primary (relationship 18); found {found}")
    return Family(
        family_id=family_id,
        subscription_type=raw["subscriptionType"],
        members=members,
        primary=primaries[0],
        group_id=raw.get("groupId"),
        plan_type=raw.get("planType"),
        employer_name=raw.get("employerName"),
        employer_id=raw.get("employerId"),
        referral_tier=raw.get("referralTier"),
        source=place.where(path),
    )


def _date(raw: dict[str, Any], key: str, place: SectionPlace, path: tuple[Any, ...], today: date) -> date | None:
    if key not in raw:
        return None
    try:
        return scenario_date(raw[key], today, parse_iso_date, _WHY_BOUNDED)
    except ValueError as exc:
        raise place.error((*path, key), str(exc)) from None


def _enrollment(
    raw: dict[str, Any],
    family_id: str,
    family_ids: set[str],
    default_address: dict[str, Any] | None,
    place: SectionPlace,
    path: tuple[Any, ...],
    today: date,
) -> Enrollment:
    member_id = raw["memberId"]
    start = _date(raw, "eligibleFrom", place, path, today)
    end = _date(raw, "eligibleUntil", place, path, today)
    if start and end and start > end:
        raise place.error((*path, "eligibleFrom"), "eligibleFrom is after eligibleUntil")
    access_by = raw.get("accessBy")
    for other in access_by or ():
        if other == member_id:
            raise place.error((*path, "accessBy"), f"accessBy names the member itself ({member_id})")
        if other not in family_ids:
            raise place.error((*path, "accessBy"), f"accessBy names {other}, who is not in family {family_id}")
    same = raw.get("samePersonAs")
    person = None
    if same is not None:
        described = [key for key in _PERSON_KEYS if key in raw]
        if described:
            raise place.error(
                (*path, described[0]),
                f"samePersonAs takes the person from member {same}; {', '.join(described)} belong there",
            )
        if same == member_id:
            raise place.error((*path, "samePersonAs"), "samePersonAs names the member itself")
    else:
        person = _person(raw, default_address, place, path, today)
    return Enrollment(
        member_id=member_id,
        relationship=raw["relationship"],
        family_id=family_id,
        person=person,
        same_person_as=same,
        rank=raw.get("rank"),
        eligible_from=raw.get("eligibleFrom"),
        eligible_until=raw.get("eligibleUntil"),
        access_by=frozenset(access_by) if access_by is not None else None,
        source=place.where(path),
    )


def _person(
    raw: dict[str, Any], default_address: dict[str, Any] | None, place: SectionPlace, path: tuple[Any, ...], today: date
) -> Person:
    missing = [key for key in _REQUIRED_PERSON_KEYS if key not in raw]
    if missing:
        raise place.error(
            path, f"{', '.join(missing)} missing: describe the person, or name the entry that does with samePersonAs"
        )
    _date(raw, "birthDate", place, path, today)
    address = raw.get("address") or default_address
    if address is None:
        raise place.error(path, "no address: give the member one, or the family a default")
    return Person(
        key=raw["memberId"],
        first_name=raw["firstName"],
        last_name=raw["lastName"],
        birth_date=raw["birthDate"],
        sex=raw["sex"],
        address=Address.from_raw(address),
        prefix=raw.get("prefix"),
        middle_name=raw.get("middleName"),
        suffix=raw.get("suffix"),
        home_phone=raw.get("homePhone"),
        cell_phone=raw.get("cellPhone"),
        work_phone=raw.get("workPhone"),
        email=raw.get("email"),
        language=raw.get("language"),
        last4_ssn=raw.get("last4Ssn"),
        source=place.where(path),
    )


def combine(files: Sequence[RosterFile]) -> Roster:
    """Every loaded file's roster, later files replacing families by id; ScenarioError for what
    only the combination shows (a memberId in two families, a dangling samePersonAs, ranks)."""
    partner_name = partner_id = None
    families: dict[str, Family] = {}
    for roster_file in files:
        partner_name = roster_file.partner_name or partner_name
        partner_id = roster_file.partner_id or partner_id
        for family in roster_file.families:
            families.pop(family.family_id, None)  # a replaced family moves to the end, as listed last
            families[family.family_id] = family
    if families and not (partner_name and partner_id):
        source = next(iter(families.values())).source
        raise ScenarioError(source, None, "partner: no loaded file gives partnerName and partnerId")
    enrollments: dict[str, Enrollment] = {}
    for family in families.values():
        for enrollment in family.members:
            earlier = enrollments.get(enrollment.member_id)
            if earlier is not None:
                raise ScenarioError(
                    enrollment.source,
                    None,
                    f"memberId {enrollment.member_id} is also in family {earlier.family_id} ({earlier.source})",
                )
            enrollments[enrollment.member_id] = enrollment
    people = {e.member_id: e.person for e in enrollments.values() if e.person is not None}
    coverages: dict[str, list[Enrollment]] = {}
    for enrollment in enrollments.values():
        key = enrollment.person_key
        if key not in people:
            raise ScenarioError(
                enrollment.source,
                None,
                f"samePersonAs {key}: no member {key} describes a person"
                + (" (it takes its person from another entry itself)" if key in enrollments else ""),
            )
        coverages.setdefault(key, []).append(enrollment)
    for key, held in coverages.items():
        _check_coverages(people[key], held)
    return Roster(partner_name or "", partner_id or "", families, people, coverages)


def _check_coverages(person: Person, held: list[Enrollment]) -> None:
    if len(held) > MAX_PARTNER_COVERAGES_PER_PERSON:
        raise ScenarioError(
            person.source,
            None,
            f"member {person.key} holds {len(held)} coverages; at most {MAX_PARTNER_COVERAGES_PER_PERSON}",
        )
    families = [e.family_id for e in held]
    repeated = next((f for f in families if families.count(f) > 1), None)
    if repeated is not None:
        raise ScenarioError(person.source, None, f"member {person.key} is in family {repeated} twice")
    if len(held) > 1:
        unranked = [e.member_id for e in held if e.rank is None]
        if unranked:
            raise ScenarioError(
                person.source,
                None,
                f"member {person.key} has {len(held)} coverages, so each needs a rank; {', '.join(unranked)} has none",
            )
        ranks = [e.rank for e in held]
        if len(set(ranks)) != len(ranks):
            raise ScenarioError(
                person.source, None, f"member {person.key}'s coverages share a rank ({', '.join(map(str, ranks))})"
            )


SECTION = Section(KEY, schema(), build, combine)
