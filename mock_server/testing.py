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
from typing import Any, Literal, Self

import httpx
import uvicorn
from starlette.types import ASGIApp

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


class RunningApp:
    """Any ASGI app (a webhook consumer, a deliberately broken server) served by uvicorn in a
    background thread, on a loopback port bound when the object is made: `url` is right from the
    start and no other process can take the port before `start()`. `sock`: a socket already bound."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        *,
        sock: socket.socket | None = None,
        lifespan: Literal["auto", "on", "off"] = "auto",
        loop: str = "auto",
        name: str = "asgi-app",
    ) -> None:
        self._socket = sock if sock is not None else listen(host, 0)
        self.port = int(self._socket.getsockname()[1])
        self.url = url_for(self._socket)
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan=lifespan, loop=loop)
        )
        self._name = name
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=self._name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self._name} did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()  # uvicorn closes it too; this covers an app never started

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RunningMock:
    """The mock, served as a `RunningApp` on a loopback port.

    The port is bound when the object is made (port 0 or the default 8080: any free one), so
    `base_url` is right from the start and no other process can take the port before `start()`.
    A bad setting raises `ConfigError` (a ValueError) and a port that cannot be bound
    `CannotListen` (a RuntimeError), both from the constructor, each naming what is wrong.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        settings = settings or Settings()
        settings = replace(settings, **overrides) if overrides else settings  # checked again: a bad value stops here
        sock = listen(settings.host, 0 if settings.port in (0, 8080) else settings.port)
        try:
            self.settings = replace(settings, port=sock.getsockname()[1])
            self.core = MockCore(self.settings)
            self.app = build_app(core=self.core)
            self._served = RunningApp(
                self.app, self.settings.host, sock=sock, lifespan="on", loop=EVENT_LOOP, name="sohar-mock"
            )
        except BaseException:
            sock.close()
            raise
        self.base_url = self._served.url
        self.admin_url = f"{self.base_url}/__admin"
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def start(self) -> RunningMock:
        self._served.start()
        return self

    def stop(self) -> None:
        self._served.stop()
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


@contextlib.contextmanager
def running_mock(settings: Settings | None = None, **overrides: Any) -> Iterator[RunningMock]:
    with RunningMock(settings, **overrides) as mock:
        yield mock
