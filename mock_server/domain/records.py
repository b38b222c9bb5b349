"""What the domain keeps about a verification: the validated request and its state."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..clock import Timer
from ..scenarios import Resolution
from .lifecycle import FINAL, PROCESSING
from .timeline import Step, steps

_intern = sys.intern


@dataclass(frozen=True, slots=True)
class VerificationRequest:
    """A validated Create Verification body, kept compact: 100 000 of them must fit."""

    first_name: str
    last_name: str
    date_of_birth: str
    state: str
    member_id: str
    payer_id: str
    place_of_service_code: str
    specialty_code: str
    id: str | None = None
    subscriber: tuple[str | None, str | None, str | None] | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> VerificationRequest:
        patient = body["patient"]
        sub = body.get("subscriber")
        return cls(
            first_name=patient["firstName"],
            last_name=patient["lastName"],
            date_of_birth=patient["dateOfBirth"],
            state=_intern(patient["state"]),
            member_id=patient["memberId"],
            payer_id=_intern(body["payerId"]),
            place_of_service_code=_intern(body["placeOfServiceCode"]),
            specialty_code=_intern(body["specialtyCode"]),
            id=body.get("id"),
            subscriber=(sub.get("firstName"), sub.get("lastName"), sub.get("dateOfBirth")) if sub else None,
        )

    def fields(self, environment: str) -> dict[str, str | None]:
        """The request as dotted paths, the vocabulary scenario rules match on."""
        sub = self.subscriber or (None, None, None)
        return {
            "environment": environment,
            "payerId": self.payer_id,
            "placeOfServiceCode": self.place_of_service_code,
            "specialtyCode": self.specialty_code,
            "id": self.id,
            "patient.firstName": self.first_name,
            "patient.lastName": self.last_name,
            "patient.dateOfBirth": self.date_of_birth,
            "patient.state": self.state,
            "patient.memberId": self.member_id,
            "subscriber.firstName": sub[0],
            "subscriber.lastName": sub[1],
            "subscriber.dateOfBirth": sub[2],
        }


@dataclass(slots=True)
class Verification:
    verification_id: str
    environment: str
    client_id: str
    created: float
    request: VerificationRequest
    status: str = PROCESSING
    status_reason: str | None = None
    resolution: Resolution | None = None
    # The day a result was reached: relative plan dates render against it, so they hold still.
    resolved_on: date | None = None
    updated: float = 0.0
    rule: str | None = None
    timer: Timer | None = None
    # What `timer` will advance it with (tracking.py).
    next_outcome: Any = None
    # When it last changed, on the control plane's change counter (revisions.py).
    revision: int = 0
    # Every change of status in order, once more than the derived one (timeline.py).
    history: tuple[Step, ...] | None = None

    @property
    def key(self) -> str:
        return self.verification_id

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def steps(self) -> tuple[Step, ...]:
        current = None if self.status == PROCESSING else Step(self.updated, self.status, self.status_reason, False)
        return steps(self.history, current)
