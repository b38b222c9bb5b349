"""A model of the mock, checked step by step against the real server (hypothesis stateful).

Random interleavings of creates, clock advances (zero and fractional included), forced
statuses, a receiver that is up, failing or down, replays and resets. After every step the
server must agree with a small model of what Sohar's lifecycle and Svix's retry schedule
imply: every verification's status and next transition, every webhook message's state,
attempts and next attempt, the clock offset equal to the sum of advances since the last
reset, every attempt the journal shows having reached the receiver (and nothing else), and
no 5xx, ever.

The model counts time in whole milliseconds, so it is exact; the mock runs on a frozen clock,
so real time passing while the test runs cannot make anything come due.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from mock_server.resources import default_scenarios_dir
from mock_server.settings import Settings
from mock_server.testing import DOCUMENTED_MEMBER, RunningMock
from mock_server.webhooks import RETRY_SCHEDULE

RETRIES_MS = [round(seconds * 1000) for seconds in RETRY_SCHEDULE]

# Timed outcomes beside the default triggers, so transitions land between and on advances.
MODEL_SCENARIO = """
name: model
rules:
  - name: slow
    match: {id: slow}
    outcome: {status: roster, delay: 2.5}
  - name: odd
    match: {id: odd}
    outcome: {status: roster, delay: 33.433}
  - name: slow-outage
    match: {id: slow-outage}
    outcome:
      status: pending
      delay: 1.25
      recoverAfter: 300
      then: {status: complete.ineligible, statusReason: INACTIVE}
