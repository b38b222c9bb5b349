"""A real HTTP webhook receiver on a loopback port, scripted per test.

Each delivery is kept with its raw bytes and headers exactly as received, so tests can verify
signatures with the official `svix` library. `script` decides each answer in turn.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
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

        class Server(ThreadingHTTPServer):
            # Counted when accepted, before the handler thread starts: `quiesce` sees every
            # connection accepted so far, handled or not.
            def process_request(self, request: Any, client_address: Any) -> None:
                with receiver._arrived:
                    receiver._in_hand += 1
                super().process_request(request, client_address)

            def process_request_thread(self, request: Any, client_address: Any) -> None:
                try:
                    super().process_request_thread(request, client_address)
                finally:
                    with receiver._arrived:
                        receiver._in_hand -= 1
                        receiver._arrived.notify_all()

        self._in_hand = 0
        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Block until `count` deliveries have arrived (fails the test after `timeout`)."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.deliveries) >= count, timeout):
                raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")
            return list(self.deliveries)

    def quiesce(self, timeout: float = 10.0) -> None:
        """Return once every request that reached the receiver before this call has been handled.

        A delivery the mock had already written when a reset dropped it still lands here, and
        would otherwise be recorded after the next test cleared `deliveries`. Connections are
        accepted in arrival order, so once a request of our own has been answered, every earlier
        one has been accepted and counted; then wait for those in hand to finish.
        """
        with socket.create_connection(self._server.server_address[:2], timeout=timeout) as probe:
            probe.sendall(b"GET /quiesce HTTP/1.0\r\n\r\n")
            while probe.recv(4096):
                pass
        with self._arrived:
            if not self._arrived.wait_for(lambda: self._in_hand == 0, timeout):
                raise AssertionError(f"{self._in_hand} requests still in hand after {timeout} s")

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
