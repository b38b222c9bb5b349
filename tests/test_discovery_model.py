"""A model of discovery, checked step by step against the real server (hypothesis stateful).

Random interleavings of creates (sandbox values, the roster, a slow search, a search that is
pending first), Get Discovery, forced statuses (with and without coverages), clock advances
(zero and fractional included) and resets. After every step the server must agree with the
model: each discovery's status, the payer and member id it found, its next transition, the
events delivered for it (in order), the clock offset, and no 5xx, ever.

Time is counted in whole milliseconds, so the model is exact; the mock runs on a frozen
clock, so real time passing while the test runs cannot make anything come due.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
from conftest import receiving
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from contract_tests.receiver import WebhookReceiver
from mock_server.resources import default_scenarios_dir
from mock_server.settings import Settings
from mock_server.testing import RunningMock

MODEL_SCENARIO = """
name: discovery-model
members:
  - {memberId: M1, payerId: "62308", firstName: Ada, lastName: Model, dateOfBirth: 01/01/1980}
discovery:
  rules:
    - name: slow
      match: {id: slow}
      outcome: {status: roster, delay: 2.5}
    - name: outage
      match: {id: outage}
      outcome:
        status: pending
        delay: 1.25
        recoverAfter: 300
        then: {status: complete, coverages: [{payerId: "84980", memberId: X9}]}
