"""`sohar-mock serve` as a real process: banner, flags, env vars, config file, seed, stopping."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import receiving, request_for
from svix.webhooks import Webhook

from contract_tests.receiver import Reply
from mock_server.testing import SANDBOX_CREDENTIALS

BANNER = re.compile(r"listening on (http://\S+)")
# The environment without any SOHAR_MOCK_* setting of whoever runs the tests.
OWN_ENV = {name: value for name, value in os.environ.items() if not name.startswith("SOHAR_MOCK_")}


class Served:
    """`python -m mock_server serve` as a child process; its output is read as it comes."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._lines: list[str] = []
        self._reader = threading.Thread(target=self._read, name="serve-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line)

    def base_url(self, timeout: float = 20) -> str:
        """The URL the banner names, once the mock answers on it."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self._reader.join(timeout=10)
                raise AssertionError(f"serve exited with {self.process.returncode}: {self.output()}")
            found = BANNER.search("".join(self._lines))
            if found:
                try:
                    if httpx.get(f"{found[1]}/__admin/health", timeout=1).status_code == 200:
                        return found[1]
                except httpx.TransportError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer within {timeout} s: {self.output()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig`, wait for the exit and the last of the output; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=15)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def output(self) -> str:
        return "".join(self._lines)


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, Served]]:
    """The mock on a port the OS picks (`--port 0`), read back from the banner."""
    served = Served(args, {**OWN_ENV, "SOHAR_MOCK_PORT": "0", **(env or {})})
    try:
        yield served.base_url(), served
    finally:
        served.stop()


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", *args],
        env={**OWN_ENV, "SOHAR_MOCK_PORT": "0", **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_banner_lists_url_credentials_and_scenarios() -> None:
    with serve() as (base, served):
        pass
    output = served.output()
    assert f"listening on {base}" in output
    assert "client_id=sandbox-client-id  client_secret=sandbox-client-secret" in output
    assert "client_id=production-client-id" in output
    assert "default.yaml" in output
    assert "whsec_" in output


def test_port_0_banner_names_the_port_actually_bound() -> None:
    with serve("--port", "0") as (base, _):
        port = int(base.rsplit(":", 1)[1])
        assert port != 0
        assert httpx.get(f"http://127.0.0.1:{port}/__admin/health").status_code == 200


def ipv6_loopback() -> bool:
    try:
        with closing(socket.socket(socket.AF_INET6, socket.SOCK_STREAM)) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback_host() -> None:
    with serve("--host", "::1") as (base, _):
        assert base.startswith("http://[::1]:")
        assert httpx.get(f"{base}/openapi.json").status_code == 200


def test_a_taken_port_is_a_one_line_error_before_any_banner() -> None:
    with closing(socket.create_server(("127.0.0.1", 0))) as taken:
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == f"sohar-mock: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert "listening on" not in result.stdout


def test_an_address_that_is_not_this_machines_is_a_one_line_error() -> None:
    # 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine has it.
    result = run_cli("serve", "--host", "192.0.2.1", "--port", "0")
    assert result.returncode == 2
    assert result.stderr == "sohar-mock: cannot listen on 192.0.2.1:0: cannot assign requested address\n"


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


def test_relative_paths_in_a_config_file_resolve_from_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "scenarios" / "team.yaml").write_text("payers: []\n")
    (folder / "my-team.yaml").write_text("payers: []\n")
    (folder / "mock.yaml").write_text("scenarios: [scenarios/, my-team.yaml]\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli("check", "--config", "../config/mock.yaml", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "team.yaml" in result.stdout and "my-team.yaml" in result.stdout
    # Paths given on the command line still resolve from the current folder.
    (elsewhere / "mine.yaml").write_text("payers: []\n")
    result = run_cli("check", "--config", "../config/mock.yaml", "--scenarios", "mine.yaml", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "mine.yaml" in result.stdout


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
        ([], {"SOHAR_MOCK_LATENCY": "soon"}, "SOHAR_MOCK_LATENCY must be a number, got 'soon'"),
        ([], {"SOHAR_MOCK_PORT": "abc"}, "SOHAR_MOCK_PORT must be an integer, got 'abc'"),
        ([], {"SOHAR_MOCK_SEED": "1.5"}, "SOHAR_MOCK_SEED must be an integer, got '1.5'"),
        ([], {"SOHAR_MOCK_MAX_VERIFICATIONS": "many"}, "SOHAR_MOCK_MAX_VERIFICATIONS must be an integer, got 'many'"),
        ([], {"SOHAR_MOCK_LOG_LEVEL": "bogus"}, "SOHAR_MOCK_LOG_LEVEL must be one of debug, info, warning, error"),
        ([], {"SOHAR_MOCK_FREEZE_CLOCK": "yes"}, "SOHAR_MOCK_FREEZE_CLOCK must be 1 or 0, got 'yes'"),
        (["--port", "65536"], {}, "port must be an integer from 0 to 65535, got 65536"),
        (["--latency", "-1"], {}, "latency must not be negative"),
        (["--latency", "nan"], {}, "latency must be finite and at most 31622400 seconds (366 days), got nan"),
        (["--latency", "inf"], {}, "latency must be finite and at most 31622400 seconds (366 days), got inf"),
        (["--latency", "1e12"], {}, "latency must be finite and at most 31622400 seconds (366 days), got 1e+12"),
        (["--max-verifications", "0"], {}, "max verifications must be a positive integer, got 0"),
        (["--max-verifications", "-3"], {}, "max verifications must be a positive integer, got -3"),
        (["--scenarios", "/nonexistent.yaml"], {}, "does not exist"),
        (["--webhook-url", "localhost:3000/webhooks"], {}, "is not an absolute http(s) URL"),
        ([], {"SOHAR_MOCK_WEBHOOK_URL": "ftp://example.com/hook"}, "is not an absolute http(s) URL"),
        (["--webhook-secret", "whsec_"], {}, "webhook secret must be whsec_ followed by base64"),
        (["--webhook-secret", "notasecret"], {}, "webhook secret must be whsec_ followed by base64"),
        # base64 of 8 bytes: Svix keys are 24 to 75 bytes.
        (["--webhook-secret", "whsec_c2hvcnRrZXk="], {}, "webhook secret must be whsec_ followed by base64"),
        # not strict base64: a missing pad, the URL-safe alphabet, a stray character.
        (["--webhook-secret", "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE"], {}, "webhook secret must be whsec_"),
        (["--webhook-secret", "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3Jld-_="], {}, "webhook secret must be whsec_"),
        (["--webhook-secret", "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE=!"], {}, "webhook secret must be whsec_"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(args: list[str], env: dict[str, str], message: str) -> None:
    result = run_cli("serve", *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("sohar-mock: ") and result.stderr.count("\n") == 1, result.stderr
    assert "listening on" not in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "abc"], "sohar-mock serve: argument --port: must be an integer, got 'abc'"),
        (["serve", "--latency", "soon"], "sohar-mock serve: argument --latency: must be a number, got 'soon'"),
        (["serve", "--prot", "9000"], "sohar-mock: unrecognized arguments: --prot 9000"),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr


BAD_CONFIG_FILES = [
    ("port: abc\n", "port must be an integer from 0 to 65535, got 'abc'"),
    ("port: 80.5\n", "port must be an integer from 0 to 65535, got 80.5"),
    ("port: true\n", "port must be an integer from 0 to 65535, got True"),
    ("tokenTtl: abc\n", "tokenTtl must be an integer from 1 to 31622400 seconds (366 days), got 'abc'"),
    ("tokenTtl: 0\n", "tokenTtl must be an integer from 1 to 31622400 seconds (366 days), got 0"),
    ("tokenTtl: 31622401\n", "tokenTtl must be an integer from 1 to 31622400 seconds (366 days), got 31622401"),
    ("latency: soon\n", "latency must be a number of seconds, got 'soon'"),
    ("seed: abc\n", "seed must be an integer, got 'abc'"),
    ("maxVerifications: 0\n", "max verifications must be a positive integer, got 0"),
    ("host: 5\n", "host must be a non-empty string, got 5"),
    ("scenarios: 5\n", "scenarios must be a list of paths"),
    ("scenarios: [1]\n", "scenarios must be a list of paths"),
    ("validateResponses: 'no'\n", "validateResponses must be true or false, got 'no'"),
    ("freezeClock: 'yes'\n", "freezeClock must be true or false, got 'yes'"),
    ("webhooks: [1]\n", "webhooks must be a mapping with urls and secret"),
    ("webhooks: {url: 'http://127.0.0.1:3000/'}\n", "webhooks: unknown keys url (known: secret, urls)"),
    ("webhooks: {urls: 'http://127.0.0.1:3000/'}\n", "webhooks.urls must be a list of URLs"),
    ("webhooks: {secret: 5}\n", "webhooks.secret must be a string"),
    ("credentials: 5\n", "credentials must be a non-empty list"),
    (
        "credentials: [{clientId: null, clientSecret: s, environment: sandbox}]\n",
        "credentials[0].clientId must be a non-empty string",
    ),
    (
        "credentials: [{clientId: team, clientSecret: 42, environment: sandbox}]\n",
        "credentials[0].clientSecret must be a non-empty string",
    ),
    ("[1, 2]\n", "expected a mapping at the top level"),
    ("port: [\n", "not valid YAML"),
]


@pytest.mark.parametrize("command", ["serve", "check"])
@pytest.mark.parametrize(("text", "message"), BAD_CONFIG_FILES)
def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path: Path, command: str, text: str, message: str) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text(text)
    result = run_cli(command, "--config", str(config), env={"SOHAR_MOCK_PORT": ""})  # empty: unset
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("sohar-mock: ") and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "check"])
def test_an_unreadable_config_file_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    not_text = tmp_path / "binary.yaml"
    not_text.write_bytes(b"port: \xff\xfe\n")
    for path, message in [(not_text, "not UTF-8 text"), (tmp_path, "Is a directory")]:
        result = run_cli(command, "--config", str(path))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"sohar-mock: config file {path}: ") and message in result.stderr


def test_log_level_is_case_insensitive() -> None:
    with serve(env={"SOHAR_MOCK_LOG_LEVEL": "INFO"}) as (_, served):
        pass
    assert "Application startup complete" in served.output()


def test_unknown_config_keys_are_named(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("prot: 9000\n")
    result = run_cli("serve", "--config", str(config))
    assert result.returncode == 2 and "unknown keys prot" in result.stderr


SECRET = "whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9ubHkh"


@pytest.mark.parametrize("via", ["flags", "env"])
def test_webhook_urls_and_secret_from_flags_or_env(via: str) -> None:
    with receiving(secret=SECRET) as first, receiving(secret=SECRET) as second:
        if via == "flags":
            args, env = ["--webhook-url", first.url, "--webhook-url", second.url, "--webhook-secret", SECRET], {}
        else:
            args, env = [], {"SOHAR_MOCK_WEBHOOK_URL": f"{first.url},{second.url}", "SOHAR_MOCK_WEBHOOK_SECRET": SECRET}
        with serve(*args, env=env) as (base, served):
            token = httpx.post(f"{base}/oauth/token", json=SANDBOX_CREDENTIALS).json()["access_token"]
            created = httpx.post(
                f"{base}/v2/verifications", json=request_for(), headers={"authorization": f"Bearer {token}"}
            )
            assert created.status_code == 201
            for receiver in (first, second):
                [delivery] = receiver.wait_for_count(1)
                assert delivery.payload["verificationId"] == created.json()["verificationId"]
                Webhook(SECRET).verify(delivery.body, delivery.headers)
    output = served.output()
    assert first.url in output and second.url in output and SECRET in output


# -- stopping -----------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_server_with_exit_0(sig: signal.Signals) -> None:
    with serve() as (_, served):
        assert served.stop(sig) == 0
    output = served.output()
    assert "Traceback" not in output
    assert "undelivered" not in output  # nothing to say when no message was left


def create_verifications(base: str, count: int) -> None:
    token = httpx.post(f"{base}/oauth/token", json=SANDBOX_CREDENTIALS).json()["access_token"]
    for _ in range(count):
        created = httpx.post(
            f"{base}/v2/verifications", json=request_for(), headers={"authorization": f"Bearer {token}"}
        )
        assert created.status_code == 201


def unfinished_messages(base: str) -> list[dict[str, object]]:
    deliveries = httpx.get(f"{base}/__admin/webhooks/deliveries").json()["deliveries"]
    return [m for m in deliveries if m["state"] in ("pending", "sending")]


def test_sigterm_logs_how_many_webhook_messages_were_left_undelivered() -> None:
    # A receiver that is down: the port is held but nothing listens, so every attempt is refused.
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as down:
        down.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{down.getsockname()[1]}/webhooks"
        with serve("--webhook-url", url) as (base, served):
            create_verifications(base, 3)
            deadline = time.monotonic() + 20
            # Wait until every first attempt has failed and each message waits for its retry.
            while not (left := unfinished_messages(base)) or any(not m["attempts"] for m in left):
                assert time.monotonic() < deadline, left
                time.sleep(0.05)
            assert served.stop() == 0
    assert len(left) >= 3
    # A retry may be under way as the signal comes (mock time runs with real time): say so or not.
    assert re.search(
        rf"stopped with {len(left)} webhook messages undelivered( \(1 attempt cancelled in flight\))?\n",
        served.output(),
    )


def test_sigterm_during_a_hanging_delivery_still_stops_the_server() -> None:
    with receiving([Reply(200, hang=30)]) as receiver, serve("--webhook-url", receiver.url) as (base, served):
        create_verifications(base, 1)
        receiver.wait_for_count(1)  # the attempt is now waiting on a receiver that will not answer
        left = len(unfinished_messages(base))
        # Well before the 15 s attempt timeout or the hang.
        assert served.stop() == 0
    output = served.output()
    assert "Traceback" not in output
    noun = "message" if left == 1 else "messages"
    assert f"stopped with {left} webhook {noun} undelivered (1 attempt cancelled in flight)" in output


@pytest.mark.parametrize(("args", "env"), [(("--freeze-clock",), {}), ((), {"SOHAR_MOCK_FREEZE_CLOCK": "1"})])
def test_freeze_clock_from_the_flag_or_the_environment(args: tuple[str, ...], env: dict[str, str]) -> None:
    with serve(*args, env=env) as (base, _):
        clock = httpx.get(f"{base}/__admin/clock").json()
        assert clock["frozen"] is True
        moved = httpx.post(f"{base}/__admin/clock/advance", json={"seconds": 2.5}).json()
        assert moved["nowUnix"] == clock["nowUnix"] + 2.5
        assert httpx.get(f"{base}/__admin/clock").json()["nowUnix"] == moved["nowUnix"]
