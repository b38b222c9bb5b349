"""`sohar-contract partner-eligibility`: the suite as a user runs it, against the mock and against
a partner that leaks, plus its options, exit codes and reports.

Bounded runs (few examples, fixed seed): the point is the command's shape end to end and that
it names the broken rule, not to fuzz for long.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conformance import validating_mock
from conftest import wait_until_answering

from contract_tests import partner
from contract_tests.partner import DEFAULT_PROBE, Known, Probe, Result
from mock_server.testing import RunningMock, free_port

ROOT = Path(__file__).resolve().parent.parent
FAST = ("--max-examples", "5", "--seed", "3")


def sohar_contract(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARTNER_")}
    return subprocess.run(
        [sys.executable, "-m", "contract_tests", "partner-eligibility", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**clean, "NO_COLOR": "1", **(env or {})},
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def target() -> Iterator[RunningMock]:
    with validating_mock() as mock:
        yield mock


def test_the_suite_passes_against_the_mock_with_reports(target: RunningMock, tmp_path: Path) -> None:
    target.reset()
    reports = tmp_path / "reports"
    result = sohar_contract(
        *FAST, "--report", "junit,html", "--report-dir", str(reports), env={"PARTNER_BASE_URL": target.base_url}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output
    assert "FAILED" not in output and "ok      preliminary-search-returns-no-members" in output
    root = ET.parse(reports / "junit.xml").getroot()
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"schemathesis", "partner-semantics"}
    probes = [case.get("name") for case in suites["partner-semantics"].iter("testcase")]
    assert {
        "preliminary-search-returns-no-members",
        "wrong-confirmation-leaks-nothing",
        "check-answers-as-search",
    } <= set(probes)
    assert not root.findall(".//failure") and not root.findall(".//error")
    assert int(root.get("tests", "0")) == sum(int(s.get("tests", "0")) for s in suites.values())
    assert list(reports.glob("html-*/index.html")) and (reports / "partner-semantics.html").exists()
    journal = target.http.get("/__admin/requests").json()["requests"]
    answered = {(r["operationId"], r["statusCode"]) for r in journal}
    assert {("searchEligibility", 200), ("searchEligibility", 400), ("checkEligibility", 200)} <= answered
    assert "API Links:    1 covered" in output  # steered searches found members, so search -> check was walked
    assert target.core.contract_violations == []


def start_leaky(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "examples/leaky_partner.py", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # It serves the two operations only: any answer at all means it is up.
    wait_until_answering(process, f"http://127.0.0.1:{port}/__admin/health", "the leaky partner", ready_status=None)
    return process


def test_the_suite_fails_the_leaky_partner_naming_the_rule(tmp_path: Path) -> None:
    port = free_port()
    leaky = start_leaky(port)
    try:
        result = sohar_contract(
            "--base-url", f"http://127.0.0.1:{port}", *FAST, "--report", "junit", "--report-dir", str(tmp_path)
        )
    finally:
        leaky.terminate()
        leaky.communicate(timeout=10)  # closes its stderr pipe too: no unclosed-file ResourceWarning
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "FAILED  preliminary-search-returns-no-members" in output
    assert "Custom check failed: `partner_preliminary_search_returns_no_members`" in output
    assert "rules broken: preliminary-search-returns-no-members" in result.stderr
    failures = [
        case.get("name")
        for case in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
        if case.find("failure") is not None
    ]
    assert "preliminary-search-returns-no-members" in failures
    # Only that rule: the example is the mock with one bug, and the suite says which.
    assert not [line for line in output.splitlines() if "FAILED" in line and "preliminary-search" not in line]


@pytest.fixture(scope="module")
def keyed() -> Iterator[RunningMock]:
    with validating_mock(partner_api_key="partner-key-123") as mock:
        yield mock


def test_an_api_key_is_sent_and_its_enforcement_checked(keyed: RunningMock) -> None:
    keyed.reset()  # the journal of this test's run only
    result = sohar_contract(
        "--base-url", keyed.base_url, *FAST, "--phases", "examples,coverage", env={"PARTNER_API_KEY": "partner-key-123"}
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "ok      api-key-required" in result.stdout
    unauthorized = keyed.http.get("/__admin/requests", params={"conforms": "false"}).json()["requests"]
    assert [r["statusCode"] for r in unauthorized if r["violation"]["kind"] == "auth"] == [401]


@pytest.mark.parametrize(
    ("args", "message"), [((), "it wants credentials (--api-key)"), (("--api-key", "nope"), "refused the API key")]
)
def test_missing_or_wrong_credentials_stop_before_the_run(
    keyed: RunningMock, args: tuple[str, ...], message: str
) -> None:
    result = sohar_contract("--base-url", keyed.base_url, *args)
    assert result.returncode == partner.EXIT_SETUP_ERROR
    assert message in result.stderr


def test_a_partner_that_ignores_the_key_fails_the_auth_rule(target: RunningMock) -> None:
    result = sohar_contract("--base-url", target.base_url, "--api-key", "k", *FAST, "--phases", "examples")
    assert result.returncode == 1
    assert "FAILED  api-key-required" in result.stdout


def test_another_probe_member_and_an_unknown_one(target: RunningMock) -> None:
    maria = "firstName=Maria,lastName=Garcia,birthDate=1985-03-02,email=maria.g.seattle@example.com"
    result = sohar_contract("--base-url", target.base_url, "--probe", maria, *FAST, "--phases", "examples")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "2 member(s), 1 entry for the probe member" in result.stdout
    nobody = "firstName=Pat,lastName=Nobody,birthDate=1990-01-01,memberId=X-1"
    result = sohar_contract("--base-url", target.base_url, *FAST, "--phases", "examples", env={"PARTNER_PROBE": nobody})
    assert result.returncode == 1
    assert "FAILED  probe-member-is-found" in result.stdout


def test_a_partner_without_the_default_probe_member_skips_the_data_probes(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        "partner:\n  partnerName: Other\n  partnerId: o-1\n  families:\n    - id: o\n      subscriptionType: HMO\n"
        "      members:\n        - {memberId: O-1, relationship: '18', firstName: Una, lastName: Other,"
        " birthDate: '1990-01-01', sex: F, address: {address1: 1 St, city: C, state: CA, zip: '90001'}}\n"
    )
    with validating_mock(scenario_paths=(other,)) as mock:
        result = sohar_contract("--base-url", mock.base_url, *FAST, "--phases", "examples")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "skipped final-search-returns-the-family" in result.stdout and "give --probe" in result.stdout


UNREACHABLE = "<a loopback URL nobody listens on>"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ((), {}, "--base-url"),
        (("--base-url", "localhost:1"), {}, "expected an http(s):// URL"),
        (
            ("--base-url", "http://127.0.0.1:1", "--probe", "firstName=A"),
            {},
            "exactly one of last4Ssn, email, memberId",
        ),
        (("--base-url", "http://127.0.0.1:1", "--report", "pdf"), {}, "choose from junit, html"),
        (("--base-url", "http://127.0.0.1:1", "--spec", "nowhere.yaml"), {}, "--spec nowhere.yaml is not a file"),
        (("--base-url", "http://127.0.0.1:1"), {"PARTNER_PROBE": "firstName=A,lastName=B"}, "argument --probe: give"),
        (("--base-url", UNREACHABLE), {}, "failed"),
    ],
)
def test_usage_mistakes_and_an_unreachable_partner_exit_2(
    args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    # A port free now, not at collection: by the time the test runs, another test's server may hold that one.
    args = tuple(f"http://127.0.0.1:{free_port()}" if arg == UNREACHABLE else arg for arg in args)
    result = sohar_contract(*args, env=env)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert message in result.stderr


def test_extra_arguments_go_to_schemathesis(target: RunningMock) -> None:
    result = sohar_contract(
        "--base-url", target.base_url, *FAST, "--phases", "examples", "--", "--include-path", "/v1/eligibility/check"
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Selected: 1/2" in result.stdout


@pytest.mark.parametrize(
    ("text", "probe"),
    [
        ("firstName=Dana,lastName=Whitaker,birthDate=1980-07-14,last4Ssn=4821", DEFAULT_PROBE),
        (
            " firstName = A , lastName=B,birthDate=2000-01-01, memberId=M-1 ",
            Probe("A", "B", "2000-01-01", "memberId", "M-1"),
        ),
    ],
)
def test_a_probe_parses(text: str, probe: Probe) -> None:
    assert Probe.parse(text) == probe


@pytest.mark.parametrize(
    "text",
    [
        "firstName=A,lastName=B,birthDate=2000-01-01",
        "firstName=A,lastName=B,birthDate=2000-01-01,email=e@x,last4Ssn=1234",
        "firstName=A,lastName=B,birthDate=2000-01-01,memberId=M,colour=red",
        "firstName=A,lastName,birthDate=2000-01-01,memberId=M",
    ],
)
def test_a_bad_probe_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Probe.parse(text)


def test_wrong_values_differ_from_the_probe_s() -> None:
    for field, value in (("last4Ssn", "4821"), ("last4Ssn", "0000"), ("email", "a@b.c"), ("memberId", "M-1")):
        probe = Probe("A", "B", "2000-01-01", field, value)
        assert probe.wrong_value() != value
        if field == "last4Ssn":
            assert len(probe.wrong_value()) == 4 and probe.wrong_value().isdigit()


def _case(path: str, body: Any, positive: bool | None) -> Any:
    meta = (
        None
        if positive is None
        else SimpleNamespace(generation=SimpleNamespace(mode=SimpleNamespace(is_positive=positive)))
    )
    return SimpleNamespace(operation=SimpleNamespace(path=path), body=body, meta=meta)


def test_only_positive_calls_are_steered_and_repeatably() -> None:
    known = Known(DEFAULT_PROBE, ("EVG-100-01", "EVG-100-04"))
    steered = [
        _case(
            partner.SEARCH_PATH, {"firstName": f"n{i}", "lastName": "x", "birthDate": "2000-01-01", "email": "e"}, True
        )
        for i in range(30)
    ]
    for case in steered:
        partner.steer(case, known)
    kinds = {("last4Ssn" in c.body, c.body["firstName"] == "Dana") for c in steered}
    assert kinds == {(False, False), (False, True), (True, True)}  # untouched, preliminary, final
    assert all("email" not in c.body for c in steered if c.body["firstName"] == "Dana")
    again = _case(partner.SEARCH_PATH, {"firstName": "n0", "lastName": "x", "birthDate": "2000-01-01"}, True)
    partner.steer(again, known)
    assert again.body["firstName"] == steered[0].body["firstName"]
    for untouched in (_case(partner.SEARCH_PATH, {"firstName": "n1"}, False), _case(partner.SEARCH_PATH, [1], True)):
        before = untouched.body.copy()
        partner.steer(untouched, known)
        assert untouched.body == before
    checks = [_case(partner.CHECK_PATH, {"memberId": f"m{i}"}, True) for i in range(20)]
    for case in checks:
        partner.steer(case, known)
    assert {c.body["memberId"] for c in checks} & set(known.member_ids)


def test_the_probes_join_schemathesis_junit(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuites tests="2" failures="1"><testsuite name="schemathesis" tests="2" failures="1"/></testsuites>'
    )
    partner.write_junit(
        [
            Result("answers-carry-no-ssn", partner.PASSED),
            Result("wrong-confirmation-leaks-nothing", partner.FAILED, "3 members"),
        ],
        path,
    )
    root = ET.parse(path).getroot()
    assert (root.get("tests"), root.get("failures")) == ("4", "2")
    failure = root.find(".//testcase[@name='wrong-confirmation-leaks-nothing']/failure")
    assert failure is not None and failure.text == "3 members"


def test_sohar_s_client_report_leaves_partner_calls_out(capsys: pytest.CaptureFixture[str]) -> None:
    from contract_tests.cli import main

    with RunningMock(freeze_clock=True) as mock:
        mock.http.post(partner.SEARCH_PATH, json={})  # a partner call that breaks its own contract
        mock.http.post(partner.CHECK_PATH, json={"memberId": "EVG-100-01"})
        mock.http.get("/v1/payers")  # a Sohar call without a token
        assert main(["client-report", "--mock", mock.base_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["requests"] == 1 and report["operations"]["getPayers"] == {"403": 1}
    assert [v["path"] for v in report["violations"]] == ["/v1/payers"]
    assert [e["statusCode"] for e in report["errors"]] == [403]
