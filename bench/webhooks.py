"""Rows 6 and 11: create -> signed webhook received, with a fixed number of verifications (or
discoveries) in flight.

Closed loop: each of `in_flight` workers creates a verification over its own keep-alive
connection, waits until the receiver (a separate process) has the first webhook for it,
and starts the next. Latency is from just before the create is written to the webhook's
arrival at the receiver. Every signature is checked with the official svix library after
the run, outside the timing.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import free_port

from . import client, procs, rawhttp, servers

ARRIVAL_TIMEOUT = 30.0


@dataclass(frozen=True)
class Kind:
    """What is created: the path, the body and the id field of the 201 and of the webhook payload."""

    noun: str
    path: str
    body: dict[str, Any]
    id_field: str
    event: str


VERIFICATION = Kind(
    "verification", "/v2/verifications", client.CREATE_BODY, "verificationId", "sandbox.verification.updated"
)
DISCOVERY = Kind("discovery", "/v2/discovery", client.DISCOVERY_BODY, "discoveryId", "sandbox.discovery.updated")


def measure(
    command: list[str],
    logs: Path,
    total: int,
    in_flight: int,
    kind: Kind = VERIFICATION,
    extra: Sequence[str] = (),
    label: str = "",
) -> dict[str, Any]:
    """`extra`: more `serve` arguments (row 12's `--state PATH`); `label` tells the server logs apart."""
    receiver = procs.spawn(
        [sys.executable, "-u", "-m", "bench.receiver"], stdout=subprocess.PIPE, stderr=None, cwd=servers.ROOT
    )
    try:
        assert receiver.stdout is not None
        ready = json.loads(receiver.stdout.readline() or "{}")
        if "ready" not in ready:
            return {"skipped": "the webhook receiver did not start"}
        hook_url = f"http://127.0.0.1:{ready['ready']}/webhooks/sohar"
        port = free_port()
        argv = [*command, "serve", "--port", str(port), "--webhook-url", hook_url, *extra]
        log = logs / f"ours-webhooks-{kind.noun}{f'-{label}' if label else ''}.log"
        with servers.Server("sohar-mock", argv, port, log):
            return asyncio.run(_drive(port, receiver, total, in_flight, hook_url, kind))
    finally:
        procs.stop(receiver)


async def _drive(
    port: int, receiver: subprocess.Popen[Any], total: int, in_flight: int, url: str, kind: Kind
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    arrivals: dict[str, float] = {}
    waiters: dict[str, asyncio.Future[float]] = {}
    records: list[dict[str, Any]] = []
    reader = asyncio.StreamReader(limit=1 << 20)
    assert receiver.stdout is not None
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), receiver.stdout)

    async def collect() -> None:
        while line := await reader.readline():
            record = json.loads(line)
            records.append(record)
            subject_id = json.loads(record["body"]).get(kind.id_field)
            if subject_id in arrivals:
                continue  # a later event for the same verification: the first one counts
            arrivals[subject_id] = record["t"]
            future = waiters.pop(subject_id, None)
            if future is not None and not future.done():
                future.set_result(record["t"])

    bearer = client.token(port)
    request = rawhttp.create_request(bearer, kind.path, kind.body)
    latencies: list[float] = []
    remaining = {"warmup": in_flight, "measured": total}

    async def worker() -> None:
        conn_reader, conn_writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for phase in ("warmup", "measured"):
                while remaining[phase] > 0:
                    remaining[phase] -= 1
                    began = time.monotonic()
                    conn_writer.write(request)
                    subject_id = await rawhttp.read_create_answer(conn_reader, kind.id_field)
                    arrived = arrivals.get(subject_id)
                    if arrived is None:
                        future = waiters[subject_id] = loop.create_future()
                        arrived = await asyncio.wait_for(future, ARRIVAL_TIMEOUT)
                    if phase == "measured":
                        latencies.append((arrived - began) * 1000)
        finally:
            conn_writer.close()

    collector = asyncio.create_task(collect())
    began = time.monotonic()
    try:
        await asyncio.gather(*(worker() for _ in range(in_flight)))
    except TimeoutError:
        return {"skipped": f"a webhook did not arrive within {ARRIVAL_TIMEOUT:.0f} s ({len(arrivals)} arrived)"}
    finally:
        elapsed = time.monotonic() - began
        collector.cancel()
        transport.close()
    verified = _verify(records)
    events = {json.loads(record["body"]).get("event") for record in records}
    latencies.sort()
    return {
        "kind": kind.noun,
        "events": sorted(e for e in events if isinstance(e, str)),
        "in_flight": in_flight,
        "count": len(latencies),
        "received": len(records),
        "verified": verified,
        "p50_ms": statistics.median(latencies),
        "p90_ms": _percentile(latencies, 90),
        "p99_ms": _percentile(latencies, 99),
        "max_ms": latencies[-1],
        "creates_per_s": round((len(latencies) + in_flight) / elapsed, 1),
        "method": (
            f"N workers (N = in flight), each on its own keep-alive connection, create a {kind.noun} "
            f"(`POST {kind.path}`, Sohar's sandbox example) and wait for its first `{kind.event}` "
            "before creating the next; "
            f"N warm-up {kind.noun} creates are not counted. Time runs from just before the create "
            "is written to the webhook's arrival at a raw-asyncio receiver in its own process "
            f"(`sohar-mock serve --webhook-url {url.rsplit(':', 1)[0]}:R/...`). Every webhook received, "
            "warm-up included, is then checked with `svix.webhooks.Webhook(secret).verify`."
        ),
    }


def _percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _verify(records: list[dict[str, Any]]) -> int:
    from svix.webhooks import Webhook, WebhookVerificationError

    webhook = Webhook(DEFAULT_WEBHOOK_SECRET)
    ok = 0
    for record in records:
        try:
            webhook.verify(record["body"], record["headers"])
            ok += 1
        except WebhookVerificationError:
            pass
    return ok
