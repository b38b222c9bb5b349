"""Sohar's verification statuses and the statusReasons that go with them, in the spec's order; a
discovery's two statuses.

The one list the lifecycle (domain/), scenario files (scenarios/) and the contract kit all read.
It sits in the base layer because scenarios/ is below domain/ and may not import it; read from
openapi/sohar.yaml instead, it would tie every import to a file that `--spec` can swap.
tests/test_statuses.py checks it against the enums of both specs and the scenario schema.
"""

from __future__ import annotations

PENDING = "pending"
FINAL_STATUSES: tuple[str, ...] = (
    "complete.eligible",
    "complete.ineligible",
    "error.member.id",
    "error.member.dob",
    "error.member.name",
    "error.payer",
    "error.payer.npi",
)
STATUSES: tuple[str, ...] = (PENDING, *FINAL_STATUSES)

# The statusReasons each status may carry; a status not named here carries none.
STATUS_REASONS: dict[str, tuple[str, ...]] = {
    "complete.ineligible": ("INACTIVE", "NON_COVERED", "ACTIVE_PENDING_INVESTIGATION"),
    "error.payer": ("CONTACT_PAYER_REQUIRED",),
}
# Sohar's answer for these is incomplete without a statusReason.
REASON_REQUIRED = frozenset({"complete.ineligible"})
STATUS_REASON_VALUES: tuple[str, ...] = (
    "INACTIVE",
    "NON_COVERED",
    "CONTACT_PAYER_REQUIRED",
    "ACTIVE_PENDING_INVESTIGATION",
)

# A discovery's two statuses (Sohar's discovery.updated table): still searching, or done with
# 0..n coverages found.
DISCOVERY_COMPLETE = "complete"
DISCOVERY_STATUSES: tuple[str, ...] = (PENDING, DISCOVERY_COMPLETE)
