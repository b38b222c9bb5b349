from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conformance import responses_conform, validating_mock
from openapi_schema_validator import OAS30Validator

from contract_tests.receiver import Received, Reply, WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import DOCUMENTED_MEMBER, RunningMock

__all__ = ["responses_conform"]  # autouse: every test is checked against the mocks it used

ROOT = Path(__file__).resolve().parent.parent
SPEC = yaml.safe_load((ROOT / "openapi" / "sohar.yaml").read_text())
ADMIN_SPEC = yaml.safe_load((ROOT / "openapi" / "admin.yaml").read_text())
PARTNER_SPEC = yaml.safe_load((ROOT / "openapi" / "partner-eligibility.yaml").read_text())

JOHN_DOE = DOCUMENTED_MEMBER
# The mock clock is real time plus an offset, so it keeps running while a test works. A check
# that something has NOT happened yet (a token still valid, a retry not yet due) leaves at least
# this much mock time before it could: longer than any test may run (pytest-timeout stops one
# at 120 s), so no slow or busy machine can close the gap.
OUTLASTS_ANY_TEST = 300


def request_for(member_id: str = "00000000", **patient: str) -> dict[str, Any]:
    body = {**JOHN_DOE, "patient": {**JOHN_DOE["patient"], "memberId": member_id, **patient}}
    return body


def receiving(script: Iterable[Reply] = (), secret: str = DEFAULT_WEBHOOK_SECRET) -> WebhookReceiver:
    """The contract kit's receiver as these tests use it: the scripted answers first, then 200
    to every delivery signed with `secret` (the mock's default unless the test sets its own)."""
    return WebhookReceiver(secret, script=script, accepted_status=200)


def received_about(receiver: WebhookReceiver, count: int, *subject_ids: str, timeout: float = 10.0) -> list[Received]:
    """Once `count` deliveries about these verifications or discoveries have arrived: those, in
    arrival order (whatever else the receiver got: events of a test's other requests)."""

    def about(items: list[Received]) -> list[Received]:
        return [item for item in items if item.subject_id in subject_ids]

    if not receiver.wait_until(lambda items: len(about(items)) >= count, timeout):
        raise AssertionError(f"expected {count} deliveries about {subject_ids}, got {len(about(receiver.received))}")
    return about(receiver.received)


def wait_until_answering(
    process: subprocess.Popen[str], url: str, what: str, ready_status: int | None = 200, timeout: float = 30
) -> None:
    """Return once the child `process` answers a GET of `url` (with `ready_status`; None: any
    answer); fail naming `what` with its output if it exits first, or kill it when time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = " ".join(part for part in process.communicate() if part)
            raise AssertionError(f"{what} exited with {process.returncode}: {output}")
        try:
            status = httpx.get(url, timeout=1).status_code
            if ready_status is None or status == ready_status:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    process.communicate(timeout=10)
    raise AssertionError(f"{what} did not start within {timeout} s")


def milliseconds(iso: str) -> int:
    """A time the mock rendered (ISO 8601, to the millisecond) as whole milliseconds: gaps compare exactly."""
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


def assert_conforms(schema_name: str, body: Any, spec: dict[str, Any] = SPEC) -> None:
    """Validate with an independent OpenAPI 3.0 validator, not the mock's own."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.fixture(scope="session")
def live() -> Iterator[RunningMock]:
    """The real server on a loopback port, shared by a session; reset by `mock`."""
    with validating_mock(freeze_clock=True) as running:
        yield running


@pytest.fixture
def mock(live: RunningMock) -> RunningMock:
    live.reset()
    return live
