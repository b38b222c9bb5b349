"""The partner's part of the control plane (`/__admin/partner/...`, openapi/admin.yaml)."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api.admin import admin_routes
from ..api.json_input import parse_json
from ..api.responses import SoharJSONResponse, read_body
from ..core import MockCore
from ..errors import InvalidRequest
from .eligibility import PartnerEligibility
from .model import Enrollment
from .roster import Roster


def coverage_summary(partner: PartnerEligibility, roster: Roster, entry: Enrollment, today: date) -> dict[str, Any]:
    person = roster.person_of(entry)
    return {
        "memberId": entry.member_id,
        "familyId": entry.family_id,
        "relationship": entry.relationship,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "birthDate": person.born(today).isoformat(),
        "minor": person.is_minor(today),
        "samePersonAs": entry.same_person_as,
        "rank": entry.rank,
        "eligibleFrom": entry.eligible_from,
        "eligibleUntil": entry.eligible_until,
        "eligible": partner.eligible(entry, today),
        "forced": partner.forced(entry.member_id),
        "accessBy": sorted(entry.access_by) if entry.access_by is not None else None,
        # The confirmation values, so a QA script can build a final search.
        "email": person.email,
        "last4Ssn": person.last4_ssn,
        "source": entry.source,
    }


async def get_roster(core: MockCore, request: Request) -> Response:
    partner = core.partner
    roster, today = partner.roster, partner.today()
    families = [
        {
            "id": family.family_id,
            "groupId": family.group_id,
            "subscriptionType": family.subscription_type,
            "primaryId": family.primary.member_id,
            "source": family.source,
            "members": [coverage_summary(partner, roster, entry, today) for entry in family.members],
        }
        for family in roster.families.values()
    ]
    return SoharJSONResponse(
        {
            "partnerName": roster.partner_name,
            "partnerId": roster.partner_id,
            "apiKeyRequired": core.settings.partner_api_key is not None,
            "today": today.isoformat(),
            "families": families,
            "people": len(roster.people),
            "coverages": len(roster.enrollments),
        }
    )


async def force_coverage(core: MockCore, request: Request) -> Response:
    raw = await read_body(request, core.settings.max_body_bytes)
    body = parse_json(raw) if raw.strip() else None
    if not isinstance(body, dict) or "eligible" not in body:
        raise InvalidRequest("eligible", 'send {"eligible": true}, false, or null to follow the dates again')
    eligible = body["eligible"]
    if eligible is not None and not isinstance(eligible, bool):
        raise InvalidRequest("eligible", "eligible must be true, false or null")
    partner = core.partner
    entry = partner.force(request.path_params["memberId"], eligible)
    return SoharJSONResponse(coverage_summary(partner, partner.roster, entry, partner.today()))


def routes(core: MockCore) -> list[Route]:
    return admin_routes(
        core,
        {
            "/partner/roster": {"GET": get_roster},
            "/partner/coverage/{memberId}": {"POST": force_coverage},
        },
    )
