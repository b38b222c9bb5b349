"""A state file read back at start-up, and the values saved as they stand at each flush.

Components record their own changes (domain/state_file.py); what moves too often to record
one change at a time — the clock's offset, a seeded id source's position — is compared at each
flush and saved when it moved; the change counter is read back from the records themselves.
On start with a file that already held a
mock's state, everything comes back as it was, and the timers that were waiting (a
verification's next step, a message's next attempt) are scheduled again at their own due
times, in order: what came due while the mock was down runs first thing, with its original ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from .clock import Clock, Scheduler
from .domain.auth import TokenIssuer
from .domain.discoveries import DiscoveryBackend
from .domain.providers import PROVIDER, WITHDRAWN, ProviderRegistry
from .domain.state_file import SqliteState
from .domain.verifications import VerificationBackend
from .ids import IdSource
from .revisions import Revisions
from .scenarios import ScenarioFile, ScenarioRegistry
from .webhooks import WebhookDispatcher
from .webhooks.endpoints import ENDPOINT
from .webhooks.messages import MESSAGE, SENDING

log = logging.getLogger("sohar_mock.state")

SCENARIO = "scenario"


class _Backend(Protocol):
    """What verifications and discoveries alike do with a state file."""

    KIND: str

    def restore(self, record: Any) -> None: ...
    def resume(self, record: Any, due: float) -> None: ...


@dataclass
class Components:
    """What a state file holds the state of."""

    clock: Clock
    scheduler: Scheduler
    ids: IdSource
    revisions: Revisions
    tokens: TokenIssuer
    scenarios: ScenarioRegistry
    providers: ProviderRegistry
    verifications: VerificationBackend
    discoveries: DiscoveryBackend
    webhooks: WebhookDispatcher


class StateKeeper:
    def __init__(self, state: SqliteState, parts: Components) -> None:
        self._state = state
        self._parts = parts
        self._saved: dict[str, object] = {}

    def start(self) -> str:
        """Read the file back (or stamp a new one); answers what it found, for the banner and the log."""
        found = self._restore() if self._state.restored else "new state file"
        self._state.put_meta("token-key", self._parts.tokens.key)
        self._state.before_flush.append(self._save_moving_values)
        self._parts.scenarios.on_add.append(self._scenario_added)
        self._state.flush()
        log.info("state file %s: %s", self._state.path, found)
        return found

    def _scenario_added(self, scenario: ScenarioFile, count: int) -> None:
        self._state.save(SCENARIO, f"{count:06d}", scenario)

    def _save_moving_values(self) -> None:
        parts = self._parts
        values: dict[str, object] = {"clock": (parts.clock.offset, parts.clock.frozen_at)}
        if parts.ids.seeded:
            values["ids"] = parts.ids.position()
        for name, value in values.items():
            if self._saved.get(name) != value:
                self._saved[name] = value
                self._state.put_meta(name, value)

    def _restore(self) -> str:
        state, parts = self._state, self._parts
        key = state.meta("token-key")
        if isinstance(key, bytes):
            parts.tokens.restore_key(key)
        clock = state.meta("clock")
        if clock is not None:
            parts.clock.restore(*clock)
        position = state.meta("ids")
        if position is not None and parts.ids.seeded:
            parts.ids.restore_position(position)
        for scenario, _ in state.items(SCENARIO):
            parts.scenarios.add(scenario)
        for provider, _ in state.items(PROVIDER):
            parts.providers.restore(provider)
        for provider_id, _ in state.items(WITHDRAWN):
            parts.providers.restore_withdrawn(provider_id)
        endpoints = parts.webhooks.endpoints
        for endpoint, _ in state.items(ENDPOINT):
            endpoints.restore(endpoint)
        waiting: list[tuple[float, int, Callable[[], None]]] = []

        def wait(due: float, resume: Callable[[], None]) -> None:
            waiting.append((due, len(waiting), resume))

        counts = {"verification": 0, "discovery": 0, "message": 0}
        # The change counter goes on past every change read back (not saved at each flush: it
        # moves with every change, and costs a page in every transaction).
        newest = 0
        backends: tuple[_Backend, ...] = (parts.verifications, parts.discoveries)
        for backend in backends:
            for record, due in state.items(backend.KIND):
                backend.restore(record)
                counts[backend.KIND] += 1
                newest = max(newest, record.revision)
                if due is not None:
                    wait(due, partial(backend.resume, record, due))
        now = parts.clock.now()
        undelivered = 0
        for message, due in state.items(MESSAGE):
            parts.webhooks.journal.restore(message)
            counts["message"] += 1
            newest = max(newest, message.revision)
            if message.finished:
                continue
            undelivered += 1
            # An attempt in flight at the crash (SENDING) never had its answer: it goes again, now.
            at = now if due is None or message.state == SENDING else due
            wait(at, partial(parts.webhooks.schedule_at, message, at))
        parts.revisions.restore(newest)
        # In due order, first come first within a tie: the scheduler runs them as they came.
        for _, _, resume in sorted(waiting, key=lambda entry: (entry[0], entry[1])):
            resume()
        return (
            f"restored {counts['verification']} verifications, {counts['discovery']} discoveries,"
            f" {counts['message']} webhook messages ({undelivered} to deliver)"
        )
