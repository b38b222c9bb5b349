"""The verification lifecycle: create, resolve on the mock clock, emit events."""

from __future__ import annotations

from ..clock import Scheduler
from ..errors import Conflict, InvalidRequest
from ..ids import IdSource
from ..revisions import Revisions
from ..scenarios import EnrolledCheck, Outcome, Payer, Resolution, ScenarioRegistry, ScenarioSet
from ..statuses import REASON_REQUIRED
from .auth import Principal
from .events import VERIFICATION, Event, EventBus
from .lifecycle import FINAL, PENDING, STATUS_REASONS, STATUSES, can_transition, event_name
from .providers import ProviderRegistry
from .records import Verification, VerificationRequest
from .state_file import MEMORY, StateLog
from .store import VerificationStore
from .timeline import Step
from .tracking import Tracker, first_set


class VerificationBackend:
    KIND = "verification"  # what its records are called in a state file

    def __init__(
        self,
        store: VerificationStore,
        scenarios: ScenarioRegistry,
        scheduler: Scheduler,
        events: EventBus,
        ids: IdSource,
        latency: float | None,
        providers: ProviderRegistry | None = None,
        revisions: Revisions | None = None,
        state: StateLog = MEMORY,
    ) -> None:
        self._tracker: Tracker[Verification] = Tracker(store, scheduler, revisions, state, self.KIND)
        self._providers = providers
        self._scenarios = scenarios
        self._clock = scheduler.clock
        self._events = events
        self._ids = ids
        self._latency = latency

    # -- Sohar operations -------------------------------------------------------------

    def create_verification(self, principal: Principal, request: VerificationRequest) -> Verification:
        scenarios = self._scenarios.current
        if scenarios.find_payer(request.payer_id) is None:
            raise InvalidRequest("payerId")
        now = self._clock.now()
        verification = Verification(
            verification_id=self._ids.uuid(),
            environment=principal.environment,
            client_id=principal.client_id,
            created=now,
            request=request,
            updated=now,
        )
        self._tracker.add(verification)
        decision = scenarios.decide(request.fields(principal.environment))
        verification.rule = decision.rule.name if decision.rule else None
        delay = self._delay(decision.outcome, scenarios)
        self._tracker.schedule(verification, delay, decision.outcome, self._advance)
        return verification

    def get_verification(self, principal: Principal, verification_id: str) -> Verification:
        return self._tracker.get_for(principal, verification_id)

    # -- a state file read back ----------------------------------------------------------

    def restore(self, verification: Verification) -> None:
        self._tracker.restore(verification)

    def resume(self, verification: Verification, due: float) -> None:
        self._tracker.resume(verification, due, self._advance)

    # -- control plane ----------------------------------------------------------------

    def find(self, verification_id: str) -> Verification:
        return self._tracker.find(verification_id)

    def force_status(self, verification_id: str, status: str, status_reason: str | None) -> Verification:
        """Put a verification in any status now and fire its event (QA's shortcut)."""
        if status not in STATUSES:
            raise InvalidRequest("status")
        allowed = STATUS_REASONS.get(status, frozenset())
        if status_reason is not None and status_reason not in allowed:
            raise InvalidRequest("statusReason")
        if status in REASON_REQUIRED and status_reason is None:
            raise InvalidRequest("statusReason")
        verification = self.find(verification_id)
        self._tracker.stop(verification)
        scenarios = self._scenarios.current
        if status == PENDING:
            self._transition(verification, PENDING, None, None, force=True)
            return verification
        fields = verification.request.fields(verification.environment)
        resolution = scenarios.resolve(Outcome(status, status_reason), fields, self._clock.today(), rule="forced")
        self._transition(verification, status, status_reason, resolution, force=True)
        return verification

    # -- lifecycle ----------------------------------------------------------------------

    def _delay(self, outcome: Outcome, scenarios: ScenarioSet) -> float:
        return first_set(outcome.delay, self._latency, scenarios.defaults.delay)

    def _advance(self, verification: Verification, outcome: Outcome) -> None:
        scenarios = self._scenarios.current
        if outcome.status == PENDING:
            self._transition(verification, PENDING, None, None)
            recover = scenarios.recovery(outcome.recover_after)
            then = outcome.then or Outcome("roster")
            self._tracker.schedule(verification, recover, then, self._advance)
            return
        fields = verification.request.fields(verification.environment)
        enrolled = self._enrolled_check(verification)
        resolution = scenarios.resolve(outcome, fields, self._clock.today(), rule=verification.rule, enrolled=enrolled)
        self._transition(verification, resolution.status, resolution.status_reason, resolution)

    def _enrolled_check(self, verification: Verification) -> EnrolledCheck | None:
        """What the payer asks when it needs an NPI on file: providers of this environment and state."""
        providers = self._providers
        if providers is None:
            return None
        environment, state = verification.environment, verification.request.state

        def enrolled(kind: str, payer: Payer) -> bool:
            return providers.enrolled(environment, state, kind, payer)

        return enrolled

    def _transition(
        self,
        verification: Verification,
        status: str,
        status_reason: str | None,
        resolution: Resolution | None,
        force: bool = False,
    ) -> None:
        if not force and not can_transition(verification.status, status):
            raise Conflict("status", f"{verification.status} cannot become {status}")
        now = self._clock.now()
        previous = verification.steps()
        verification.status = status
        verification.status_reason = status_reason
        verification.resolution = resolution
        verification.resolved_on = self._clock.today() if status in FINAL else None
        verification.updated = now
        self._tracker.status_changed(verification, previous, Step(now, status, status_reason, force))
        self._events.publish(
            Event(
                event=event_name(status, verification.environment),
                subject=VERIFICATION,
                subject_id=verification.verification_id,
                id=verification.request.id,
                status=status,
                environment=verification.environment,
                occurred_at=now,
            )
        )
