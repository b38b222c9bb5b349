"""build_app(settings) -> the Starlette application serving Sohar's API and the admin API."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import admin, admin_providers, dashboard, discovery, providers, sohar, webhook_management
from .api.responses import error_response
from .core import MockCore
from .domain.state_file import StateLog
from .errors import InternalError, MethodNotAllowed, NotFound, SoharError, UnexpectedStatus
from .journal import violation
from .partner import admin as partner_admin
from .partner import http as partner_http
from .settings import Settings

log = logging.getLogger("sohar_mock.app")

# The event loop uvicorn runs the mock on, whatever else is installed: with uvloop (uvicorn's
# pick when present) a few requests in every few seconds stalled 200-450 ms at 64 connections,
# where asyncio's loop served as many requests per second with none over 25 ms (bench/).
EVENT_LOOP = "asyncio"


class YAMLResponse(Response):
    media_type = "application/yaml"


def _spec_routes(core: MockCore) -> list[BaseRoute]:
    async def sohar_yaml(request: Request) -> Response:
        return YAMLResponse(core.contract.text)

    async def sohar_json(request: Request) -> Response:
        return Response(core.contract.json_text, media_type="application/json")

    async def admin_yaml(request: Request) -> Response:
        return YAMLResponse(core.admin_contract.text)

    async def admin_json(request: Request) -> Response:
        return Response(core.admin_contract.json_text, media_type="application/json")

    return [
        Route("/openapi.yaml", sohar_yaml, methods=["GET"]),
        Route("/openapi.json", sohar_json, methods=["GET"]),
        Route("/__admin/openapi.yaml", admin_yaml, methods=["GET"]),
        Route("/__admin/openapi.json", admin_json, methods=["GET"]),
    ]


def record_unrouted(core: MockCore, method: str, path: str, status_code: int) -> None:
    """A request to a path or method outside Sohar's API: journaled, it broke the spec by definition."""
    if path.startswith("/__admin"):
        return  # the control plane is not the API under test
    if status_code == 405:
        found = violation("route", "method", None, f"{method} is not an operation of {path}")
    else:
        found = violation("route", "path", None, f"no Sohar operation at {path}")
    core.journal.record(
        at=core.clock.now(),
        method=method,
        path=path,
        operation_id=None,
        status_code=status_code,
        environment=None,
        error_param=None,
        violation=found,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    record_unrouted(request.app.state.core, request.method, request.url.path, exc.status_code)
    if exc.status_code == 405:
        return error_response(MethodNotAllowed(detail=(exc.headers or {}).get("Allow", "")))
    if exc.status_code == 404:
        return error_response(NotFound())
    return error_response(UnexpectedStatus(exc.status_code))


async def _sohar_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SoharError)
    return error_response(exc)


async def _crash(request: Request, exc: Exception) -> Response:
    # A bug in the mock: log it for us, answer as Sohar documents 500 (no stack trace out).
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(InternalError())


class DurableAnswers:
    """With a state file, a request's effects are written before its answer starts: a 201
    means the verification is on disk. The answers of one turn of the event loop share one
    transaction, whatever each changed."""

    def __init__(self, app: ASGIApp, state: StateLog) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_when_durable(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.state.committed()
            await send(message)

        await self.app(scope, receive, send_when_durable)


def build_app(settings: Settings | None = None, core: MockCore | None = None) -> Starlette:
    core = core or MockCore(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await core.start()
        try:
            yield
        finally:
            await core.stop()

    app = Starlette(
        routes=[
            *_spec_routes(core),
            *sohar.routes(core),
            *discovery.routes(core),
            *webhook_management.routes(core),
            *providers.routes(core),
            *admin.routes(core),
            *admin_providers.routes(core),
            *partner_http.routes(core),
            *partner_admin.routes(core),
            *dashboard.routes(core),
        ],
        exception_handlers={HTTPException: _http_error, SoharError: _sohar_error, Exception: _crash},
        middleware=[Middleware(DurableAnswers, state=core.state)] if core.state.durable else [],
        lifespan=lifespan,
    )
    app.state.core = core
    return app
