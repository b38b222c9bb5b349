"""`sohar-mock serve --state PATH` as a real process, killed (-9) or stopped (SIGTERM) in the middle
of a burst of creates, then started again on the same file: nothing answered is lost, and every
webhook message is delivered at least once, with its original `svix-id`.

Bounded in time: every wait has a deadline; the clock is advanced through the admin API
instead of waiting for Svix's retry schedule.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import request_for
from test_cli import OWN_ENV, Served, run_cli

from contract_tests.receiver import Received, Reply, WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET as SECRET
from mock_server.testing import SANDBOX_CREDENTIALS, free_port

BURST = 240
WORKERS = 6
FINAL = "complete.eligible"  # what the documented member 00000000 comes to


@contextmanager
def serving(state: Path, webhook_url: str) -> Iterator[tuple[str, Served]]:
    served = Served(("--state", str(state), "--webhook-url", webhook_url), {**OWN_ENV, "SOHAR_MOCK_PORT": "0"})
    try:
        yield served.base_url(), served
    finally:
        served.stop(signal.SIGKILL)


class Burst:
    """Creates from several threads; each id that got its 201 is kept, whatever happens after."""

    def __init__(self, base: str) -> None:
        token = httpx.post(f"{base}/oauth/token", json=SANDBOX_CREDENTIALS).json()["access_token"]
        self.base, self.auth = base, {"authorization": f"Bearer {token}"}
        self.token = token
        self.created: list[str] = []
        self.failed = 0
        self._lock = threading.Lock()
        self.progress = threading.Condition(self._lock)

    def one(self, client: httpx.Client) -> None:
        try:
            answer = client.post(f"{self.base}/v2/verifications", json=request_for(), headers=self.auth)
        except httpx.TransportError:  # the server went away under this request: no 201, no promise
            with self._lock:
                self.failed += 1
            return
        with self._lock:
            if answer.status_code == 201:
                self.created.append(answer.json()["verificationId"])
            else:
                self.failed += 1
            self.progress.notify_all()

    def run(self, count: int) -> None:
        def worker(share: int) -> None:
            with httpx.Client(timeout=10) as client:
                for _ in range(share):
                    self.one(client)

        with ThreadPoolExecutor(WORKERS) as pool:
            for future in [pool.submit(worker, count // WORKERS) for _ in range(WORKERS)]:
                future.result()

    def wait_for(self, count: int, timeout: float = 60) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: len(self.created) >= count, timeout), len(self.created)


def everything_delivered(base: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Advance the mock clock through Svix's whole retry schedule; then every message is delivered."""
    answer = httpx.post(f"{base}/__admin/clock/advance", json={"seconds": 2 * 86400}, timeout=timeout)
    assert answer.status_code == 200, answer.text
    deliveries: list[dict[str, Any]] = httpx.get(f"{base}/__admin/webhooks/deliveries").json()["deliveries"]
    return deliveries


def check_after_restart(
    base: str, token: str, created: list[str], before: list[Received], receiver: WebhookReceiver
) -> None:
    """`before`: what reached the receiver before the fault; `receiver`: the one up after it."""
    auth = {"authorization": f"Bearer {token}"}  # issued before the fault: still valid
    with httpx.Client(timeout=10) as client:
        for verification_id in created:
            answer = client.get(f"{base}/v2/verifications/{verification_id}", headers=auth)
            assert answer.status_code == 200, (verification_id, answer.text)
            assert answer.json()["status"] == FINAL
    deliveries = everything_delivered(base)
    receiver.quiesce()
    received = before + receiver.received
    assert deliveries and all(m["state"] == "delivered" for m in deliveries), [
        (m["id"], m["state"]) for m in deliveries if m["state"] != "delivered"
    ]
    got = {(r.message_id, r.verification_id) for r in received if r.verified}
    # Every message the restarted mock knows of reached the receiver with its own svix-id ...
    assert {(m["id"], m["verificationId"]) for m in deliveries} <= got
    # ... every verification answered 201 got its result's webhook ...
    assert set(created) <= {m["verificationId"] for m in deliveries}
    # ... and nothing was sent about a verification that the restarted mock does not have.
    known = {m["verificationId"] for m in deliveries}
    with httpx.Client(timeout=10) as client:
        for verification_id in {v for _, v in got} - known:
            assert client.get(f"{base}/v2/verifications/{verification_id}", headers=auth).status_code == 200


