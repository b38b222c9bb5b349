"""Sohar's public operations."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ..core import MockCore
from ..domain.lifecycle import public_status
from ..domain.records import VerificationRequest
from ..domain.render import verification_body
from ..errors import InvalidRequest, NotFound
from .pipeline import Call, Endpoint, Handler, Operation, Result


def _require_object(body: object) -> dict[str, Any]:
    # Only reached with validation switched off: structure must still hold, or it's a 400.
    if not isinstance(body, dict):
        raise InvalidRequest("body")
    return body


async def get_token(core: MockCore, call: Call) -> Result:
    body = _require_object(call.body)
    for field in ("client_id", "client_secret"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise InvalidRequest(field)
    token = core.tokens.get_token(body["client_id"], body["client_secret"])
    return Result(200, {"access_token": token.access_token, "token_type": "Bearer", "expires_in": token.expires_in})


async def get_payers(core: MockCore, call: Call) -> Result:
    return Result(200, [payer.to_api() for payer in core.scenarios.current.payers.values()])


async def get_payer(core: MockCore, call: Call) -> Result:
    payer = core.scenarios.current.find_payer(call.request.path_params["payerId"])
    if payer is None:
        raise NotFound()
    return Result(200, payer.to_api())


async def create_verification(core: MockCore, call: Call) -> Result:
    try:
        request = VerificationRequest.from_body(_require_object(call.body))
    except (KeyError, TypeError, AttributeError):
        raise InvalidRequest("body") from None
    assert call.principal is not None
    verification = core.verifications.create_verification(call.principal, request)
    return Result(201, {"verificationId": verification.verification_id, "id": request.id})


async def get_verification(core: MockCore, call: Call) -> Result:
    assert call.principal is not None
    verification = core.verifications.get_verification(call.principal, call.request.path_params["verificationId"])
    payer = core.scenarios.current.find_payer(verification.request.payer_id)
    body = verification_body(verification, payer.payer_name if payer else None)
    return Result(200, body, verification_status=public_status(verification.status))


def routes(core: MockCore) -> list[Route]:
    def op(operation_id: str, handler: Handler, *, auth: bool = True, body: bool = False) -> Endpoint:
        return Operation(core, operation_id, handler, auth=auth, body=body).endpoint

    return [
        Route("/oauth/token", op("getToken", get_token, auth=False, body=True), methods=["POST"]),
        Route("/v1/payers", op("getPayers", get_payers), methods=["GET"]),
        Route("/v1/payers/{payerId}", op("getPayer", get_payer), methods=["GET"]),
        Route("/v2/verifications", op("createVerification", create_verification, body=True), methods=["POST"]),
        Route("/v2/verifications/{verificationId}", op("getVerification", get_verification), methods=["GET"]),
    ]
