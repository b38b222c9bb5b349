"""What the numbers were measured on: hardware, OS and every version involved."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from . import report, servers, tools


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _package(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=servers.ROOT, text=True, capture_output=True, timeout=10
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def describe(wrk: str, prism_cli: Path | None) -> dict[str, Any]:
    from mock_server import __version__
    from mock_server.app import EVENT_LOOP

    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _mem_total_gib(),
        "os": f"{_os_name()}, Linux {platform.release()}",
        "sohar_mock": f"{__version__} (git {_git_revision()})",
        "ours_command": " ".join([*servers.ours_command(), "serve", "--port", "N"]),
        "python": platform.python_version(),
        "uvicorn": _package("uvicorn"),
        "starlette": _package("starlette"),
        "httptools": _package("httptools"),
        "event_loop": EVENT_LOOP,
        "prism": tools.version_of([str(prism_cli), "--version"]) if prism_cli else report.PRISM_NOT_RUN,
        "prism_command": f"prism mock -h 127.0.0.1 -p N {servers.SPEC.relative_to(servers.ROOT)}",
        "node": tools.version_of(["node", "--version"]),
        "wrk": tools.version_of([wrk, "-v"]).split(" Copyright")[0],
    }
