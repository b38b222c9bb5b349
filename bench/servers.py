"""The two servers under test, started the way their users start them, on free loopback ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_server.testing import free_port

from . import client, procs

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "sohar.yaml"
READY_TIMEOUT = 60.0


def ours_command() -> list[str]:
    """`sohar-mock`, the console script of this interpreter (not a version-manager shim,
    whose own start-up would be charged to ours), else `python -m mock_server`."""
    script = Path(sysconfig.get_path("scripts")) / "sohar-mock"
    if script.exists():
        return [str(script)]
    found = shutil.which("sohar-mock")
    return [found] if found else [sys.executable, "-m", "mock_server"]


def clean_env() -> dict[str, str]:
    # A user's SOHAR_MOCK_* settings (latency, webhooks, a config file) would change what is measured.
    return {k: v for k, v in os.environ.items() if not k.startswith("SOHAR_MOCK_")}


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    log: Path
    proc: subprocess.Popen[Any] | None = None
    startup_s: float | None = None
    env: dict[str, str] = field(default_factory=clean_env)

    def start(self) -> Server:
        """Spawn and wait for the first 200 from POST /oauth/token; `startup_s` is that wait."""
        began = time.perf_counter()
        self.proc = procs.spawn(self.argv, log=self.log, env=self.env, cwd=ROOT)
        while not client.token_ok(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} during start-up; see {self.log}")
            if time.perf_counter() - began > READY_TIMEOUT:
                raise RuntimeError(f"{self.name} gave no 200 within {READY_TIMEOUT:.0f} s; see {self.log}")
            time.sleep(0.005)
        self.startup_s = time.perf_counter() - began
        return self

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc)
            self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_mb(self) -> float:
        """Resident memory in MB (10^6 bytes, the unit of the issue's target)."""
        return procs.rss_kib(self.pid) * 1024 / 1e6

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ours(log: Path, *extra: str) -> Server:
    port = free_port()
    return Server("sohar-mock", [*ours_command(), "serve", "--port", str(port), *extra], port, log)


def prism(cli: Path, log: Path, quiet: bool = False) -> Server:
    """Prism's defaults (static examples, request validation, an info line per step of every
    request); `quiet` logs warnings only, as sohar-mock does by default."""
    port = free_port()
    argv = [str(cli), "mock", "-h", "127.0.0.1", "-p", str(port), *(["-v", "warn"] if quiet else []), str(SPEC)]
    return Server("Prism (quiet)" if quiet else "Prism", argv, port, log)
