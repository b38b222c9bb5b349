"""What every asynchronous request (a verification, a discovery) goes through alike: stored,
looked up within its environment, moved on by one timer at a time on the mock clock, and stamped
with a revision and a timeline step at every change for the control plane."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from ..clock import Scheduler, Timer
from ..errors import NotFound
from ..revisions import Revisions
from .auth import Principal
from .state_file import MEMORY, StateLog
from .store import RecordStore, Stored
from .timeline import Step


class Tracked(Stored, Protocol):
    environment: str
    timer: Timer | None
    # What the timer will advance it with: kept as data, so a state file can schedule it again.
    next_outcome: Any
    revision: int
    history: tuple[Step, ...] | None

    def steps(self) -> tuple[Step, ...]: ...


T = TypeVar("T", bound=Tracked)
Outcome = TypeVar("Outcome")


class Tracker(Generic[T]):
    """`kind` names the records in the state file (`state`), which hears of every change."""

    def __init__(
        self,
        store: RecordStore[T],
        scheduler: Scheduler,
        revisions: Revisions | None = None,
        state: StateLog = MEMORY,
        kind: str = "record",
    ) -> None:
        self._store = store
        self._scheduler = scheduler
        self._revisions = revisions or Revisions()
        self._state = state
        self._kind = kind

    def add(self, record: T) -> None:
        record.revision = self._revisions.next()
        self._state.save(self._kind, record.key, record)
        self._store_making_room(record)

    def restore(self, record: T) -> None:
        """A record read back from the state file: stored as it was, without a change (but
        a smaller `--max-…` than the file was written under drops the oldest, as it would have)."""
        self._store_making_room(record)

    def resume(self, record: T, due: float, advance: Callable[[T, Any], None]) -> None:
        """Schedule again the step a restored record was waiting for, at the time it was due."""
        if record.next_outcome is not None:
            self.schedule_at(record, due, record.next_outcome, advance)

    def _store_making_room(self, record: T) -> None:
        dropped = self._store.add(record)
        if dropped is not None:
            # Dropped before its result: it must never resolve, nor fire an event about an id
            # that now answers 404.
            self.stop(dropped)
            self._state.forget(self._kind, dropped.key)

    def get_for(self, principal: Principal, key: str) -> T:
        """The record as the API shows it: another environment's does not exist for this token, as in Sohar."""
        record = self._store.get(key)
        if record is None or record.environment != principal.environment:
            raise NotFound()
        return record

    def find(self, key: str) -> T:
        """The record as the admin API shows it, whatever its environment."""
        record = self._store.get(key)
        if record is None:
            raise NotFound()
        return record

    def schedule(self, record: T, delay: float, outcome: Outcome, advance: Callable[[T, Outcome], None]) -> None:
        """`advance(record, outcome)` after `delay` seconds of mock time; a record has one next step at most."""
        self.schedule_at(record, self._scheduler.clock.now() + delay, outcome, advance)

    def schedule_at(self, record: T, due: float, outcome: Outcome, advance: Callable[[T, Outcome], None]) -> None:
        def run() -> None:
            record.timer = None
            record.next_outcome = None
            advance(record, outcome)

        self.stop(record)
        record.next_outcome = outcome
        record.timer = self._scheduler.call_at(due, run)
        self._state.save(self._kind, record.key, record)

    def stop(self, record: T) -> None:
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None
            record.next_outcome = None

    def status_changed(self, record: T, previous: tuple[Step, ...], step: Step) -> None:
        """`record` has just taken `step`'s status; `previous` are its steps from before."""
        record.revision = self._revisions.next()
        if previous or step.forced:
            # Past the one unforced step a record derives from its own fields (timeline.py).
            record.history = (*previous, step)
        self._store.status_changed(record)
        self._state.save(self._kind, record.key, record)


def first_set(*candidates: float | None) -> float:
    """The first duration given (a rule's, then `--latency`, then the scenario default); else none."""
    return next((value for value in candidates if value is not None), 0.0)
