"""A verification as Sohar's FullVerificationV2Response."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any

from ..scenarios.dates import resolve_date
from ..scenarios.model import Member
from .lifecycle import public_status
from .records import Verification, VerificationRequest


def iso_millis(timestamp: float) -> str:
    """`2024-01-01T12:00:00.000Z`, the shape of Sohar's `created`."""
    # isoformat ends in "+00:00" for UTC; Sohar writes "Z".
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


# A handful of scenario dates resolved against a handful of days: parsing them on every Get
# Verification was a visible share of its cost.
_resolve_date = functools.lru_cache(maxsize=4096)(resolve_date)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def patient_from_member(member: Member, member_id: str, day: date) -> dict[str, Any]:
    """The patient as the payer's records have them, upper-cased as Sohar returns them."""
    patient: dict[str, Any] = {
        "firstName": member.first_name.upper(),
        "lastName": member.last_name.upper(),
        "dateOfBirth": _resolve_date(member.date_of_birth, day),
        "memberId": member_id,
    }
    if member.gender:
        patient["gender"] = member.gender
    patient["subscriberRelationshipCode"] = member.relationship_code
    if member.address:
        patient["address"] = {key: _upper(value) for key, value in member.address.items()}
    return patient


def _patient_from_request(request: VerificationRequest) -> dict[str, Any]:
    return {
        "firstName": request.first_name.upper(),
        "lastName": request.last_name.upper(),
        "dateOfBirth": request.date_of_birth,
        "memberId": request.member_id,
        "address": {"state": request.state},
    }


def _subscriber(verification: Verification, member: Member | None, day: date) -> dict[str, Any]:
    if member is not None and member.subscriber:
        sub = member.subscriber
        out = {"firstName": sub["firstName"].upper(), "lastName": sub["lastName"].upper()}
        if sub.get("dateOfBirth"):
            out["dateOfBirth"] = _resolve_date(sub["dateOfBirth"], day)
        if sub.get("gender"):
            out["gender"] = sub["gender"]
        return out
    if verification.request.subscriber:
        first, last, dob = verification.request.subscriber
        return {"firstName": _upper(first), "lastName": _upper(last), "dateOfBirth": dob}
    return {}


def verification_body(verification: Verification, payer_name: str | None = None) -> dict[str, Any]:
    request = verification.request
    resolution = verification.resolution
    day = verification.resolved_on or datetime.fromtimestamp(verification.updated, UTC).date()
    member = resolution.member if resolution else None
    coverage = resolution.coverage if resolution else None
    body: dict[str, Any] = {
        "verificationId": verification.verification_id,
        "created": iso_millis(verification.created),
        "status": public_status(verification.status),
        "statusReason": verification.status_reason,
        "id": request.id,
        "placeOfServiceCode": request.place_of_service_code,
        "specialtyCode": request.specialty_code,
        "benefits": [],
        "limitations": [],
        "relatedEntities": [],
        "patient": patient_from_member(member, request.member_id, day) if member else _patient_from_request(request),
        "subscriber": _subscriber(verification, member, day),
    }
    if coverage is not None:
        if verification.status == "complete.eligible":
            body["benefits"] = [dict(b) for b in coverage.benefits]
            body["limitations"] = [dict(limit) for limit in coverage.limitations]
        body["relatedEntities"] = [
            {**entity, "memberId": entity.get("memberId", request.member_id)} for entity in coverage.related_entities
        ]
        if coverage.plan is not None:
            plan = {key: _upper(value) for key, value in coverage.plan.items()}
            for key in ("startDate", "endDate"):
                if coverage.plan.get(key):
                    plan[key] = _resolve_date(coverage.plan[key], day)
            body["plan"] = plan
        if coverage.group is not None:
            body["group"] = {key: _upper(value) for key, value in coverage.group.items()}
    if resolution is not None:
        body["payer"] = {"id": resolution.payer.payer_id, "name": resolution.payer.payer_name}
    else:
        body["payer"] = {"id": request.payer_id, "name": payer_name or request.payer_id}
    return body
