"""SIGTERM and SIGINT stop `sohar-mock serve` gracefully, and the process then exits 0.

uvicorn installs handlers of its own while it serves; once it has shut down it puts back the
handlers it found and raises the captured signal again (uvicorn.Server.capture_signals). With
the default handlers in place, that second SIGTERM kills the process (exit 143). Installed
before uvicorn runs, the handler here is the one it puts back: the second delivery lands on it
and only repeats a stop request already honoured. A signal that comes before uvicorn has taken
over (while scenarios load, say) is honoured too: the server stops as soon as it has started.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    """The signal handler: remembers a stop request and passes it to the server, once there is one."""

    def __init__(self) -> None:
        self.requested = False
        self._server: uvicorn.Server | None = None

    @property
    def server(self) -> uvicorn.Server | None:
        return self._server

    @server.setter
    def server(self, server: uvicorn.Server) -> None:
        self._server = server
        if self.requested:
            server.should_exit = True

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self._server is not None:
            self._server.should_exit = True


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Within the block, SIGTERM and SIGINT ask for a graceful stop; the old handlers come back after."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # only the main thread may set signal handlers; a caller elsewhere keeps its own
        return
    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
