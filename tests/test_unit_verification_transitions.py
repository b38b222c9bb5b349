"""Verification transitions and forced statuses (`mock_server/domain/verifications.py`), in process.

The VerificationBackend over a real MemoryStore, ScenarioRegistry (default scenarios), Scheduler
on a frozen Clock and EventBus (tests/unit_domain.py): every status is reached from its trigger;
only the lifecycle's transitions happen on their own, anything else is a Conflict that changes
nothing; a forced status is checked against its statusReason rules, replaces whatever was
scheduled, and fires exactly one event; each event is named for its status and environment.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_domain import PRODUCTION, SANDBOX, TODAY, Domain, domain

from mock_server.domain.auth import Principal
from mock_server.domain.events import VERIFICATION_EVENT_TYPES
from mock_server.domain.lifecycle import FINAL, PENDING, PROCESSING, STATUS_REASONS, STATUSES, TRANSITIONS
from mock_server.domain.records import Verification
from mock_server.errors import Conflict, InvalidRequest, NotFound

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=60)

# The default scenarios' trigger member ids: (member id, status, statusReason, rule that decided).
TRIGGERS = [
    ("00000000", "complete.eligible", None, None),
    ("00000001", "complete.ineligible", "INACTIVE", None),
    ("00000002", "complete.ineligible", "NON_COVERED", None),
    ("10000000", "error.member.id", None, None),
    ("10000001", "error.member.dob", None, None),
    ("10000002", "error.member.name", None, None),
    ("20000000", "error.payer", None, "payer-unavailable"),
    ("20000001", "error.payer", "CONTACT_PAYER_REQUIRED", "payer-needs-manual-contact"),
    ("20000002", "error.payer.npi", None, "payer-rejects-npi"),
    ("30000000", "pending", None, "payer-outage-then-recovers"),
]
# Every status with every statusReason it may carry when forced.
FORCIBLE = sorted(
    [(status, None) for status in STATUSES if status != "complete.ineligible"]
    + [(status, reason) for status, reasons in STATUS_REASONS.items() for reason in sorted(reasons)],
    key=lambda pair: (pair[0], pair[1] or ""),
)
ENVIRONMENTS = [SANDBOX, PRODUCTION]


def expected_event(status: str, principal: Principal) -> str:
    kind = "verification.pending" if status == PENDING else "verification.updated"
    return f"sandbox.{kind}" if principal.environment == "sandbox" else kind


def in_status(unit: Domain, status: str) -> Verification:
    """A sandbox verification in `status`: processing as created, any other forced."""
    verification = unit.create()
    if status != PROCESSING:
        reason = "INACTIVE" if status == "complete.ineligible" else None
        unit.backend.force_status(verification.verification_id, status, reason)
    unit.events.clear()
    return verification


# -- reached on their own ------------------------------------------------------------------------


@pytest.mark.parametrize(("member_id", "status", "reason", "rule"), TRIGGERS)
@pytest.mark.parametrize("principal", ENVIRONMENTS, ids=["sandbox", "production"])
def test_every_trigger_reaches_its_status_and_fires_its_event(
    principal: Principal, member_id: str, status: str, reason: str | None, rule: str | None
) -> None:
    unit = domain()
    verification = unit.create(member_id, principal, id="label-1")
    assert verification.status == PROCESSING and unit.events == []  # nothing fires at create
    unit.run_due()
    assert (verification.status, verification.status_reason, verification.rule) == (status, reason, rule)
    assert verification.resolved_on == (TODAY if status in FINAL else None)
    [event] = unit.events
    assert event.event == expected_event(status, principal)
    assert event.payload() == {
        "event": event.event,
        "verificationId": verification.verification_id,
        "id": "label-1",
        "status": status,
    }
    assert event.environment == principal.environment and event.occurred_at == unit.clock.now()
    if status in FINAL:
        assert verification.resolution is not None and verification.resolution.status == status
        assert verification.timer is None and len(unit.scheduler) == 0
    else:
        assert verification.resolution is None and verification.timer is not None


def test_the_triggers_reach_every_status() -> None:
    assert {status for _, status, _, _ in TRIGGERS} == set(STATUSES)
    assert {event for status in STATUSES for p in ENVIRONMENTS for event in [expected_event(status, p)]} == set(
        VERIFICATION_EVENT_TYPES
    )


def test_a_result_is_not_reached_before_it_is_due() -> None:
    unit = domain(latency=2.0)
    verification = unit.create()
    unit.advance(1.999)
    assert verification.status == PROCESSING and unit.events == []
    unit.advance(0.001)
    assert verification.status == "complete.eligible"
    assert verification.updated == unit.clock.now() and verification.created == unit.clock.now() - 2.0


# -- the lifecycle table ------------------------------------------------------------------------


def test_the_lifecycle_table() -> None:
    assert TRANSITIONS[PROCESSING] == STATUSES  # created: anything Sohar can say comes next
    assert TRANSITIONS[PENDING] == FINAL  # the payer recovers with a result, never another pending
    assert all(TRANSITIONS[status] == frozenset() for status in FINAL)  # a result is final
    assert PROCESSING not in STATUSES  # no one can ask for the internal status


@pytest.mark.parametrize("current", [PROCESSING, *sorted(STATUSES)])
@pytest.mark.parametrize("target", sorted(STATUSES))
def test_only_the_tables_transitions_happen_unforced(current: str, target: str) -> None:
    # No public operation tries an unforced transition the table forbids (a forced status
    # cancels what was scheduled), so the guard is exercised through the backend's one
    # transition method directly.
    unit = domain(latency=3600.0)  # a processing verification stays so while the test runs
    verification = in_status(unit, current)
    before = (verification.status, verification.status_reason, verification.updated)
    unit.advance(10)  # something else happened since: `updated` must move only on a change
    if target in TRANSITIONS[current]:
        unit.backend._transition(verification, target, None, None)
        assert verification.status == target and verification.updated == unit.clock.now()
        assert unit.event_names() == [expected_event(target, SANDBOX)]
        return
    with pytest.raises(Conflict) as refused:
        unit.backend._transition(verification, target, None, None)
    assert refused.value.param == "status"
    assert str(refused.value) == f"{current} cannot become {target}"
    assert (verification.status, verification.status_reason, verification.updated) == before
    assert unit.events == []


# -- forced statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "reason"), FORCIBLE)
@pytest.mark.parametrize("principal", ENVIRONMENTS, ids=["sandbox", "production"])
def test_any_status_can_be_forced_and_fires_one_event(principal: Principal, status: str, reason: str | None) -> None:
    unit = domain(latency=60.0)
    verification = unit.create(principal=principal)
    forced = unit.backend.force_status(verification.verification_id, status, reason)
    assert forced is verification
    assert (verification.status, verification.status_reason) == (status, reason)
    assert unit.event_names() == [expected_event(status, principal)]
    if status == PENDING:
        assert verification.resolution is None and verification.resolved_on is None
    else:
        assert verification.resolution is not None
        assert (verification.resolution.status, verification.resolution.status_reason) == (status, reason)
        assert verification.resolution.rule == "forced" and verification.resolved_on == TODAY
    # What was scheduled is gone: the result due at 60 s never comes, nor does anything else.
    assert verification.timer is None and len(unit.scheduler) == 0
    unit.advance(86_400)
    assert (verification.status, verification.status_reason) == (status, reason)
    assert len(unit.events) == 1


def test_forcing_a_complete_status_answers_with_coverage_and_an_error_without() -> None:
    unit = domain()
    documented = unit.create()
    unknown = unit.create("10000000")
    unit.run_due()
    unit.backend.force_status(documented.verification_id, "complete.ineligible", "ACTIVE_PENDING_INVESTIGATION")
    resolution = documented.resolution
    assert resolution is not None and resolution.member is not None and resolution.coverage is not None
    assert resolution.member.member_id == "00000000"
    # A member the payer does not know still gets the default profile's coverage when forced eligible.
    unit.backend.force_status(unknown.verification_id, "complete.eligible", None)
    assert unknown.resolution is not None and unknown.resolution.member is None
    assert unknown.resolution.coverage is not None and unknown.resolution.coverage.plan is not None
    unit.backend.force_status(documented.verification_id, "error.member.dob", None)
    assert documented.resolution is not None
    assert documented.resolution.member is None and documented.resolution.coverage is None


@DETERMINISTIC
@given(forced=st.lists(st.sampled_from(FORCIBLE), min_size=1, max_size=8), principal=st.sampled_from(ENVIRONMENTS))
def test_each_forced_status_fires_its_own_event_and_the_last_one_stands(
    forced: list[tuple[str, str | None]], principal: Principal
) -> None:
    unit = domain()
    verification = unit.create(principal=principal)
    unit.run_due()
    unit.events.clear()
    for status, reason in forced:
        unit.backend.force_status(verification.verification_id, status, reason)
    assert unit.event_names() == [expected_event(status, principal) for status, _ in forced]
    assert [event.status for event in unit.events] == [status for status, _ in forced]
    assert (verification.status, verification.status_reason) == forced[-1]
    assert unit.store.get(verification.verification_id) is verification


@pytest.mark.parametrize(
    ("status", "reason", "param"),
    [
        ("processing", None, "status"),  # internal, never asked for
        ("complete", None, "status"),
        ("PENDING", None, "status"),
        ("", None, "status"),
        ("roster", None, "status"),  # a scenario outcome, not a status
        ("complete.ineligible", None, "statusReason"),  # needs one of its reasons
        ("complete.ineligible", "CONTACT_PAYER_REQUIRED", "statusReason"),
        ("complete.ineligible", "inactive", "statusReason"),
        ("error.payer", "INACTIVE", "statusReason"),
        ("complete.eligible", "INACTIVE", "statusReason"),
        ("pending", "CONTACT_PAYER_REQUIRED", "statusReason"),
        ("error.member.id", "", "statusReason"),
    ],
)
def test_a_refused_force_names_the_field_and_changes_nothing(status: str, reason: str | None, param: str) -> None:
    unit = domain(latency=5.0)
    verification = unit.create()
    timer = verification.timer
    with pytest.raises(InvalidRequest) as refused:
        unit.backend.force_status(verification.verification_id, status, reason)
    assert refused.value.param == param
    assert verification.status == PROCESSING and verification.timer is timer and unit.events == []
    unit.advance(5)  # the scheduled result still comes
    assert verification.status == "complete.eligible"


def test_forcing_an_unknown_verification_is_not_found() -> None:
    unit = domain()
    with pytest.raises(NotFound):
        unit.backend.force_status("0b9e3c1e-0000-4000-8000-000000000000", "complete.eligible", None)
    # The request is checked before the verification is looked up.
    with pytest.raises(InvalidRequest):
        unit.backend.force_status("0b9e3c1e-0000-4000-8000-000000000000", "complete", None)


def test_a_final_status_forced_back_to_pending_stays_pending_until_forced_again() -> None:
    unit = domain()
    verification = unit.create()
    unit.run_due()
    unit.backend.force_status(verification.verification_id, PENDING, None)
    unit.advance(86_400)  # no recovery is scheduled for a forced pending
    assert verification.status == PENDING
    unit.backend.force_status(verification.verification_id, "error.payer", "CONTACT_PAYER_REQUIRED")
    assert unit.event_names() == [
        "sandbox.verification.updated",
        "sandbox.verification.pending",
        "sandbox.verification.updated",
    ]


# -- what create and get refuse ------------------------------------------------------------------


def test_an_unknown_payer_is_refused_at_create_and_nothing_is_kept() -> None:
    unit = domain()
    with pytest.raises(InvalidRequest) as refused:
        unit.create(payer_id="99999")
    assert refused.value.param == "payerId"
    assert len(unit.store) == 0 and len(unit.scheduler) == 0 and unit.events == []


@pytest.mark.parametrize("payer_id", ["60054", "AETNA", "aetna", "68246"])
def test_a_payer_is_known_by_its_id_or_an_alias_in_any_case(payer_id: str) -> None:
    unit = domain()
    verification = unit.create(payer_id=payer_id)
    unit.run_due()
    assert verification.status == "complete.eligible"
    assert verification.resolution is not None and verification.resolution.payer.payer_id == "60054"


def test_a_verification_exists_only_for_its_own_environment() -> None:
    unit = domain()
    verification = unit.create(principal=PRODUCTION)
    assert unit.backend.get_verification(PRODUCTION, verification.verification_id) is verification
    with pytest.raises(NotFound):
        unit.backend.get_verification(SANDBOX, verification.verification_id)
    assert unit.backend.find(verification.verification_id) is verification  # the control plane sees all
