"""Human tables by default, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TextIO

Column = tuple[str, Callable[[dict[str, Any]], object]]


def cell(value: object) -> str:
    if value is None:
        return "-"
    return " ".join(str(value).split())  # one line per row, whatever a value holds


def table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> str:
    """Left-aligned columns under upper-case headers; `(none)` for no rows."""
    if not rows:
        return "(none)"
    grid = [[header.upper() for header, _ in columns]] + [[cell(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(line[index]) for line in grid) for index in range(len(columns))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip() for line in grid
    )


def emit(out: TextIO, body: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    out.write((json.dumps(body, indent=2) if as_json else render(body)) + "\n")
    out.flush()


def clock_line(clock: dict[str, Any]) -> str:
    frozen = ", frozen" if clock.get("frozen") else ""
    return f"mock clock {clock['now']} (offset {clock['offsetSeconds']:g} s{frozen})"


def short_time(iso: str | None) -> str | None:
    """`2024-05-01T12:00:00.123Z` -> `12:00:00.123`: rows are read within a day."""
    if not iso or "T" not in iso:
        return iso
    return iso.split("T", 1)[1].rstrip("Z")


def attempt_result(attempt: dict[str, Any]) -> str:
    code = attempt.get("statusCode")
    latency = attempt.get("latencyMs")
    timing = f" ({latency:.0f} ms)" if isinstance(latency, int | float) else ""
    if code is not None and 200 <= code < 300:
        return f"{code}{timing}"
    return f"{attempt.get('error') or code}{timing}"


VERIFICATION_COLUMNS: list[Column] = [
    ("created", lambda v: v.get("created")),
    ("status", lambda v: v.get("status")),
    ("reason", lambda v: v.get("statusReason")),
    ("env", lambda v: v.get("environment")),
    ("verification id", lambda v: v.get("verificationId")),
    ("id", lambda v: v.get("id")),
    ("member", lambda v: v.get("memberId")),
    ("rule", lambda v: v.get("rule") or "roster"),
    ("next transition", lambda v: v.get("nextTransitionAt")),
]


def subject_id(message: dict[str, Any]) -> object:
    """What a webhook message is about: its verificationId or its discoveryId."""
    return message.get("verificationId") or message.get("discoveryId")


def coverages(discovery: dict[str, Any]) -> str | None:
    """`62308/00000000, …` once complete (`none` when nothing was found); nothing while searching."""
    if discovery.get("status") != "complete":
        return None
    found = discovery.get("coverages") or []
    return ", ".join(f"{c['payerId']}/{c['memberId']}" for c in found) or "none"


DISCOVERY_COLUMNS: list[Column] = [
    ("created", lambda d: d.get("created")),
    ("status", lambda d: d.get("status")),
    ("env", lambda d: d.get("environment")),
    ("discovery id", lambda d: d.get("discoveryId")),
    ("id", lambda d: d.get("id")),
    ("state", lambda d: d.get("state")),
    ("found (payer/member)", coverages),
    ("rule", lambda d: d.get("rule") or "roster search"),
    ("next transition", lambda d: d.get("nextTransitionAt")),
]

DELIVERY_COLUMNS: list[Column] = [
    ("created", lambda m: m.get("created")),
    ("message", lambda m: m.get("id")),
    ("event", lambda m: m.get("event")),
    ("verification/discovery id", subject_id),
    ("status", lambda m: (m.get("payload") or {}).get("status")),
    ("state", lambda m: m.get("state")),
    ("attempts", lambda m: len(m.get("attempts") or [])),
    ("last", lambda m: attempt_result(m["attempts"][-1]) if m.get("attempts") else None),
    ("url", lambda m: m.get("url")),
]

ATTEMPT_COLUMNS: list[Column] = [
    ("attempt", lambda a: a.get("attempt")),
    ("at", lambda a: a.get("at")),
    ("trigger", lambda a: a.get("trigger")),
    ("result", attempt_result),
]
