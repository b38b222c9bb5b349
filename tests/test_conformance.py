"""The after-every-test contract check pins a broken response on the test that provoked it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import conformance
from conftest import ROOT

from mock_server.testing import RunningMock

TESTS = Path(__file__).resolve().parent
BROKEN = "the mock's responses broke its own contract during this test:"

# A contract the mock's real payer answers break: no payer name is three characters or fewer.
SUITE = """
import pytest
import yaml
from conformance import validating_mock

from mock_server.resources import sohar_spec_path
from mock_server.settings import Settings


@pytest.fixture(scope="session")
def stricter_spec(tmp_path_factory):
    spec = yaml.safe_load(sohar_spec_path().read_text())
    spec["components"]["schemas"]["PayerRecord"]["properties"]["payerName"]["maxLength"] = 3
    path = tmp_path_factory.mktemp("spec") / "sohar.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.fixture(scope="module")
def shared(stricter_spec):
    with validating_mock(Settings(spec_path=stricter_spec)) as mock:
        yield mock


def test_reads_a_payer_it_cannot_describe(shared):
    assert shared.http.get("/v1/payers/60054", headers=shared.headers()).status_code == 200


def test_only_asks_for_a_payer_that_does_not_exist(shared):
    assert shared.http.get("/v1/payers/00000", headers=shared.headers()).status_code == 404


def test_its_own_mock_answers_the_payer_list(stricter_spec):
    with validating_mock(Settings(spec_path=stricter_spec)) as mock:
        assert mock.http.get("/v1/payers", headers=mock.headers()).status_code == 200
"""


def run_suite(folder: Path, *tests: str) -> dict[str, str]:
    """Each test's outcome, "passed" or "failure"/"error" and its report, run in the order given."""
    report = folder / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conformance", "-p", "no:randomly", f"--junitxml={report}", *tests],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])},
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcome = "passed" if problem is None else f"{problem.tag}: {problem.text}"
        outcomes[case.get("name", "")] = outcome
    return outcomes


def test_the_test_that_broke_the_contract_fails_and_says_how(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(textwrap.dedent(SUITE))
    breaks, clean, own = (
        "test_reads_a_payer_it_cannot_describe",
        "test_only_asks_for_a_payer_that_does_not_exist",
        "test_its_own_mock_answers_the_payer_list",
    )
    # Whichever of the two runs first on the shared mock, the violation is pinned on its own test;
    # a mock that stops with its test is checked as it stops.
    for order in ((breaks, clean, own), (clean, breaks), (own, clean)):
        outcomes = run_suite(tmp_path, *(f"test_suite.py::{name}" for name in order))
        assert outcomes[clean] == "passed", outcomes
        if breaks in order:
            assert outcomes[breaks].startswith("error: ") and BROKEN in outcomes[breaks], outcomes  # at teardown
            assert 'payerName: "Aetna" is longer than 3 characters' in outcomes[breaks]
        if own in order:
            assert outcomes[own].startswith("failure: ") and BROKEN in outcomes[own], outcomes
            assert '5/payerName: "Magellan" is longer than 3 characters' in outcomes[own]


def test_the_session_mock_is_watched(mock: RunningMock) -> None:
    assert mock in conformance.watched()
