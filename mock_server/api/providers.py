"""Sohar's provider operations and Get Network Status, through the shared pipeline.

Create Provider is Sohar's documented `POST /v1/providers`; listing, reading and deleting
providers and the network-status path are the mock's inference (`x-sohar-inferred` in the
spec). Both environments manage their own providers.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ..core import MockCore
from ..domain.auth import Principal
from ..errors import InvalidRequest
from .pipeline import Call, Endpoint, Handler, Operation, Result, by_method


def _principal(call: Call) -> Principal:
    assert call.principal is not None  # every operation here declares security
    return call.principal


def _body(call: Call) -> dict[str, Any]:
    # Only reached with validation switched off: the domain checks every field itself.
    if not isinstance(call.body, dict):
        raise InvalidRequest("body")
    return call.body


async def create_provider(core: MockCore, call: Call) -> Result:
    body = _body(call)
    provider, _ = core.providers.create_provider(
        _principal(call).environment,
        body.get("npi"),
        body.get("payerId"),
        body.get("state"),
        body.get("type"),
        body.get("providerGroupId"),
    )
    # Sohar documents 200 "A provider config" (not 201), and the same config again is the same one.
    return Result(200, {"providerId": provider.provider_id})


async def list_providers(core: MockCore, call: Call) -> Result:
    return Result(200, [p.to_api() for p in core.providers.list_providers(_principal(call).environment)])


async def get_provider(core: MockCore, call: Call) -> Result:
    provider = core.providers.get_provider(call.request.path_params["providerId"], _principal(call).environment)
    return Result(200, provider.to_api())


async def delete_provider(core: MockCore, call: Call) -> Result:
    provider = core.providers.delete_provider(call.request.path_params["providerId"], _principal(call).environment)
    return Result(200, {"providerId": provider.provider_id, "deleted": True})


async def get_network_status(core: MockCore, call: Call) -> Result:
    status = core.network.get_network_status(_principal(call), call.request.path_params["verificationId"])
    return Result(200, status.to_api(), network_status=status.status)


def routes(core: MockCore) -> list[Route]:
    def op(operation_id: str, handler: Handler, *, body: bool = False) -> Endpoint:
        return Operation(core, operation_id, handler, auth=True, body=body).endpoint

    return [
        by_method(
            "/v1/providers",
            {"POST": op("createProvider", create_provider, body=True), "GET": op("listProviders", list_providers)},
        ),
        by_method(
            "/v1/providers/{providerId}",
            {"GET": op("getProvider", get_provider), "DELETE": op("deleteProvider", delete_provider)},
        ),
        Route(
            "/v2/verifications/{verificationId}/network-status",
            op("getNetworkStatus", get_network_status),
            methods=["GET"],
        ),
    ]
