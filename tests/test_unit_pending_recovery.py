"""Pending → recovery on the mock clock (`VerificationBackend` + `Scheduler`), in process.

A payer outage (`status: pending`) fires `*.verification.pending`, then after `recoverAfter`
seconds of mock time resolves to its `then` outcome (the roster when none is given) and fires
`*.verification.updated`. The clock is frozen and moved only by `Scheduler.advance`, so each
step lands exactly on its due time: nothing early, nothing late, whatever real time does. Also
which delay and which recovery time apply when several are given.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from unit_domain import PRODUCTION, SANDBOX, Domain, domain, scenario

from mock_server.domain.auth import Principal
from mock_server.domain.lifecycle import PENDING, PROCESSING

DETERMINISTIC = settings(derandomize=True, deadline=None, max_examples=40)

OUTAGES = """
name: outages
rules:
  - name: slow-outage
    match: {id: slow-outage}
    outcome:
      status: pending
      delay: 1.25
      recoverAfter: 300
      then: {status: complete.ineligible, statusReason: INACTIVE}
  - name: outage-of-an-unknown-member
    match: {id: unknown-after-outage}
    outcome: {status: pending}
  - name: quick-recovery
    match: {id: quick}
    outcome: {status: pending, recoverAfter: 0}
"""


def timeline(unit: Domain) -> list[tuple[float, str, str]]:
    """(seconds after the clock froze, event, status) of every event so far."""
    start = unit.clock.base()
    return [(event.occurred_at - start, event.event, event.status) for event in unit.events]


@pytest.mark.parametrize(
    ("principal", "pending", "updated"),
    [
        (SANDBOX, "sandbox.verification.pending", "sandbox.verification.updated"),
        (PRODUCTION, "verification.pending", "verification.updated"),
    ],
    ids=["sandbox", "production"],
)
def test_the_outage_trigger_recovers_five_seconds_later(principal: Principal, pending: str, updated: str) -> None:
    unit = domain()
    verification = unit.create("30000000", principal)
    unit.run_due()
    assert verification.status == PENDING and verification.resolved_on is None
    assert verification.timer is not None and verification.timer.due == unit.clock.now() + 5
    unit.advance(4.999)
    assert verification.status == PENDING and len(unit.events) == 1
    unit.advance(0.001)
    assert verification.status == "complete.eligible" and verification.timer is None
    assert timeline(unit) == [(0, pending, PENDING), (5, updated, "complete.eligible")]
    assert verification.rule == "payer-outage-then-recovers"  # the rule that decided stays on record
    assert verification.updated == unit.clock.now()


def test_one_long_advance_replays_each_step_at_its_own_time() -> None:
    unit = domain(scenario(OUTAGES))
    verification = unit.create(id="slow-outage")
    unit.advance(86_400)
    assert (verification.status, verification.status_reason) == ("complete.ineligible", "INACTIVE")
    assert timeline(unit) == [
        (1.25, "sandbox.verification.pending", PENDING),
        (301.25, "sandbox.verification.updated", "complete.ineligible"),
    ]
    assert unit.elapsed() == 86_400 and len(unit.scheduler) == 0


@DETERMINISTIC
@given(steps=st.lists(st.integers(min_value=0, max_value=400_000), min_size=1, max_size=12))
@example(steps=[1249, 1, 299_999, 1])  # a millisecond short of each step, then onto it
@example(steps=[1250, 300_000])
@example(steps=[301_250])
@example(steps=[0, 0, 1250, 0, 300_000, 0])
def test_the_status_at_any_time_follows_the_timeline_however_the_clock_gets_there(steps: list[int]) -> None:
    # Advances in whole milliseconds, in any split: the status after each is what the timeline
    # says for that moment (processing before 1.25 s, pending until 301.25 s, then the result).
    unit = domain(scenario(OUTAGES))
    verification = unit.create(id="slow-outage")
    elapsed_ms = 0
    for step in steps:
        unit.advance(step / 1000)
        elapsed_ms += step
        expected = PROCESSING if elapsed_ms < 1250 else PENDING if elapsed_ms < 301_250 else "complete.ineligible"
        assert verification.status == expected, elapsed_ms
    assert [status for _, _, status in timeline(unit)] == (
        [] if elapsed_ms < 1250 else [PENDING] if elapsed_ms < 301_250 else [PENDING, "complete.ineligible"]
    )


def test_without_then_the_roster_decides_after_the_outage() -> None:
    unit = domain(scenario(OUTAGES))
    known = unit.create(id="unknown-after-outage")
    unknown = unit.create("10000000", id="unknown-after-outage")
    unit.advance(5)
    assert known.status == "complete.eligible"
    assert unknown.status == "error.member.id"


def test_a_recovery_of_zero_seconds_still_passes_through_pending() -> None:
    unit = domain(scenario(OUTAGES))
    verification = unit.create(id="quick")
    unit.advance(0)
    assert [status for _, _, status in timeline(unit)] == [PENDING, "complete.eligible"]
    assert verification.status == "complete.eligible"


def test_forcing_a_status_during_an_outage_cancels_the_recovery() -> None:
    unit = domain()
    verification = unit.create("30000000")
    unit.run_due()
    unit.advance(1)
    unit.backend.force_status(verification.verification_id, "complete.ineligible", "NON_COVERED")
    unit.advance(86_400)
    assert (verification.status, verification.status_reason) == ("complete.ineligible", "NON_COVERED")
    assert [status for _, _, status in timeline(unit)] == [PENDING, "complete.ineligible"]


# -- which delay, which recovery time ----------------------------------------------------------------

SLOW_DEFAULTS = """
name: slow-defaults
defaults: {delay: 7, recoverAfter: 60}
rules:
  - name: own-delay
    match: {id: own-delay}
    outcome: {status: roster, delay: 1.5}
  - name: own-recovery
    match: {id: own-recovery}
    outcome: {status: pending, recoverAfter: 2}
  - name: default-recovery
    match: {id: default-recovery}
    outcome: {status: pending}
