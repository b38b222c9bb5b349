"""`sohar-contract server`: the whole schemathesis suite, as a user runs it, against live servers.

Bounded runs (few examples per operation, fixed seed): the point is that the command's
shape works end to end — token, phases, reports, exit codes — and that it catches a server
that breaks Sohar's documented 403 answer, not to fuzz for long.
"""

from __future__ import annotations

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
from schemathesis.auths import GLOBAL_AUTH_STORAGE

from contract_tests import checks, server, suite_hooks
from contract_tests.oauth import REFRESH_MARGIN_SECONDS, Credentials, TokenError, TokenSource
from mock_server.app import build_app
from mock_server.settings import Settings
from mock_server.testing import RunningApp, RunningMock

ROOT = Path(__file__).resolve().parent.parent


def sohar_contract(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "contract_tests", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def target() -> Iterator[RunningMock]:
    with validating_mock() as mock:
        yield mock


def answering_401_for_403(app: Any) -> Any:
    """A server that drifted from Sohar: 401 where Sohar documents 403."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_rewritten(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 403:
                message = {**message, "status": 401}
            await send(message)

        await app(scope, receive, send_rewritten)

    return wrapped


def test_the_suite_passes_against_the_mock_with_reports(target: RunningMock, tmp_path: Path) -> None:
    target.reset()
    reports = tmp_path / "reports"
    result = sohar_contract(
        "server",
        "--max-examples", "8",
        "--seed", "7",
        "--workers", "2",
        "--report", "junit,html",
        "--report-dir", str(reports),
        # Credentials and URL from the environment, as CI would pass secrets.
        env={
            "SOHAR_BASE_URL": target.base_url,
            "SOHAR_CLIENT_ID": "sandbox-client-id",
            "SOHAR_CLIENT_SECRET": "sandbox-client-secret",
        },
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output
    suite = ET.parse(reports / "junit.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) >= 5
    assert not suite.findall(".//failure") and not suite.findall(".//error")
    assert list(reports.glob("html-*/index.html"))

    journal = target.http.get("/__admin/requests").json()["requests"]
    answered = {(r["operationId"], r["statusCode"]) for r in journal}
    # Payer ids were pointed at the directory, so creates got real 201s and the link to Get was walked.
    assert {("createVerification", 201), ("getVerification", 200)} <= answered
    # Discovery too: both creates answered 201, and the link from discoveryId reached Get Discovery.
    assert {("createDiscovery", 201), ("createDiscoveryV1", 201), ("getDiscovery", 200)} <= answered
    # Provider creates got a real payer and a check digit that holds (network status: the test below).
    assert ("createProvider", 200) in answered
    # The Sohar-aware check was exercised: requests without a token got Sohar's 403.
    assert any(r["violation"] and r["violation"]["rule"] == "security" and r["statusCode"] == 403 for r in journal)
    assert target.core.contract_violations == []
    assert not (ROOT / ".schemathesis").exists()
    # The run's auth provider and hooks are gone: nothing leaks into later schemathesis use in-process.
    assert not GLOBAL_AUTH_STORAGE.is_defined


def test_the_stateful_phase_reads_network_status_through_its_link(target: RunningMock) -> None:
    # In the whole suite the stateful phase runs a few scenarios over some 25 links and picks
    # which to follow partly at random (schemathesis draws that coin outside the seed), so no one
    # link is sure to be walked there. With these two paths the link is the only way forward.
    target.reset()
    paths = ("/v2/verifications", "/v2/verifications/{verificationId}/network-status")
    result = sohar_contract(
        "server",
        "--max-examples", "8",
        "--seed", "7",
        *(argument for path in paths for argument in ("--include-path", path)),
        env={
            "SOHAR_BASE_URL": target.base_url,
            "SOHAR_CLIENT_ID": "sandbox-client-id",
            "SOHAR_CLIENT_SECRET": "sandbox-client-secret",
        },
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "✅ Stateful" in output
    journal = target.http.get("/__admin/requests").json()["requests"]
    answered = {(r["operationId"], r["statusCode"]) for r in journal}
    # A create got a real payer, and the link took its verificationId to Get Network Status.
    assert {("createVerification", 201), ("getNetworkStatus", 200)} <= answered
    assert target.core.contract_violations == []


def test_a_server_answering_401_instead_of_403_fails(tmp_path: Path) -> None:
    app = answering_401_for_403(build_app(Settings()))
    with RunningApp(app) as drifted:
        result = sohar_contract(
            "server",
            "--base-url", drifted.url,
            "--client-id", "sandbox-client-id",
            "--client-secret", "sandbox-client-secret",
            "--include-path", "/v1/payers",
            "--phases", "coverage",
            "--max-examples", "5",
            "--seed", "1",
        )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "Got 401 when missing required 'Authorization' header, expected 403" in output


def test_an_unknown_payer_answer_is_sohar_s_documented_400_not_a_failure(target: RunningMock) -> None:
    target.reset()
    result = sohar_contract(
        "server",
        "--base-url", target.base_url,
        "--client-id", "sandbox-client-id",
        "--client-secret", "sandbox-client-secret",
        "--include-path", "/v2/verifications",
        "--phases", "examples,coverage",
        "--payer-id", "NOT-IN-THE-DIRECTORY",
        "--max-examples", "5",
        "--seed", "3",
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    journal = target.http.get("/__admin/requests", params={"operationId": "createVerification"}).json()
    assert any(r["statusCode"] == 400 and r["errorParam"] == "payerId" for r in journal["requests"])


def rejecting_every_create(app: Any) -> Any:
    """A server that drifted the other way: 400 for every create, blaming a field that was fine."""
    body = b'{"error":"invalid_request_error","param":"placeOfServiceCode"}'

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v2/verifications":
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def test_valid_creates_rejected_for_another_field_fail() -> None:
    with RunningApp(rejecting_every_create(build_app(Settings()))) as drifted:
        result = sohar_contract(
            "server",
            "--base-url", drifted.url,
            "--client-id", "sandbox-client-id",
            "--client-secret", "sandbox-client-secret",
            "--include-path", "/v2/verifications",
            "--phases", "examples,coverage",
            "--max-examples", "5",
            "--seed", "3",
        )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "Valid data should have been accepted" in output


def test_bad_credentials_stop_before_the_run(target: RunningMock) -> None:
    result = sohar_contract(
        "server", "--base-url", target.base_url, "--client-id", "sandbox-client-id", "--client-secret", "nope"
    )
    assert result.returncode == server.EXIT_SETUP_ERROR
    assert "cannot get a token" in result.stderr and "403" in result.stderr


def test_missing_options_and_bad_values_are_usage_errors(target: RunningMock) -> None:
    env = {name: "" for name in ("SOHAR_BASE_URL", "SOHAR_CLIENT_ID", "SOHAR_CLIENT_SECRET")}
    result = sohar_contract("server", env=env)
    assert result.returncode == 2 and "--base-url" in result.stderr
    result = sohar_contract("server", "--base-url", "localhost:8080", "--client-id", "a", "--client-secret", "b")
    assert result.returncode == 2 and "expected an http(s):// URL" in result.stderr
    result = sohar_contract(
        "server", "--base-url", target.base_url, "--client-id", "a", "--client-secret", "b", "--report", "pdf"
    )
    assert result.returncode == 2 and "choose from junit, html" in result.stderr


def test_the_replaced_checks_are_the_ones_excluded() -> None:
    assert tuple(check.__name__ for check in checks.REPLACED_CHECKS) == server.REPLACED_CHECK_NAMES
    args = server.ServerRun("http://x", Credentials("a", "b"), include_paths=("/v1/payers",)).schemathesis_args(
        Path("c.toml")
    )
    assert args[args.index("--exclude-checks") + 1] == "missing_required_header,positive_data_acceptance"
    assert args[args.index("--include-path") + 1] == "/v1/payers"


def test_stateful_runs_only_when_a_link_joins_selected_paths() -> None:
    def phases(**selection: Any) -> str:
        args = server.ServerRun("http://x", Credentials("a", "b"), **selection).schemathesis_args(Path("c.toml"))
        return args[args.index("--phases") + 1]

    assert phases() == "examples,coverage,fuzzing,stateful"
    assert phases(include_paths=("/v1/payers",)) == "examples,coverage,fuzzing"
    both = ("/v2/verifications", "/v2/verifications/{verificationId}")
    assert phases(include_paths=both) == "examples,coverage,fuzzing,stateful"
    assert phases(include_paths=both, phases=("coverage",)) == "coverage"
    # Every link starts at a create: with those paths out, no link is left to walk.
    creates = ("/v2/verifications", "/v2/discovery", "/v1/discovery", "/v1/webhooks", "/v1/providers")
    assert phases(exclude_paths=creates) == "examples,coverage,fuzzing"
    assert phases(include_paths=("/v1/providers", "/v1/providers/{providerId}")) == "examples,coverage,fuzzing,stateful"
    status = ("/v2/verifications", "/v2/verifications/{verificationId}/network-status")
    assert phases(include_paths=status) == "examples,coverage,fuzzing,stateful"
    # Either create of a discovery links to Get Discovery.
    assert (
        phases(include_paths=("/v1/discovery", "/v2/discovery/{discoveryId}")) == "examples,coverage,fuzzing,stateful"
    )


def _case(body: Any, positive: bool | None, label: str = suite_hooks.CREATE_VERIFICATION) -> Any:
    mode = SimpleNamespace(is_positive=positive)
    meta = None if positive is None else SimpleNamespace(generation=SimpleNamespace(mode=mode))
    return SimpleNamespace(operation=SimpleNamespace(label=label), body=body, meta=meta)


def test_only_positive_creates_are_pointed_at_real_payers() -> None:
    payers = ("60054", "62308")
    positive = _case({"payerId": "zz"}, positive=True)
    suite_hooks.point_at_real_payer(positive, payers)
    assert positive.body["payerId"] in payers
    again = _case({"payerId": "zz"}, positive=True)
    suite_hooks.point_at_real_payer(again, payers)
    assert again.body["payerId"] == positive.body["payerId"]  # repeatable for a seed
    discovery = _case({"patient": {}, "payerId": "zz"}, positive=True, label="POST /v2/discovery")
    suite_hooks.point_at_real_payer(discovery, payers)
    assert discovery.body["payerId"] == positive.body["payerId"]
    for untouched in (
        _case({"payerId": "zz"}, positive=False),
        _case({"payerId": 5}, positive=True),
        _case({"payerId": "zz"}, positive=True, label="POST /v1/webhooks"),
    ):
        before = dict(untouched.body)
        suite_hooks.point_at_real_payer(untouched, payers)
        assert untouched.body == before


def test_positive_provider_creates_get_a_real_payer_and_a_check_digit_that_holds() -> None:
    payers = ("60054",)
    positive = _case({"payerId": "zz", "npi": "1234567890", "state": "CA"}, True, suite_hooks.CREATE_PROVIDER)
    suite_hooks.point_at_real_payer(positive, payers)
    assert positive.body == {"payerId": "60054", "npi": "1234567893", "state": "CA"}
    for npi in ("123456789", "12345678ab", 1234567890):  # not ten digits: sent as generated
        case = _case({"payerId": "zz", "npi": npi}, True, suite_hooks.CREATE_PROVIDER)
        suite_hooks.point_at_real_payer(case, payers)
        assert case.body["npi"] == npi
    negative = _case({"payerId": "zz", "npi": "1234567890"}, False, suite_hooks.CREATE_PROVIDER)
    suite_hooks.point_at_real_payer(negative, payers)
    assert negative.body == {"payerId": "zz", "npi": "1234567890"}


def rejecting_every_provider(app: Any) -> Any:
    """A server that drifted: every NPI refused, valid ones included."""
    body = b'{"error":"invalid_request_error","param":"npi"}'

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/providers":
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def test_a_server_refusing_valid_npis_fails() -> None:
    # The npi exception is for NPIs that fail the check digit only: a valid one refused is a finding.
    with RunningApp(rejecting_every_provider(build_app(Settings()))) as drifted:
        result = sohar_contract(
            "server",
            "--base-url", drifted.url,
            "--client-id", "sandbox-client-id",
            "--client-secret", "sandbox-client-secret",
            "--include-path", "/v1/providers",
            "--phases", "examples,coverage",
            "--max-examples", "5",
            "--seed", "3",
        )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    assert "Valid data should have been accepted" in output


class ManualClock:
    """A client's clock that moves only when the test says, so no refresh waits on real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_refreshed_a_minute_before_they_expire(target: RunningMock) -> None:
    clock = ManualClock()
    tokens = TokenSource(target.base_url, Credentials("sandbox-client-id", "sandbox-client-secret"), clock=clock)
    first = tokens.token()
    assert tokens.token() == first
    clock.now = 3600 - REFRESH_MARGIN_SECONDS - 0.001
    assert tokens.token() == first and tokens.fetched == 1
    clock.now = 3600 - REFRESH_MARGIN_SECONDS
    second = tokens.token()
    assert second != first and tokens.fetched == 2
    assert target.http.get("/v1/payers", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    with pytest.raises(TokenError, match="answered 403"):
        TokenSource(target.base_url, Credentials("sandbox-client-id", "wrong")).token()


def test_short_lived_tokens_are_refreshed_half_way() -> None:
    clock = ManualClock()
    with RunningMock(token_ttl=2) as mock:
        tokens = TokenSource(mock.base_url, Credentials("sandbox-client-id", "sandbox-client-secret"), clock=clock)
        first = tokens.token()
        clock.now = 0.999
        assert tokens.token() == first and tokens.fetched == 1
        clock.now = 1.0  # half the 2 s lifetime: a minute's margin would be longer than the token
        assert tokens.token() != first and tokens.fetched == 2