"""

Found = tuple[str, str] | None


@dataclass(frozen=True)
class Kind:
    """A way to create a discovery, the timeline it follows (ms after create, status) and what it finds."""

    environment: str
    state: str
    id: str | None
    timeline: tuple[tuple[int, str], ...]
    found: Found
    # What a forced `complete` without coverages finds: the scenario's answer, past any `pending`.
    forced: Found


ADA = {"firstName": "Ada", "lastName": "Model", "dateOfBirth": "01/01/1980"}
KINDS = {
    "sandbox-ny": Kind("sandbox", "NY", None, ((0, "complete"),), ("62308", "00000000"), ("62308", "00000000")),
    "sandbox-oh": Kind("sandbox", "OH", None, ((0, "complete"),), None, None),
    "roster": Kind("production", "WA", None, ((0, "complete"),), ("62308", "M1"), ("62308", "M1")),
    "slow": Kind("production", "WA", "slow", ((2500, "complete"),), ("62308", "M1"), ("62308", "M1")),
    "outage": Kind(
        "production", "WA", "outage", ((1250, "pending"), (301_250, "complete")), ("84980", "X9"), ("84980", "X9")
    ),
}
FORCED_COVERAGES: list[tuple[str, str]] = [("60054", "00000001"), ("OSCAR", "00000000")]


@dataclass
class ModelDiscovery:
    kind: Kind
    status: str = "pending"
    found: Found = None
    upcoming: list[tuple[int, str]] = field(default_factory=list)  # (due ms on the model clock, status)
    events: list[str] = field(default_factory=list)  # statuses of the events fired, in order


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def hook_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def model_mock(hook_receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    extra = tmp_path_factory.mktemp("discovery-model") / "model.yaml"
    extra.write_text(MODEL_SCENARIO)
    settings = Settings(
        scenario_paths=(default_scenarios_dir(), Path(extra)),
        webhook_urls=(hook_receiver.url,),
        freeze_clock=True,
        validate_responses=True,
    )
    with RunningMock(settings) as mock:
        yield mock
    assert mock.core.contract_violations == []


def test_discovery_follows_its_model(model_mock: RunningMock) -> None:
    mock = model_mock

    class DiscoveryModel(RuleBasedStateMachine):
        discoveries = Bundle("discoveries")

        @initialize()
        def start_clean(self) -> None:
            self.call("POST", "/__admin/reset")
            self.offset_ms = 0
            self.model: dict[str, ModelDiscovery] = {}
            self.base = self.clock()["nowUnix"]

        def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
            response = mock.http.request(method, path, **kwargs)
            assert response.status_code < 500, f"{method} {path} -> {response.status_code} {response.text}"
            return response

        def clock(self) -> dict[str, Any]:
            return dict(self.call("GET", "/__admin/clock").json())

        def settle(self) -> None:
            assert self.call("POST", "/__admin/clock/advance", json={"seconds": 0}).json()["settled"] is True

        def run_until(self, end_ms: int) -> None:
            for discovery in self.model.values():
                while discovery.upcoming and discovery.upcoming[0][0] <= end_ms:
                    _, status = discovery.upcoming.pop(0)
                    self.transition(discovery, status, discovery.kind.found)

        @staticmethod
        def transition(discovery: ModelDiscovery, status: str, found: Found) -> None:
            discovery.status = status
            discovery.found = found if status == "complete" else None
            discovery.events.append(status)

        # -- rules ---------------------------------------------------------------------------

        @rule(target=discoveries, kind=st.sampled_from(sorted(KINDS)), v1=st.booleans())
        def create(self, kind: str, v1: bool) -> str:
            spec = KINDS[kind]
            patient = {**ADA, "state": spec.state}
            body: dict[str, Any] = {**patient} if v1 else {"patient": patient}
            if spec.id is not None:
                body["id"] = spec.id
            path = "/v1/discovery" if v1 else "/v2/discovery"
            response = self.call("POST", path, json=body, headers=mock.headers(spec.environment))
            assert response.status_code == 201, response.text
            discovery_id = str(response.json()["discoveryId"])
            self.model[discovery_id] = ModelDiscovery(
                spec, upcoming=[(self.offset_ms + after, status) for after, status in spec.timeline]
            )
            self.run_until(self.offset_ms)
            self.settle()
            return discovery_id

        @rule(
            milliseconds=st.one_of(
                st.sampled_from([0, 1, 1249, 1250, 2499, 2500, 300_000, 301_250, 400_000]),
                st.integers(min_value=0, max_value=400_000),
            )
        )
        def advance(self, milliseconds: int) -> None:
            response = self.call("POST", "/__admin/clock/advance", json={"seconds": milliseconds / 1000})
            assert response.status_code == 200, response.text
            assert response.json()["settled"] is True
            self.offset_ms += milliseconds
            self.run_until(self.offset_ms)

        @rule(discovery_id=discoveries, choice=st.sampled_from(["pending", "complete", "complete-with", "garbage"]))
        def force(self, discovery_id: str, choice: str) -> None:
            discovery = self.model.get(discovery_id)
            body: dict[str, Any] = {"status": "complete" if choice.startswith("complete") else choice}
            if choice == "complete-with":
                body["coverages"] = [{"payerId": p, "memberId": m} for p, m in FORCED_COVERAGES]
            response = self.call("POST", f"/__admin/discoveries/{discovery_id}/status", json=body)
            if discovery is None:  # reset since: that id is gone
                assert response.status_code in (400, 404), response.text
                return
            if choice == "garbage":
                assert (response.status_code, response.json()["param"]) == (400, "status")
                return
            assert response.status_code == 200, response.text
            discovery.upcoming.clear()
            found = {"pending": None, "complete": discovery.kind.forced, "complete-with": FORCED_COVERAGES[0]}[choice]
            self.transition(discovery, body["status"], found)
            self.settle()

        @rule(discovery_id=discoveries)
        def get(self, discovery_id: str) -> None:
            discovery = self.model.get(discovery_id)
            environment = discovery.kind.environment if discovery else "sandbox"
            response = self.call("GET", f"/v2/discovery/{discovery_id}", headers=mock.headers(environment))
            if discovery is None:
                assert response.status_code == 404
                return
            body = response.json()
            assert body["status"] == discovery.status
            assert (body["payerId"], body["memberId"]) == (discovery.found or (None, None))
            # Another environment's token does not see it.
            other = "production" if environment == "sandbox" else "sandbox"
            hidden = self.call("GET", f"/v2/discovery/{discovery_id}", headers=mock.headers(other))
            assert hidden.status_code == 404

        @precondition(lambda self: len(self.model) >= 4)
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

        @invariant()
        def discoveries_agree(self) -> None:
            listed = self.call("GET", "/__admin/discoveries").json()["discoveries"]
            assert {d["discoveryId"] for d in listed} == set(self.model)
            for summary in listed:
                expected = self.model[summary["discoveryId"]]
                assert (summary["environment"], summary["status"]) == (expected.kind.environment, expected.status)
                coverages = [(c["payerId"], c["memberId"]) for c in summary["coverages"]]
                assert coverages[:1] == ([expected.found] if expected.found else [])
                if expected.upcoming:
                    due = self.base + expected.upcoming[0][0] / 1000
                    assert epoch(summary["nextTransitionAt"]) == pytest.approx(due, abs=0.002)
                else:
                    assert summary["nextTransitionAt"] is None

        @invariant()
        def events_agree(self) -> None:
            deliveries = self.call("GET", "/__admin/webhooks/deliveries").json()["deliveries"]
            by_discovery: dict[str, list[dict[str, Any]]] = {}
            for message in deliveries:
                assert "verificationId" not in message
                by_discovery.setdefault(message["discoveryId"], []).append(message)
            for discovery_id, expected in self.model.items():
                actual = by_discovery.pop(discovery_id, [])
                prefix = "sandbox." if expected.kind.environment == "sandbox" else ""
                assert [(m["event"], m["payload"]["status"]) for m in actual] == [
                    (f"{prefix}discovery.updated", status) for status in expected.events
                ], discovery_id
                assert all(m["state"] == "delivered" for m in actual)
            assert by_discovery == {}, "messages the model does not know of"

    DiscoveryModel.TestCase.settings = hypothesis.settings(
        max_examples=30,
        stateful_step_count=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    DiscoveryModel.TestCase().runTest()
