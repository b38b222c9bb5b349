"""The clock and scheduler at unit level."""

from __future__ import annotations

import asyncio

import pytest

from mock_server.clock import Clock, Scheduler


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
