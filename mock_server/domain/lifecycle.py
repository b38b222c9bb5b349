"""Verification statuses and the transitions between them (the vocabulary itself: statuses.py)."""

from __future__ import annotations

from .. import statuses

# Internal: created, its result not yet due. Sohar has no such status, so the API shows
# it as `pending`; no `pending` event fires for it (Sohar fires one only for an outage).
PROCESSING = "processing"
PENDING = statuses.PENDING
FINAL = frozenset(statuses.FINAL_STATUSES)
STATUSES = frozenset(statuses.STATUSES)

TRANSITIONS: dict[str, frozenset[str]] = {
    PROCESSING: frozenset({PENDING, *FINAL}),
    PENDING: FINAL,
    **{status: frozenset() for status in FINAL},
}

STATUS_REASONS: dict[str, frozenset[str]] = {
    status: frozenset(reasons) for status, reasons in statuses.STATUS_REASONS.items()
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def public_status(status: str) -> str:
    return PENDING if status == PROCESSING else status


def event_name(status: str, environment: str) -> str:
    """`sandbox.verification.updated` and friends, per Sohar's event table."""
    base = "verification.pending" if status == PENDING else "verification.updated"
    return f"sandbox.{base}" if environment == "sandbox" else base
