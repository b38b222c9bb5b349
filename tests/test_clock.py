"""The clock and scheduler at unit level."""

from __future__ import annotations

import asyncio

import pytest

from mock_server.clock import AdvanceInterrupted, Clock, ClockRangeError, Scheduler
from mock_server.limits import MAX_CLOCK_OFFSET_SECONDS


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_advance_moves_mock_time_but_not_real_time() -> None:
    real = FakeTime()
    clock = Clock(real)
    clock.advance(90)
    assert clock.now() == real.now + 90
    assert clock.real_now() == real.now
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.reset()
    assert clock.now() == real.now


def test_jobs_run_in_due_order_once_due_and_cancelled_ones_never() -> None:
    clock = Clock(FakeTime())
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.call_later(10, lambda: ran.append("b"))
    scheduler.call_later(5, lambda: ran.append("a"))
    scheduler.call_later(7, lambda: ran.append("x")).cancel()
    scheduler.run_due()
    assert ran == []
    clock.advance(10)
    scheduler.run_due()
    assert ran == ["a", "b"]


def test_a_failing_job_does_not_stop_the_others() -> None:
    clock = Clock(FakeTime())
    scheduler = Scheduler(clock)
    ran: list[int] = []
    scheduler.call_later(0, lambda: 1 / 0)
    scheduler.call_later(0, lambda: ran.append(1))
    scheduler.run_due()
    assert ran == [1]


def test_settle_awaits_started_work_and_what_it_schedules() -> None:
    async def scenario() -> list[str]:
        clock = Clock(FakeTime())
        scheduler = Scheduler(clock)
        log: list[str] = []

        async def attempt(n: int) -> None:
            await asyncio.sleep(0)
            log.append(f"attempt {n}")
            if n < 3:
                scheduler.call_later(5 * n, lambda: attempt(n + 1))

        scheduler.call_later(0, lambda: attempt(1))
        await scheduler.settle(timeout=5)
        assert log == ["attempt 1"]
        assert await scheduler.advance(3600, timeout=5)
        return log

    assert asyncio.run(scenario()) == ["attempt 1", "attempt 2", "attempt 3"]


def test_advance_runs_each_job_at_its_own_due_time() -> None:
    async def scenario() -> list[float]:
        real = FakeTime()
        clock = Clock(real)
        scheduler = Scheduler(clock)
        seen: list[float] = []

        def job() -> None:
            seen.append(clock.now() - real.now)
            if len(seen) < 3:
                scheduler.call_later(300, job)

        scheduler.call_later(5, job)
        await scheduler.advance(10_000)
        assert clock.now() - real.now == 10_000
        return seen

    assert asyncio.run(scenario()) == [5, 305, 605]


def test_settle_gives_up_at_its_timeout() -> None:
    async def scenario() -> bool:
        scheduler = Scheduler(Clock(FakeTime()))
        scheduler.call_later(0, lambda: asyncio.sleep(10))
        return await scheduler.settle(timeout=0.05)

    assert asyncio.run(scenario()) is False


class DriftingTime:
    """Real time that moves on between any two reads, as it does on a busy machine."""

    def __init__(self, step: float) -> None:
        self.now = 1_000_000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize("drift", [0.001, 0.003, 0.01])
@pytest.mark.parametrize("spacing", [0.002, 0.005, 0.01, 0.03])
def test_advance_survives_real_time_moving_between_reads(drift: float, spacing: float) -> None:
    # Jobs a few milliseconds apart, real time moving on at every read of the clock: a step that
    # reads the time twice lands behind a due time it was about to reach (some of these pairs
    # made the clock refuse to "move backwards" and abandon the advance half-way).
    async def scenario() -> tuple[float, list[float]]:
        clock = Clock(DriftingTime(step=drift))
        scheduler = Scheduler(clock)
        lateness: list[float] = []
        start = clock.now()
        for index in range(100):
            due = start + 1 + index * spacing
            scheduler.call_at(due, lambda due=due: lateness.append(clock.now() - due))
        assert await scheduler.advance(400, timeout=5)
        return clock.offset, lateness

    offset, lateness = asyncio.run(scenario())
    assert offset == 400
    assert len(lateness) == 100
    assert all(late >= 0 for late in lateness), "a job ran before its due time"


