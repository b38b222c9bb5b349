"""The after-every-test contract check pins a broken response on the test that provoked it."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import conformance
from conftest import ROOT

from mock_server.testing import RunningMock

TESTS = Path(__file__).resolve().parent
BROKEN = "the mock's responses broke its own contract during this test:"

# A contract the mock's real payer answers break: no payer name is three characters or fewer.
CONFTEST = """
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
"""
TESTS_OF = {
    "breaks": """
def test_breaks(shared):
    assert shared.http.get("/v1/payers/60054", headers=shared.headers()).status_code == 200
""",
    "clean": """
def test_clean(shared):
    assert shared.http.get("/v1/payers/00000", headers=shared.headers()).status_code == 404
""",
    "own": """
def test_own(stricter_spec):
    with validating_mock(Settings(spec_path=stricter_spec)) as mock:
        assert mock.http.get("/v1/payers", headers=mock.headers()).status_code == 200
""",
}
HEADER = "from conformance import validating_mock\nfrom mock_server.settings import Settings\n"
# Each module runs its tests in this order on a mock of its own (random ordering is off).
MODULES = {"test_breaks_first": ("breaks", "clean", "own"), "test_clean_first": ("clean", "breaks")}


def run_suite(folder: Path) -> dict[tuple[str, str], str]:
    """Each test's outcome by (module, test): "passed", or "failure"/"error" and its report."""
    (folder / "conftest.py").write_text(CONFTEST)
    for module, order in MODULES.items():
        (folder / f"{module}.py").write_text(HEADER + "".join(TESTS_OF[name] for name in order))
    report = folder / "report.xml"
    files = [f"{module}.py" for module in MODULES]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conformance", "-p", "no:randomly", f"--junitxml={report}", *files],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        outcome = "passed" if problem is None else f"{problem.tag}: {problem.text}"
        outcomes[(case.get("classname", ""), case.get("name", "").removeprefix("test_"))] = outcome
    return outcomes


def test_the_test_that_broke_the_contract_fails_and_says_how(tmp_path: Path) -> None:
    outcomes = run_suite(tmp_path)
    # Whichever test on the shared mock runs first, the violation is pinned on the one that caused it.
    for module, order in MODULES.items():
        assert outcomes[(module, "clean")] == "passed", outcomes
        breaks = outcomes[(module, "breaks")]
        assert breaks.startswith("error: ") and BROKEN in breaks, outcomes  # at the test's teardown
        assert 'payerName: "Aetna" is longer than 3 characters' in breaks
        if "own" in order:  # a mock that stops with its test is checked as it stops
            own = outcomes[(module, "own")]
            assert own.startswith("failure: ") and BROKEN in own, outcomes
            assert '5/payerName: "Magellan" is longer than 3 characters' in own
    assert len(outcomes) == 5


def test_the_session_mock_is_watched(mock: RunningMock) -> None:
    assert mock in conformance.watched()
