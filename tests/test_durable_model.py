"""A restart is invisible: a mock on a state file, stopped or crashed at any point and started
again, ends in the state of a twin that kept running in memory — same ids (seeded), statuses,
reasons and timelines, same work waiting on the clock.

Stateful hypothesis over the composition root (MockCore, no HTTP): each operation is flushed as
the app does before it answers; a crash closes the file without writing what was not flushed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from conftest import request_for
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mock_server.core import MockCore, load_startup_scenarios
from mock_server.domain.auth import Principal
from mock_server.domain.discovery_records import DiscoveryRequest
from mock_server.domain.records import VerificationRequest
from mock_server.domain.state_file import SqliteState
from mock_server.errors import SoharError
from mock_server.settings import Settings

STARTUP = load_startup_scenarios(Settings())
# Members whose outcomes cover the lifecycle: eligible, ineligible, member errors, the payer
# outage (pending, then a result on the clock), and the provider-dependent one.
MEMBERS = ("00000000", "00000001", "10000000", "10000002", "20000001", "20000003", "30000000")
FORCED = (
    ("complete.eligible", None),
    ("complete.ineligible", "INACTIVE"),
    ("pending", None),
    ("error.payer", None),
)


def principal(environment: str) -> Principal:
    return Principal(f"{environment}-client-id", environment, math.inf)


class RestartIsInvisible(RuleBasedStateMachine):
    @initialize()
    def start_the_twins(self) -> None:
        # Here, not in __init__: hypothesis tears down (closing the loop and the file) only a
        # machine whose run began, and may make one it never runs.
        self.folder = Path(tempfile.mkdtemp(prefix="sohar-state-"))
        self.path = self.folder / "mock.sqlite"
        self.loop = asyncio.new_event_loop()
        self.durable = self.start(self.path)
        self.memory = self.start(None)
        self.verifications: list[str] = []
        self.discoveries: list[str] = []

    def start(self, path: Path | None) -> MockCore:
        core = MockCore(Settings(state_path=path, seed=3, freeze_clock=True), STARTUP)
        self.loop.run_until_complete(core.start())
        return core

    def both(self, operation: Any) -> list[Any]:
        """The operation on each mock, answered as the app answers: after a flush."""
        results = []
        for core in (self.durable, self.memory):
            try:
                results.append(operation(core))
            except SoharError as refused:
                results.append(type(refused))
            core.state.flush()
        return results

    def run_due(self) -> None:
        for core in (self.durable, self.memory):
            self.loop.run_until_complete(core.scheduler.advance(0))

    @rule(member=st.sampled_from(MEMBERS), environment=st.sampled_from(("sandbox", "production")))
    def create_verification(self, member: str, environment: str) -> None:
        request = VerificationRequest.from_body(request_for(member))
        made = self.both(lambda core: core.verifications.create_verification(principal(environment), request))
        assert made[0].verification_id == made[1].verification_id
        self.verifications.append(made[0].verification_id)
        self.run_due()

    @rule(state=st.sampled_from(("NY", "CA", "OH")))
    def create_discovery(self, state: str) -> None:
        patient = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": state}
        request = DiscoveryRequest.from_body({"patient": patient})
        made = self.both(lambda core: core.discoveries.create_discovery(principal("sandbox"), request))
        assert made[0].discovery_id == made[1].discovery_id
        self.discoveries.append(made[0].discovery_id)
        self.run_due()

    @precondition(lambda self: self.verifications)
    @rule(data=st.data(), forced=st.sampled_from(FORCED))
    def force_status(self, data: st.DataObject, forced: tuple[str, str | None]) -> None:
        verification_id = data.draw(st.sampled_from(self.verifications))
        self.both(lambda core: core.verifications.force_status(verification_id, *forced))

    @rule(seconds=st.sampled_from((1, 5, 60, 3600)))
    def advance(self, seconds: float) -> None:
        for core in (self.durable, self.memory):
            self.loop.run_until_complete(core.scheduler.advance(seconds))
            core.state.flush()

    @rule()
    def reset(self) -> None:
        self.both(lambda core: core.reset())
        self.verifications.clear()
        self.discoveries.clear()

    @rule()
    def stop_and_start(self) -> None:
        self.loop.run_until_complete(self.durable.stop())
        self.durable = self.start(self.path)

    @rule()
    def crash_and_start(self) -> None:
        """kill -9: what was flushed is all there is; the old process's timers die with it."""
        assert isinstance(self.durable.state, SqliteState)
        self.durable.state.close(flush=False)
        self.durable.scheduler.clear()
        self.loop.run_until_complete(self.durable.stop())
        self.durable = self.start(self.path)

    @invariant()
    def the_twins_agree(self) -> None:
        for name in ("verifications", "discoveries"):
            ids = getattr(self, name)
            assert _summary(getattr(self.durable, name), ids) == _summary(getattr(self.memory, name), ids), name
        assert len(self.durable.scheduler) == len(self.memory.scheduler)
        assert self.durable.ids.position() == self.memory.ids.position()

    def teardown(self) -> None:
        if not hasattr(self, "loop"):
            return
        for core in (self.durable, self.memory):
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(core.stop())
        self.loop.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _summary(backend: Any, ids: list[str]) -> list[tuple[Any, ...]]:
    summary = []
    for key in ids:
        record = backend.find(key)
        timeline = [(step.status, step.status_reason, step.forced) for step in record.steps()]
        due = None if record.timer is None else record.next_outcome
        summary.append((key, record.status, getattr(record, "status_reason", None), record.rule, timeline, due))
    return summary


RestartIsInvisible.TestCase.settings = settings(
    max_examples=int(os.environ.get("DURABLE_EXAMPLES", 30)), stateful_step_count=20, deadline=None
)
TestRestartIsInvisible = RestartIsInvisible.TestCase
