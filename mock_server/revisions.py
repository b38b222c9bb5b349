"""One counter for every change the control plane can watch, so a poller asks "what changed since N?".

Verifications, webhook messages and resets each take the next number when they change. It never
goes back, not even on a reset: a cursor a client kept from before a reset stays comparable.
"""

from __future__ import annotations


class Revisions:
    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last += 1
        return self._last

    def restore(self, last: int) -> None:
        """Go on from where a state file left off, so a poller's cursor stays behind."""
        self._last = max(self._last, last)

    @property
    def last(self) -> int:
        """The number the latest change took (0: nothing changed yet)."""
        return self._last
