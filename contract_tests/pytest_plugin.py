"""pytest plugin (registered by the package): the `sohar_mock` fixture.

    def test_intake(sohar_mock):
        client = MyClient(base_url=sohar_mock.base_url, **sohar_mock.sandbox_credentials)
        vid = client.verify(member_id="00000000")
        assert sohar_mock.wait_for_webhook(vid).status == "complete.eligible"

One mock per test session (started on first use, on a free loopback port), reset before
every test. Configure it in pytest's ini file: `sohar_mock_scenarios` (files or folders,
loaded after the packaged defaults; `sohar_mock_default_scenarios = false` drops those),
`sohar_mock_latency` (seconds), `sohar_mock_seed`, `sohar_mock_freeze_clock` (mock time moves
only by `advance`).

Against a mock that is already running (a container in compose-based CI): `--sohar-mock-url URL`
(or `SOHAR_MOCK_URL`, or the ini option `sohar_mock_url`), with `--sohar-mock-receiver-host HOST`
(`SOHAR_MOCK_RECEIVER_HOST`, `sohar_mock_receiver_host`) naming this machine as the mock reaches
it when that is not loopback. The fixture's API is the same; each test still starts from a reset.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from .harness import SoharMock


URL_VARIABLE = "SOHAR_MOCK_URL"
RECEIVER_HOST_VARIABLE = "SOHAR_MOCK_RECEIVER_HOST"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sohar-mock", "the sohar_mock fixture")
    group.addoption(
        "--sohar-mock-url",
        metavar="URL",
        help=f"drive the mock already running at URL instead of starting one (env {URL_VARIABLE})",
    )
    group.addoption(
        "--sohar-mock-receiver-host",
        metavar="HOST",
        help=(
            "the name the running mock reaches this machine by, for webhooks (e.g. the tests' compose"
            f" service); default 127.0.0.1 (env {RECEIVER_HOST_VARIABLE})"
        ),
    )
    parser.addini("sohar_mock_url", "URL of an already running mock for the sohar_mock fixture", default="")
    parser.addini("sohar_mock_receiver_host", "the name the running mock reaches this machine by", default="")
    parser.addini("sohar_mock_scenarios", "scenario files or folders for the sohar_mock fixture", type="paths")
    parser.addini(
        "sohar_mock_default_scenarios",
        "load the packaged default scenarios before sohar_mock_scenarios",
        type="bool",
        default=True,
    )
    parser.addini("sohar_mock_latency", "seconds of mock-clock latency before a verification's result", default="")
    parser.addini("sohar_mock_seed", "seed for repeatable ids and tokens in the sohar_mock fixture", default="")
    parser.addini(
        "sohar_mock_freeze_clock",
        "mock time moves only when a test advances it, never with real time",
        type="bool",
        default=False,
    )


_Number = TypeVar("_Number", int, float)


def _number(config: pytest.Config, name: str, kind: type[_Number]) -> _Number | None:
    text = str(config.getini(name) or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise pytest.UsageError(f"{name} must be a {kind.__name__}, got {text!r}") from None


def _setting(config: pytest.Config, option: str, variable: str, ini: str) -> str | None:
    """The command-line option, else the environment variable, else the ini option."""
    value = config.getoption(option) or os.environ.get(variable) or str(config.getini(ini) or "").strip()
    return value or None


def running_mock_url(config: pytest.Config) -> str | None:
    url = _setting(config, "sohar_mock_url", URL_VARIABLE, "sohar_mock_url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ValueError(f"--sohar-mock-url ({URL_VARIABLE}, sohar_mock_url) must be an http(s):// URL, got {url!r}")
    return url


@pytest.fixture(scope="session")
def sohar_mock_session(pytestconfig: pytest.Config) -> Iterator[SoharMock]:
    """The session's running mock, not reset between tests: prefer `sohar_mock`."""
    # Imported on first use: the plugin loads in every pytest run of the environment.
    from mock_server.resources import default_scenarios_dir

    from .harness import MockNotReady, SoharMock

    try:
        url = running_mock_url(pytestconfig)
    except ValueError as exc:
        pytest.fail(f"sohar_mock: {exc}", pytrace=False)
    scenarios = tuple(Path(p) for p in pytestconfig.getini("sohar_mock_scenarios") or ())
    latency = _number(pytestconfig, "sohar_mock_latency", float)
    seed = _number(pytestconfig, "sohar_mock_seed", int)
    if url is None:
        if scenarios and pytestconfig.getini("sohar_mock_default_scenarios"):
            scenarios = (default_scenarios_dir(), *scenarios)
        mock = SoharMock(
            scenarios=scenarios,
            latency=latency,
            seed=seed,
            freeze_clock=bool(pytestconfig.getini("sohar_mock_freeze_clock")),
        )
    else:
        ignored = [name for name, value in (("sohar_mock_latency", latency), ("sohar_mock_seed", seed)) if value]
        if not pytestconfig.getini("sohar_mock_default_scenarios"):
            ignored.append("sohar_mock_default_scenarios")
        if ignored:
            warnings.warn(
                pytest.PytestConfigWarning(
                    f"{', '.join(ignored)}: the mock at {url} was started with its own settings;"
                    " give them to `sohar-mock serve` there"
                ),
                stacklevel=1,
            )
        mock = SoharMock(
            scenarios=scenarios,
            freeze_clock=bool(pytestconfig.getini("sohar_mock_freeze_clock")),
            url=url,
            receiver_host=_setting(
                pytestconfig, "sohar_mock_receiver_host", RECEIVER_HOST_VARIABLE, "sohar_mock_receiver_host"
            ),
        )
    try:
        mock.start()
    except MockNotReady as exc:
        pytest.fail(f"sohar_mock: {exc}", pytrace=False)
    try:
        yield mock
    finally:
        mock.stop()


@pytest.fixture
def sohar_mock(sohar_mock_session: SoharMock) -> SoharMock:
    """A running Sohar mock, reset to its start-up state (and an empty webhook inbox) for this test."""
    sohar_mock_session.reset()
    return sohar_mock_session
