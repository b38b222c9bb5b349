"""The documented trigger inputs of the default scenarios (README "Triggers"), by outcome, and
the patient a discovery searches for (Sohar's sandbox values: the state decides what is found)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.lifecycle import PENDING, STATUS_REASONS, STATUSES


@dataclass(frozen=True)
class Trigger:
    status: str
    reason: str | None
    member_id: str
    note: str = ""


TRIGGERS: tuple[Trigger, ...] = (
    Trigger("complete.eligible", None, "00000000", "Sohar's documented sandbox member"),
    Trigger("complete.ineligible", "INACTIVE", "00000001", "coverage ended 30 days ago"),
    Trigger("complete.ineligible", "NON_COVERED", "00000002", "the plan does not cover PSY"),
    Trigger("complete.ineligible", "ACTIVE_PENDING_INVESTIGATION", "00000003", "the payer is investigating"),
    Trigger("error.member.id", None, "10000000", "the payer does not know the id"),
    Trigger("error.member.dob", None, "10000001", "known with another birth date"),
    Trigger("error.member.name", None, "10000002", "known under another name"),
    Trigger("error.payer", None, "20000000", "the payer is unavailable"),
    Trigger("error.payer", "CONTACT_PAYER_REQUIRED", "20000001", "the payer needs a manual contact"),
    Trigger("error.payer.npi", None, "20000002", "the payer rejects the NPI"),
    Trigger(PENDING, None, "30000000", "payer outage: complete.eligible 5 s of mock time later"),
)

# Every trigger is Sohar's documented sandbox member with another member id.
BASE_REQUEST: dict[str, Any] = {
    "patient": {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA"},
    "payerId": "60054",
    "placeOfServiceCode": "10",
    "specialtyCode": "PSY",
}

# What `trigger STATUS` without --reason means: the first documented reason where one is required.
_DEFAULT_REASON = {"complete.ineligible": "INACTIVE"}


def find(status: str, reason: str | None) -> Trigger:
    """The trigger for an outcome; ValueError saying what exists when there is none."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r} (one of {', '.join(sorted(STATUSES))})")
    wanted = reason if reason is not None else _DEFAULT_REASON.get(status)
    for trigger in TRIGGERS:
        if trigger.status == status and trigger.reason == wanted:
            return trigger
    reasons = sorted(STATUS_REASONS.get(status, ()))
    if not reasons:
        raise ValueError(f"{status} has no statusReason")
    raise ValueError(f"{status} takes --reason {' or '.join(reasons)}")


# Sohar's discovery sandbox values, with sandbox credentials: the patient's state decides the
# coverage found (payer / member id), as the default scenarios hold them; OH finds none.
DISCOVERY_STATES: dict[str, str] = {
    "CA": "60054/00000000",
    "DE": "60054/00000001",
    "FL": "60054/10000000",
    "GA": "60054/10000001",
    "IL": "60054/10000002",
    "KY": "OSCAR/00000000",
    "MA": "06111/00000000",
    "NY": "62308/00000000",
    "OH": "none",
    "TX": "84980/00000000",
}


def discovery_body(state: str, request_id: str | None) -> dict[str, Any]:
    """Create Discovery (v2) for the documented patient in `state`."""
    patient = {key: value for key, value in BASE_REQUEST["patient"].items() if key != "state"}
    body: dict[str, Any] = {"patient": {**patient, "state": state}}
    if request_id is not None:
        body["id"] = request_id
    return body


def request_body(trigger: Trigger, request_id: str | None) -> dict[str, Any]:
    body = {**BASE_REQUEST, "patient": {**BASE_REQUEST["patient"], "memberId": trigger.member_id}}
    if request_id is not None:
        body["id"] = request_id
    return body
