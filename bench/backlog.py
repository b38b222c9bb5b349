"""Row 8: Create Verification with the webhook receiver down and a backlog of undelivered messages.

The same measurement twice, each on a fresh `sohar-mock serve --webhook-url URL`: first with a
receiver that answers 200 (`receiver.py --quiet`), then with URL a loopback port where nothing
listens, so every attempt is refused. Each server first gets `backlog` creates (one message
each), then wrk measures creates as in row 2. The row is the ratio down / healthy: a mock whose
receiver is down must not slow down with what it has failed to deliver.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mock_server.testing import free_port

from . import client, load, procs, rawhttp, servers

# Connections of the measured cell: row 2's middle one.
CONNECTIONS = 16
# Each refused message's second attempt comes 5 s after its first (Svix's schedule): the row
# waits for that wave to pass, so that it measures the backlog rather than the wave. Attempts to
# one endpoint go one at a time, so with 100 000 messages the wave (down) or the deliveries
# (healthy) take up to a minute after the last create; this is only a ceiling.
WAVE_TIMEOUT = 300.0

Measure = Callable[[int, str, int], load.Load]  # (port, bearer, connections) -> one wrk cell


def measure(measure_create: Measure, logs: Path, backlog: int) -> dict[str, Any]:
    healthy = _case("healthy", measure_create, logs, backlog)
    down = _case("down", measure_create, logs, backlog)
    return {
        "connections": CONNECTIONS,
        "backlog": backlog,
        "healthy": healthy,
        "down": down,
        "ratio": round(down["load"]["rps"] / healthy["load"]["rps"], 3) if healthy["load"]["rps"] else 0.0,
    }


def _case(case: str, measure_create: Measure, logs: Path, backlog: int) -> dict[str, Any]:
    receiver = None
    if case == "healthy":
        receiver = procs.spawn(
            [sys.executable, "-u", "-m", "bench.receiver", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=None,
            cwd=servers.ROOT,
        )
        assert receiver.stdout is not None
        ready = json.loads(receiver.stdout.readline() or "{}")
        if "ready" not in ready:
            procs.stop(receiver)
            raise RuntimeError("the webhook receiver did not start")
        url = f"http://127.0.0.1:{ready['ready']}/webhooks/sohar"
    else:
        url = f"http://127.0.0.1:{free_port()}/webhooks/sohar"  # nothing listens: refused
    try:
        with servers.ours(logs / f"ours-backlog-{case}.log", "--webhook-url", url) as ours:
            bearer = client.token(ours.port)
            first = client.create(ours.port, bearer)
            began = time.perf_counter()
            created = rawhttp.create_many(ours.port, bearer, backlog)
            create_s = time.perf_counter() - began
            last = client.create(ours.port, bearer)
            began = time.perf_counter()
            states = _settle(ours.port, case, first, last)
            settle_s = time.perf_counter() - began
            cell = measure_create(ours.port, bearer, CONNECTIONS)
            stored = _stored(ours.port)
    finally:
        if receiver is not None:
            procs.stop(receiver)
    return {
        "url": url,
        "created": created + 2,
        "create_s": round(create_s, 1),
        "settle_s": round(settle_s, 1),
        "states_before": states,
        "stored_after": stored,
        "load": cell.to_dict(),
    }


def _settle(port: int, case: str, first: str, last: str) -> dict[str, Any]:
    """Wait until the backlog is what the row says it is; report the oldest and newest messages.

    Healthy: the newest message delivered (the oldest may have left the journal, which keeps
    10 000 and drops delivered ones first). Down: the newest refused twice - its first retry is
    the last of the 5 s wave - and the oldest still in the journal, pending."""
    deadline = time.monotonic() + WAVE_TIMEOUT
    while True:
        newest = _message(port, last)
        if case == "healthy" and newest is not None and newest["state"] == "delivered":
            break
        if case == "down" and newest is not None and len(newest["attempts"]) >= 2 and newest["state"] == "pending":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"backlog ({case}) not settled after {WAVE_TIMEOUT:.0f} s: {newest}")
        time.sleep(0.2)
    oldest = _message(port, first)
    if case == "down":
        if oldest is None or oldest["state"] != "pending":
            raise RuntimeError(f"backlog (down): the oldest message should be pending, not {oldest}")
        time.sleep(1)  # attempts that came due just before the newest one's may still be ending
    elif oldest is not None and oldest["state"] != "delivered":
        raise RuntimeError(f"backlog (healthy): the oldest message should be delivered, not {oldest['state']}")
    return {
        "oldest": oldest["state"] if oldest else "dropped from the journal",
        "oldest_attempts": len(oldest["attempts"]) if oldest else None,
        "newest": newest["state"],
        "newest_attempts": len(newest["attempts"]),
    }


def _message(port: int, verification_id: str) -> dict[str, Any] | None:
    status, body = client.call(port, "GET", f"/__admin/webhooks/deliveries?verificationId={verification_id}")
    if status != 200 or not body or body["count"] > 1:
        raise RuntimeError(f"deliveries of {verification_id}: {status} {body}")
    return dict(body["deliveries"][0]) if body["count"] else None


def _stored(port: int) -> int:
    status, body = client.call(port, "GET", "/__admin/health")
    return int(body["verifications"]) if status == 200 else -1


def message_states(row: dict[str, Any]) -> str:
    """One line for the log: what each case's oldest and newest messages were before wrk ran."""
    parts = []
    for case in ("healthy", "down"):
        s = row[case]["states_before"]
        attempts = f" ({s['oldest_attempts']} attempts)" if s["oldest_attempts"] is not None else ""
        parts.append(f"{case}: oldest {s['oldest']}{attempts}, newest {s['newest']} ({s['newest_attempts']})")
    return "; ".join(parts)
