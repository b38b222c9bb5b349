"""State behind one interface; in memory, which is what a local sandbox wants."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Protocol

from .domain.verifications import Verification


class VerificationStore(Protocol):
    def add(self, verification: Verification) -> None: ...
    def get(self, verification_id: str) -> Verification | None: ...
    def __iter__(self) -> Iterator[Verification]: ...
    def __len__(self) -> int: ...
    def clear(self) -> None: ...


# Every this many stored verifications, move what is alive out of the cyclic GC's sight.
FREEZE_EVERY = 1_000


class MemoryStore:
    def __init__(self) -> None:
        self._items: dict[str, Verification] = {}

    def add(self, verification: Verification) -> None:
        self._items[verification.verification_id] = verification
        if len(self._items) % FREEZE_EVERY == 0:
            # Stored verifications live until a reset, yet each full collection would walk all
            # of them: with 100 000 stored that is a ~100 ms pause every few seconds of load,
            # ~45 ms already at 10 000. Frozen objects are skipped by the cyclic GC (reference
            # counting still frees them); freezing is a constant-time list splice.
            gc.freeze()

    def get(self, verification_id: str) -> Verification | None:
        return self._items.get(verification_id)

    def __iter__(self) -> Iterator[Verification]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        # Give what was frozen back to the collector, so cycles among the dropped ones are freed.
        gc.unfreeze()
