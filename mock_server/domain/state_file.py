"""Where a mock's state lives: in memory only (the default), or also in a SQLite state file
(`--state PATH`), so that a restart or a crash loses nothing that was answered.

Every component keeps its working state in memory, where every read stays a dict access; it
tells its `StateLog` what changed (`save`, `forget`) and the log makes those changes durable in
one transaction at `flush`. The app flushes before it answers a request and the webhook
dispatcher before it sends an attempt, so a 201 means the verification survives a `kill -9`
and a message is in the outbox before its first attempt. Anything else changed is flushed on
the event loop's next turn. In memory, `MEMORY` does nothing at all.

This is the only module that touches SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
import pickle
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Protocol

# The layout of the tables below; a file of another layout or another mock version is refused.
FORMAT = 1
# Fields that belong to one process: a scheduled timer (kept as its due time instead) or a
# signer rebuilt from the secret.
TRANSIENT = frozenset({"timer", "signer"})


class StateFileError(Exception):
    """A state file the mock cannot use; the message says which and why, in one line."""


class StateLog(Protocol):
    durable: bool

    def save(self, kind: str, key: str, item: object) -> None:
        """`item` changed (or is new): it is written, as it is then, at the next flush."""
        ...

    def forget(self, kind: str, key: str) -> None: ...
    def put_meta(self, name: str, value: object) -> None: ...
    def flush(self) -> None: ...
    def clear(self) -> None: ...


class InMemory:
    """The default: nothing outlives the process, and recording a change costs nothing."""

    durable = False

    def save(self, kind: str, key: str, item: object) -> None:
        return None

    def forget(self, kind: str, key: str) -> None:
        return None

    def put_meta(self, name: str, value: object) -> None:
        return None

    def flush(self) -> None:
        return None

    def clear(self) -> None:
        return None


MEMORY = InMemory()


# -- encoding -------------------------------------------------------------------------------

# What a state file may make, besides the mock's own classes: a state file is data, and a
# crafted one must not run code when it loads.
_ALLOWED_GLOBALS = frozenset(
    {
        ("copyreg", "__newobj__"),
        ("copyreg", "_reconstructor"),
        ("builtins", "object"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "getattr"),
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "timezone"),
        ("datetime", "timedelta"),
        ("re", "_compile"),
        ("collections", "OrderedDict"),
    }
)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS or module == "mock_server" or module.startswith("mock_server."):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} has no place in a state file")


def encode(item: object) -> bytes:
    """A dataclass as its class and its fields (its timer as the time it was due), else as is."""
    if is_dataclass(item) and not isinstance(item, type):
        values = {f.name: getattr(item, f.name) for f in fields(item) if f.name not in TRANSIENT}
        timer = getattr(item, "timer", None)
        due = None if timer is None else timer.due
        return pickle.dumps((type(item), values, due), protocol=pickle.HIGHEST_PROTOCOL)
    return pickle.dumps((None, item, None), protocol=pickle.HIGHEST_PROTOCOL)


def decode(blob: bytes) -> tuple[Any, float | None]:
    """What `encode` wrote: the item (its timer unset) and when that timer was due."""
    cls, values, due = _Unpickler(io.BytesIO(blob)).load()
    if cls is None:
        return values, None
    return cls(**{name: value for name, value in values.items() if name not in TRANSIENT}), due


# -- the SQLite file ------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (kind, key)
);
"""
_UPSERT = (
    "INSERT INTO items (kind, key, body) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)
_PUT_META = "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"


class SqliteState:
    """A state file: items by kind and key in the order first saved, and named values (meta).

    Opened by one process at a time (an exclusive lock on `PATH.lock`), in WAL mode with
    `synchronous=NORMAL`: a committed transaction survives the process being killed; a power
    cut may lose the last ones (README, "Durable state").
    """

    durable = True

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        self._dirty: dict[tuple[str, str], object] = {}
        self._meta: dict[str, object] = {}
        self._flush_soon: asyncio.Handle | None = None
        self._closed = False
        self._lock_fd = _lock(path)
        try:
            self._db = _connect(path)
            self.restored = self._check_version()
        except BaseException:
            os.close(self._lock_fd)
            raise
        # Called at each flush for values that change too often to save one by one (the clock).
        self.before_flush: list[Callable[[], None]] = []

    def _check_version(self) -> bool:
        """Whether the file already held a mock's state; a new file is stamped with ours."""
        meta = dict(self._db.execute("SELECT name, value FROM meta WHERE name IN ('format', 'version')"))
        if not meta:
            if self._db.execute("SELECT 1 FROM items LIMIT 1").fetchone():
                raise StateFileError(f"state file {self.path} holds items but no version: not a sohar-mock state file")
            with self._db:
                self._db.executemany(_PUT_META, [("format", str(FORMAT)), ("version", self.version)])
            return False
        written_by = _text(meta.get("version"))
        if _text(meta.get("format")) != str(FORMAT) or written_by != self.version:
            raise StateFileError(
                f"state file {self.path} was written by sohar-mock {written_by}; this is sohar-mock {self.version},"
                " which cannot read it: start that version, or use a new --state file"
            )
        return True

    # -- StateLog ---------------------------------------------------------------------------

    def save(self, kind: str, key: str, item: object) -> None:
        self._dirty[(kind, key)] = item
        self._soon()

    def forget(self, kind: str, key: str) -> None:
        self._dirty[(kind, key)] = None
        self._soon()

    def put_meta(self, name: str, value: object) -> None:
        self._meta[name] = value
        self._soon()

    def _soon(self) -> None:
        if self._flush_soon is None:
            with contextlib.suppress(RuntimeError):  # no loop running: the next explicit flush
                self._flush_soon = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write every change since the last flush, in one transaction."""
        if self._closed:
            return
        for hook in self.before_flush:
            hook()
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        if not self._dirty and not self._meta:
            return
        dirty, self._dirty = self._dirty, {}
        meta, self._meta = self._meta, {}
        saved = [(kind, key, encode(item)) for (kind, key), item in dirty.items() if item is not None]
        gone = [(kind, key) for (kind, key), item in dirty.items() if item is None]
        with self._db:
            if gone:
                self._db.executemany("DELETE FROM items WHERE kind = ? AND key = ?", gone)
            if saved:
                self._db.executemany(_UPSERT, saved)
            if meta:
                self._db.executemany(_PUT_META, [(name, encode(value)) for name, value in meta.items()])

    def clear(self) -> None:
        """Every item gone, now (a reset). The named values stay: each is the value as it stands,
        kept current by its owner, and a reset keeps some of them (the token key: tokens issued
        before a reset stay valid, across a restart too; a frozen clock's start-up time)."""
        self._dirty.clear()
        with self._db:
            self._db.execute("DELETE FROM items")

    # -- reading back ----------------------------------------------------------------------

    def items(self, kind: str) -> Iterator[tuple[Any, float | None]]:
        """Every item of `kind`, in the order first saved, with its timer's due time."""
        for (body,) in self._db.execute("SELECT body FROM items WHERE kind = ? ORDER BY seq", (kind,)):
            yield self._decode(body)

    def meta(self, name: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else self._decode(row[0])[0]

    def _decode(self, body: bytes) -> tuple[Any, float | None]:
        try:
            return decode(body)
        except Exception as exc:  # any unreadable item: the whole file is refused, never half loaded
            raise StateFileError(f"state file {self.path} is corrupt: an item cannot be read ({exc})") from None

    def close(self, *, flush: bool = True) -> None:
        """Write what is left (unless the file is being refused) and let go of the file and its lock."""
        if self._closed:
            return
        try:
            if flush:
                self.flush()
        finally:
            self._closed = True
            self._db.close()
            os.close(self._lock_fd)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateFileError(f"state file {path}: cannot open {lock_path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StateFileError(f"state file {path} is in use by another sohar-mock (pid {holder})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _connect(path: Path) -> sqlite3.Connection:
    if path.exists() and path.is_dir():
        raise StateFileError(f"state file {path} is a directory")
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StateFileError(f"state file {path} cannot be opened: {exc}") from None
    try:
        # A file that is not a database fails at its first read, here, not halfway through a load.
        if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise sqlite3.DatabaseError("integrity check failed")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        columns = [row[1] for row in db.execute("PRAGMA table_info(items)")]
        if columns != ["seq", "kind", "key", "body"]:
            raise sqlite3.DatabaseError("its tables are not a sohar-mock state file's")
    except sqlite3.Error as exc:
        db.close()
        raise StateFileError(f"state file {path} is corrupt or not a sohar-mock state file ({exc})") from None
    # Explicit transactions only (`with db:`), so each flush is one.
    db.isolation_level = "DEFERRED"
    return db


def open_state(path: Path | None, version: str) -> StateLog:
    return MEMORY if path is None else SqliteState(path, version)