"""

BARE = """
name: bare
payers: [{payerId: P1, payerName: Payer One}]
members:
  - {memberId: M1, payerId: P1, firstName: John, lastName: Doe, dateOfBirth: 09/20/2006}
rules:
  - name: outage
    match: {patient.memberId: M1}
    outcome: {status: pending}
"""


@pytest.mark.parametrize(
    ("latency", "label", "due"),
    [
        (None, None, 7.0),  # the files' default delay
        (3.0, None, 3.0),  # --latency beats the files' default
        (None, "own-delay", 1.5),  # an outcome's own delay beats both
        (3.0, "own-delay", 1.5),
    ],
)
def test_which_delay_applies(latency: float | None, label: str | None, due: float) -> None:
    unit = domain(scenario(SLOW_DEFAULTS), latency=latency)
    verification = unit.create(id=label)
    assert verification.timer is not None and verification.timer.due - unit.clock.base() == due


def test_without_any_delay_the_result_is_due_at_once() -> None:
    unit = domain()  # the default scenarios say `delay: 0`
    verification = unit.create()
    assert verification.timer is not None and verification.timer.due == unit.clock.now()
    bare = domain(startup=(scenario(BARE),))  # no defaults at all
    assert bare.create(payer_id="P1", member_id="M1").timer is not None
    assert bare.scheduler.next_due() == bare.clock.now()


@pytest.mark.parametrize(
    ("startup", "runtime", "label", "recovery"),
    [
        ("default", None, None, 5.0),  # the default scenarios' recoverAfter
        ("default", SLOW_DEFAULTS, "default-recovery", 60.0),  # a later file's default wins
        ("default", SLOW_DEFAULTS, "own-recovery", 2.0),  # the outcome's own beats every default
        ("bare", None, None, 5.0),  # no recoverAfter anywhere: 5 s
    ],
)
def test_which_recovery_time_applies(startup: str, runtime: str | None, label: str | None, recovery: float) -> None:
    files = () if runtime is None else (scenario(runtime),)
    unit = domain(*files, startup=None if startup == "default" else (scenario(BARE),), latency=0.0)
    if startup == "bare":
        verification = unit.create("M1", payer_id="P1", id=label)
    else:
        verification = unit.create("30000000", id=label)
    unit.run_due()
    assert verification.status == PENDING
    assert verification.timer is not None and verification.timer.due - unit.clock.now() == recovery
