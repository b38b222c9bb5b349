"""The mock's responses conform to its own contract, checked after every test.

A mock started with `validate_responses=True` validates each response it sends against the
contract of its operation (Sohar's, or the partner eligibility contract for search and check)
and keeps what broke it in `core.contract_violations`, a list that only grows (a reset
keeps it). Mocks started with `validating_mock` are watched: after each test the autouse
fixture `responses_conform` fails the test whose requests added violations, listing them,
whatever the order tests run in and whichever test ran first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from mock_server.settings import Settings
from mock_server.testing import RunningMock

# Each watched mock, with how many of its violations have been pinned on a test already.
_WATCHED: dict[RunningMock, int] = {}


def unreported(mock: RunningMock) -> list[str]:
    """Violations the mock recorded since they were last looked at; marks them seen."""
    seen = _WATCHED.get(mock, 0)
    violations = mock.core.contract_violations[seen:]
    _WATCHED[mock] = seen + len(violations)
    return list(violations)


def fail_if_broken(violations: list[str]) -> None:
    if violations:
        listed = "\n".join(f"  - {violation}" for violation in violations)
        pytest.fail(f"the mock's responses broke its own contract during this test:\n{listed}", pytrace=False)


@contextmanager
def validating_mock(settings: Settings | None = None, **overrides: Any) -> Iterator[RunningMock]:
    """A running mock that validates its responses and is watched by `responses_conform`."""
    with RunningMock(settings, validate_responses=True, **overrides) as mock:
        _WATCHED[mock] = 0
        try:
            yield mock
        finally:
            leftover = unreported(mock)
            del _WATCHED[mock]
        # A mock that stops with the test that started it is checked here, after that test.
        fail_if_broken(leftover)


def watched() -> list[RunningMock]:
    return list(_WATCHED)


@pytest.fixture(autouse=True)
def responses_conform() -> Iterator[None]:
    """Fails the test during which any watched mock sent a response that broke the contract."""
    yield
    fail_if_broken([violation for mock in list(_WATCHED) for violation in unreported(mock)])
