"""Run the mock on a free loopback port from Python (tests, the pytest plugin, scripts).

with RunningMock() as mock:
    httpx.post(f"{mock.base_url}/oauth/token", json=...)
    mock.advance(5)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import uvicorn

from .app import EVENT_LOOP, build_app
from .core import MockCore
from .listening import listen, url_for
from .settings import Settings

SANDBOX_CREDENTIALS = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
PRODUCTION_CREDENTIALS = {"client_id": "production-client-id", "client_secret": "production-client-secret"}
# Sohar's documented sandbox member as a Create Verification body: payer 60054 answers eligible.
DOCUMENTED_MEMBER: dict[str, Any] = {
    "patient": {
        "firstName": "John",
        "lastName": "Doe",
        "dateOfBirth": "09/20/2006",
        "state": "CA",
        "memberId": "00000000",
    },
    "payerId": "60054",
    "placeOfServiceCode": "10",
    "specialtyCode": "PSY",
}


def free_port(host: str = "127.0.0.1") -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RunningMock:
    """A real uvicorn server in a background thread, on a loopback port.

    The port is bound when the object is made (port 0 or the default 8080: any free one), so
    `base_url` is right from the start and no other process can take the port before `start()`.
    A port that cannot be bound raises `CannotListen` (a RuntimeError) naming it.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        settings = settings or Settings()
        settings = replace(settings, **overrides) if overrides else settings  # checked again: a bad value stops here
        self._socket = listen(settings.host, 0 if settings.port in (0, 8080) else settings.port)
        try:
            self.settings = replace(settings, port=self._socket.getsockname()[1])
            self.core = MockCore(self.settings)
            self.app = build_app(core=self.core)
        except BaseException:
            self._socket.close()
            raise
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host=self.settings.host,
                port=self.settings.port,
                log_level="warning",
                lifespan="on",
                loop=EVENT_LOOP,
            )
        )
        self._thread: threading.Thread | None = None
        self.base_url = url_for(self._socket)
        self.admin_url = f"{self.base_url}/__admin"
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def start(self) -> RunningMock:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="sohar-mock", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the mock did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()  # uvicorn closes it too; this covers a mock never started
        self.http.close()

    def __enter__(self) -> RunningMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- conveniences over HTTP -----------------------------------------------------------

    def token(self, environment: str = "sandbox") -> str:
        creds = SANDBOX_CREDENTIALS if environment == "sandbox" else PRODUCTION_CREDENTIALS
        response = self.http.post("/oauth/token", json=creds)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def headers(self, environment: str = "sandbox") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(environment)}"}

    def advance(self, seconds: float) -> dict[str, Any]:
        response = self.http.post("/__admin/clock/advance", json={"seconds": seconds})
        response.raise_for_status()
        return dict(response.json())

    def reset(self) -> None:
        self.http.post("/__admin/reset").raise_for_status()


class RunningApp:
    """Any ASGI app (a webhook consumer, a deliberately broken server) on a free loopback port."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self._socket = listen(host, 0)
        self.port = int(self._socket.getsockname()[1])
        self.url = url_for(self._socket)
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning"))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="asgi-app", daemon=True
        )

    def __enter__(self) -> RunningApp:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the app did not start on {self.url}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@contextlib.contextmanager
def running_mock(settings: Settings | None = None, **overrides: Any) -> Iterator[RunningMock]:
    with RunningMock(settings, **overrides) as mock:
        yield mock
