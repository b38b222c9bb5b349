"""The one clock of the mock: real time plus an offset the admin API can advance.

Everything time-based (token expiry, verification lifecycles, webhook retries) runs on
this clock and is scheduled through `Scheduler`, so advancing the clock replays hours of
Sohar behaviour in milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .limits import DAY, MAX_CLOCK_OFFSET_SECONDS

log = logging.getLogger("sohar_mock.clock")

Job = Callable[[], Awaitable[object] | None]

# An advance also runs what is due within this much after its end. Mock time is Unix seconds
# as a float, about 2e-7 s apart at today's dates: a job due 2.5 s after a create and an
# advance of 2.5 s can land a rounding step apart, and the job must not be left pending.
RESOLUTION = 1e-5


class ClockRangeError(ValueError):
    """An advance the clock cannot take: negative, not finite, or past the clock's range."""


class Clock:
    """Mock time: real time plus an offset, or (frozen) the start-up time plus an offset.

    A frozen clock moves only when advanced, so nothing comes due while a slow test runs;
    webhook signatures still carry real time either way, as receivers check them against theirs.
    """

    def __init__(self, time_source: Callable[[], float] = time.time, *, frozen: bool = False) -> None:
        self._time_source = time_source
        self._frozen_at = time_source() if frozen else None
        self._offset = 0.0
        self._day_number: int | None = None
        self._today = date.min

    @property
    def offset(self) -> float:
        return self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def base(self) -> float:
        """What the offset is added to: real time, or the start-up time when frozen."""
        return self._time_source() if self._frozen_at is None else self._frozen_at

    def now(self) -> float:
        """Mock-clock time as Unix seconds."""
        return self.base() + self._offset

    def real_now(self) -> float:
        """Wall-clock time: what a webhook receiver compares signatures against."""
        return self._time_source()

    def check_advance(self, seconds: float) -> None:
        """Raise ClockRangeError unless the clock can move forward by `seconds` now."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ClockRangeError("the clock only moves forward, by a finite number of seconds")
        room = MAX_CLOCK_OFFSET_SECONDS - self._offset
        if seconds > room:
            raise ClockRangeError(
                f"the mock clock runs at most {MAX_CLOCK_OFFSET_SECONDS} s ({MAX_CLOCK_OFFSET_SECONDS // DAY} days)"
                f" ahead of real time; it is {self._offset:g} s ahead, so it can move {max(room, 0):g} s more"
            )

    def advance(self, seconds: float) -> None:
        self.check_advance(seconds)
        self._offset += seconds

    def move_offset_to(self, offset: float) -> None:
        """Raise the offset to `offset` (never lower it): exact steps, free of float drift."""
        self._offset = max(self._offset, offset)

    def reset(self) -> None:
        self._offset = 0.0

    @property
    def frozen_at(self) -> float | None:
        return self._frozen_at

    def restore(self, offset: float, frozen_at: float | None) -> None:
        """Where a state file left the clock: its offset, and a frozen clock's start-up time."""
        self._offset = offset
        if self._frozen_at is not None and frozen_at is not None:
            self._frozen_at = frozen_at
        self._day_number = None

    def today(self) -> date:
        # Computed once per UTC day, not per call, and one object per day: every resolved
        # verification keeps the day it was reached.
        now = self.now()
        day_number = int(now // DAY)
        if day_number != self._day_number:
            self._day_number = day_number
            self._today = datetime.fromtimestamp(now, UTC).date()
        return self._today


def _nothing() -> None:
    return None


@dataclass(order=True, slots=True)
class _Entry:
    due: float
    seq: int
    job: Job = field(compare=False)
    cancelled: bool = field(default=False, compare=False)
    # Out of the heap: run, or swept away after a cancel.
    gone: bool = field(default=False, compare=False)


class Timer:
    """Handle for a scheduled job; `cancel()` keeps it from running."""

    __slots__ = ("_entry", "_scheduler")

    def __init__(self, entry: _Entry, scheduler: Scheduler) -> None:
        self._entry = entry
        self._scheduler = scheduler

    @property
    def due(self) -> float:
        return self._entry.due

    def cancel(self) -> None:
        self._scheduler._cancel(self._entry)


class AdvanceInterrupted(RuntimeError):
    """A reset emptied the schedule while an advance was replaying it."""


class Scheduler:
    """Runs jobs once the mock clock reaches their due time.

    A job is a plain callable; it may return an awaitable (a webhook attempt, say), which
    `advance` waits for so that the admin API answers only after everything that came due
    has happened.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None
        self._pending: set[asyncio.Future[object]] = set()
        # One advance at a time: each computes its end from the offset it starts from, so two
        # interleaved would each move the clock by less than they were asked (time lost).
        self._advancing = asyncio.Lock()
        # Bumped by `clear` (a reset), so an advance under way stops instead of replaying, or
        # moving the clock, past a reset that came in the middle of it.
        self._epoch = 0
        self._cancelled = 0  # cancelled entries still in the heap

    def __len__(self) -> int:
        """Jobs waiting to run (cancelled ones not counted)."""
        return len(self._heap) - self._cancelled

    def call_at(self, due: float, job: Job) -> Timer:
        entry = _Entry(due, next(self._seq), job)
        heapq.heappush(self._heap, entry)
        if self._wake is not None and self._heap[0] is entry:
            self._wake.set()
        return Timer(entry, self)

    def _cancel(self, entry: _Entry) -> None:
        if entry.cancelled or entry.gone:
            return
        entry.cancelled = True
        # Let go of the job now: it holds what it would have acted on (a verification, a
        # message), which a capped store or journal has meant to free.
        entry.job = _nothing
        self._cancelled += 1
        if self._cancelled > 1024 and self._cancelled * 2 > len(self._heap):
            # Mostly tombstones: sweep them out, in time proportional to the cancels that made them.
            for dead in self._heap:
                dead.gone = dead.gone or dead.cancelled
            self._heap = [live for live in self._heap if not live.cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def _pop(self) -> _Entry:
        entry = heapq.heappop(self._heap)
        entry.gone = True
        if entry.cancelled:
            self._cancelled -= 1
        return entry

    def call_later(self, delay: float, job: Job) -> Timer:
        return self.call_at(self.clock.now() + delay, job)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            self._pop()
        return self._heap[0].due if self._heap else None

    def run_due(self, up_to: float | None = None) -> list[Awaitable[object]]:
        """Run every job due by now (or by `up_to`, if later), in due order; return what they started."""
        started: list[Awaitable[object]] = []
        now = self.clock.now()
        limit = now if up_to is None or up_to < now else up_to
        while self._heap and self._heap[0].due <= limit:
            entry = self._pop()
            if entry.cancelled:
                continue
            try:
                result = entry.job()
            except Exception:  # a broken job must not stop the clock for everyone else
                log.exception("scheduled job failed")
                continue
            if result is not None:
                future = asyncio.ensure_future(result)
                self._pending.add(future)
                future.add_done_callback(self._pending.discard)
                started.append(future)
        return started

    async def settle(self, timeout: float | None = None, up_to: float | None = None) -> bool:
        """Run due jobs and wait for what they start, until nothing more is due.

        Returns False when `timeout` ran out first (a receiver that never answers, say).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            self.run_due(up_to)
            if not self._pending:
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            done, _ = await asyncio.wait(list(self._pending), timeout=remaining)
            if not done:
                return False

    async def advance(self, seconds: float, timeout: float | None = None) -> bool:
        """Move the clock forward by exactly `seconds`, running each job at its own due time.

        A job that schedules more work (a webhook retry 5 s after a failed attempt) sees the
        clock at its due time, so one long jump replays everything that would have happened
        in between, in order. Advances run one after another, each by its own amount. Returns
        False if `timeout` ran out waiting for started work; raises ClockRangeError for an
        amount the clock cannot take, and AdvanceInterrupted if a reset came in the middle.
        """
        self.clock.check_advance(seconds)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - loop.time())

        async with self._advancing:
            epoch = self._epoch
            self.clock.check_advance(seconds)  # again: the advance before this one moved the clock
            # Work already under way (a webhook attempt awaiting its answer) finishes first, so what
            # it schedules next (a retry 5 s later) is timed from now and replayed by this advance.
            settled = await self.settle(remaining())
            self._check_epoch(epoch)
            final_offset = self.clock.offset + seconds
            while (
                settled
                and (due := self.next_due()) is not None
                and due <= self.clock.base() + final_offset + RESOLUTION
            ):
                # Step the offset to the job's due time (never back, never past the end). One
                # reading of the base for the step: real time moves on between reads, and the
                # job runs at its due time even if the float sum lands a hair short of it.
                self.clock.move_offset_to(min(final_offset, due - self.clock.base()))
                settled = await self.settle(remaining(), up_to=due)
                self._check_epoch(epoch)
            self.clock.move_offset_to(final_offset)
            if settled:
                settled = await self.settle(remaining(), up_to=self.clock.now() + RESOLUTION)
                self._check_epoch(epoch)
        self.wake()
        return settled

    def _check_epoch(self, epoch: int) -> None:
        if epoch != self._epoch:
            raise AdvanceInterrupted("the mock was reset while the clock was being advanced")

    async def run_forever(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self.run_due()
            due = self.next_due()
            # A frozen clock never reaches a due time by itself: only an advance (which runs
            # what comes due) or a new job (which wakes this loop) can make something due.
            timeout = None if due is None or self.clock.frozen else max(0.0, due - self.clock.now())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _cancel_started(self) -> list[asyncio.Future[object]]:
        started = list(self._pending)
        for future in started:
            future.cancel()
        return started

    async def cancel_started(self) -> None:
        """At shutdown: stop work jobs started (attempts awaiting an answer) and let it unwind."""
        await asyncio.gather(*self._cancel_started(), return_exceptions=True)

    def clear(self) -> None:
        """Drop every job, stop the work they started, and end an advance under way (a reset)."""
        self._epoch += 1
        for entry in self._heap:
            entry.cancelled = entry.gone = True
            entry.job = _nothing
        self._heap.clear()
        self._cancelled = 0
        # An attempt still awaiting its answer would otherwise record itself on a dropped
        # message and schedule a retry of it into the emptied schedule.
        self._cancel_started()