def test_kill_9_in_a_burst_loses_no_answered_verification_and_no_webhook(tmp_path: Path) -> None:
    state = tmp_path / "mock.sqlite"
    port = free_port()
    received: list[Received] = []
    receiver = WebhookReceiver(SECRET, port=port).start()
    with serving(state, receiver.url) as (base, served):
        burst = Burst(base)
        runner = threading.Thread(target=burst.run, args=(BURST,), daemon=True)
        runner.start()
        burst.wait_for(BURST // 4)
        receiver.stop()  # the receiver goes down: attempts fail and wait for their retries
        # A delivery already in hand at the stop is still answered 2xx, so it is delivered as far
        # as the mock knows: count what reached the receiver once the last one is handled.
        assert receiver.wait_idle(10)
        received += receiver.received
        burst.wait_for(BURST // 2)
        served.process.send_signal(signal.SIGKILL)
        assert served.process.wait(timeout=15) == -signal.SIGKILL
        runner.join(timeout=60)
        assert not runner.is_alive()
    with burst._lock:
        created = list(burst.created)
    assert len(created) >= BURST // 2
    assert received, "some messages were delivered before the receiver went down"
    with WebhookReceiver(SECRET, port=port) as back, serving(state, back.url) as (base, served):
        restored = re.search(
            r"restored (\d+) verifications, 0 discoveries, (\d+) webhook messages \((\d+) to deliver\)", served.output()
        )
        assert restored, served.output()
        # What was answered is there; messages were waiting for the receiver to come back.
        assert int(restored[1]) >= len(created) and int(restored[3]) > 0
        check_after_restart(base, burst.token, created, received, back)


def test_sigterm_in_a_burst_exits_0_and_delivery_goes_on_after_the_restart(tmp_path: Path) -> None:
    state = tmp_path / "mock.sqlite"
    port = free_port()
    # Down from the start: the port is free, nothing listens, every attempt is refused.
    url = f"http://127.0.0.1:{port}/webhooks"
    with serving(state, url) as (base, served):
        burst = Burst(base)
        runner = threading.Thread(target=burst.run, args=(BURST,), daemon=True)
        runner.start()
        burst.wait_for(BURST // 2)
        assert served.stop(signal.SIGTERM) == 0
        runner.join(timeout=60)
        assert not runner.is_alive()
    output = served.output()
    assert "Traceback" not in output
    with burst._lock:
        created = list(burst.created)
    with WebhookReceiver(SECRET, port=port) as back, serving(state, back.url) as (base, _):
        check_after_restart(base, burst.token, created, [], back)


def test_a_second_process_on_the_same_state_file_refuses_to_start(tmp_path: Path) -> None:
    state = tmp_path / "mock.sqlite"
    with serving(state, "http://127.0.0.1:9/hooks") as (_, first):
        second = run_cli("serve", "--state", str(state))
        assert second.returncode == 2
        assert second.stderr == (
            f"sohar-mock: state file {state} is in use by another sohar-mock (pid {first.process.pid})\n"
        )
        assert "Traceback" not in second.stdout + second.stderr


@pytest.mark.parametrize("content", [b"\x00garbage" * 512], ids=["garbage"])
def test_a_corrupt_state_file_stops_serve_with_one_line_and_exit_2(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / "mock.sqlite"
    state.write_bytes(content)
    refused = run_cli("serve", "--state", str(state))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "is corrupt or not a sohar-mock state file" in refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    assert state.read_bytes() == content


def test_an_attempt_in_flight_at_sigterm_is_sent_again_after_the_restart_with_its_svix_id(tmp_path: Path) -> None:
    state = tmp_path / "mock.sqlite"
    with WebhookReceiver(SECRET, script=[Reply(200, hang=30)]) as receiver:
        with serving(state, receiver.url) as (base, served):
            burst = Burst(base)
            burst.run(WORKERS)  # one each
            receiver.wait_for_count(1)  # an attempt now waits on a receiver that will not answer
            sending = httpx.get(f"{base}/__admin/webhooks/deliveries", params={"state": "sending"}).json()
            assert sending["count"] == 1
            in_flight = sending["deliveries"][0]
            assert served.stop(signal.SIGTERM) == 0
        with serving(state, receiver.url) as (base, _):
            delivered = everything_delivered(base)
            again = next(m for m in delivered if m["id"] == in_flight["id"])
            assert again["state"] == "delivered"
            # The one cut off at the stop went out again, same svix-id, verified by svix.
            # Twice: the attempt cut off (still hanging in the receiver: no `quiesce`), and again.
            assert receiver.wait_until(
                lambda items: sum(r.verified and r.message_id == in_flight["id"] for r in items) >= 2, timeout=10
            )
            verified = [r for r in receiver.verified if r.message_id == in_flight["id"]]
            assert {r.verification_id for r in verified} == {in_flight["verificationId"]}
            assert {m["verificationId"] for m in delivered} >= set(burst.created)
