"""One linear path per API request: authenticate -> validate -> operate -> respond.

Each step returns early in Sohar's error shape; every request lands in the journal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..domain.auth import Principal
from ..errors import SoharError
from ..journal import violation_for
from ..sandbox import Sandbox
from .http import SoharJSONResponse, error_response, read_json

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
    # For the journal: the verification status an answer carried.
    verification_status: str | None = None


Handler = Callable[[Sandbox, Call], Awaitable[Result]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Operation:
    """A Sohar operation bound to its handler; `endpoint` is what a Route calls."""

    def __init__(self, sandbox: Sandbox, operation_id: str, handler: Handler, *, auth: bool, body: bool) -> None:
        self.sandbox = sandbox
        self.operation_id = operation_id
        self.handler = handler
        self.auth = auth
        self.body = body

    async def endpoint(self, request: Request) -> Response:
        sandbox = self.sandbox
        settings = sandbox.settings
        principal: Principal | None = None
        result: Result | None = None
        error: SoharError | None = None
        # Which step stopped a failed request tells the journal which contract rule it broke.
        stage = "auth"
        try:
            if self.auth:
                principal = sandbox.tokens.authenticate(request.headers.get("authorization"))
            payload = None
            stage = "body"
            if self.body:
                payload = await read_json(request, settings.max_body_bytes)
                stage = "schema"
                if settings.validate_requests:
                    sandbox.contract.check_request(self.operation_id, payload)
            stage = "operation"
            # Work that came due on the mock clock lands before we read state.
            sandbox.scheduler.run_due()
            result = await self.handler(sandbox, Call(request, principal, payload))
        except SoharError as exc:
            error = exc
        status_code = result.status_code if result else error.status_code  # type: ignore[union-attr]
        sandbox.journal.record(
            at=sandbox.clock.now(),
            method=request.method,
            # The scope's own path: `request.url` would parse a whole URL to read it back.
            path=request.scope["path"],
            operation_id=self.operation_id,
            status_code=status_code,
            environment=principal.environment if principal else None,
            error_param=error.param if error else None,
            verification_status=result.verification_status if result else None,
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
            problems = sandbox.contract.response_errors(self.operation_id, result.status_code, result.body)
            if problems:
                log.error("response of %s breaks the contract: %s", self.operation_id, "; ".join(problems))
                sandbox.contract_violations.extend(problems)
        return SoharJSONResponse(result.body, status_code=result.status_code)
