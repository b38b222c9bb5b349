"""Every answer carries the same headers, made with Starlette's public API only, on a pinned major."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import httpx
from conftest import request_for
from packaging.requirements import Requirement
from packaging.version import Version

from mock_server import __version__
from mock_server.api.responses import SoharJSONResponse
from mock_server.testing import SANDBOX_CREDENTIALS, RunningMock

ROOT = Path(__file__).resolve().parent.parent


def _assert_headers(response: httpx.Response) -> None:
    assert response.headers["content-type"] == "application/json", response.headers
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["x-sohar-mock-version"] == __version__


def test_every_json_answer_carries_the_same_headers(mock: RunningMock) -> None:
    headers = mock.headers()
    created = mock.http.post("/v2/verifications", json=request_for(), headers=headers)
    assert created.status_code == 201
    answers = [
        mock.http.post("/oauth/token", json=SANDBOX_CREDENTIALS),
        created,
        mock.http.get(f"/v2/verifications/{created.json()['verificationId']}", headers=headers),
        mock.http.get("/v1/payers", headers=headers),
        mock.http.get("/__admin/health"),
        mock.http.get("/nowhere"),
        mock.http.get("/v2/verifications", headers=headers),  # 405
    ]
    for response in answers:
        _assert_headers(response)
    assert answers[-1].status_code == 405 and answers[-1].headers["allow"] == "POST"
    assert "allow" not in answers[0].headers


def test_a_header_given_is_kept_beside_the_version() -> None:
    response = SoharJSONResponse({"ok": True}, status_code=202, headers={"Retry-After": "1"})
    assert sorted(response.raw_headers) == sorted(
        [
            (b"retry-after", b"1"),
            (b"x-sohar-mock-version", __version__.encode()),
            (b"content-length", b"11"),
            (b"content-type", b"application/json"),
        ]
    )


def test_the_json_response_overrides_only_starlettes_public_api() -> None:
    # `init_headers` and the like are Starlette's internals: a minor release may change them.
    overridden = {name for name, value in vars(SoharJSONResponse).items() if callable(value)}
    assert overridden <= {"__init__", "render"}


def test_starlette_is_pinned_to_the_installed_major_version() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [starlette] = [Requirement(d) for d in dependencies if Requirement(d).name == "starlette"]
    installed = Version(version("starlette"))
    assert installed in starlette.specifier
    assert Version(f"{installed.major + 1}.0") not in starlette.specifier
    assert Version(f"{installed.major}.0") in starlette.specifier
