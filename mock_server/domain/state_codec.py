"""How a state file writes what the mock holds: pickles, each scenario object stored once.

A verification carries the payer, member and coverage it was resolved against — three quarters
of its bytes — and thousands of verifications share the same few. Each such object (immutable)
is written once, as an item of its own, and a record refers to it by key: a record costs a few
hundred bytes to write instead of a couple of kilobytes, and it reads back with the very content
it had, whatever the scenario files say at the next start.

Reading is restricted to the mock's own data classes and a few plain types: a state file is data, and
a crafted one must not run code when it loads.
"""

from __future__ import annotations

import functools
import io
import pickle
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any

from ..scenarios import Coverage, DiscoveryOutcome, Member, Outcome, Payer

# Fields that belong to one process: a scheduled timer (kept as its due time instead) or a
# signer rebuilt from the secret.
TRANSIENT = frozenset({"timer", "signer"})
# Immutable and shared by many records: written once each (kind SHARED), referred to by key.
SHARED_TYPES: frozenset[type] = frozenset({Payer, Member, Coverage, Outcome, DiscoveryOutcome})
SHARED = "shared"
_PROTOCOL = pickle.HIGHEST_PROTOCOL

_ALLOWED_GLOBALS = frozenset(
    {
        ("copyreg", "__newobj__"),
        ("copyreg", "_reconstructor"),
        ("builtins", "object"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "timezone"),
        ("datetime", "timedelta"),
        ("re", "_compile"),
        ("collections", "OrderedDict"),
    }
)


@functools.cache
def _kept_fields(cls: type) -> tuple[str, ...]:
    """A dataclass's fields that a state file keeps, in declaration order (the file is this
    version's own, so the order is the same when it is read)."""
    return tuple(f.name for f in fields(cls) if f.name not in TRANSIENT)


def _fields_of(item: object) -> tuple[Any, Any, float | None]:
    """A dataclass as its class and its fields' values (its timer as the time it was due), else as is."""
    if is_dataclass(item) and not isinstance(item, type):
        cls = type(item)
        values = tuple([getattr(item, name) for name in _kept_fields(cls)])
        timer = getattr(item, "timer", None)
        return cls, values, None if timer is None else timer.due
    return None, item, None


def _rebuild(cls: Any, values: Any, due: float | None) -> tuple[Any, float | None]:
    if cls is None:
        return values, None
    names = _kept_fields(cls)
    if not isinstance(values, tuple) or len(values) != len(names):
        raise pickle.UnpicklingError(f"{cls.__name__} does not have the fields this version keeps")
    return cls(**dict(zip(names, values, strict=True))), due


class _SharingPickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, share: Callable[[object], str], top: object) -> None:
        super().__init__(file, _PROTOCOL)
        self._share = share
        self._top = top

    def persistent_id(self, obj: object) -> str | None:
        if type(obj) in SHARED_TYPES and obj is not self._top:
            return self._share(obj)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: dict[str, object]) -> None:
        super().__init__(file)
        self._shared = shared

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module == "mock_server" or module.startswith("mock_server."):
            found = super().find_class(module, name)
            # Only the mock's own data classes (dataclasses, named tuples): any other name a module
            # holds (an imported `os`, a function, a class that opens files) would let a crafted
            # file call it.
            if (
                isinstance(found, type)
                and found.__module__ == module
                and (is_dataclass(found) or issubclass(found, tuple))
            ):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} has no place in a state file")

    def persistent_load(self, pid: Any) -> object:
        try:
            return self._shared[pid]
        except (KeyError, TypeError):
            raise pickle.UnpicklingError(f"shared item {pid!r} is missing") from None


class Codec:
    """Encodes for one state file: remembers which shared objects the file already holds."""

    def __init__(self) -> None:
        # id(object) -> (object, key): the object is held, so its id cannot be reused by another.
        self._keys: dict[int, tuple[object, str]] = {}
        self._loaded: dict[str, object] = {}
        self._next = 0
        # Shared objects met since the last `take_new_shared`, dependencies first.
        self._new: list[tuple[str, bytes]] = []

    def encode(self, item: object) -> bytes:
        return self._dump(_fields_of(item), top=None)

    def _dump(self, payload: object, top: object) -> bytes:
        buffer = io.BytesIO()
        _SharingPickler(buffer, self._share, top).dump(payload)
        return buffer.getvalue()

    def _share(self, obj: object) -> str:
        known = self._keys.get(id(obj))
        if known is not None:
            return known[1]
        key = str(self._next)
        self._next += 1
        self._keys[id(obj)] = (obj, key)
        # What it holds is shared first, so that reading in the order written always works.
        self._new.append((key, self._dump(obj, top=obj)))
        return key

    def take_new_shared(self) -> list[tuple[str, bytes]]:
        new, self._new = self._new, []
        return new

    def forget_shared(self) -> None:
        """The file no longer holds any (a reset)."""
        self._keys.clear()
        self._loaded.clear()
        self._new.clear()

    def load_shared(self, key: str, blob: bytes) -> None:
        """A shared object read back, in the order written; records written later refer to it."""
        obj = _Unpickler(io.BytesIO(blob), self._loaded).load()
        self._loaded[key] = obj
        self._keys[id(obj)] = (obj, key)
        if key.isdigit():
            self._next = max(self._next, int(key) + 1)

    def decode(self, blob: bytes) -> tuple[Any, float | None]:
        """What `encode` wrote: the item (its timer unset) and when that timer was due."""
        cls, values, due = _Unpickler(io.BytesIO(blob), self._loaded).load()
        return _rebuild(cls, values, due)


def encode_plain(value: object) -> bytes:
    """A named value (the clock, the token key): plain data, nothing shared."""
    return pickle.dumps(value, protocol=_PROTOCOL)


def decode_plain(blob: bytes) -> Any:
    return _Unpickler(io.BytesIO(blob), {}).load()
