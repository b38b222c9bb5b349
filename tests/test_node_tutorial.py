"""Sohar's own tutorial webhook handler (Node, express + axios) served by the mock end to end.

The handler takes the webhook, fetches a token and calls Get Verification; it has no error
handling, so any answer it does not expect crashes it. Skipped where node/npm are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, request_for

from mock_server.testing import SANDBOX_CREDENTIALS, RunningMock, free_port

HANDLER = ROOT / "examples" / "node_tutorial" / "webhook_handler.js"


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run Sohar's Node tutorial")
    folder = tmp_path_factory.mktemp("node-tutorial")
    shutil.copy(HANDLER, folder / HANDLER.name)
    installed = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "express@4", "axios@1"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if installed.returncode != 0:
        pytest.skip(f"npm could not install express and axios: {installed.stderr.strip()[-300:]}")
    return folder


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the tutorial handler exited: {process.communicate()[0]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the tutorial handler did not start listening")


@pytest.fixture(scope="module")
def tutorial(node_modules: Path) -> Iterator[tuple[RunningMock, subprocess.Popen[str]]]:
    port = free_port()
    with RunningMock(webhook_urls=(f"http://127.0.0.1:{port}/webhooks",)) as mock:
        env = {
            **os.environ,
            "SOHAR_BASE_URL": mock.base_url,
            "SOHAR_CLIENT_ID": SANDBOX_CREDENTIALS["client_id"],
            "SOHAR_CLIENT_SECRET": SANDBOX_CREDENTIALS["client_secret"],
            "PORT": str(port),
        }
        process = subprocess.Popen(
            ["node", HANDLER.name],
            cwd=node_modules,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_port(port, process)
            yield mock, process
        finally:
            process.terminate()
            process.communicate(timeout=10)


@pytest.mark.parametrize("member_id", ["00000000", "10000001", "30000000"])
def test_tutorial_handler_gets_each_verification(
    tutorial: tuple[RunningMock, subprocess.Popen[str]], member_id: str
) -> None:
    mock, process = tutorial
    mock.reset()
    created = mock.http.post("/v2/verifications", json=request_for(member_id), headers=mock.headers())
    verification_id = created.json()["verificationId"]
    mock.advance(5)  # the pending trigger recovers after 5 s of mock-clock time
    deadline = time.monotonic() + 20
    while True:
        messages = mock.http.get("/__admin/webhooks/deliveries", params={"verificationId": verification_id}).json()
        states = [m["state"] for m in messages["deliveries"]]
        if states and all(state != "pending" and state != "sending" for state in states):
            break
        assert time.monotonic() < deadline, messages
        time.sleep(0.05)
    assert states == ["delivered"] * len(states) and len(states) == (2 if member_id == "30000000" else 1)
    assert process.poll() is None, "the handler crashed"
    calls = mock.http.get("/__admin/requests").json()["requests"]
    reads = [c for c in calls if c["path"] == f"/v2/verifications/{verification_id}"]
    assert reads and all(c["statusCode"] == 200 for c in reads)
    assert len(reads) == len(states)  # the handler read the verification once per webhook
