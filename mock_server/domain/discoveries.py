"""The discovery lifecycle: create, search on the mock clock, emit events.

Shares its machinery with verifications (`Tracker`: storage, lookup per environment, one timer
per discovery); what differs is the request, how scenarios resolve it and its two statuses.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..clock import Scheduler
from ..errors import Conflict, InvalidRequest
from ..ids import IdSource
from ..revisions import Revisions
from ..scenarios import ROSTER, CoverageRef, DiscoveryOutcome, DiscoveryResolution, ScenarioRegistry
from .auth import Principal
from .discovery_lifecycle import COMPLETE, PENDING, STATUSES, can_transition, event_name
from .discovery_records import Discovery, DiscoveryRequest
from .events import DISCOVERY, Event, EventBus
from .state_file import MEMORY, StateLog
from .store import RecordStore
from .timeline import Step
from .tracking import Tracker, first_set


class DiscoveryBackend:
    KIND = "discovery"  # what its records are called in a state file

    def __init__(
        self,
        store: RecordStore[Discovery],
        scenarios: ScenarioRegistry,
        scheduler: Scheduler,
        events: EventBus,
        ids: IdSource,
        latency: float | None,
        revisions: Revisions | None = None,
        state: StateLog = MEMORY,
    ) -> None:
        self._tracker: Tracker[Discovery] = Tracker(store, scheduler, revisions, state, self.KIND)
        self._scenarios = scenarios
        self._clock = scheduler.clock
        self._events = events
        self._ids = ids
        self._latency = latency

    # -- Sohar operations -------------------------------------------------------------

    def create_discovery(self, principal: Principal, request: DiscoveryRequest) -> Discovery:
        scenarios = self._scenarios.current
        # A payer the patient names must be one Sohar knows, as in Create Verification.
        if request.payer_id is not None and scenarios.find_payer(request.payer_id) is None:
            raise InvalidRequest("payerId")
        now = self._clock.now()
        discovery = Discovery(
            discovery_id=self._ids.uuid(),
            environment=principal.environment,
            client_id=principal.client_id,
            created=now,
            request=request,
            updated=now,
        )
        self._tracker.add(discovery)
        decision = scenarios.decide_discovery(request.fields(principal.environment))
        discovery.rule = decision.rule.name if decision.rule else None
        delay = first_set(decision.outcome.delay, self._latency, scenarios.defaults.delay)
        self._tracker.schedule(discovery, delay, decision.outcome, self._advance)
        return discovery

    def get_discovery(self, principal: Principal, discovery_id: str) -> Discovery:
        return self._tracker.get_for(principal, discovery_id)

    # -- a state file read back ----------------------------------------------------------

    def restore(self, discovery: Discovery) -> None:
        self._tracker.restore(discovery)

    def resume(self, discovery: Discovery, due: float) -> None:
        self._tracker.resume(discovery, due, self._advance)

    # -- control plane ----------------------------------------------------------------

    def find(self, discovery_id: str) -> Discovery:
        return self._tracker.find(discovery_id)

    def force_status(
        self, discovery_id: str, status: str, coverages: Sequence[tuple[str, str]] | None = None
    ) -> Discovery:
        """Put a discovery in either status now and fire its event (QA's shortcut).

        `complete` finds the given (payerId, memberId) coverages, or, without them, what the
        scenarios decide for its request (past any `pending`).
        """
        if status not in STATUSES:
            raise InvalidRequest("status")
        if coverages is not None and status != COMPLETE:
            raise InvalidRequest("coverages")
        discovery = self.find(discovery_id)
        scenarios = self._scenarios.current
        if coverages is not None:
            for index, (payer_id, _member_id) in enumerate(coverages):
                if scenarios.find_payer(payer_id) is None:
                    raise InvalidRequest(f"coverages.{index}.payerId", f"unknown payer {payer_id!r}")
        self._tracker.stop(discovery)
        if status == PENDING:
            self._transition(discovery, PENDING, None, force=True)
            return discovery
        if coverages is not None:
            outcome = DiscoveryOutcome(COMPLETE, tuple(CoverageRef(p, m) for p, m in coverages))
        else:
            outcome = scenarios.decide_discovery(discovery.request.fields(discovery.environment)).outcome
            if outcome.status == PENDING:
                outcome = outcome.then or DiscoveryOutcome(ROSTER)
        fields = discovery.request.fields(discovery.environment)
        resolution = scenarios.discover(outcome, fields, self._clock.today(), rule="forced")
        self._transition(discovery, COMPLETE, resolution, force=True)
        return discovery

    # -- lifecycle ----------------------------------------------------------------------

    def _advance(self, discovery: Discovery, outcome: DiscoveryOutcome) -> None:
        scenarios = self._scenarios.current
        if outcome.status == PENDING:
            self._transition(discovery, PENDING, None)
            then = outcome.then or DiscoveryOutcome(ROSTER)
            recover = scenarios.recovery(outcome.recover_after)
            self._tracker.schedule(discovery, recover, then, self._advance)
            return
        fields = discovery.request.fields(discovery.environment)
        resolution = scenarios.discover(outcome, fields, self._clock.today(), rule=discovery.rule)
        self._transition(discovery, COMPLETE, resolution)

    def _transition(
        self, discovery: Discovery, status: str, resolution: DiscoveryResolution | None, force: bool = False
    ) -> None:
        if not force and not can_transition(discovery.status, status):
            raise Conflict("status", f"{discovery.status} cannot become {status}")
        now = self._clock.now()
        previous = discovery.steps()
        discovery.status = status
        discovery.resolution = resolution
        discovery.resolved_on = self._clock.today() if status == COMPLETE else None
        discovery.updated = now
        self._tracker.status_changed(discovery, previous, Step(now, status, None, force))
        self._events.publish(
            Event(
                event=event_name(discovery.environment),
                subject=DISCOVERY,
                subject_id=discovery.discovery_id,
                id=discovery.request.id,
                status=status,
                environment=discovery.environment,
                occurred_at=now,
            )
        )
