"""Discovery statuses and the transitions between them (the vocabulary itself: statuses.py).

Sohar documents two: `pending` and `complete`. Every change fires `*discovery.updated`.
"""

from __future__ import annotations

from .. import statuses

# Internal: created, its result not yet due. Shown as `pending`, with no event (as for a
# verification): a `pending` event fires only when a scenario makes the search slow.
PROCESSING = "processing"
PENDING = statuses.PENDING
COMPLETE = statuses.DISCOVERY_COMPLETE
FINAL = frozenset({COMPLETE})
STATUSES = frozenset(statuses.DISCOVERY_STATUSES)

TRANSITIONS: dict[str, frozenset[str]] = {
    PROCESSING: frozenset({PENDING, COMPLETE}),
    PENDING: frozenset({COMPLETE}),
    COMPLETE: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def public_status(status: str) -> str:
    return PENDING if status == PROCESSING else status


def event_name(environment: str) -> str:
    """`sandbox.discovery.updated` or `discovery.updated`, whatever the status, per Sohar's event table."""
    return "sandbox.discovery.updated" if environment == "sandbox" else "discovery.updated"
