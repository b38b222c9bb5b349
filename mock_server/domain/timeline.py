"""A tracked request's changes of status, for the control plane's timeline.

Verifications and discoveries keep them alike (see `Tracker.status_changed`). Most requests change
once, to the unforced result they still have, and 100 000 must fit: that one step is derived from
the record's own fields rather than stored, so `history` stays None until a second change or a
forced one.
"""

from __future__ import annotations

from typing import NamedTuple


class Step(NamedTuple):
    """One change of status on the mock clock."""

    at: float
    status: str
    status_reason: str | None
    forced: bool


def steps(history: tuple[Step, ...] | None, current: Step | None) -> tuple[Step, ...]:
    """Every step so far: the kept `history`, or else the one unforced step the record is at
    (`current`; None while it has not changed since it was created)."""
    if history is not None:
        return history
    return () if current is None else (current,)
