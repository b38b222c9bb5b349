"""The mock clock over HTTP: exact advances whatever runs beside them, a bounded range, a
frozen mode, and resets that win over an advance under way."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import receiving, request_for

from contract_tests.receiver import Reply
from mock_server.limits import MAX_CLOCK_OFFSET_SECONDS, MAX_DURATION_SECONDS
from mock_server.testing import RunningMock


def create(mock: RunningMock, member_id: str = "00000000") -> str:
    response = mock.http.post("/v2/verifications", json=request_for(member_id), headers=mock.headers())
    assert response.status_code == 201, response.text
    return str(response.json()["verificationId"])


def offset(mock: RunningMock) -> float:
    return float(mock.http.get("/__admin/clock").json()["offsetSeconds"])


@pytest.fixture
def failing_receiver() -> Iterator[str]:
    with receiving([Reply(500)] * 10_000) as receiver:
        yield receiver.url


def test_parallel_advances_add_up_exactly_while_webhooks_retry(failing_receiver: str) -> None:
    with RunningMock(webhook_urls=(failing_receiver,)) as mock:
        for _ in range(40):
            create(mock)
        mock.advance(0)  # every first attempt made (and failed): retries are now scheduled

        def advance(_: int) -> int:
            with httpx.Client(base_url=mock.base_url, timeout=60) as client:
                return client.post("/__admin/clock/advance", json={"seconds": 400}).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(advance, range(20)))
        assert statuses == [200] * 20
        assert offset(mock) == 20 * 400
        # Every message followed Svix's schedule on the way: the first attempt, then 5 s, 5 min
        # and 30 min after each failure (2 105 s in all); the next comes 2 h later, past 8 000 s.
        deliveries = mock.http.get("/__admin/webhooks/deliveries").json()["deliveries"]
        assert len(deliveries) == 40
        assert {len(message["attempts"]) for message in deliveries} == {4}


def test_the_clock_refuses_to_leave_its_range_and_stays_readable() -> None:
    with RunningMock(freeze_clock=True) as mock:
        create(mock)
        moved = 0
        while True:
            response = mock.http.post("/__admin/clock/advance", json={"seconds": MAX_DURATION_SECONDS})
            if response.status_code != 200:
                break
            moved += MAX_DURATION_SECONDS
        assert response.status_code == 400
        assert response.json()["param"] == "seconds"
        assert "can move" in response.json()["message"]
        assert moved <= MAX_CLOCK_OFFSET_SECONDS < moved + MAX_DURATION_SECONDS
        rest = MAX_CLOCK_OFFSET_SECONDS - moved
        assert mock.http.post("/__admin/clock/advance", json={"seconds": rest}).status_code == 200
        assert mock.http.post("/__admin/clock/advance", json={"seconds": 1}).status_code == 400
        assert offset(mock) == MAX_CLOCK_OFFSET_SECONDS
        for path in ("/__admin/health", "/__admin/clock", "/__admin/verifications"):
            assert mock.http.get(path).status_code == 200, path
        # A verification made a century ahead still resolves and renders.
        verification_id = create(mock)
        got = mock.http.get(f"/v2/verifications/{verification_id}", headers=mock.headers())
        assert got.status_code == 200 and got.json()["status"] == "complete.eligible"
        assert int(got.json()["created"][:4]) >= 2025 + 100


def test_a_frozen_clock_stands_still_between_advances() -> None:
    with RunningMock(freeze_clock=True, latency=30) as mock:
        before = mock.http.get("/__admin/clock").json()
        assert before["frozen"] is True
        verification_id = create(mock)
        url = f"/v2/verifications/{verification_id}"
        assert mock.http.get(url, headers=mock.headers()).json()["status"] == "pending"
        assert mock.http.get("/__admin/clock").json()["nowUnix"] == before["nowUnix"]
        after = mock.advance(29.5)
        assert after["nowUnix"] == pytest.approx(before["nowUnix"] + 29.5, abs=1e-6)
        assert mock.http.get(url, headers=mock.headers()).json()["status"] == "pending"
        mock.advance(0.5)
        assert mock.http.get(url, headers=mock.headers()).json()["status"] == "complete.eligible"
        mock.reset()
        assert mock.http.get("/__admin/clock").json()["nowUnix"] == before["nowUnix"]


def test_a_reset_during_an_advance_wins_and_nothing_it_dropped_is_sent() -> None:
    # The verification resolves 10 s into the advance; its webhook's first attempt then hangs on a
    # receiver that takes its time, which keeps the advance waiting: that is when the reset comes.
    with (
        receiving([Reply(200, hang=60)]) as receiver,
        RunningMock(webhook_urls=(receiver.url,), freeze_clock=True, latency=10, webhook_timeout=120) as mock,
    ):
        create(mock)
        answer: dict[str, httpx.Response] = {}

        def advance() -> None:
            with httpx.Client(base_url=mock.base_url, timeout=120) as client:
                answer["advance"] = client.post("/__admin/clock/advance", json={"seconds": 3600})

        advancing = threading.Thread(target=advance)
        advancing.start()
        receiver.wait_for_count(1)  # the advance is now waiting on the hanging attempt
        mock.reset()
        advancing.join(timeout=60)
        assert not advancing.is_alive()
        assert answer["advance"].status_code == 409
        assert answer["advance"].json()["param"] == "seconds"
        assert offset(mock) == 0
        # The attempt in flight was dropped with its message: no retry of it ever comes.
        assert mock.advance(86_400)["settled"] is True
        assert len(receiver.received) == 1
        assert mock.http.get("/__admin/webhooks/deliveries").json()["count"] == 0


def test_the_pytest_fixture_can_freeze_the_clock(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nsohar_mock_freeze_clock = true\nsohar_mock_latency = 5\n")
    (tmp_path / "test_frozen.py").write_text(
        textwrap.dedent(
            """
            def test_only_advances_move_time(sohar_mock):
                before = sohar_mock.admin.get("/clock")
                assert before["frozen"] is True
                assert sohar_mock.advance(4.5)["nowUnix"] == before["nowUnix"] + 4.5
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
