"""State behind one interface; in memory, which is what a local sandbox wants.

One store per kind of asynchronous request (verifications, discoveries): a record is kept by
its `key` and, when capped, dropped by whether it is `finished`.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from .records import Verification


class Stored(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def finished(self) -> bool: ...


R = TypeVar("R", bound=Stored)


class RecordStore(Protocol[R]):
    def add(self, record: R) -> R | None:
        """Store it; answers the record dropped to make room, if one was."""
        ...

    def status_changed(self, record: R) -> None: ...
    def get(self, key: str) -> R | None: ...
    def __iter__(self) -> Iterator[R]: ...
    def __len__(self) -> int: ...
    def clear(self) -> None: ...


VerificationStore = RecordStore[Verification]


# Every this many stored verifications, move what is alive out of the cyclic GC's sight.
FREEZE_EVERY = 1_000


class MemoryStore(Generic[R]):
    """Every record, oldest first, until a reset.

    `freeze_gc` only where the process is the mock's own (`sohar-mock serve`): gc.freeze acts on
    the whole interpreter, and a mock run inside a test process must not take the test's own
    objects out of the collector's sight, nor give back (`gc.unfreeze`) what the test froze.
    """

    def __init__(self, *, freeze_gc: bool = False) -> None:
        self._items: dict[str, R] = {}
        self._most_stored = 0
        self.freeze_gc = freeze_gc

    def add(self, record: R) -> R | None:
        self._items[record.key] = record
        stored = len(self._items)
        if stored > self._most_stored:
            self._most_stored = stored
            if self.freeze_gc and stored % FREEZE_EVERY == 0:
                # Stored verifications live long, yet each full collection would walk all of
                # them: with 100 000 stored that is a ~100 ms pause every few seconds of load,
                # ~45 ms already at 10 000. Frozen objects are skipped by the cyclic GC (reference
                # counting still frees them); freezing is a constant-time list splice. Only on a
                # new high: a capped store at its cap would otherwise freeze on every create, and
                # each freeze also keeps whatever cyclic garbage is waiting for the collector.
                gc.freeze()
        return None

    def status_changed(self, record: R) -> None:
        """Every stored record is kept whatever its status."""

    def get(self, key: str) -> R | None:
        return self._items.get(key)

    def __iter__(self) -> Iterator[R]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._most_stored = 0
        if self.freeze_gc:
            # Give what was frozen back to the collector, so cycles among the dropped ones are freed.
            gc.unfreeze()


class CappedMemoryStore(MemoryStore[R]):
    """At most `cap` records (`--max-verifications`, `--max-discoveries`). Past it, the one that
    reached a final status longest ago makes room; when none is final, the oldest. O(1) per add
    and per change of status: the finished ones wait in the order they finished, both orders are
    linked lists."""

    def __init__(self, cap: int, *, freeze_gc: bool = False) -> None:
        # `cap` comes checked: Settings refuses anything but a positive integer.
        super().__init__(freeze_gc=freeze_gc)
        self.cap = cap
        self._items = OrderedDict()
        self._finished: OrderedDict[str, None] = OrderedDict()

    def add(self, record: R) -> R | None:
        super().add(record)
        self.status_changed(record)
        if len(self._items) <= self.cap:
            return None
        if self._finished:
            key, _ = self._finished.popitem(last=False)
        else:
            key = next(iter(self._items))  # every one is unfinished: the oldest goes
        return self._items.pop(key)

    def status_changed(self, record: R) -> None:
        key = record.key
        if self._items.get(key) is not record:
            return
        if record.finished:
            # A final status forced onto a finished record keeps the place it had.
            self._finished.setdefault(key)
        else:
            # Forced back to pending: kept until no finished record is left to drop.
            self._finished.pop(key, None)

    def clear(self) -> None:
        super().clear()
        self._finished.clear()


def memory_store(cap: int | None, *, freeze_gc: bool = False) -> MemoryStore[R]:
    return MemoryStore(freeze_gc=freeze_gc) if cap is None else CappedMemoryStore(cap, freeze_gc=freeze_gc)
