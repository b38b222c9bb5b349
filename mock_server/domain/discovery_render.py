"""A discovery as Get Discovery answers it (the layout is inferred: see FullDiscoveryResponse)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ..scenarios import FoundCoverage
from .discovery_lifecycle import public_status
from .discovery_records import Discovery, DiscoveryRequest
from .render import iso_millis, patient_from_member


def _patient_from_request(request: DiscoveryRequest, member_id: str | None) -> dict[str, Any]:
    """The patient searched for, upper-cased as Sohar returns names, with the member id found."""
    patient: dict[str, Any] = {
        "firstName": request.first_name.upper(),
        "lastName": request.last_name.upper(),
        "dateOfBirth": request.date_of_birth,
    }
    if member_id is not None:
        patient["memberId"] = member_id
    address: dict[str, Any] = {"state": request.state}
    if request.zip_code is not None:
        address["zipCode"] = request.zip_code
    patient["address"] = address
    return patient


def _coverage(found: FoundCoverage, request: DiscoveryRequest, day: date) -> dict[str, Any]:
    patient = (
        patient_from_member(found.member, found.member_id, day)
        if found.member is not None
        else _patient_from_request(request, found.member_id)
    )
    return {
        "payer": {"id": found.payer.payer_id, "name": found.payer.payer_name},
        "memberId": found.member_id,
        "patient": patient,
    }


def discovery_body(discovery: Discovery) -> dict[str, Any]:
    request = discovery.request
    found = discovery.resolution.coverages if discovery.resolution is not None else ()
    day = discovery.resolved_on or datetime.fromtimestamp(discovery.updated, UTC).date()
    first = found[0] if found else None
    return {
        "discoveryId": discovery.discovery_id,
        "created": iso_millis(discovery.created),
        "status": public_status(discovery.status),
        "id": request.id,
        "payerId": first.payer.payer_id if first else None,
        "memberId": first.member_id if first else None,
        "payer": {"id": first.payer.payer_id, "name": first.payer.payer_name} if first else None,
        "patient": _patient_from_request(request, first.member_id if first else None),
        "coverages": [_coverage(coverage, request, day) for coverage in found],
    }
