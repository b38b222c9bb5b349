"""State behind one interface; in memory, which is what a local sandbox wants."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from .domain.verifications import Verification


class VerificationStore(Protocol):
    def add(self, verification: Verification) -> None: ...
    def get(self, verification_id: str) -> Verification | None: ...
    def __iter__(self) -> Iterator[Verification]: ...
    def __len__(self) -> int: ...
    def clear(self) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self._items: dict[str, Verification] = {}

    def add(self, verification: Verification) -> None:
        self._items[verification.verification_id] = verification

    def get(self, verification_id: str) -> Verification | None:
        return self._items.get(verification_id)

    def __iter__(self) -> Iterator[Verification]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
