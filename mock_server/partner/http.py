"""The partner's two operations over HTTP: authenticate -> read -> validate -> answer, journaled.

The error body is this contract's own (`{"error", "param", "message"}`, inferred: 98point6
documents none), rendered by the mock's one error renderer with this contract's codes.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..api.pipeline import Stage, body_violation
from ..api.responses import SoharJSONResponse, error_body, read_json
from ..core import MockCore
from ..errors import InvalidRequest, SoharError
from ..journal import Violation, violation
from .eligibility import Answer, Query, member_id_of

log = logging.getLogger("sohar_mock.partner")

SEARCH = "searchEligibility"
CHECK = "checkEligibility"
API_KEY_HEADER = "X-API-Key"
CONTRACT_NAME = "partner-eligibility"


class PartnerUnauthorized(SoharError):
    """401: the mock requires an API key (`--partner-api-key`) and the call did not carry it."""

    status_code = 401


# This contract's error codes by status; every partner error carries a `message` (the contract
# requires one), as every error the partner pipeline raises has a detail.
ERROR_CODES = {400: "invalid_request", 401: "unauthorized", 413: "payload_too_large"}


def _violation(error: SoharError, stage: Stage) -> Violation | None:
    """The contract rule a failed call broke; None for an answer that only depends on data."""
    if isinstance(error, PartnerUnauthorized):
        return violation("auth", "security", API_KEY_HEADER, error.detail or "no API key")
    broken = body_violation(stage, error)
    if broken is None and isinstance(error, InvalidRequest):
        # With request checks off, the operation's own type checks stand in for the schema's.
        return violation("schema", "type", error.param, error.detail or str(error))
    return broken


def _authenticate(core: MockCore, request: Request) -> None:
    expected = core.settings.partner_api_key
    if expected is None:
        return
    given = request.headers.get(API_KEY_HEADER)
    if given is None:
        raise PartnerUnauthorized(detail=f"this partner requires an API key in the {API_KEY_HEADER} header")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise PartnerUnauthorized(detail=f"the {API_KEY_HEADER} header does not hold this partner's API key")


Handler = Callable[[MockCore, Any], Answer]


def _search(core: MockCore, body: Any) -> Answer:
    return core.partner.search(Query.from_body(body))


def _check(core: MockCore, body: Any) -> Answer:
    return core.partner.check(member_id_of(body))


def _endpoint(core: MockCore, operation_id: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        settings = core.settings
        error: SoharError | None = None
        # Which step stopped a failed call tells the journal which contract rule it broke.
        stage = Stage.AUTH
        try:
            _authenticate(core, request)
            stage = Stage.BODY
            body = await read_json(request, settings.max_body_bytes)
            stage = Stage.SCHEMA
            if settings.validate_requests:
                core.partner_contract.check_request(operation_id, body)
            stage = Stage.OPERATION
            status_code, payload = 200, handler(core, body).to_api()
        except SoharError as exc:
            error = exc
            status_code, payload = exc.status_code, error_body(exc, message=True, codes=ERROR_CODES)
        core.journal.record(
            at=core.clock.now(),
            method=request.method,
            path=request.scope["path"],
            operation_id=operation_id,
            status_code=status_code,
            environment=None,
            error_param=error.param if error is not None else None,
            violation=_violation(error, stage) if error is not None else None,
        )
        if settings.validate_responses:
            problems = core.partner_contract.response_errors(operation_id, status_code, payload)
            if problems:
                log.error("response of %s breaks the %s contract: %s", operation_id, CONTRACT_NAME, "; ".join(problems))
                core.contract_violations.extend(f"{CONTRACT_NAME} {operation_id}: {p}" for p in problems)
        return SoharJSONResponse(payload, status_code=status_code)

    return endpoint


def routes(core: MockCore) -> list[BaseRoute]:
    async def spec_yaml(request: Request) -> Response:
        return Response(core.partner_contract.text, media_type="application/yaml")

    async def spec_json(request: Request) -> Response:
        return Response(core.partner_contract.json_text, media_type="application/json")

    return [
        Route("/v1/eligibility/search", _endpoint(core, SEARCH, _search), methods=["POST"]),
        Route("/v1/eligibility/check", _endpoint(core, CHECK, _check), methods=["POST"]),
        Route(f"/{CONTRACT_NAME}/openapi.yaml", spec_yaml, methods=["GET"]),
        Route(f"/{CONTRACT_NAME}/openapi.json", spec_json, methods=["GET"]),
    ]
