"""Row 12: what the durable mode (`--state PATH`) costs, against the same mock in memory.

Two measurements, each with a fresh state file in a temporary folder:

- Create Verification throughput, as rows 1-3 measure it: one `sohar-mock serve` in memory and
  one with `--state`, side by side, at 1, 16 and 64 connections, taking turns going first. The
  row is the ratio durable / in-memory; the target is 0.5 at every connection count. Then the
  durable server is stopped and started again on its file: the second start-up is what a
  restart with everything just created costs.
- Create -> signed webhook, as row 6 measures it (webhooks.py, a real receiver, every signature
  checked with svix), in memory and durable, alternating which goes first.

Prism has no durable mode: the row is ours only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import client, load, servers, webhooks

CONNECTIONS = (1, 16, 64)
MODES = ("memory", "durable")
STATE_FILE = "mock.sqlite"

Measure = Callable[[int, str, int], load.Load]  # (port, bearer, connections) -> one wrk cell


def measure(measure_create: Measure, logs: Path, webhook_runs: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sohar-bench-state-") as folder:
        throughput = _throughput(measure_create, logs, Path(folder))
        hooks = _webhooks(logs, Path(folder), webhook_runs)
    ratios = [cell["ratio"] for cell in throughput["cells"]]
    return {**throughput, "webhooks": hooks, "lowest_ratio": min(ratios)}


def _throughput(measure_create: Measure, logs: Path, folder: Path) -> dict[str, Any]:
    state = folder / STATE_FILE
    durable_args = ("--state", str(state))
    with (
        servers.ours(logs / "ours-durable-off.log") as memory,
        servers.ours(logs / "ours-durable-on.log", *durable_args) as durable,
    ):
        contenders = {"memory": memory, "durable": durable}
        first_start = durable.startup_s
        bearers = {mode: client.token(server.port) for mode, server in contenders.items()}
        for mode, server in contenders.items():
            client.create(server.port, bearers[mode])  # a 201 from each, or the row is void
        cells = []
        for turn, connections in enumerate(CONNECTIONS):
            cell: dict[str, Any] = {"connections": connections}
            for mode in MODES if turn % 2 == 0 else MODES[::-1]:
                cell[mode] = measure_create(contenders[mode].port, bearers[mode], connections).to_dict()
            cell["ratio"] = round(cell["durable"]["rps"] / cell["memory"]["rps"], 3) if cell["memory"]["rps"] else 0.0
            cells.append(cell)
        stored = _stored(durable.port)
    # Stopped (SIGTERM) and started again on the same file: everything comes back before the first 200.
    with servers.ours(logs / "ours-durable-restart.log", *durable_args) as again:
        restart_s = again.startup_s
        restored = _stored(again.port)
    return {
        "cells": cells,
        "first_start_s": round(first_start or 0.0, 3),
        "restart_s": round(restart_s or 0.0, 3),
        "stored": stored,
        "restored": restored,
        "file_bytes": _size(state),
    }


def _webhooks(logs: Path, folder: Path, runs: tuple[tuple[int, int], ...]) -> list[dict[str, Any]]:
    rows = []
    for index, (total, in_flight) in enumerate(runs):
        row: dict[str, Any] = {"in_flight": in_flight}
        for mode in MODES if index % 2 == 0 else MODES[::-1]:
            extra = ("--state", str(folder / f"webhooks-{in_flight}.sqlite")) if mode == "durable" else ()
            row[mode] = webhooks.measure(
                servers.ours_command(), logs, total=total, in_flight=in_flight, extra=extra, label=mode
            )
        rows.append(row)
    return rows


def _stored(port: int) -> int:
    status, body = client.call(port, "GET", "/__admin/health")
    return int(body["verifications"]) if status == 200 else -1


def _size(state: Path) -> int:
    """The file and its write-ahead log, as they stand after a clean stop (which checkpoints it)."""
    return sum(p.stat().st_size for p in (state, state.with_name(state.name + "-wal")) if p.exists())
