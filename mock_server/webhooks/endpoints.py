"""Webhook endpoints and their event subscriptions.

Three kinds: endpoints given at start-up (`--webhook-url`), subscribed to every event and signed
with the configured secret; endpoints added through the admin API, made like those of start-up
(a test harness's receiver next to a mock it did not start); and endpoints registered through
Sohar's management API (Create Webhook, Create Event), each with a secret of its own. A reset
drops all but the start-up ones.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..domain.events import EVENT_TYPES
from ..domain.state_file import MEMORY, StateLog
from ..errors import Conflict, InvalidRequest, NotFound
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


# What endpoints are called in the state file (those of start-up come from the settings instead).
ENDPOINT = "endpoint"
# A DNS name, an IPv4 address or a bracketed IPv6 one (urlsplit drops the brackets).
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


@dataclass(slots=True)
class Endpoint:
    endpoint_id: str
    url: str
    secret: str
    source: str  # "config" (start-up), "admin" or "api"
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

    def __init__(
        self, ids: IdSource, startup_urls: tuple[str, ...], startup_secret: str, now: float, state: StateLog = MEMORY
    ) -> None:
        self._ids = ids
        self._state = state
        self._startup = {
            endpoint.endpoint_id: endpoint
            for endpoint in (
                Endpoint(f"ep_config_{index}", check_url(url), startup_secret, "config", now, set(EVENT_TYPES))
                for index, url in enumerate(startup_urls, start=1)
            )
        }
        self._startup_secret = startup_secret
        self._admin: dict[str, Endpoint] = {}
        self._api: dict[str, Endpoint] = {}
        # Subscribers per event type, worked out on first use after a change: events come by the
        # thousand, subscription changes rarely.
        self._subscribers: dict[str, tuple[Endpoint, ...]] = {}

    def __iter__(self) -> Iterator[Endpoint]:
        yield from self._startup.values()
        yield from self._admin.values()
        yield from self._api.values()

    def subscribers(self, event: str) -> tuple[Endpoint, ...]:
        """Endpoints subscribed to `event`: start-up ones, then admin-added, then API-registered."""
        found = self._subscribers.get(event)
        if found is None:
            found = self._subscribers[event] = tuple(endpoint for endpoint in self if event in endpoint.events)
        return found

    def get(self, endpoint_id: str) -> Endpoint:
        endpoint = self._api.get(endpoint_id) or self._admin.get(endpoint_id) or self._startup.get(endpoint_id)
        if endpoint is None:
            raise NotFound()
        return endpoint

    # -- Sohar's management operations (API-registered endpoints only) -------------------

    def create(self, url: str, now: float) -> Endpoint:
        secret = "whsec_" + base64.b64encode(self._ids.secret_bytes(24)).decode()
        endpoint = Endpoint(self._ids.prefixed("ep"), check_url(url), secret, "api", now)
        self._api[endpoint.endpoint_id] = endpoint
        self._state.save(ENDPOINT, endpoint.endpoint_id, endpoint)
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
        self._state.forget(ENDPOINT, endpoint_id)
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
        self._state.save(ENDPOINT, endpoint_id, endpoint)
        return True

    def unsubscribe(self, endpoint_id: str, event: str) -> None:
        endpoint = self.managed(endpoint_id)
        if event not in endpoint.events:
            raise NotFound()
        endpoint.events.discard(event)
        self._subscribers.pop(event, None)
        self._state.save(ENDPOINT, endpoint_id, endpoint)

    def managed_endpoints(self) -> list[Endpoint]:
        return list(self._api.values())

    # -- the control plane's own endpoints ----------------------------------------------

    def add_admin(self, url: str, now: float) -> Endpoint:
        """Like a start-up endpoint: every event type, the start-up secret; gone on reset."""
        endpoint = Endpoint(
            self._ids.prefixed("ep_admin"), check_url(url), self._startup_secret, "admin", now, set(EVENT_TYPES)
        )
        self._admin[endpoint.endpoint_id] = endpoint
        self._subscribers.clear()
        self._state.save(ENDPOINT, endpoint.endpoint_id, endpoint)
        return endpoint

    def remove_admin(self, endpoint_id: str) -> Endpoint:
        if endpoint_id not in self._admin:
            if endpoint_id in self._startup or endpoint_id in self._api:
                raise Conflict("endpointId", "only endpoints added through the admin API can be removed here")
            raise NotFound()
        endpoint = self._admin.pop(endpoint_id)
        self._subscribers.clear()
        self._state.forget(ENDPOINT, endpoint_id)
        return endpoint

    def restore(self, endpoint: Endpoint) -> None:
        """An endpoint read back from the state file (added through the admin or Sohar's API)."""
        (self._admin if endpoint.source == "admin" else self._api)[endpoint.endpoint_id] = endpoint
        self._subscribers.clear()

    def reset(self) -> None:
        self._admin.clear()
        self._api.clear()
        self._subscribers.clear()
