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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

log = logging.getLogger("sohar_mock.clock")

Job = Callable[[], Awaitable[object] | None]


class Clock:
    def __init__(self, time_source: Callable[[], float] = time.time) -> None:
        self._time_source = time_source
        self._offset = 0.0
        self._day_number: int | None = None
        self._today = date.min

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        """Mock-clock time as Unix seconds."""
        return self._time_source() + self._offset

    def real_now(self) -> float:
        """Wall-clock time: what a webhook receiver compares signatures against."""
        return self._time_source()

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0

    def raise_offset_to(self, offset: float) -> None:
        """Exact final positioning after stepwise moves (no float drift from now() reads)."""
        self._offset = max(self._offset, offset)

    def today(self) -> date:
        # Computed once per UTC day, not per call, and one object per day: every resolved
        # verification keeps the day it was reached.
        now = self.now()
        day_number = int(now // 86_400)
        if day_number != self._day_number:
            self._day_number = day_number
            self._today = datetime.fromtimestamp(now, UTC).date()
        return self._today


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    job: Job = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timer:
    """Handle for a scheduled job; `cancel()` keeps it from running."""

    __slots__ = ("_entry",)

    def __init__(self, entry: _Entry) -> None:
        self._entry = entry

    @property
    def due(self) -> float:
        return self._entry.due

    def cancel(self) -> None:
        self._entry.cancelled = True


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

    def call_at(self, due: float, job: Job) -> Timer:
        entry = _Entry(due, next(self._seq), job)
        heapq.heappush(self._heap, entry)
        if self._wake is not None and self._heap[0] is entry:
            self._wake.set()
        return Timer(entry)

    def call_later(self, delay: float, job: Job) -> Timer:
        return self.call_at(self.clock.now() + delay, job)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    def run_due(self) -> list[Awaitable[object]]:
        """Run every job due by now, in due order; return the awaitables they started."""
        started: list[Awaitable[object]] = []
        now = self.clock.now()
        while self._heap and self._heap[0].due <= now:
            entry = heapq.heappop(self._heap)
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

    async def settle(self, timeout: float | None = None) -> bool:
        """Run due jobs and wait for what they start, until nothing more is due.

        Returns False when `timeout` ran out first (a receiver that never answers, say).
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            self.run_due()
            if not self._pending:
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            done, _ = await asyncio.wait(list(self._pending), timeout=remaining)
            if not done:
                return False

    async def advance(self, seconds: float, timeout: float | None = None) -> bool:
        """Move the clock forward, running each job at its own due time on the way.

        A job that schedules more work (a webhook retry 5 s after a failed attempt) sees the
        clock at its due time, so one long jump replays everything that would have happened
        in between, in order. Returns False if `timeout` ran out waiting for started work.
        """
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        # Work already under way (a webhook attempt awaiting its answer) finishes first, so what
        # it schedules next (a retry 5 s later) is timed from now and replayed by this advance.
        settled_before = await self.settle(timeout)
        target = self.clock.now() + seconds
        final_offset = self.clock.offset + seconds
        while (due := self.next_due()) is not None and due <= target:
            if due > self.clock.now():
                self.clock.advance(due - self.clock.now())
            if not await self.settle(None if deadline is None else deadline - loop.time()):
                break
        self.clock.raise_offset_to(final_offset)
        settled = await self.settle(None if deadline is None else deadline - loop.time())
        self.wake()
        return settled_before and settled

    async def run_forever(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self.run_due()
            due = self.next_due()
            timeout = None if due is None else max(0.0, due - self.clock.now())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def cancel_started(self) -> None:
        """At shutdown: stop work jobs started (attempts awaiting an answer) and let it unwind."""
        started = list(self._pending)
        for future in started:
            future.cancel()
        await asyncio.gather(*started, return_exceptions=True)

    def clear(self) -> None:
        for entry in self._heap:
            entry.cancelled = True
        self._heap.clear()
