"""Where a mock's state lives: in memory only (the default), or also in a SQLite state file
(`--state PATH`), so that a restart or a crash loses nothing that was answered.

Every component keeps its working state in memory, where every read stays a dict access; it
tells its `StateLog` what changed (`save`, `forget`) and the log makes those changes durable in
one transaction at `flush`. The app waits for that commit before it answers a request, and the
webhook dispatcher before it sends an attempt (`committed`: the waiters of one turn of the event
loop share one commit), so a 201 means the verification survives a `kill -9` and a message is in
the outbox before its first attempt. Anything else changed is written within a few milliseconds,
or with the next commit. In memory, `MEMORY` does nothing at all.

This is the only module that touches SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from .state_codec import SHARED, Codec, decode_plain, encode_plain

# The layout of the tables below; a file of another layout or another mock version is refused.
FORMAT = 1
# A change no answer waits for (a result reached on the clock) is written within this many
# seconds, or sooner with the next answer or attempt: under load, one transaction carries many.
BACKGROUND_FLUSH_SECONDS = 0.005
# SQLite moves the log into the file (and syncs it to disk) this often, on a thread of its own:
# done by the writer, a checkpoint held the event loop for 5-8 ms every few hundred commits.
CHECKPOINT_SECONDS = 1.0


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
    async def committed(self) -> None:
        """Return once every change made before the call is written (one transaction for all
        the callers of one turn of the event loop)."""
        ...

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

    async def committed(self) -> None:
        return None

    def clear(self) -> None:
        return None


MEMORY = InMemory()


# -- the SQLite file ------------------------------------------------------------------------

# One b-tree for the items (WITHOUT ROWID): each commit writes fewer pages. `seq` is the order
# an item was first saved in, which restoring follows.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""
_UPSERT = (
    "INSERT INTO items (kind, key, seq, body) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
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
        self._flush_soon: asyncio.TimerHandle | None = None
        self._group: asyncio.Future[None] | None = None
        self._codec = Codec()
        self._closed = False
        self._lock_fd = _lock(path)
        try:
            self._db = _connect(path)
            self.restored = self._check_version()
            (last,) = self._db.execute("SELECT coalesce(max(seq), 0) FROM items").fetchone()
            self._seq = itertools.count(last + 1)
            if self.restored:
                self._load_shared()
        except BaseException:
            self._db_close()
            os.close(self._lock_fd)
            raise
        # Called at each flush for values that change too often to save one by one (the clock).
        self.before_flush: list[Callable[[], None]] = []
        self._commits = 0
        self._stop_checkpoints = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoints, name="sohar-mock-checkpoint", daemon=True)
        self._checkpointer.start()

    def _db_close(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()

    def _load_shared(self) -> None:
        for key, body in self._db.execute("SELECT key, body FROM items WHERE kind = ? ORDER BY seq", (SHARED,)):
            self._refuse_unreadable(partial(self._codec.load_shared, key), body)

    def _checkpoints(self) -> None:
        db = sqlite3.connect(self.path, check_same_thread=False)
        try:
            done = 0
            while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
                if self._commits != done:
                    done = self._commits
                    with contextlib.suppress(sqlite3.Error):  # busy: the next round does it
                        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

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
                self._flush_soon = asyncio.get_running_loop().call_later(BACKGROUND_FLUSH_SECONDS, self.flush)

    async def committed(self) -> None:
        if self._group is None:
            loop = asyncio.get_running_loop()
            self._group = loop.create_future()
            loop.call_soon(self._commit_group)
        # Shielded: a caller that goes away (its client hung up) must not cancel the others' commit.
        await asyncio.shield(self._group)

    def _commit_group(self) -> None:
        group, self._group = self._group, None
        assert group is not None
        try:
            self.flush()
        except Exception as exc:
            group.set_exception(exc)
            group.exception()  # seen here too: no "never retrieved" warning when no caller is left
        else:
            group.set_result(None)

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
        encode, seq = self._codec.encode, self._seq
        # A new seq for each, kept only by items that are new: an update keeps the first.
        saved = [(kind, key, next(seq), encode(item)) for (kind, key), item in dirty.items() if item is not None]
        shared = [(SHARED, key, next(seq), body) for key, body in self._codec.take_new_shared()]
        gone = [(kind, key) for (kind, key), item in dirty.items() if item is None]
        try:
            with self._db:
                if gone:
                    self._db.executemany("DELETE FROM items WHERE kind = ? AND key = ?", gone)
                if shared:
                    self._db.executemany(_UPSERT, shared)
                if saved:
                    self._db.executemany(_UPSERT, saved)
                if meta:
                    self._db.executemany(_PUT_META, [(name, encode_plain(value)) for name, value in meta.items()])
        except sqlite3.Error:
            # Rolled back (a full disk, say): all of it waits for the next flush, and the shared
            # objects this one meant to write are written again with whatever refers to them.
            self._dirty = {**dirty, **self._dirty}
            self._meta = {**meta, **self._meta}
            self._codec.forget_shared()
            raise
        self._commits += 1

    def clear(self) -> None:
        """Every item gone, now (a reset). The named values stay: each is the value as it stands,
        kept current by its owner, and a reset keeps some of them (the token key: tokens issued
        before a reset stay valid, across a restart too; a frozen clock's start-up time)."""
        self._dirty.clear()
        self._codec.forget_shared()
        with self._db:
            self._db.execute("DELETE FROM items")

    # -- reading back ----------------------------------------------------------------------

    def items(self, kind: str) -> Iterator[tuple[Any, float | None]]:
        """Every item of `kind`, in the order first saved, with its timer's due time."""
        for (body,) in self._db.execute("SELECT body FROM items WHERE kind = ? ORDER BY seq", (kind,)):
            yield self._decode(body)

    def meta(self, name: str) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else self._refuse_unreadable(decode_plain, row[0])

    def _decode(self, body: bytes) -> tuple[Any, float | None]:
        result: tuple[Any, float | None] = self._refuse_unreadable(self._codec.decode, body)
        return result

    def _refuse_unreadable(self, decode: Callable[[bytes], Any], body: bytes) -> Any:
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
            if self._flush_soon is not None:
                self._flush_soon.cancel()
            self._stop_checkpoints.set()
            self._checkpointer.join()
            with contextlib.suppress(sqlite3.Error):  # leave one tidy file behind, the log folded in
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
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
        db.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread's job
        db.executescript(_SCHEMA)
        columns = [row[1] for row in db.execute("PRAGMA table_info(items)")]
        if columns != ["kind", "key", "seq", "body"]:
            raise sqlite3.DatabaseError("its tables are not a sohar-mock state file's")
    except sqlite3.Error as exc:
        db.close()
        raise StateFileError(f"state file {path} is corrupt or not a sohar-mock state file ({exc})") from None
    # Explicit transactions only (`with db:`), so each flush is one.
    db.isolation_level = "DEFERRED"
    return db


def open_state(path: Path | None, version: str) -> StateLog:
    return MEMORY if path is None else SqliteState(path, version)
