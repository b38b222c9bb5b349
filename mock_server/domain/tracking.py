"""What every asynchronous request (a verification, a discovery) goes through alike: stored,
looked up within its environment, moved on by one timer at a time on the mock clock, and stamped
with a revision and a timeline step at every change for the control plane."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from ..clock import Scheduler, Timer
from ..errors import NotFound
from ..revisions import Revisions
from .auth import Principal
from .store import RecordStore, Stored
from .timeline import Step


class Tracked(Stored, Protocol):
    environment: str
    timer: Timer | None
    revision: int
    history: tuple[Step, ...] | None

    def steps(self) -> tuple[Step, ...]: ...


T = TypeVar("T", bound=Tracked)


class Tracker(Generic[T]):
    def __init__(self, store: RecordStore[T], scheduler: Scheduler, revisions: Revisions | None = None) -> None:
        self._store = store
        self._scheduler = scheduler
        self._revisions = revisions or Revisions()

    def add(self, record: T) -> None:
        record.revision = self._revisions.next()
        dropped = self._store.add(record)
        if dropped is not None:
            # Dropped before its result: it must never resolve, nor fire an event about an id
            # that now answers 404.
            self.stop(dropped)

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

    def schedule(self, record: T, delay: float, step: Callable[[], None]) -> None:
        """Run `step` after `delay` seconds of mock time; a record has one next step at most."""

        def run() -> None:
            record.timer = None
            step()

        self.stop(record)
        record.timer = self._scheduler.call_later(delay, run)

    def stop(self, record: T) -> None:
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None

    def status_changed(self, record: T, previous: tuple[Step, ...], step: Step) -> None:
        """`record` has just taken `step`'s status; `previous` are its steps from before."""
        record.revision = self._revisions.next()
        if previous or step.forced:
            # Past the one unforced step a record derives from its own fields (timeline.py).
            record.history = (*previous, step)
        self._store.status_changed(record)


def first_set(*candidates: float | None) -> float:
    """The first duration given (a rule's, then `--latency`, then the scenario default); else none."""
    return next((value for value in candidates if value is not None), 0.0)
