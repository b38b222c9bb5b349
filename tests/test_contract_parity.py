"""`sohar-contract parity` between two live mocks: identical ones agree; a drifted scenario file is caught."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests import parity
from contract_tests.cli import main
from mock_server.settings import Settings
from mock_server.testing import RunningMock, free_port

DRIFT = """\
name: drifted-sandbox
description: the other side answers the documented member differently
rules:
  - name: documented-member-drifted
    match: {patient.memberId: "00000000", patient.lastName: {pattern: "(?i)^doe$"}}
    outcome: {status: complete.ineligible, statusReason: INACTIVE}
"""
# Loaded before the defaults, so its rule comes first: DE discovers another member id.
DISCOVERY_DRIFT = """\
name: drifted-discovery
discovery:
  rules:
    - name: de-drifted
      match: {environment: sandbox, patient.state: DE}
      outcome: {status: complete, coverages: [{payerId: "60054", memberId: "00000009"}]}
"""
CREDENTIALS = {"SOHAR_SANDBOX_CLIENT_ID": "sandbox-client-id", "SOHAR_SANDBOX_CLIENT_SECRET": "sandbox-client-secret"}


@pytest.fixture(scope="module")
def receiver_url() -> str:
    return f"http://127.0.0.1:{free_port()}/webhooks"


@pytest.fixture(scope="module")
def reference(receiver_url: str) -> Iterator[RunningMock]:
    with RunningMock(Settings(webhook_urls=(receiver_url,))) as mock:
        yield mock


@pytest.fixture(scope="module")
def twin(receiver_url: str) -> Iterator[RunningMock]:
    with RunningMock(Settings(webhook_urls=(receiver_url,))) as mock:
        yield mock


@pytest.fixture(scope="module")
def drifted(receiver_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    folder = tmp_path_factory.mktemp("drift")
    (folder / "drift.yaml").write_text(DRIFT)
    default = Path(__file__).resolve().parent.parent / "scenarios"
    settings = Settings(scenario_paths=(default, folder / "drift.yaml"), webhook_urls=(receiver_url,))
    with RunningMock(settings) as mock:
        yield mock


@pytest.fixture(scope="module")
def discovery_drifted(receiver_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    drift = tmp_path_factory.mktemp("discovery-drift") / "drift.yaml"
    drift.write_text(DISCOVERY_DRIFT)
    default = Path(__file__).resolve().parent.parent / "scenarios"
    with RunningMock(Settings(scenario_paths=(drift, default), webhook_urls=(receiver_url,))) as mock:
        yield mock


@pytest.fixture(autouse=True)
def sandbox_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


def run_parity(
    capsys: pytest.CaptureFixture[str], left: RunningMock, right: RunningMock, *args: str
) -> tuple[int, str]:
    left.reset()
    right.reset()
    code = main(["parity", "--mock", left.base_url, "--sandbox", right.base_url, "--settle", "5", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_two_identical_mocks_agree_including_webhooks(
    capsys: pytest.CaptureFixture[str], reference: RunningMock, twin: RunningMock, receiver_url: str
) -> None:
    code, out = run_parity(capsys, reference, twin, "--receiver", receiver_url, "--webhook-wait", "10")
    assert code == 0, out
    assert f"no differences in {len(parity.script())} steps" in out
    assert "201 -> complete.eligible" in out and "400 param=patient.dateOfBirth" in out
    steps = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "201 -> complete" in steps["discovery: OH, nothing found"]
    assert "400 param=patient.state" in steps["discovery: missing state"]
    assert "400 param=lastName" in steps["discovery v1: empty lastName"]
    assert "400 param=npi" in out
    status_line = next(line for line in out.splitlines() if line.startswith("network status: documented member"))
    assert status_line.split()[-3:] == ["200", "200", "same"]  # read back, not an unknown id's 404


def test_a_drifted_discovery_value_is_reported(
    capsys: pytest.CaptureFixture[str], reference: RunningMock, discovery_drifted: RunningMock, receiver_url: str
) -> None:
    code, out = run_parity(capsys, reference, discovery_drifted, "--receiver", receiver_url, "--webhook-wait", "10")
    assert code == parity.EXIT_DIFFERENT
    differences = [line.strip() for line in out.splitlines() if line.startswith("  ")]
    # The found member id is compared by value (and 00000009 is on no roster, so the payer's
    # record of the patient is missing too); every other step, events included, agrees.
    assert 'discovery: DE / then GET body.memberId: mock "00000001" | sandbox "00000009"' in differences, out
    assert all(line.startswith("discovery: DE / then GET body.") for line in differences), out


def test_a_drifted_sandbox_is_reported_field_by_field(
    capsys: pytest.CaptureFixture[str], reference: RunningMock, drifted: RunningMock, receiver_url: str
) -> None:
    code, out = run_parity(capsys, reference, drifted, "--receiver", receiver_url, "--webhook-wait", "10")
    assert code == parity.EXIT_DIFFERENT
    differences = [line.strip() for line in out.splitlines() if line.startswith("  create: documented member / ")]
    assert (
        'create: documented member / then GET body.status: mock "complete.eligible" | sandbox "complete.ineligible"'
        in (differences)
    )
    assert any('body.statusReason: mock null | sandbox "INACTIVE"' in line for line in differences)
    assert any(
        "webhook events: mock sandbox.verification.updated:complete.eligible | "
        "sandbox sandbox.verification.updated:complete.ineligible" in line
        for line in differences
    )
    # Only what the scenario changed differs: error envelopes and the other statuses still agree.
    assert not [line for line in out.splitlines() if line.startswith("  create: missing")]
    assert not [line for line in out.splitlines() if line.startswith("  auth:")]


def test_semantic_diff_ignores_values_but_not_types_or_presence() -> None:
    left = {"verificationId": "a", "status": "pending", "benefits": [{"copay": 1}], "x": 1}
    right = {"verificationId": "b", "status": "pending", "benefits": [{"copay": "1"}, {"copay": 2}], "y": None}
    assert parity.diff_json(left, right) == [
        ("body.benefits[].copay", "number", "string"),
        ("body.x", "present (number)", "absent"),
        ("body.y", "absent", "present (null)"),
    ]
    assert parity.diff_json(
        {"error": "invalid_request_error", "param": "payerId"}, {"error": "invalid_request_error"}
    ) == [("body.param", "present (string)", "absent")]


def test_setup_errors_are_exit_2(
    capsys: pytest.CaptureFixture[str], reference: RunningMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOHAR_SANDBOX_CLIENT_SECRET", "wrong")
    code = main(["parity", "--mock", reference.base_url, "--sandbox", reference.base_url])
    assert code == parity.EXIT_SETUP and "check the client id and secret" in capsys.readouterr().err
    for name in (*CREDENTIALS, "SOHAR_CLIENT_ID", "SOHAR_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    code = main(["parity", "--mock", reference.base_url, "--sandbox", reference.base_url])
    assert code == parity.EXIT_SETUP and "SOHAR_SANDBOX_CLIENT_ID" in capsys.readouterr().err
