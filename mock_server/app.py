"""build_app(settings) -> the Starlette application serving Sohar's API and the admin API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import admin
from .api import sohar, webhooks
from .api.http import SoharJSONResponse, error_response
from .errors import MethodNotAllowed, NotFound, SoharError
from .journal import record_unrouted
from .sandbox import Sandbox
from .settings import Settings
from .webhooks import DeliveryJournal
from .webhooks.messages import SENDING

log = logging.getLogger("sohar_mock.app")

# The event loop uvicorn runs the mock on, whatever else is installed: with uvloop (uvicorn's
# pick when present) a few requests in every few seconds stalled 200-450 ms at 64 connections,
# where asyncio's loop served as many requests per second with none over 25 ms (bench/).
EVENT_LOOP = "asyncio"


class YAMLResponse(Response):
    media_type = "application/yaml"


def _spec_routes(sandbox: Sandbox) -> list[BaseRoute]:
    async def sohar_yaml(request: Request) -> Response:
        return YAMLResponse(sandbox.contract.text)

    async def sohar_json(request: Request) -> Response:
        return Response(sandbox.contract.json_text, media_type="application/json")

    async def admin_yaml(request: Request) -> Response:
        return YAMLResponse(sandbox.admin_contract.text)

    async def admin_json(request: Request) -> Response:
        return Response(sandbox.admin_contract.json_text, media_type="application/json")

    return [
        Route("/openapi.yaml", sohar_yaml, methods=["GET"]),
        Route("/openapi.json", sohar_json, methods=["GET"]),
        Route("/__admin/openapi.yaml", admin_yaml, methods=["GET"]),
        Route("/__admin/openapi.json", admin_json, methods=["GET"]),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    record_unrouted(request.app.state.sandbox, request.method, request.url.path, exc.status_code)
    if exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        return error_response(MethodNotAllowed(detail=allow))
    if exc.status_code == 404:
        return error_response(NotFound())
    return SoharJSONResponse({"error": "invalid_request_error"}, status_code=exc.status_code)


async def _sohar_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SoharError)
    return error_response(exc)


async def _crash(request: Request, exc: Exception) -> Response:
    # A bug in the mock: log it for us, answer as Sohar documents 500 (no stack trace out).
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return SoharJSONResponse({"error": "api_error"}, status_code=500)


def unfinished_deliveries(journal: DeliveryJournal) -> tuple[int, int]:
    """(messages not delivered, failed or aborted yet, attempts among them awaiting an answer)."""
    undelivered = in_flight = 0
    for message in journal:
        if not message.finished:
            undelivered += 1
            in_flight += message.state == SENDING
    return undelivered, in_flight


def _undelivered_phrase(undelivered: int, in_flight: int) -> str:
    phrase = f"{undelivered} webhook message{'' if undelivered == 1 else 's'} undelivered"
    if in_flight:
        phrase += f" ({in_flight} attempt{'' if in_flight == 1 else 's'} cancelled in flight)"
    return phrase


def build_app(settings: Settings | None = None, sandbox: Sandbox | None = None) -> Starlette:
    sandbox = sandbox or Sandbox(settings or Settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runner = asyncio.create_task(sandbox.scheduler.run_forever(), name="sohar-mock-clock")
        for hook in sandbox.startup_hooks:
            await hook()
        try:
            yield
        finally:
            undelivered, in_flight = unfinished_deliveries(sandbox.webhooks.journal)
            runner.cancel()
            await sandbox.scheduler.cancel_started()
            for hook in sandbox.shutdown_hooks:
                await hook()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            if undelivered:
                # State lives in memory only: say what a stop throws away instead of dropping it silently.
                log.warning("stopped with %s", _undelivered_phrase(undelivered, in_flight))

    app = Starlette(
        routes=[*_spec_routes(sandbox), *sohar.routes(sandbox), *webhooks.routes(sandbox), *admin.routes(sandbox)],
        exception_handlers={HTTPException: _http_error, SoharError: _sohar_error, Exception: _crash},
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    return app
