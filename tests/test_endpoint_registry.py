"""The endpoint registry at unit level: lookups that cost the same with 1 endpoint or 1 000.

Every delivery attempt looks its endpoint up, and every event asks who subscribes to it; with
many registered endpoints neither may walk all of them.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from mock_server.domain.events import EVENT_TYPES
from mock_server.errors import NotFound
from mock_server.ids import IdSource
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.webhooks.endpoints import EndpointRegistry


class Counted(str):
    """A str that counts every hash and equality test made with it: what a lookup examined."""

    __slots__ = ()
    uses: ClassVar[int] = 0

    def __hash__(self) -> int:
        Counted.uses += 1
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        Counted.uses += 1
        return str.__eq__(self, other)


def registry(endpoints: int, *, event: str = "verification.updated") -> EndpointRegistry:
    found = EndpointRegistry(IdSource(7), ("http://127.0.0.1:9/config",), DEFAULT_WEBHOOK_SECRET, 0.0)
    for index in range(endpoints):
        endpoint = found.create(f"http://127.0.0.1:9/hook/{index}", 0.0)
        found.subscribe(endpoint.endpoint_id, event)
    return found


def test_looking_an_endpoint_up_does_not_walk_the_others() -> None:
    endpoints = registry(300)
    last = endpoints.managed_endpoints()[-1]
    Counted.uses = 0
    for _ in range(100):
        assert endpoints.get(Counted(last.endpoint_id)) is last
    assert Counted.uses <= 2 * 100  # one hash and one comparison per lookup; a walk made 30 000


def test_asking_who_subscribes_does_not_walk_every_endpoint_each_time() -> None:
    endpoints = registry(300)
    event = Counted("verification.updated")
    Counted.uses = 0
    for _ in range(1_000):
        assert len(endpoints.subscribers(event)) == 301
    assert Counted.uses <= 300 + 2 * 1_000  # one walk after a change, then a lookup per event


def test_subscribers_follow_every_change_in_registration_order() -> None:
    endpoints = EndpointRegistry(IdSource(7), ("http://127.0.0.1:9/config",), DEFAULT_WEBHOOK_SECRET, 0.0)
    [config] = list(endpoints)
    first = endpoints.create("http://127.0.0.1:9/first", 0.0)
    second = endpoints.create("http://127.0.0.1:9/second", 0.0)
    assert endpoints.subscribers("flow.updated") == ()
    endpoints.subscribe(second.endpoint_id, "flow.updated")
    assert endpoints.subscribers("flow.updated") == (second,)
    endpoints.subscribe(first.endpoint_id, "flow.updated")
    assert endpoints.subscribers("flow.updated") == (first, second)  # registration order
    assert endpoints.subscribers("verification.updated") == (config,)
    endpoints.unsubscribe(first.endpoint_id, "flow.updated")
    assert endpoints.subscribers("flow.updated") == (second,)
    endpoints.delete(second.endpoint_id)
    assert endpoints.subscribers("flow.updated") == ()
    with pytest.raises(NotFound):
        endpoints.get(second.endpoint_id)
    endpoints.subscribe(first.endpoint_id, "verification.updated")
    assert endpoints.subscribers("verification.updated") == (config, first)
    assert endpoints.get(first.endpoint_id) is first and endpoints.get(config.endpoint_id) is config
    endpoints.reset()
    assert [endpoints.subscribers(event) for event in EVENT_TYPES] == [(config,)] * len(EVENT_TYPES)
    assert list(endpoints) == [config]
