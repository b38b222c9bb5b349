"""A real webhook endpoint on loopback that verifies every delivery with the `svix` library.

Used by the pytest fixture (`sohar_mock.wait_for_webhook`), by `parity` to watch the event
sequences two servers send, and by the project's own tests. Deliveries that fail verification
are answered 400 and kept apart, so a test can see a bad signature rather than a silent
timeout. A `script` of `Reply`s answers the first deliveries instead, whatever their signature:
failures, redirects, slow or large answers, to see what the sender does with them.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    """One delivery as it arrived: raw body, headers, parsed payload, and whether it verified."""

    body: bytes
    headers: dict[str, str]
    payload: Any
    verified: bool
    error: str | None
    received_at: float
    secret_index: int | None = None
    path: str = ""

    @property
    def message_id(self) -> str | None:
        return self.headers.get("svix-id") or self.headers.get("webhook-id")

    @property
    def event(self) -> str | None:
        return self.payload.get("event") if isinstance(self.payload, dict) else None

    @property
    def verification_id(self) -> str | None:
        return self.payload.get("verificationId") if isinstance(self.payload, dict) else None

    @property
    def discovery_id(self) -> str | None:
        return self.payload.get("discoveryId") if isinstance(self.payload, dict) else None

    @property
    def subject_id(self) -> str | None:
        """The id the event is about: its verificationId or discoveryId."""
        return self.verification_id or self.discovery_id

    @property
    def status(self) -> str | None:
        return self.payload.get("status") if isinstance(self.payload, dict) else None

    def matches(self, **wanted: str | None) -> bool:
        return all(value is None or getattr(self, name) == value for name, value in wanted.items())


@dataclass(frozen=True)
class Reply:
    """One scripted answer: its status and headers, seconds to sit on the request first, a body."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0
    body: bytes = b""


@dataclass
class _Inbox:
    secrets: list[Webhook]
    script: list[Reply]
    accepted_status: int
    items: list[Received] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    # Connections accepted and not yet finished: `quiesce` waits for none.
    in_hand: int = 0

    def answer(self, item: Received) -> Reply:
        """The next scripted reply, else the accepted status for a verified delivery, else 400."""
        if self.script:
            return self.script.pop(0)
        return Reply(self.accepted_status if item.verified else 400)


def _verify(inbox: _Inbox, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
    error = "no signing secret configured"
    for index, webhook in enumerate(inbox.secrets):
        try:
            webhook.verify(body, headers)
            return index, None
        except WebhookVerificationError as exc:
            error = str(exc)
    return None, error


def _handler(inbox: _Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            index, error = _verify(inbox, body, headers)
            try:
                parsed: Any = json.loads(body)
            except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
                parsed = None
            item = Received(body, headers, parsed, index is not None, error, time.time(), index, self.path)
            with inbox.changed:
                inbox.items.append(item)
                reply = inbox.answer(item)
                inbox.changed.notify_all()
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
                pass  # the sender stopped waiting (a timeout) and closed the connection

        def do_GET(self) -> None:
            # `quiesce`'s probe: its answer means every earlier connection was accepted.
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests read the inbox, not the access log

    return Handler


class _CountingServer(ThreadingHTTPServer):
    """Counts the connections in hand from the moment each is accepted (in arrival order)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], inbox: _Inbox) -> None:
        super().__init__(address, handler)
        self.inbox = inbox

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.inbox.changed:
            self.inbox.in_hand += 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.inbox.changed:
                self.inbox.in_hand -= 1
                self.inbox.changed.notify_all()


class WebhookReceiver:
    """`with WebhookReceiver(secret) as r: ... r.wait_for(verification_id=...)` (or `discovery_id=`).

    A verified delivery is answered `accepted_status` (204), any other 400; the replies in
    `script` (a list, which may be changed between deliveries) answer the first ones instead.
    """

    def __init__(
        self,
        *secrets: str,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/webhooks",
        script: Iterable[Reply] = (),
        accepted_status: int = 204,
        advertised_host: str | None = None,
    ) -> None:
        """Listens on `host`; `url` names `advertised_host` instead when the sender reaches this
        machine by another name (a compose service, `host.docker.internal`)."""
        self._inbox = _Inbox([Webhook(secret) for secret in secrets], list(script), accepted_status)
        self._server = _CountingServer((host, port), _handler(self._inbox), self._inbox)
        self._thread: threading.Thread | None = None
        self.url = f"http://{advertised_host or host}:{self._server.server_address[1]}{path}"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        with self._inbox.changed:
            return list(self._inbox.items)

    @property
    def verified(self) -> list[Received]:
        return [item for item in self.received if item.verified]

    @property
    def rejected(self) -> list[Received]:
        return [item for item in self.received if not item.verified]

    @property
    def script(self) -> list[Reply]:
        """The replies still to give, in order; change it in place (`script[:] = [...]`)."""
        return self._inbox.script

    def add_secret(self, secret: str) -> None:
        """Verify with this secret too: one an endpoint got when it was registered, after this started."""
        with self._inbox.changed:
            self._inbox.secrets.append(Webhook(secret))

    def clear(self) -> None:
        """Forget every delivery so far, including any already on its way in (see `quiesce`)."""
        if self._thread is not None:  # not started or stopped: nothing can be on its way in
            self.quiesce()
        with self._inbox.changed:
            self._inbox.items.clear()

    def quiesce(self, timeout: float = 10.0) -> None:
        """Return once every request that reached this receiver before the call has been handled.

        A delivery the sender had already written when it was stopped or reset still lands
        here: without this, it would be recorded after a `clear` meant to forget it. The
        listening socket hands connections over in arrival order, so once a probe of our own
        is answered, every earlier connection has been accepted and counted; then wait for
        those to finish.
        """
        host, port = self._server.server_address[:2]
        with socket.create_connection((str(host), int(port)), timeout=timeout) as probe:
            probe.sendall(b"GET /quiesce HTTP/1.0\r\n\r\n")
            while probe.recv(4096):
                pass
        if not self.wait_idle(timeout):
            raise AssertionError(f"{self._inbox.in_hand} requests still in hand after {timeout} s")

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._inbox.changed:
            while self._inbox.in_hand:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._inbox.changed.wait(remaining)
            return True

    def wait_for_count(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Every delivery so far, verified or not, once there are `count`; AssertionError after `timeout`."""
        if not self.wait_until(lambda items: len(items) >= count, timeout):
            raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")
        return self.received

    def wait_until(self, predicate: Callable[[list[Received]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._inbox.changed:
            while not predicate(self._inbox.items):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._inbox.changed.wait(remaining)
            return True

    def wait_for(
        self,
        *,
        verification_id: str | None = None,
        discovery_id: str | None = None,
        event: str | None = None,
        status: str | None = None,
        timeout: float = 5.0,
    ) -> Received:
        """The first verified delivery that matches; AssertionError naming what did arrive otherwise."""
        wanted = {"verification_id": verification_id, "discovery_id": discovery_id, "event": event, "status": status}

        def first() -> Received | None:
            return next((item for item in self._inbox.items if item.verified and item.matches(**wanted)), None)

        self.wait_until(lambda _: first() is not None, timeout)
        with self._inbox.changed:
            found = first()
        if found is not None:
            return found
        seen = [
            f"{item.event} {item.subject_id} {item.status}" + ("" if item.verified else f" (REJECTED: {item.error})")
            for item in self.received
        ]
        criteria = ", ".join(f"{k}={v}" for k, v in wanted.items() if v is not None) or "any"
        raise AssertionError(f"no verified webhook with {criteria} within {timeout}s; received: {seen or 'nothing'}")
