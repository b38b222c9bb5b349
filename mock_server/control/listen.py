"""`sohar-mock listen`: every webhook attempt as it happens, like `stripe listen`.

Polls `GET /__admin/webhooks/deliveries?since=REVISION` (a few times a second) and prints each
attempt recorded after the cursor, oldest first. Nothing runs in the mock for it: a listener
that stops, or never reads, costs the mock nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from .client import MockClient
from .formatting import attempt_result, cell, short_time, subject_id

# Often enough that a delivery shows within a second of happening; each poll is one small GET.
POLL_SECONDS = 0.25

LINE = "{at:<12}  {event:<29}  {subject:<36}  {status:<19}  {message:<31}  {attempt:>7}  {result}"
HEADER = LINE.format(
    at="at",
    event="event",
    subject="verification/discovery id",
    status="status",
    message="message",
    attempt="attempt",
    result="result",
)


def new_attempts(deliveries: list[dict[str, Any]], since: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(message, attempt) for each attempt recorded after `since`, in the order they were recorded."""
    found = [(a["revision"], m, a) for m in deliveries for a in m.get("attempts", []) if a.get("revision", 0) > since]
    for _, message, attempt in sorted(found, key=lambda item: item[0]):
        yield message, attempt


def line(message: dict[str, Any], attempt: dict[str, Any]) -> str:
    payload = message.get("payload") or {}
    return LINE.format(
        at=cell(short_time(attempt.get("at"))),
        event=cell(message.get("event")),
        subject=cell(subject_id(message)),
        status=cell(payload.get("status")),
        message=cell(message.get("id")),
        attempt=cell(attempt.get("attempt")),
        result=f"{attempt.get('trigger')} -> {attempt_result(attempt)}  {message.get('url')}",
    )


def record(message: dict[str, Any], attempt: dict[str, Any]) -> str:
    """One JSON line per attempt: the message (without its other attempts) and this attempt."""
    fields = {key: value for key, value in message.items() if key != "attempts"}
    return json.dumps({**fields, "attempt": attempt}, separators=(",", ":"))


def follow(
    client: MockClient,
    out: TextIO,
    note: Callable[[str], None],
    *,
    events: list[str] | None,
    as_json: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Print attempts until interrupted (KeyboardInterrupt propagates to the caller)."""
    wanted = set(events) if events else None
    one_event = events[0] if events and len(events) == 1 else None
    cursor = int(client.health()["revision"])
    note(f"Ready: listening for webhook deliveries at {client.url} (Ctrl-C to stop)")
    if not as_json:
        out.write(HEADER.rstrip() + "\n")
        out.flush()
    while True:
        answer = client.deliveries(since=cursor, event=one_event)
        if answer["resetRevision"] > cursor:
            note("-- the mock was reset --")
        for message, attempt in new_attempts(answer["deliveries"], cursor):
            if wanted is None or message.get("event") in wanted:
                out.write((record(message, attempt) if as_json else line(message, attempt).rstrip()) + "\n")
        out.flush()
        cursor = int(answer["revision"])
        sleep(POLL_SECONDS)
