"""`sohar-mock serve` as a real process: banner, flags, env vars, config file, seed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import request_for
from receiver import Reply, receiving
from svix.webhooks import Webhook

from mock_server.testing import SANDBOX_CREDENTIALS, free_port


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    full_env = {**os.environ, "SOHAR_MOCK_PORT": str(port), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited: {process.stdout.read() if process.stdout else ''}")
            try:
                if httpx.get(f"{base}/__admin/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not answer within 20 s")
            time.sleep(0.05)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_banner_lists_url_credentials_and_scenarios() -> None:
    with serve() as (base, process):
        pass
    output = process.stdout.read() if process.stdout else ""
    assert f"listening on {base}" in output
    assert "client_id=sandbox-client-id  client_secret=sandbox-client-secret" in output
    assert "client_id=production-client-id" in output
    assert "default.yaml" in output
    assert "whsec_" in output


def test_config_file_sets_credentials_and_latency(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(
        "latency: 30\ntokenTtl: 60\ncredentials:\n  - {clientId: team-a, clientSecret: s3cret, environment: sandbox}\n"
    )
    with serve("--config", str(config)) as (base, _):
        refused = httpx.post(f"{base}/oauth/token", json={"client_id": "sandbox-client-id", "client_secret": "x"})
        assert refused.status_code == 403
        token = httpx.post(f"{base}/oauth/token", json={"client_id": "team-a", "client_secret": "s3cret"}).json()
        assert token["expires_in"] == 60
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        created = httpx.post(f"{base}/v2/verifications", json=request_for(), headers=headers).json()
        url = f"{base}/v2/verifications/{created['verificationId']}"
        assert httpx.get(url, headers=headers).json()["status"] == "pending"
        httpx.post(f"{base}/__admin/clock/advance", json={"seconds": 30})
        assert httpx.get(url, headers=headers).json()["status"] == "complete.eligible"


def test_flags_beat_env_and_seed_makes_ids_repeatable() -> None:
    ids = []
    for _ in range(2):
        with serve("--seed", "7", env={"SOHAR_MOCK_SEED": "99", "SOHAR_MOCK_LATENCY": "0"}) as (base, _):
            token = httpx.post(
                f"{base}/oauth/token", json={"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
            ).json()["access_token"]
            created = httpx.post(
                f"{base}/v2/verifications", json=request_for(), headers={"Authorization": f"Bearer {token}"}
            )
            ids.append(created.json()["verificationId"])
    assert ids[0] == ids[1]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--config", "/nonexistent/mock.yaml"], {}, "config file /nonexistent/mock.yaml"),
        ([], {"SOHAR_MOCK_LATENCY": "soon"}, "SOHAR_MOCK_LATENCY must be a float"),
        (["--latency", "-1"], {}, "latency must not be negative"),
        (["--scenarios", "/nonexistent.yaml"], {}, "does not exist"),
        (["--webhook-url", "localhost:3000/webhooks"], {}, "is not an absolute http(s) URL"),
        ([], {"SOHAR_MOCK_WEBHOOK_URL": "ftp://example.com/hook"}, "is not an absolute http(s) URL"),
        (["--webhook-secret", "whsec_"], {}, "webhook secret must be whsec_ followed by base64"),
    ],
)
def test_bad_configuration_exits_2_with_a_message(args: list[str], env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", *args],
        env={**os.environ, "SOHAR_MOCK_PORT": str(free_port()), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_config_keys_are_named(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("prot: 9000\n")
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "unknown keys prot" in result.stderr


SECRET = "whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9ubHkh"


@pytest.mark.parametrize("via", ["flags", "env"])
def test_webhook_urls_and_secret_from_flags_or_env(via: str) -> None:
    with receiving() as first, receiving() as second:
        if via == "flags":
            args, env = ["--webhook-url", first.url, "--webhook-url", second.url, "--webhook-secret", SECRET], {}
        else:
            args, env = [], {"SOHAR_MOCK_WEBHOOK_URL": f"{first.url},{second.url}", "SOHAR_MOCK_WEBHOOK_SECRET": SECRET}
        with serve(*args, env=env) as (base, process):
            token = httpx.post(f"{base}/oauth/token", json=SANDBOX_CREDENTIALS).json()["access_token"]
            created = httpx.post(
                f"{base}/v2/verifications", json=request_for(), headers={"authorization": f"Bearer {token}"}
            )
            assert created.status_code == 201
            for receiver in (first, second):
                [delivery] = receiver.wait_for(1)
                assert delivery.payload["verificationId"] == created.json()["verificationId"]
                Webhook(SECRET).verify(delivery.body, delivery.headers)
    output = process.stdout.read() if process.stdout else ""
    assert first.url in output and second.url in output and SECRET in output


def test_sigterm_during_a_hanging_delivery_still_stops_the_server() -> None:
    with receiving([Reply(200, hang=30)]) as receiver:
        with serve("--webhook-url", receiver.url) as (base, process):
            token = httpx.post(f"{base}/oauth/token", json=SANDBOX_CREDENTIALS).json()["access_token"]
            httpx.post(f"{base}/v2/verifications", json=request_for(), headers={"authorization": f"Bearer {token}"})
            receiver.wait_for(1)  # the attempt is now waiting on a receiver that will not answer
            process.send_signal(signal.SIGTERM)
            # Well before the 15 s attempt timeout or the hang; uvicorn re-raises SIGTERM once it
            # has shut down gracefully, so the exit status is the signal's.
            assert process.wait(timeout=10) in (0, -signal.SIGTERM)
        assert "Traceback" not in (process.stdout.read() if process.stdout else "")
