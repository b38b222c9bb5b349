"""A real HTTP webhook receiver on a loopback port, scripted per test.

Each delivery is kept with its raw bytes and headers exactly as received, so tests can verify
signatures with the official `svix` library. `script` decides each answer in turn.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # seconds to sit on the request before answering
    body: bytes = b""


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    def __init__(self, script: list[Reply] | None = None) -> None:
        self.script = list(script or [])  # answers in order; afterwards 200
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._arrived:
                    receiver.deliveries.append(
                        Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    reply = receiver.script.pop(0) if receiver.script else Reply()
                    receiver._arrived.notify_all()
                if reply.hang:
                    time.sleep(reply.hang)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Block until `count` deliveries have arrived (fails the test after `timeout`)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.deliveries) >= count, timeout):
                raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")
            return list(self.deliveries)

    def wait_for_matching(
        self, predicate: Callable[[Delivery], bool], count: int, timeout: float = 10.0
    ) -> list[Delivery]:
        """Block until `count` deliveries satisfying `predicate` have arrived; those, in order.

        For a receiver shared by tests: a delivery another test caused (a late retry, an event
        nobody waited for) never counts toward this one's.
        """
        with self._arrived:
            if not self._arrived.wait_for(lambda: sum(1 for d in self.deliveries if predicate(d)) >= count, timeout):
                found = sum(1 for d in self.deliveries if predicate(d))
                raise AssertionError(f"expected {count} matching deliveries, got {found}")
            return [d for d in self.deliveries if predicate(d)]

    def events(self) -> list[str]:
        return [d.payload["event"] for d in self.deliveries]

    def start(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def receiving(script: list[Reply] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(script).start()
    try:
        yield receiver
    finally:
        receiver.stop()
