"""One linear path per API request: authenticate -> validate -> operate -> respond.

Each step returns early in Sohar's error shape; every request lands in the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..contract import SchemaViolation
from ..core import MockCore
from ..domain.auth import Principal
from ..errors import InvalidRequest, MalformedBody, PayloadTooLarge, SoharError, Unauthorized
from ..journal import Violation, violation
from .responses import SoharJSONResponse, error_response, read_json

log = logging.getLogger("sohar_mock.api")


@dataclass(slots=True)
class Call:
    """What an operation handler gets: the parsed request and who made it."""

    request: Request
    principal: Principal | None
    body: Any


@dataclass(slots=True)
class Result:
    status_code: int
    body: Any
    # For the journal: the verification or discovery status an answer carried.
    verification_status: str | None = None
    discovery_status: str | None = None
    network_status: str | None = None


class Stage(Enum):
    """The step of the pipeline a request reached; a failure's stage names the rule it broke."""

    AUTH = "auth"
    BODY = "body"
    SCHEMA = "schema"
    OPERATION = "operation"


def violation_for(stage: Stage, error: Exception, operation_id: str, had_authorization: bool) -> Violation | None:
    """The contract rule a failed request broke, given the pipeline stage that stopped it; None for data errors."""
    if isinstance(error, Unauthorized):
        if stage is Stage.AUTH:
            if not had_authorization:
                return violation("auth", "security", "Authorization", "no Authorization header (a bearer token)")
            return violation(
                "auth", "security", "Authorization", "the bearer token was not accepted (malformed, forged or expired)"
            )
        if operation_id == "getToken":
            return violation("auth", "credentials", None, "client_id/client_secret not accepted")
        return violation("auth", "environment", None, "these credentials may not use this operation")
    return body_violation(stage, error)


def body_violation(stage: Stage, error: Exception) -> Violation | None:
    """The rule a request's body broke, in any contract's pipeline: its size, its JSON, its schema."""
    if isinstance(error, SchemaViolation):
        return violation("schema", error.rule, error.param, f"{error.param}: {error.detail}")
    if isinstance(error, PayloadTooLarge):
        return violation("size", "maxBodyBytes", "body", error.detail or "the body is larger than the mock accepts")
    if isinstance(error, MalformedBody):
        return violation("body", error.rule, error.param, error.detail or "the body is not usable JSON")
    if isinstance(error, InvalidRequest) and stage is Stage.BODY:
        return violation("body", "json", error.param, error.detail or "the body is not valid JSON")
    return None


Handler = Callable[[MockCore, Call], Awaitable[Result]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Operation:
    """A Sohar operation bound to its handler; `endpoint` is what a Route calls."""

    def __init__(self, core: MockCore, operation_id: str, handler: Handler, *, auth: bool, body: bool) -> None:
        self.core = core
        self.operation_id = operation_id
        self.handler = handler
        self.auth = auth
        self.body = body

    async def endpoint(self, request: Request) -> Response:
        core = self.core
        settings = core.settings
        principal: Principal | None = None
        result: Result | None = None
        error: SoharError | None = None
        # Which step stopped a failed request tells the journal which contract rule it broke.
        stage = Stage.AUTH
        try:
            if self.auth:
                principal = core.tokens.authenticate(request.headers.get("authorization"))
            payload = None
            stage = Stage.BODY
            if self.body:
                payload = await read_json(request, settings.max_body_bytes)
                stage = Stage.SCHEMA
                if settings.validate_requests:
                    core.contract.check_request(self.operation_id, payload)
            stage = Stage.OPERATION
            # Work that came due on the mock clock lands before we read state.
            core.scheduler.run_due()
            result = await self.handler(core, Call(request, principal, payload))
        except SoharError as exc:
            error = exc
        status_code = result.status_code if result else error.status_code  # type: ignore[union-attr]
        core.journal.record(
            at=core.clock.now(),
            method=request.method,
            # The scope's own path: `request.url` would parse a whole URL to read it back.
            path=request.scope["path"],
            operation_id=self.operation_id,
            status_code=status_code,
            environment=principal.environment if principal else None,
            error_param=error.param if error else None,
            verification_status=result.verification_status if result else None,
            discovery_status=result.discovery_status if result else None,
            network_status=result.network_status if result else None,
            client_id=principal.client_id if principal else None,
            violation=(
                violation_for(stage, error, self.operation_id, bool(request.headers.get("authorization")))
                if error
                else None
            ),
        )
        if error is not None:
            return error_response(error)
        assert result is not None
        if settings.validate_responses:
            problems = core.contract.response_errors(self.operation_id, result.status_code, result.body)
            if problems:
                log.error("response of %s breaks the contract: %s", self.operation_id, "; ".join(problems))
                core.contract_violations.extend(problems)
        return SoharJSONResponse(result.body, status_code=result.status_code)


def by_method(path: str, endpoints: dict[str, Endpoint]) -> Route:
    """One route per path, so a 405's `Allow` lists every method the path serves."""

    async def endpoint(request: Request) -> Response:
        return await endpoints["GET" if request.method == "HEAD" else request.method](request)

    return Route(path, endpoint, methods=list(endpoints))
