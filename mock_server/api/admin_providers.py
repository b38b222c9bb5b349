"""`/__admin/providers`: every enrolled provider of both environments, and setting them up for a test.

The same registry Sohar's Create Provider writes to, so a provider made here satisfies a
payer exactly as one made through the API would (and goes at reset the same way).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core import MockCore
from ..domain.auth import ENVIRONMENTS
from ..domain.providers import Provider
from ..domain.render import iso_millis
from ..errors import InvalidRequest
from .admin import AdminHandler, _json_object, admin_routes, environment_filter
from .responses import SoharJSONResponse


def provider_summary(provider: Provider) -> dict[str, Any]:
    return {
        **provider.to_api(),
        "environment": provider.environment,
        "source": provider.source,
        "created": iso_millis(provider.created) if provider.created is not None else None,
    }


async def list_providers(core: MockCore, request: Request) -> Response:
    providers = [provider_summary(p) for p in core.providers.list_providers(environment_filter(request.query_params))]
    return SoharJSONResponse({"providers": providers, "count": len(providers)})


async def create_provider(core: MockCore, request: Request) -> Response:
    body = await _json_object(core, request)
    for optional in ("environment", "type", "providerGroupId"):
        if optional in body and body[optional] is None:
            # null is not "absent": a script that sends it most likely meant a value.
            raise InvalidRequest(optional, f"{optional} must be text when given; leave it out for the default")
    environment = body.get("environment", "sandbox")
    if environment not in ENVIRONMENTS:
        raise InvalidRequest("environment", f"environment must be one of {', '.join(ENVIRONMENTS)}")
    provider, created = core.providers.create_provider(
        environment,
        body.get("npi"),
        body.get("payerId"),
        body.get("state"),
        body.get("type"),
        body.get("providerGroupId"),
    )
    return SoharJSONResponse(provider_summary(provider), status_code=201 if created else 200)


async def get_provider(core: MockCore, request: Request) -> Response:
    return SoharJSONResponse(provider_summary(core.providers.get_provider(request.path_params["providerId"])))


async def delete_provider(core: MockCore, request: Request) -> Response:
    provider = core.providers.delete_provider(request.path_params["providerId"])
    return SoharJSONResponse({**provider_summary(provider), "deleted": True})


def routes(core: MockCore) -> list[Route]:
    by_path: dict[str, dict[str, AdminHandler]] = {
        "/providers": {"GET": list_providers, "POST": create_provider},
        "/providers/{providerId}": {"GET": get_provider, "DELETE": delete_provider},
    }
    return admin_routes(core, by_path)
