"""Settings check themselves: Python callers (`Settings`, `RunningMock`) get the CLI's checks and messages."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mock_server.errors import SoharError
from mock_server.listening import CannotListen
from mock_server.settings import DEFAULT_WEBHOOK_SECRET, ConfigError, Flags, Settings, resolve
from mock_server.testing import RunningMock

# (CLI flags, the same value as a Settings keyword argument)
SAME_MISTAKE: list[tuple[list[str], dict[str, Any]]] = [
    (["--port", "70000"], {"port": 70000}),
    (["--port", "-1"], {"port": -1}),
    (["--latency", "-0.5"], {"latency": -0.5}),
    (["--latency", "nan"], {"latency": float("nan")}),
    (["--latency", "1e12"], {"latency": 1e12}),
    (["--max-verifications", "0"], {"max_verifications": 0}),
    (["--webhook-url", "x"], {"webhook_urls": ("x",)}),
    (["--webhook-secret", "notasecret"], {"webhook_secret": "notasecret"}),
]


@pytest.mark.parametrize(("flags", "kwargs"), SAME_MISTAKE, ids=[" ".join(f) for f, _ in SAME_MISTAKE])
def test_settings_and_the_cli_say_the_same(flags: list[str], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(**kwargs)
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", *flags],
        env={**os.environ, "SOHAR_MOCK_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == f"sohar-mock: {raised.value}\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": "8080"}, "port must be an integer from 0 to 65535, got '8080'"),
        ({"port": True}, "port must be an integer from 0 to 65535, got True"),
        ({"host": ""}, "host must be a non-empty string, got ''"),
        ({"latency": "1"}, "latency must be a number of seconds, got '1'"),
        ({"latency": float("inf")}, "latency must be finite and at most 31622400 seconds (366 days), got inf"),
        ({"seed": 1.5}, "seed must be an integer, got 1.5"),
        ({"token_ttl": 0}, "tokenTtl must be an integer from 1 to 31622400 seconds (366 days), got 0"),
        ({"token_ttl": 3600.0}, "tokenTtl must be an integer from 1 to 31622400 seconds (366 days), got 3600.0"),
        ({"max_verifications": -1}, "max verifications must be a positive integer, got -1"),
        ({"max_verifications": True}, "max verifications must be a positive integer, got True"),
        ({"webhook_urls": "http://127.0.0.1:3000/hooks"}, "webhook URLs must be a list of URLs, got a string"),
        ({"webhook_secret": "whsec_" + base64.b64encode(b"x" * 23).decode()}, "whsec_ followed by base64"),
        ({"webhook_secret": "whsec_" + base64.b64encode(b"x" * 76).decode()}, "whsec_ followed by base64"),
        ({"webhook_secret": base64.b64encode(b"x" * 24).decode()}, "whsec_ followed by base64"),
    ],
)
def test_settings_refuse_what_would_break_later(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(**kwargs)
    assert message in str(raised.value)
    with pytest.raises(ConfigError):
        replace(Settings(), **kwargs)  # a changed copy is checked as well


@pytest.mark.parametrize(
    "secret",
    [
        DEFAULT_WEBHOOK_SECRET,
        "whsec_dGhpcy1pcy1hLXRlc3Qtc2VjcmV0LW9ubHkh",  # the tests' own
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # Svix's documented example
        "whsec_" + base64.b64encode(b"k" * 24).decode(),  # Svix's recommended size
        "whsec_" + base64.b64encode(b"k" * 75).decode(),  # the largest key Svix accepts
    ],
)
def test_svix_shaped_secrets_are_accepted(secret: str) -> None:
    assert Settings(webhook_secret=secret).webhook_secret == secret


def test_edges_of_every_bound_are_accepted() -> None:
    Settings(port=0, latency=0, token_ttl=1, max_verifications=1, seed=-5)
    Settings(port=65535, latency=366 * 86_400, token_ttl=366 * 86_400, max_verifications=None)


def test_running_mock_refuses_a_bad_webhook_url_as_a_config_error() -> None:
    with pytest.raises(ConfigError, match="webhook URL 'x' is not an absolute http"):
        RunningMock(webhook_urls=("x",))


@pytest.mark.parametrize("kwargs", [{"webhook_urls": ("x",)}, {"port": -1}, {"port": 70000}])
def test_running_mock_refuses_bad_settings_as_a_value_error_not_an_http_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as raised:
        RunningMock(**kwargs)
    assert isinstance(raised.value, ConfigError) and not isinstance(raised.value, SoharError)
    assert "\n" not in str(raised.value)


def test_running_mock_on_a_taken_port_fails_when_made_not_in_its_thread() -> None:
    with closing(socket.create_server(("127.0.0.1", 0))) as taken:
        port = taken.getsockname()[1]
        threads = set(threading.enumerate())
        with pytest.raises(CannotListen, match=f"cannot listen on 127.0.0.1:{port}: address already in use"):
            RunningMock(port=port)  # never started: the constructor itself refuses
        assert set(threading.enumerate()) <= threads


def test_running_mock_on_a_taken_port_says_so(capfd: pytest.CaptureFixture[str]) -> None:
    with closing(socket.create_server(("127.0.0.1", 0))) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}: address already in use"):
            RunningMock(Settings(port=port)).start()
    assert "Traceback" not in capfd.readouterr().err


def test_running_mock_picks_a_free_port_and_serves_on_it() -> None:
    with RunningMock() as mock:
        assert mock.settings.port != 0
        assert mock.base_url == f"http://127.0.0.1:{mock.settings.port}"
        assert mock.http.get("/__admin/health").status_code == 200


def test_running_mock_on_ipv6_loopback() -> None:
    try:
        with closing(socket.socket(socket.AF_INET6, socket.SOCK_STREAM)) as sock:
            sock.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with RunningMock(host="::1") as mock:
        assert mock.base_url.startswith("http://[::1]:")
        assert mock.http.get("/__admin/health").status_code == 200


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n" for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (LAUGHS, "aliases"),
        ("port: " + "[" * 200 + "]" * 200 + "\n", "nest deeper"),
        ("port: !!binary aGVsbG8=\n", "the tag !!binary is not allowed"),
        ("1: y\n", "line 1"),
    ],
)
def test_a_config_file_is_read_within_the_yaml_bounds(tmp_path: Any, content: str, message: str) -> None:
    from mock_server.settings import load_config_file

    config = tmp_path / "mock.yaml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=f"config file {config}") as raised:
        load_config_file(config)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def _resolved_port(tmp_path: Path, flag: int | None, variable: str | None, key: int | None) -> int:
    config = tmp_path / "mock.yaml"
    config.write_text("" if key is None else f"port: {key}\n")
    environ = {"SOHAR_MOCK_CONFIG": str(config), **({} if variable is None else {"SOHAR_MOCK_PORT": variable})}
    return resolve(Flags(port=flag), environ).port


def test_resolve_takes_the_flag_then_the_variable_then_the_file_then_the_default(tmp_path: Path) -> None:
    assert _resolved_port(tmp_path, 1, "2", 3) == 1
    assert _resolved_port(tmp_path, None, "2", 3) == 2
    assert _resolved_port(tmp_path, None, "", 3) == 3  # a blank variable counts as unset
    assert _resolved_port(tmp_path, None, None, None) == 8080


def test_resolve_reads_nothing_but_what_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHAR_MOCK_PORT", "not a port")
    assert resolve(Flags(), {}) == Settings()


ENV_MISTAKES = [
    {"SOHAR_MOCK_PORT": "abc"},
    {"SOHAR_MOCK_LATENCY": "soon"},
    {"SOHAR_MOCK_FREEZE_CLOCK": "yes"},
    {"SOHAR_MOCK_WEBHOOK_URL": "ftp://example.com/hook"},
    {"SOHAR_MOCK_CONFIG": "/nonexistent/mock.yaml"},
]


@pytest.mark.parametrize("environ", ENV_MISTAKES, ids=[next(iter(e)) for e in ENV_MISTAKES])
def test_resolve_and_the_cli_say_the_same(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve(Flags(), environ)
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve"],
        env={**os.environ, "SOHAR_MOCK_PORT": "0", **environ},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == f"sohar-mock: {raised.value}\n"
