"""What the domain keeps about a discovery: the validated request and its state."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..clock import Timer
from ..scenarios import DiscoveryResolution
from .discovery_lifecycle import FINAL, PROCESSING
from .timeline import Step, steps

_intern = sys.intern


@dataclass(frozen=True, slots=True)
class DiscoveryRequest:
    """A validated Create Discovery body, v2 (`patient` nested) or v1 (flat, with `npi`)."""

    first_name: str
    last_name: str
    date_of_birth: str
    state: str
    zip_code: str | None = None
    payer_id: str | None = None
    npi: str | None = None
    id: str | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> DiscoveryRequest:
        """Create Discovery (v2): `{patient: {...}, payerId?, id?}`."""
        patient = body["patient"]
        payer_id = body.get("payerId")
        return cls(
            first_name=patient["firstName"],
            last_name=patient["lastName"],
            date_of_birth=patient["dateOfBirth"],
            state=_intern(patient["state"]),
            zip_code=patient.get("zipCode"),
            payer_id=_intern(payer_id) if isinstance(payer_id, str) else payer_id,
            id=body.get("id"),
        )

    @classmethod
    def from_v1_body(cls, body: dict[str, Any]) -> DiscoveryRequest:
        """Create Discovery V1: the same fields, flat, plus `npi`."""
        return cls(
            first_name=body["firstName"],
            last_name=body["lastName"],
            date_of_birth=body["dateOfBirth"],
            state=_intern(body["state"]),
            zip_code=body.get("zipCode"),
            npi=body.get("npi"),
            id=body.get("id"),
        )

    def fields(self, environment: str) -> dict[str, str | None]:
        """The request as dotted paths, the vocabulary discovery rules match on (v1's flat fields as `patient.*`)."""
        return {
            "environment": environment,
            "payerId": self.payer_id,
            "id": self.id,
            "npi": self.npi,
            "patient.firstName": self.first_name,
            "patient.lastName": self.last_name,
            "patient.dateOfBirth": self.date_of_birth,
            "patient.state": self.state,
            "patient.zipCode": self.zip_code,
        }


@dataclass(slots=True)
class Discovery:
    discovery_id: str
    environment: str
    client_id: str
    created: float
    request: DiscoveryRequest
    status: str = PROCESSING
    resolution: DiscoveryResolution | None = None
    # The day the search completed: members' relative birth dates render against it.
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
        return self.discovery_id

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def steps(self) -> tuple[Step, ...]:
        current = None if self.status == PROCESSING else Step(self.updated, self.status, None, False)
        return steps(self.history, current)
