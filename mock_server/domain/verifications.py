"""The verification lifecycle: create, resolve on the mock clock, emit events."""

from __future__ import annotations

from ..clock import Scheduler
from ..errors import Conflict, InvalidRequest, NotFound
from ..ids import IdSource
from ..revisions import Revisions
from ..scenarios import Outcome, Resolution, ScenarioRegistry, ScenarioSet
from ..statuses import REASON_REQUIRED
from .auth import Principal
from .events import EventBus, VerificationEvent
from .lifecycle import FINAL, PENDING, STATUS_REASONS, STATUSES, can_transition, event_name
from .records import Step, Verification, VerificationRequest
from .store import VerificationStore


class VerificationBackend:
    def __init__(
        self,
        store: VerificationStore,
        scenarios: ScenarioRegistry,
        scheduler: Scheduler,
        events: EventBus,
        ids: IdSource,
        latency: float | None,
        revisions: Revisions | None = None,
    ) -> None:
        self._store = store
        self._scenarios = scenarios
        self._scheduler = scheduler
        self._clock = scheduler.clock
        self._events = events
        self._ids = ids
        self._latency = latency
        self._revisions = revisions or Revisions()

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
            revision=self._revisions.next(),
        )
        dropped = self._store.add(verification)
        if dropped is not None and dropped.timer is not None:
            # Dropped before its result: it must never resolve, nor fire an event about an id
            # that now answers 404.
            dropped.timer.cancel()
            dropped.timer = None
        decision = scenarios.decide(request.fields(principal.environment))
        verification.rule = decision.rule.name if decision.rule else None
        delay = self._delay(decision.outcome, scenarios)
        verification.timer = self._scheduler.call_later(delay, lambda: self._advance(verification, decision.outcome))
        return verification

    def get_verification(self, principal: Principal, verification_id: str) -> Verification:
        verification = self._store.get(verification_id)
        # Another environment's verification does not exist for this token, as in Sohar.
        if verification is None or verification.environment != principal.environment:
            raise NotFound()
        return verification

    # -- control plane ----------------------------------------------------------------

    def find(self, verification_id: str) -> Verification:
        verification = self._store.get(verification_id)
        if verification is None:
            raise NotFound()
        return verification

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
        if verification.timer is not None:
            verification.timer.cancel()
            verification.timer = None
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
        for value in (outcome.delay, self._latency, scenarios.defaults.delay):
            if value is not None:
                return value
        return 0.0

    def _advance(self, verification: Verification, outcome: Outcome) -> None:
        verification.timer = None
        scenarios = self._scenarios.current
        if outcome.status == PENDING:
            self._transition(verification, PENDING, None, None)
            recover = outcome.recover_after
            if recover is None:
                recover = scenarios.defaults.recover_after if scenarios.defaults.recover_after is not None else 5.0
            then = outcome.then or Outcome("roster")
            verification.timer = self._scheduler.call_later(recover, lambda: self._advance(verification, then))
            return
        fields = verification.request.fields(verification.environment)
        resolution = scenarios.resolve(outcome, fields, self._clock.today(), rule=verification.rule)
        self._transition(verification, resolution.status, resolution.status_reason, resolution)

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
        verification.revision = self._revisions.next()
        if previous or force:
            verification.history = (*previous, Step(now, status, status_reason, force))
        self._store.status_changed(verification)
        self._events.publish(
            VerificationEvent(
                event=event_name(status, verification.environment),
                verification_id=verification.verification_id,
                id=verification.request.id,
                status=status,
                environment=verification.environment,
                occurred_at=now,
            )
        )
