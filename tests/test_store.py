"""`--max-verifications N`: past N stored verifications the one that finished longest ago goes
(else the oldest), and a dropped verification is 404 everywhere. Over a real server."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_SPEC, assert_conforms, receiving, request_for

from mock_server.cli import serving_core
from mock_server.domain.lifecycle import PENDING
from mock_server.domain.records import Verification, VerificationRequest
from mock_server.domain.store import FREEZE_EVERY, CappedMemoryStore
from mock_server.settings import Settings
from mock_server.testing import RunningMock, free_port

# The slow payer's trigger stays pending for a day of mock time: no test runs that long.
SLOW_PAYER = "30000000"
SLOW_PAYER_SCENARIO = textwrap.dedent(
    f"""\
    name: slow-payer
    rules:
      - name: pending-for-a-day
        match: {{patient.memberId: "{SLOW_PAYER}"}}
        outcome: {{status: pending, recoverAfter: 86400}}
    """
)


@pytest.fixture(scope="module")
def capped_live() -> Iterator[RunningMock]:
    with RunningMock(max_verifications=3, validate_responses=True) as running:
        yield running


@pytest.fixture
def capped(capped_live: RunningMock) -> RunningMock:
    capped_live.reset()
    return capped_live


def create(mock: RunningMock, member_id: str = "00000000", environment: str = "sandbox") -> str:
    response = mock.http.post("/v2/verifications", json=request_for(member_id), headers=mock.headers(environment))
    assert response.status_code == 201, response.text
    return str(response.json()["verificationId"])


def status(mock: RunningMock, verification_id: str) -> int:
    """Get Verification's status code, checked against the admin API's answer for the same id."""
    api = mock.http.get(f"/v2/verifications/{verification_id}", headers=mock.headers())
    admin = mock.http.get(f"/__admin/verifications/{verification_id}")
    assert api.status_code == admin.status_code, (api.text, admin.text)
    if api.status_code == 404:
        assert api.json() == {"error": "invalid_request_error"}  # as for an id never issued
    return api.status_code


def force(mock: RunningMock, verification_id: str, body: dict[str, Any]) -> None:
    response = mock.http.post(f"/__admin/verifications/{verification_id}/status", json=body)
    assert response.status_code == 200, response.text


def stored(mock: RunningMock) -> list[str]:
    return [v["verificationId"] for v in mock.http.get("/__admin/verifications").json()["verifications"]]


def test_past_the_cap_the_oldest_finished_are_dropped_and_answer_404(capped: RunningMock) -> None:
    created = [create(capped) for _ in range(5)]
    assert [status(capped, v) for v in created] == [404, 404, 200, 200, 200]
    assert stored(capped) == created[2:]
    health = capped.http.get("/__admin/health").json()
    assert (health["verifications"], health["maxVerifications"]) == (3, 3)
    assert_conforms("Health", health, ADMIN_SPEC)
    forced = capped.http.post(f"/__admin/verifications/{created[0]}/status", json={"status": "pending"})
    assert forced.status_code == 404


def test_pending_verifications_are_kept_while_finished_ones_can_go(capped: RunningMock) -> None:
    loaded = capped.http.post("/__admin/scenarios", params={"name": "slow.yaml"}, content=SLOW_PAYER_SCENARIO.encode())
    assert loaded.status_code == 201, loaded.text
    slow = create(capped, SLOW_PAYER)
    finished = [create(capped) for _ in range(4)]
    assert status(capped, slow) == 200  # the oldest, but still pending
    assert [status(capped, v) for v in finished] == [404, 404, 200, 200]
    assert stored(capped) == [slow, *finished[2:]]


def test_a_verification_forced_back_to_pending_is_kept_and_finishes_anew(capped: RunningMock) -> None:
    first, second, third = create(capped), create(capped), create(capped)
    force(capped, first, {"status": "pending"})
    fourth = create(capped)
    # The first is pending again: the second, the oldest finished, makes room.
    assert [status(capped, v) for v in (first, second, third, fourth)] == [200, 404, 200, 200]
    force(capped, first, {"status": "complete.eligible"})
    fifth = create(capped)
    # Finished just now, the first is newer to the store's eye than the third and fourth.
    assert [status(capped, v) for v in (first, third, fourth, fifth)] == [200, 404, 200, 200]


def test_when_all_are_unfinished_the_oldest_goes_and_its_result_never_fires() -> None:
    with receiving() as receiver, RunningMock(max_verifications=2, latency=3600, webhook_urls=(receiver.url,)) as mock:
        dropped, kept, newest = create(mock), create(mock), create(mock)
        assert [status(mock, v) for v in (dropped, kept, newest)] == [404, 200, 200]
        mock.advance(3600)  # answers once every attempt that came due has been made
        assert [d.payload["verificationId"] for d in receiver.wait_for_count(2)] == [kept, newest]
        assert len(receiver.received) == 2
        assert mock.http.get("/__admin/webhooks/deliveries", params={"verificationId": dropped}).json()["count"] == 0


def test_health_shows_no_cap_by_default(mock: RunningMock) -> None:
    health = mock.http.get("/__admin/health").json()
    assert health["maxVerifications"] is None
    assert_conforms("Health", health, ADMIN_SPEC)


# -- at unit level: the cost of making room ---------------------------------------------------------


class Examined(Verification):
    """A real verification that counts how often its status is read: what the store examined."""

    reads = 0

    @property  # type: ignore[override]
    def status(self) -> str:
        Examined.reads += 1
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value


REQUEST = VerificationRequest("John", "Doe", "09/20/2006", "CA", "00000000", "60054", "10", "PSY")


def examined(number: int) -> Examined:
    return Examined(f"v{number}", "sandbox", "sandbox-client-id", float(number), REQUEST)


def test_making_room_looks_at_a_bounded_number_of_verifications_per_create() -> None:
    store = CappedMemoryStore(100)
    backlog = [examined(n) for n in range(50)]
    for verification in backlog:
        verification.status = PENDING
        store.add(verification)
    Examined.reads = 0
    creates = 2_000
    for number in range(50, 50 + creates):
        verification = examined(number)
        store.add(verification)
        verification.status = "complete.eligible"
        store.status_changed(verification)
    # The pending backlog, oldest of all, stays; looking past it on every create would read
    # its 50 statuses each time (100 000 reads in all).
    assert [v.verification_id for v in store][:50] == [v.verification_id for v in backlog]
    assert len(store) == 100
    assert Examined.reads <= 3 * creates  # a constant per create, whatever is stored


def test_a_store_at_its_cap_does_not_freeze_the_collector_on_every_create() -> None:
    # gc.freeze also keeps whatever cyclic garbage is waiting for the collector: once per
    # thousand verifications while the store grows is bounded, once per create at a cap is not.
    store = CappedMemoryStore(FREEZE_EVERY - 1, freeze_gc=True)
    try:
        for number in range(FREEZE_EVERY):
            store.add(examined(number))
        frozen = gc.get_freeze_count()
        for number in range(FREEZE_EVERY, 2 * FREEZE_EVERY):
            garbage: list[object] = []
            garbage.append(garbage)  # a cycle only the collector can free, as requests leave
            del garbage
            store.add(examined(number))
        assert len(store) == FREEZE_EVERY - 1
        assert gc.get_freeze_count() <= frozen  # none frozen since; dropped ones were
    finally:
        store.clear()  # gives the frozen objects back to the collector


def test_a_mock_in_a_test_process_leaves_the_collector_alone() -> None:
    # gc.freeze and gc.unfreeze act on the whole interpreter: a mock inside a test run must
    # neither hide the test's objects from the collector nor give back what the test froze.
    gc.freeze()
    theirs = gc.get_freeze_count()
    try:
        with RunningMock() as mock:
            headers = mock.headers()
            for _ in range(FREEZE_EVERY + 1):
                created = mock.http.post("/v2/verifications", json=request_for(), headers=headers)
                assert created.status_code == 201, created.text
            assert mock.http.get("/__admin/health").json()["verifications"] == FREEZE_EVERY + 1
            # Frozen objects freed by reference counting leave the count: it may only shrink.
            assert gc.get_freeze_count() <= theirs
            mock.reset()
            assert gc.get_freeze_count() > 0  # what the test froze stays frozen
    finally:
        gc.unfreeze()


def test_the_served_mock_freezes_the_collector_as_its_store_grows() -> None:
    # `sohar-mock serve` owns its process: there the pauses the freeze saves are worth it.
    core = serving_core(Settings())
    gc.unfreeze()
    try:
        for number in range(FREEZE_EVERY):
            core.store.add(examined(number))
        assert gc.get_freeze_count() > 0
        core.store.clear()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", *args],
        env={**os.environ, "SOHAR_MOCK_PORT": str(free_port()), **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("args", "env", "config"),
    [
        (["--max-verifications", "0"], {}, None),
        (["--max-verifications", "-3"], {}, None),
        ([], {"SOHAR_MOCK_MAX_VERIFICATIONS": "0"}, None),
        ([], {}, "maxVerifications: 0\n"),
        ([], {}, "maxVerifications: many\n"),
        ([], {}, "maxVerifications: 2.5\n"),
        ([], {}, "maxVerifications: true\n"),
        ([], {}, "maxVerifications: '100'\n"),
    ],
)
def test_a_cap_that_is_not_a_positive_integer_stops_start_up(
    tmp_path: Path, args: list[str], env: dict[str, str], config: str | None
) -> None:
    if config is not None:
        (tmp_path / "mock.yaml").write_text(config)
        args = [*args, "--config", str(tmp_path / "mock.yaml")]
    result = serve(*args, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("sohar-mock: max verifications must be a positive integer, got ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