"""


@dataclass(frozen=True)
class Kind:
    """A way to create a verification and the timeline it follows: (ms after create, status)."""

    member_id: str
    id: str | None
    timeline: tuple[tuple[int, str], ...]


KINDS = {
    "eligible": Kind("00000000", None, ((0, "complete.eligible"),)),
    "unknown-member": Kind("10000000", None, ((0, "error.member.id"),)),
    "outage": Kind("30000000", None, ((0, "pending"), (5000, "complete.eligible"))),
    "slow": Kind("00000000", "slow", ((2500, "complete.eligible"),)),
    "odd": Kind("10000001", "odd", ((33_433, "error.member.dob"),)),
    "slow-outage": Kind("00000000", "slow-outage", ((1250, "pending"), (301_250, "complete.ineligible"))),
}
FORCIBLE = [
    ("pending", None),
    ("complete.eligible", None),
    ("complete.ineligible", "NON_COVERED"),
    ("error.member.dob", None),
    ("error.payer", "CONTACT_PAYER_REQUIRED"),
    ("error.payer.npi", None),
]
UP, FAILING, DOWN = "up", "failing", "down"


class SwitchableReceiver:
    """A webhook endpoint that answers 200 (up), 500 (failing) or drops the connection (down)."""

    def __init__(self) -> None:
        self.mode = UP
        self.received = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    receiver.received += 1
                    mode = receiver.mode
                if mode == DOWN:
                    self.close_connection = True  # no answer at all: a failed attempt
                    return
                self.send_response(200 if mode == UP else 500)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class ModelMessage:
    event: str
    status: str
    state: str = "pending"
    attempts: list[str] = field(default_factory=list)  # the trigger of each attempt
    due_ms: int | None = 0  # relative to the message's creation until the first attempt

    @property
    def scheduled(self) -> int:
        return self.attempts.count("scheduled")


@dataclass
class ModelVerification:
    environment: str
    status: str = "pending"
    # (due ms on the model clock, status) still to come, earliest first
    upcoming: list[tuple[int, str]] = field(default_factory=list)
    messages: list[ModelMessage] = field(default_factory=list)


def event_for(status: str, environment: str) -> str:
    base = "verification.pending" if status == "pending" else "verification.updated"
    return f"sandbox.{base}" if environment == "sandbox" else base


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def receiver() -> Iterator[SwitchableReceiver]:
    switchable = SwitchableReceiver()
    yield switchable
    switchable.close()


@pytest.fixture(scope="module")
def model_mock(receiver: SwitchableReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    extra = tmp_path_factory.mktemp("model") / "model.yaml"
    extra.write_text(MODEL_SCENARIO)
    settings = Settings(
        scenario_paths=(default_scenarios_dir(), Path(extra)),
        webhook_urls=(receiver.url,),
        freeze_clock=True,
        validate_responses=True,
        webhook_timeout=10,
    )
    with RunningMock(settings) as mock:
        yield mock
    assert mock.core.contract_violations == []


def test_the_mock_follows_its_model(model_mock: RunningMock, receiver: SwitchableReceiver) -> None:
    mock = model_mock

    class MockModel(RuleBasedStateMachine):
        verifications = Bundle("verifications")

        @initialize()
        def start_clean(self) -> None:
            self.call("POST", "/__admin/reset")
            receiver.mode = UP
            self.offset_ms = 0
            self.model: dict[str, ModelVerification] = {}
            self.sent = receiver.received  # attempts the receiver has seen, by the model's count
            self.base = self.clock()["nowUnix"]

        # -- talking to the mock -------------------------------------------------------------

        def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
            response = mock.http.request(method, path, **kwargs)
            assert response.status_code < 500, f"{method} {path} -> {response.status_code} {response.text}"
            return response

        def clock(self) -> dict[str, Any]:
            return dict(self.call("GET", "/__admin/clock").json())

        def settle(self) -> None:
            """Let work already due finish (first attempts start right after the event)."""
            assert self.call("POST", "/__admin/clock/advance", json={"seconds": 0}).json()["settled"] is True

        # -- the model's clock ---------------------------------------------------------------

        def attempt(self, message: ModelMessage, trigger: str, at_ms: int) -> None:
            self.sent += 1
            message.attempts.append(trigger)
            if receiver.mode == UP:
                message.state, message.due_ms = "delivered", None
            elif trigger == "scheduled" and message.scheduled < len(RETRIES_MS):
                message.state, message.due_ms = "pending", at_ms + RETRIES_MS[message.scheduled]
            elif trigger == "replay" and message.due_ms is not None:
                message.state = "pending"  # the retry that was due stays where it was
            else:
                message.state, message.due_ms = "failed", None

        def emit(self, verification: ModelVerification, status: str, at_ms: int) -> None:
            verification.messages.append(ModelMessage(event_for(status, verification.environment), status))
            verification.messages[-1].due_ms = at_ms

        def run_until(self, end_ms: int) -> None:
            """Everything due by `end_ms`, earliest first (entities do not affect each other)."""
            while True:
                due: list[tuple[int, int, ModelVerification | ModelMessage, ModelVerification]] = []
                for order, verification in enumerate(self.model.values()):
                    if verification.upcoming and verification.upcoming[0][0] <= end_ms:
                        due.append((verification.upcoming[0][0], order, verification, verification))
                    for message in verification.messages:
                        if message.state == "pending" and message.due_ms is not None and message.due_ms <= end_ms:
                            due.append((message.due_ms, order, message, verification))
                if not due:
                    return
                at_ms, _, item, verification = min(due, key=lambda entry: (entry[0], entry[1]))
                if isinstance(item, ModelVerification):
                    _, status = item.upcoming.pop(0)
                    item.status = status
                    self.emit(item, status, at_ms)
                else:
                    item.due_ms = None
                    self.attempt(item, "scheduled", at_ms)

        # -- rules ---------------------------------------------------------------------------

        @rule(
            target=verifications,
            kind=st.sampled_from(sorted(KINDS)),
            environment=st.sampled_from(["sandbox", "production"]),
        )
        def create(self, kind: str, environment: str) -> str:
            spec = KINDS[kind]
            body: dict[str, Any] = {**DOCUMENTED_MEMBER, "patient": {**DOCUMENTED_MEMBER["patient"]}}
            body["patient"]["memberId"] = spec.member_id
            if spec.id is not None:
                body["id"] = spec.id
            # A fresh token each time: advances outrun a token's hour of mock-clock life.
            headers = mock.headers(environment)
            response = self.call("POST", "/v2/verifications", json=body, headers=headers)
            assert response.status_code == 201, response.text
            verification_id = str(response.json()["verificationId"])
            self.model[verification_id] = ModelVerification(
                environment, upcoming=[(self.offset_ms + after, status) for after, status in spec.timeline]
            )
            self.run_until(self.offset_ms)
            self.settle()
            return verification_id

        @rule(
            milliseconds=st.one_of(
                st.sampled_from([0, 1, 100, 1250, 2500, 4999, 5000, 5001, 33_433, 300_000, 1_800_000, 36_000_000]),
                st.integers(min_value=0, max_value=90_000_000),
            )
        )
        def advance(self, milliseconds: int) -> None:
            response = self.call("POST", "/__admin/clock/advance", json={"seconds": milliseconds / 1000})
            assert response.status_code == 200, response.text
            assert response.json()["settled"] is True
            self.run_until(self.offset_ms + milliseconds)
            self.offset_ms += milliseconds

        @rule(verification_id=verifications, forced=st.sampled_from(FORCIBLE))
        def force_status(self, verification_id: str, forced: tuple[str, str | None]) -> None:
            status, reason = forced
            response = self.call(
                "POST",
                f"/__admin/verifications/{verification_id}/status",
                json={"status": status, "statusReason": reason},
            )
            if verification_id not in self.model:  # made before a reset
                assert response.status_code == 404
                return
            assert response.status_code == 200, response.text
            verification = self.model[verification_id]
            verification.status, verification.upcoming = status, []
            self.emit(verification, status, self.offset_ms)
            self.run_until(self.offset_ms)
            self.settle()

        @rule(mode=st.sampled_from([UP, FAILING, DOWN]))
        def receiver_goes(self, mode: str) -> None:
            receiver.mode = mode

        @rule(verification_id=verifications, pick=st.integers(min_value=0, max_value=7))
        def replay(self, verification_id: str, pick: int) -> None:
            verification = self.model.get(verification_id)
            if verification is None or not verification.messages:
                return
            index = pick % len(verification.messages)
            listed = self.call("GET", "/__admin/webhooks/deliveries", params={"verificationId": verification_id})
            message_id = listed.json()["deliveries"][index]["id"]
            response = self.call("POST", f"/__admin/webhooks/deliveries/{message_id}/replay")
            assert response.status_code == 200, response.text
            self.attempt(verification.messages[index], "replay", self.offset_ms)

        @precondition(lambda self: len(self.model) >= 4)  # a reset now and then, not every few steps
        @rule()
        def reset(self) -> None:
            self.call("POST", "/__admin/reset")
            self.model.clear()
            self.offset_ms = 0

        # -- what must hold after every step -----------------------------------------------

        @invariant()
        def clock_is_the_sum_of_advances(self) -> None:
            clock = self.clock()
            assert clock["offsetSeconds"] == pytest.approx(self.offset_ms / 1000, abs=1e-6)
            assert clock["nowUnix"] - clock["offsetSeconds"] == pytest.approx(self.base, abs=1e-6)

        @invariant()
        def verifications_agree(self) -> None:
            listed = self.call("GET", "/__admin/verifications").json()["verifications"]
            assert {v["verificationId"] for v in listed} == set(self.model)
            for summary in listed:
                expected = self.model[summary["verificationId"]]
                assert (summary["environment"], summary["status"]) == (expected.environment, expected.status)
                if expected.upcoming:
                    due = self.base + expected.upcoming[0][0] / 1000
                    assert summary["nextTransitionAt"] is not None
                    assert epoch(summary["nextTransitionAt"]) == pytest.approx(due, abs=0.002)
                else:
                    assert summary["nextTransitionAt"] is None

        @invariant()
        def messages_agree(self) -> None:
            deliveries = self.call("GET", "/__admin/webhooks/deliveries").json()["deliveries"]
            by_verification: dict[str, list[dict[str, Any]]] = {}
            for message in deliveries:
                by_verification.setdefault(message["verificationId"], []).append(message)
            for verification_id, expected in self.model.items():
                actual = by_verification.pop(verification_id, [])
                assert len(actual) == len(expected.messages), verification_id
                for got, want in zip(actual, expected.messages, strict=True):
                    assert (got["event"], got["payload"]["status"]) == (want.event, want.status)
                    assert got["state"] == want.state, (got, want)
                    assert [a["trigger"] for a in got["attempts"]] == want.attempts
                    if want.state == "pending":
                        assert epoch(got["nextAttemptAt"]) == pytest.approx(self.base + want.due_ms / 1000, abs=0.002)
                    else:
                        assert got["nextAttemptAt"] is None
            assert by_verification == {}, "messages the model does not know of"

        @invariant()
        def every_attempt_reached_the_receiver_and_nothing_else(self) -> None:
            assert receiver.received == self.sent

    MockModel.TestCase.settings = hypothesis.settings(
        max_examples=60,
        stateful_step_count=30,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    MockModel.TestCase().runTest()
