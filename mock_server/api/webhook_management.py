"""Sohar's webhook management: Create Webhook, Create Event, and their list/delete twins.

Sohar does not publish these paths (the spec marks them `x-sohar-inferred`). As Sohar
documents, only production credentials may manage endpoints; any endpoint may subscribe to
production and `sandbox.*` events alike.
"""

from __future__ import annotations

from starlette.routing import Route

from ..core import MockCore
from ..errors import InvalidRequest, Unauthorized
from .pipeline import Call, Endpoint, Handler, Operation, Result, by_method


def _production_only(call: Call) -> None:
    if call.principal is None or call.principal.environment != "production":
        raise Unauthorized()


def _string_field(body: object, name: str) -> str:
    # Only reached with validation switched off: the field must still be there, or it's a 400.
    if not isinstance(body, dict):
        raise InvalidRequest("body")
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidRequest(name)
    return value


async def create_webhook(core: MockCore, call: Call) -> Result:
    _production_only(call)
    endpoint = core.webhooks.endpoints.create(_string_field(call.body, "url"), core.clock.now())
    return Result(201, endpoint.to_api(with_secret=True))


async def list_webhooks(core: MockCore, call: Call) -> Result:
    _production_only(call)
    return Result(200, [e.to_api(with_secret=False) for e in core.webhooks.endpoints.managed_endpoints()])


async def get_webhook(core: MockCore, call: Call) -> Result:
    _production_only(call)
    endpoint = core.webhooks.endpoints.managed(call.request.path_params["endpointId"])
    return Result(200, endpoint.to_api(with_secret=False))


async def delete_webhook(core: MockCore, call: Call) -> Result:
    _production_only(call)
    endpoint = core.webhooks.endpoints.delete(call.request.path_params["endpointId"])
    return Result(200, {"endpointId": endpoint.endpoint_id, "deleted": True})


async def create_event(core: MockCore, call: Call) -> Result:
    _production_only(call)
    endpoint_id = call.request.path_params["endpointId"]
    event = _string_field(call.body, "event")
    added = core.webhooks.endpoints.subscribe(endpoint_id, event)
    return Result(201 if added else 200, {"endpointId": endpoint_id, "event": event})


async def delete_event(core: MockCore, call: Call) -> Result:
    _production_only(call)
    endpoint_id = call.request.path_params["endpointId"]
    event = call.request.path_params["event"]
    core.webhooks.endpoints.unsubscribe(endpoint_id, event)
    return Result(200, {"endpointId": endpoint_id, "event": event, "deleted": True})


def routes(core: MockCore) -> list[Route]:
    def op(operation_id: str, handler: Handler, *, body: bool = False) -> Endpoint:
        return Operation(core, operation_id, handler, auth=True, body=body).endpoint

    return [
        by_method(
            "/v1/webhooks",
            {"POST": op("createWebhook", create_webhook, body=True), "GET": op("listWebhooks", list_webhooks)},
        ),
        by_method(
            "/v1/webhooks/{endpointId}",
            {"GET": op("getWebhook", get_webhook), "DELETE": op("deleteWebhook", delete_webhook)},
        ),
        by_method("/v1/webhooks/{endpointId}/events", {"POST": op("createEvent", create_event, body=True)}),
        by_method("/v1/webhooks/{endpointId}/events/{event}", {"DELETE": op("deleteEvent", delete_event)}),
    ]
