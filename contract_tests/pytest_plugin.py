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
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from .harness import SoharMock


def pytest_addoption(parser: pytest.Parser) -> None:
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


@pytest.fixture(scope="session")
def sohar_mock_session(pytestconfig: pytest.Config) -> Iterator[SoharMock]:
    """The session's running mock, not reset between tests: prefer `sohar_mock`."""
    # Imported on first use: the plugin loads in every pytest run of the environment.
    from mock_server.resources import default_scenarios_dir

    from .harness import SoharMock

    scenarios = tuple(Path(p) for p in pytestconfig.getini("sohar_mock_scenarios") or ())
    if scenarios and pytestconfig.getini("sohar_mock_default_scenarios"):
        scenarios = (default_scenarios_dir(), *scenarios)
    mock = SoharMock(
        scenarios=scenarios,
        latency=_number(pytestconfig, "sohar_mock_latency", float),
        seed=_number(pytestconfig, "sohar_mock_seed", int),
        freeze_clock=bool(pytestconfig.getini("sohar_mock_freeze_clock")),
    )
    with mock:
        yield mock


@pytest.fixture
def sohar_mock(sohar_mock_session: SoharMock) -> SoharMock:
    """A running Sohar mock, reset to its start-up state (and an empty webhook inbox) for this test."""
    sohar_mock_session.reset()
    return sohar_mock_session
