"""Webhook endpoints and their event subscriptions.

Two kinds: endpoints given at start-up (`--webhook-url`), subscribed to every event and signed
with the configured secret; and endpoints registered through Sohar's management API (Create
Webhook, Create Event), each with a secret of its own. A reset drops the second kind only.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..domain.events import EVENT_TYPES
from ..errors import InvalidRequest, NotFound
from ..ids import IdSource
from .signing import Signer

# Every event type Sohar documents; the verification and discovery ones fire in the mock, and a
# client may subscribe to the Flow ones as it would at Sohar.
DOCUMENTED_EVENT_TYPES = (
    *EVENT_TYPES,
    "flow.updated",
    "sandbox.flow.updated",
    "flow.callback",
)


# A DNS name, an IPv4 address or a bracketed IPv6 one (urlsplit drops the brackets).
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


@dataclass(slots=True)
class Endpoint:
    endpoint_id: str
    url: str
    secret: str
    source: str  # "config" (start-up) or "api"
    created: float
    events: set[str] = field(default_factory=set)
    signer: Signer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.signer = Signer(self.secret)

    def to_api(self, *, with_secret: bool) -> dict[str, object]:
        body: dict[str, object] = {
            "endpointId": self.endpoint_id,
            "url": self.url,
            "events": sorted(self.events),
        }
        if with_secret:
            body["secret"] = self.secret
        return body


def check_url(url: object, param: str = "url") -> str:
    """An absolute http(s) URL with a host, or a 400 naming the field."""
    if not isinstance(url, str) or len(url) > 2048 or not url.isprintable() or " " in url:
        raise InvalidRequest(param)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidRequest(param) from None
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.hostname or ""):
        raise InvalidRequest(param)
    return url


class EndpointRegistry:
    """Every endpoint by id, and who subscribes to what: each attempt and each event looks here,
    so both lookups are a dict access, whatever the number of endpoints."""

    def __init__(self, ids: IdSource, startup_urls: tuple[str, ...], startup_secret: str, now: float) -> None:
        self._ids = ids
        self._startup = {
            endpoint.endpoint_id: endpoint
            for endpoint in (
                Endpoint(f"ep_config_{index}", check_url(url), startup_secret, "config", now, set(EVENT_TYPES))
                for index, url in enumerate(startup_urls, start=1)
            )
        }
        self._api: dict[str, Endpoint] = {}
        # Subscribers per event type, worked out on first use after a change: events come by the
        # thousand, subscription changes rarely.
        self._subscribers: dict[str, tuple[Endpoint, ...]] = {}

    def __iter__(self) -> Iterator[Endpoint]:
        yield from self._startup.values()
        yield from self._api.values()

    def subscribers(self, event: str) -> tuple[Endpoint, ...]:
        """Endpoints subscribed to `event`, in registration order (start-up ones first)."""
        found = self._subscribers.get(event)
        if found is None:
            found = self._subscribers[event] = tuple(endpoint for endpoint in self if event in endpoint.events)
        return found

    def get(self, endpoint_id: str) -> Endpoint:
        endpoint = self._api.get(endpoint_id) or self._startup.get(endpoint_id)
        if endpoint is None:
            raise NotFound()
        return endpoint

    # -- Sohar's management operations (API-registered endpoints only) -------------------

    def create(self, url: str, now: float) -> Endpoint:
        secret = "whsec_" + base64.b64encode(self._ids.secret_bytes(24)).decode()
        endpoint = Endpoint(self._ids.prefixed("ep"), check_url(url), secret, "api", now)
        self._api[endpoint.endpoint_id] = endpoint
        return endpoint  # subscribed to nothing yet: no subscriber list changes

    def managed(self, endpoint_id: str) -> Endpoint:
        endpoint = self._api.get(endpoint_id)
        if endpoint is None:
            raise NotFound()
        return endpoint

    def delete(self, endpoint_id: str) -> Endpoint:
        endpoint = self.managed(endpoint_id)
        del self._api[endpoint_id]
        self._subscribers.clear()
        return endpoint

    def subscribe(self, endpoint_id: str, event: str) -> bool:
        """Subscribe; False when it already was (subscribing twice changes nothing)."""
        endpoint = self.managed(endpoint_id)
        if event not in DOCUMENTED_EVENT_TYPES:
            raise InvalidRequest("event")
        if event in endpoint.events:
            return False
        endpoint.events.add(event)
        self._subscribers.pop(event, None)
        return True

    def unsubscribe(self, endpoint_id: str, event: str) -> None:
        endpoint = self.managed(endpoint_id)
        if event not in endpoint.events:
            raise NotFound()
        endpoint.events.discard(event)
        self._subscribers.pop(event, None)

    def managed_endpoints(self) -> list[Endpoint]:
        return list(self._api.values())

    def reset(self) -> None:
        self._api.clear()
        self._subscribers.clear()
