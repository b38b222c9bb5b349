"""The verification domain wired in process for unit tests: no server, no sockets, no threads.

Every part is the project's own: a MemoryStore, a ScenarioRegistry over the default scenarios
file, a Scheduler on a frozen Clock, an EventBus whose events are collected, and the
VerificationBackend over them. The clock's time source answers once (the frozen instant) and
fails the test if anything reads wall-clock time afterwards.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache

from mock_server.clock import Clock, Scheduler
from mock_server.domain.auth import Principal
from mock_server.domain.events import Event, EventBus
from mock_server.domain.records import Verification, VerificationRequest
from mock_server.domain.store import MemoryStore
from mock_server.domain.verifications import VerificationBackend
from mock_server.ids import IdSource
from mock_server.resources import default_scenarios_dir
from mock_server.scenarios import ScenarioFile, ScenarioRegistry, load_text

TODAY = date(2026, 6, 15)
FROZEN_AT = datetime(2026, 6, 15, 12, tzinfo=UTC).timestamp()  # whole seconds: sums stay exact
SANDBOX = Principal("sandbox-client", "sandbox", math.inf)
PRODUCTION = Principal("production-client", "production", math.inf)


class FrozenInstant:
    """A time source for a frozen Clock: read once, at construction; a later read is a test failure."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        assert self.reads == 1, "wall-clock time was read after the clock was frozen"
        return FROZEN_AT


@cache
def default_scenarios() -> ScenarioFile:
    path = default_scenarios_dir() / "default.yaml"
    return load_text(path.read_text(encoding="utf-8"), str(path), TODAY)


def scenario(text: str, source: str = "unit.yaml") -> ScenarioFile:
    return load_text(text, source, TODAY)


@dataclass
class Domain:
    clock: Clock
    scheduler: Scheduler
    store: MemoryStore[Verification]
    registry: ScenarioRegistry
    backend: VerificationBackend
    bus: EventBus
    events: list[Event] = field(default_factory=list)

    def create(
        self,
        member_id: str = "00000000",
        principal: Principal = SANDBOX,
        *,
        payer_id: str = "60054",
        id: str | None = None,
    ) -> Verification:
        return self.backend.create_verification(principal, request(member_id, payer_id=payer_id, id=id))

    def run_due(self) -> None:
        """Run what is due now; the backend's jobs start no async work, so no event loop is needed."""
        assert self.scheduler.run_due() == []

    def advance(self, seconds: float) -> None:
        """The real `Scheduler.advance`: each job runs with the clock at its own due time.

        Its own event loop each time: fine for the backend, whose jobs start no async work.
        """
        assert asyncio.run(self.scheduler.advance(seconds)) is True

    def elapsed(self) -> float:
        return self.clock.now() - FROZEN_AT

    def event_names(self) -> list[str]:
        return [event.event for event in self.events]


def domain(
    *runtime: ScenarioFile,
    startup: tuple[ScenarioFile, ...] | None = None,
    latency: float | None = None,
) -> Domain:
    clock = Clock(FrozenInstant(), frozen=True)
    scheduler = Scheduler(clock)
    store: MemoryStore[Verification] = MemoryStore()
    registry = ScenarioRegistry(startup if startup is not None else (default_scenarios(),))
    for file in runtime:
        registry.add(file)
    bus = EventBus()
    backend = VerificationBackend(store, registry, scheduler, bus, IdSource(7), latency)
    built = Domain(clock, scheduler, store, registry, backend, bus)
    bus.subscribe(built.events.append)
    return built


DOCUMENTED_REQUEST = VerificationRequest(
    first_name="John",
    last_name="Doe",
    date_of_birth="09/20/2006",
    state="CA",
    member_id="00000000",
    payer_id="60054",
    place_of_service_code="10",
    specialty_code="PSY",
)


def request(member_id: str = "00000000", *, payer_id: str = "60054", id: str | None = None) -> VerificationRequest:
    """The documented sandbox member (John Doe, 09/20/2006, CA) with this member id, payer id and `id` label."""
    return replace(DOCUMENTED_REQUEST, member_id=member_id, payer_id=payer_id, id=id)
