"""Load from wrk: one thread (the other core is the server's), closed loop, fixed duration."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import procs

LUA = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class Load:
    """What wrk measured in one cell."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bytes_per_response: float
    # Answers outside 2xx/3xx, and connect/read/write/timeout socket errors.
    bad_status: int
    socket_errors: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """One request shape against one server."""

    port: int
    path: str
    method: str = "GET"
    body_file: Path | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


def run(wrk: str, target: Target, connections: int, seconds: float, log: Path | None = None) -> Load:
    script = LUA / "request.lua"
    argv = [wrk, "-t1", f"-c{connections}", f"-d{_duration(seconds)}", "--timeout", "10s", "-s", str(script)]
    for name, value in target.headers:
        argv += ["-H", f"{name}: {value}"]
    argv += [target.url, "--", target.method, str(target.body_file) if target.body_file else "-"]
    proc = procs.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=seconds + 30)
    finally:
        procs.stop(proc)
    if log:
        with log.open("a") as f:
            f.write(f"$ {' '.join(argv)}\n{out}{err}\n")
    line = next((x for x in out.splitlines() if x.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip() or out.strip()}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    elapsed = raw["duration_us"] / 1e6
    requests = raw["requests"]
    return Load(
        requests=requests,
        seconds=round(elapsed, 3),
        rps=round(requests / elapsed, 1) if elapsed else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        bytes_per_response=round(raw["bytes"] / requests, 1) if requests else 0.0,
        bad_status=raw["status"],
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
    )


def _duration(seconds: float) -> str:
    # wrk takes whole seconds only.
    return f"{max(1, round(seconds))}s"
