"""Every process the benchmark starts, and the guarantee that none outlives it.

Each child gets its own session (process group), so stopping it also stops whatever it
spawned, and a Ctrl-C in the terminal reaches only us: we then stop the children in order.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

_children: list[subprocess.Popen[Any]] = []


def spawn(argv: Sequence[str], *, log: Path | None = None, **kwargs: Any) -> subprocess.Popen[Any]:
    """Start argv in a new process group; its output goes to `log` (or nowhere)."""
    out: IO[bytes] | int = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed by the child's end
    kwargs.setdefault("stdout", out)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    proc = subprocess.Popen(list(argv), start_new_session=True, stdin=subprocess.DEVNULL, **kwargs)
    if log:
        assert not isinstance(out, int)
        out.close()  # the child holds its own copy
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen[Any], grace: float = 3.0) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after `grace` seconds."""
    if proc in _children:
        _children.remove(proc)
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    # Grandchildren may linger after the leader exits: the group id is still ours to signal.
    _signal_group(proc, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait(timeout=grace)


def _signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def stop_all() -> None:
    for proc in reversed(list(_children)):
        stop(proc)


def _on_signal(signum: int, frame: object) -> None:
    # Turn SIGTERM/SIGHUP into an exception so every `finally` runs on the way out.
    raise KeyboardInterrupt(f"signal {signum}")


def _on_alarm(signum: int, frame: object) -> None:
    raise TimeoutError("the benchmark overran its time budget")


def install(budget_seconds: int) -> None:
    """Clean up on normal exit, Ctrl-C, SIGTERM/SIGHUP, and when the time budget runs out."""
    atexit.register(stop_all)
    # SIGINT too: a shell starts background jobs with it ignored, and Python keeps it so.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(budget_seconds)


def rss_kib(pid: int) -> int:
    """Resident set size of pid and its descendants, from /proc/PID/status VmRSS."""
    total = 0
    for p in [pid, *_descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found.extend(kids)
        todo.extend(kids)
    return found


def wait_until(predicate: Any, timeout: float, interval: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
