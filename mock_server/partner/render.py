"""A coverage entry as 98point6's member object (openapi/partner-eligibility.yaml, Member)."""

from __future__ import annotations

from datetime import date
from typing import Any

from .model import Enrollment
from .roster import Roster


def member_object(roster: Roster, entry: Enrollment, today: date) -> dict[str, Any]:
    """Optional fields the roster does not hold are left out; `last4Ssn` never comes out."""
    person = roster.person_of(entry)
    family = roster.family_of(entry)
    address = person.address
    fields: dict[str, Any] = {
        "primaryId": family.primary.member_id,
        "uniqueIdentifier": {"memberId": entry.member_id},
        "groupId": family.group_id,
        "relationship": entry.relationship,
        "birthDate": person.born(today).isoformat(),
        "sex": person.sex,
        "prefix": person.prefix,
        "firstName": person.first_name,
        "middleName": person.middle_name,
        "lastName": person.last_name,
        "suffix": person.suffix,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "homePhone": person.home_phone,
        "cellPhone": person.cell_phone,
        "workPhone": person.work_phone,
        "email": person.email,
        "language": person.language,
        "partnerName": roster.partner_name,
        "partnerId": roster.partner_id,
        "subscriptionType": family.subscription_type,
        "employerName": family.employer_name,
        "employerId": family.employer_id,
        "planType": family.plan_type,
        "referralTier": family.referral_tier,
        "rank": entry.rank,
    }
    return {key: value for key, value in fields.items() if value is not None}
