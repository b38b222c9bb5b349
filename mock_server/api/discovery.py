"""Sohar's discovery operations: Create Discovery (v2 and v1) and Get Discovery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import Route

from ..core import MockCore
from ..domain.discovery_lifecycle import public_status
from ..domain.discovery_records import DiscoveryRequest
from ..domain.discovery_render import discovery_body
from ..errors import InvalidRequest
from .pipeline import Call, Endpoint, Handler, Operation, Result


def _request(call: Call, parse: Callable[[dict[str, Any]], DiscoveryRequest]) -> DiscoveryRequest:
    # Only reached with validation switched off: structure must still hold, or it's a 400.
    if not isinstance(call.body, dict):
        raise InvalidRequest("body")
    try:
        return parse(call.body)
    except (KeyError, TypeError, AttributeError):
        raise InvalidRequest("body") from None


async def create_discovery(core: MockCore, call: Call) -> Result:
    return _created(core, call, _request(call, DiscoveryRequest.from_body))


async def create_discovery_v1(core: MockCore, call: Call) -> Result:
    return _created(core, call, _request(call, DiscoveryRequest.from_v1_body))


def _created(core: MockCore, call: Call, request: DiscoveryRequest) -> Result:
    assert call.principal is not None
    discovery = core.discoveries.create_discovery(call.principal, request)
    return Result(201, {"discoveryId": discovery.discovery_id, "id": request.id})


async def get_discovery(core: MockCore, call: Call) -> Result:
    assert call.principal is not None
    discovery = core.discoveries.get_discovery(call.principal, call.request.path_params["discoveryId"])
    return Result(200, discovery_body(discovery), discovery_status=public_status(discovery.status))


def routes(core: MockCore) -> list[Route]:
    def op(operation_id: str, handler: Handler, *, body: bool = False) -> Endpoint:
        return Operation(core, operation_id, handler, auth=True, body=body).endpoint

    return [
        Route("/v2/discovery", op("createDiscovery", create_discovery, body=True), methods=["POST"]),
        Route("/v1/discovery", op("createDiscoveryV1", create_discovery_v1, body=True), methods=["POST"]),
        Route("/v2/discovery/{discoveryId}", op("getDiscovery", get_discovery), methods=["GET"]),
    ]