@pytest.mark.parametrize("stagger", range(6))
def test_concurrent_advances_each_move_the_clock_by_their_own_amount(stagger: int) -> None:
    # Twenty advances of 400 s arriving while webhook attempts are under way: the clock must end
    # exactly 8000 s ahead, whichever advance resumes first after an attempt.
    async def scenario() -> float:
        clock = Clock(FakeTime())
        scheduler = Scheduler(clock)

        async def attempt(n: int, lane: int) -> None:
            for _ in range((n + lane) % 3):
                await asyncio.sleep(0)  # an attempt awaiting its answer
            if n < 50:
                scheduler.call_later(37 + lane, lambda: attempt(n + 1, lane))

        for lane in range(10):
            scheduler.call_later(lane, lambda lane=lane: attempt(0, lane))

        async def advance(index: int) -> None:
            for _ in range(index * stagger):
                await asyncio.sleep(0)
            assert await scheduler.advance(400, timeout=5)

        await asyncio.gather(*(advance(index) for index in range(20)))
        return clock.offset

    assert asyncio.run(scenario()) == 20 * 400


def test_the_clock_has_a_range_and_refuses_to_leave_it() -> None:
    clock = Clock(FakeTime())
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(ClockRangeError):
            clock.advance(bad)
    clock.advance(MAX_CLOCK_OFFSET_SECONDS - 10)
    with pytest.raises(ClockRangeError, match="can move 10 s more"):
        clock.advance(11)
    clock.advance(10)
    assert clock.offset == MAX_CLOCK_OFFSET_SECONDS
    # The far end of the range still renders as a date.
    assert clock.today().year == 2070  # 1970 + 100 years


def test_a_frozen_clock_moves_only_when_advanced() -> None:
    real = FakeTime()
    clock = Clock(real, frozen=True)
    start = clock.now()
    real.now += 3600
    assert clock.now() == start
    assert clock.real_now() == real.now  # signatures still carry real time
    clock.advance(5)
    assert clock.now() == start + 5
    clock.reset()
    assert clock.now() == start


def test_a_job_due_at_a_fractional_time_runs_on_a_frozen_clock() -> None:
    async def scenario() -> list[float]:
        real = FakeTime()
        real.now = 1_764_498_405.123456  # a base whose sums with small offsets do not round exactly
        clock = Clock(real, frozen=True)
        scheduler = Scheduler(clock)
        ran: list[float] = []
        for delay in (0.1, 0.2, 0.30000000000000004, 1e-9, 7.7):
            scheduler.call_later(delay, lambda delay=delay: ran.append(delay))
        for _ in range(77):
            assert await scheduler.advance(0.1, timeout=5)
        return ran

    assert asyncio.run(scenario()) == [1e-9, 0.1, 0.2, 0.30000000000000004, 7.7]


def test_an_advance_reaches_a_due_time_its_float_sum_lands_a_hair_short_of() -> None:
    async def scenario() -> list[str]:
        real = FakeTime()
        # (base + 8.272) + 33.433 is one rounding step above base + (8.272 + 33.433).
        real.now = 1_713_436_424.41124
        clock = Clock(real, frozen=True)
        scheduler = Scheduler(clock)
        ran: list[str] = []
        await scheduler.advance(8.272)
        scheduler.call_later(33.433, lambda: ran.append("due"))
        await scheduler.advance(33.433)
        return ran

    assert asyncio.run(scenario()) == ["due"]


def test_a_reset_ends_an_advance_under_way_and_the_work_it_started() -> None:
    async def scenario() -> tuple[float, list[str]]:
        clock = Clock(FakeTime(), frozen=True)
        scheduler = Scheduler(clock)
        log: list[str] = []

        async def hanging_attempt() -> None:
            log.append("sent")
            await asyncio.sleep(3600)  # a receiver that never answers
            log.append("answered")  # never reached: the reset cancels it
            scheduler.call_later(5, lambda: log.append("ghost retry"))

        scheduler.call_later(10, hanging_attempt)
        advancing = asyncio.ensure_future(scheduler.advance(60))
        while not log:
            await asyncio.sleep(0)
        scheduler.clear()
        clock.reset()
        with pytest.raises(AdvanceInterrupted):
            await advancing
        assert await scheduler.advance(3600, timeout=5)
        return clock.offset, log

    assert asyncio.run(scenario()) == (3600, ["sent"])


def test_cancelled_jobs_let_go_of_what_they_hold_and_leave_the_schedule() -> None:
    import gc
    import weakref

    class Verification:
        pass

    clock = Clock(FakeTime())
    scheduler = Scheduler(clock)
    held = [Verification() for _ in range(5000)]
    refs = [weakref.ref(item) for item in held]
    timers = [scheduler.call_later(60 + index, lambda item=item: item) for index, item in enumerate(held)]
    keep = scheduler.call_later(30, lambda: None)
    del held
    for timer in timers:
        timer.cancel()
        timer.cancel()  # twice changes nothing
    gc.collect()
    assert all(ref() is None for ref in refs)  # a capped store's dropped verifications are freed
    assert len(scheduler) == 1
    assert len(scheduler._heap) < 2048  # swept, not 5 001 tombstones
    assert scheduler.next_due() == keep.due
    keep.cancel()
    assert scheduler.next_due() is None and len(scheduler) == 0
