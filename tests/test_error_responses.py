"""One renderer for every error answer: Sohar's envelope, the admin API's `message`, the 405's
`Allow`, the 500's `api_error`, all with the same headers. Over a real server, plus a check of
the source that no other module builds an error body of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server import __version__
from mock_server.app import build_app
from mock_server.core import MockCore
from mock_server.settings import Settings
from mock_server.testing import RunningApp, RunningMock

PACKAGE = Path(__file__).resolve().parent.parent / "mock_server"
RENDERER = PACKAGE / "api" / "responses.py"
ENVELOPE = PACKAGE / "errors.py"


def _assert_rendered(response: httpx.Response, status: int, body: dict[str, object]) -> None:
    assert response.status_code == status, response.text
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["x-sohar-mock-version"] == __version__


def test_every_source_of_errors_answers_through_the_one_renderer(mock: RunningMock) -> None:
    _assert_rendered(mock.http.get("/v1/payers"), 403, {"error": "invalid_request_error"})  # the pipeline
    _assert_rendered(mock.http.get("/nowhere"), 404, {"error": "invalid_request_error"})  # routing
    refused = mock.http.delete("/oauth/token")  # routing: a method the path does not have
    _assert_rendered(refused, 405, {"error": "invalid_request_error"})
    assert refused.headers["allow"] == "POST"
    admin = mock.http.post("/__admin/clock/advance", json={"seconds": -1})  # the admin API
    assert admin.status_code == 400
    assert admin.json()["error"] == "invalid_request_error" and admin.json()["message"]
    _assert_rendered(admin, 400, admin.json())


def _boom(request: Request) -> Response:
    raise RuntimeError("a bug in the mock")


def test_a_crash_is_a_500_api_error_with_no_detail(caplog: pytest.LogCaptureFixture) -> None:
    app = build_app(core=MockCore(Settings()))
    app.router.routes.append(Route("/__test/boom", _boom))  # the only way to reach the crash handler
    with RunningApp(app) as served:
        response = httpx.get(f"{served.url}/__test/boom", timeout=10)
    _assert_rendered(response, 500, {"error": "api_error"})
    assert "a bug in the mock" not in response.text
    assert any("unhandled error on GET /__test/boom" in r.getMessage() for r in caplog.records)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_error_classes_spell_the_envelope() -> None:
    """`{"error": ...}` is written in errors.py alone; every answer takes it from SoharError.body()."""
    spelled = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in _modules()
        if path != ENVELOPE
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Dict)
        and any(isinstance(k, ast.Constant) and k.value == "error" for k in node.keys)
        and not path.is_relative_to(PACKAGE / "webhooks")  # a delivery attempt's `error`, not an answer
    ]
    assert spelled == []


def test_only_the_renderer_turns_an_error_into_a_response() -> None:
    """`.body()` of a SoharError is read in api/responses.py alone, where `message` and `Allow` are added."""
    readers = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in _modules()
        if path != RENDERER
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "body"
    ]
    assert readers == []
