"""`sohar-contract webhook-consumer`: play Sohar toward a webhook endpoint, honestly and not.

Sohar delivers through Svix: a POST with the thin JSON payload and `svix-id`,
`svix-timestamp`, `svix-signature` headers, signed (HMAC-SHA256, `v1,`) over
`{id}.{timestamp}.{raw body}`. For each verification status and each discovery status the
checker sends one valid delivery, then deliveries a correct consumer must reject (forged, tampered, stale, unsigned)
and ones it must accept although a sloppy one would not (secret rotation, the Standard
Webhooks header names, bytes it must not re-serialise, unknown events, a retried message).

Accept = a 2xx answer, reject = anything else. Any wrong answer fails the run.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from svix.webhooks import Webhook

# Re-exported: the checks run in this order; `*discovery.updated` carries either discovery status.
from mock_server.statuses import DISCOVERY_STATUSES as DISCOVERY_STATUSES
from mock_server.statuses import STATUSES as STATUSES

ACCEPT = "accept"
REJECT = "reject"
# Svix's libraries refuse timestamps more than 5 minutes away from now, either way.
OUTSIDE_TOLERANCE_SECONDS = 6 * 60
EXIT_WRONG_ANSWER = 1
EXIT_UNREACHABLE = 2


@dataclass(frozen=True)
class Delivery:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Case:
    name: str
    expect: str
    why: str
    deliveries: tuple[Delivery, ...]


@dataclass
class Outcome:
    case: Case
    answers: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        if len(self.answers) != len(self.case.deliveries):
            return False
        good = [a.isdigit() and 200 <= int(a) < 300 for a in self.answers]
        return all(good) if self.case.expect == ACCEPT else not any(good)


def event_name(status: str, environment: str) -> str:
    prefix = "sandbox." if environment == "sandbox" else ""
    return f"{prefix}verification.{'pending' if status == 'pending' else 'updated'}"


def payload(status: str, environment: str, event: str | None = None) -> dict[str, object]:
    """Sohar's thin payload (its documented field order)."""
    return {
        "event": event or event_name(status, environment),
        "verificationId": str(uuid.uuid4()),
        "id": f"contract-{secrets.token_hex(4)}",
        "status": status,
    }


def discovery_event_name(environment: str) -> str:
    return "sandbox.discovery.updated" if environment == "sandbox" else "discovery.updated"


def discovery_payload(status: str, environment: str) -> dict[str, object]:
    """Sohar's thin discovery payload (its documented field order)."""
    return {
        "event": discovery_event_name(environment),
        "discoveryId": str(uuid.uuid4()),
        "status": status,
        "id": f"contract-{secrets.token_hex(4)}",
    }


def compact(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def message_id() -> str:
    return f"msg_{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}"


def random_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Signer:
    """Makes Svix headers with the official library, for any message id, time and body."""

    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)

    def signature(self, msg_id: str, at: int, body: bytes) -> str:
        return self.webhook.sign(msg_id, datetime.fromtimestamp(at, UTC), body.decode())

    def headers(self, body: bytes, *, msg_id: str | None = None, at: int | None = None) -> dict[str, str]:
        msg_id = msg_id or message_id()
        at = int(time.time()) if at is None else at
        return {"svix-id": msg_id, "svix-timestamp": str(at), "svix-signature": self.signature(msg_id, at, body)}


def _with_json(headers: dict[str, str]) -> dict[str, str]:
    return {"content-type": "application/json", **headers}


def _flip_one_byte(body: bytes) -> bytes:
    # Change a character inside the verificationId's value: still valid JSON, different bytes.
    index = body.index(b'"verificationId":"') + len(b'"verificationId":"')
    replacement = b"0" if body[index : index + 1] != b"0" else b"1"
    return body[:index] + replacement + body[index + 1 :]


def build_cases(secret: str, environment: str = "sandbox") -> list[Case]:
    """Every case, each with freshly signed deliveries (timestamps are taken now)."""
    signer = Signer(secret)
    cases: list[Case] = []

    def signed(body: bytes, **kwargs: object) -> Delivery:
        return Delivery(body, _with_json(signer.headers(body, **kwargs)))  # type: ignore[arg-type]

    for status in STATUSES:
        body = compact(payload(status, environment))
        cases.append(Case(f"valid {status}", ACCEPT, f"a genuine {event_name(status, environment)}", (signed(body),)))
    for status in DISCOVERY_STATUSES:
        body = compact(discovery_payload(status, environment))
        why = f"a genuine {discovery_event_name(environment)} ({status})"
        cases.append(Case(f"valid discovery {status}", ACCEPT, why, (signed(body),)))

    base = payload("complete.eligible", environment)
    body = compact(base)

    def adversarial(name: str, expect: str, why: str, make: Callable[[], tuple[Delivery, ...]]) -> None:
        cases.append(Case(name, expect, why, make()))

    def bad_signature() -> tuple[Delivery, ...]:
        headers = signer.headers(body)
        headers["svix-signature"] = "v1," + base64.b64encode(secrets.token_bytes(32)).decode()
        return (Delivery(body, _with_json(headers)),)

    def wrong_secret() -> tuple[Delivery, ...]:
        return (Delivery(body, _with_json(Signer(random_secret()).headers(body))),)

    def one_byte_changed() -> tuple[Delivery, ...]:
        return (Delivery(_flip_one_byte(body), _with_json(signer.headers(body))),)

    def reserialized() -> tuple[Delivery, ...]:
        # The same JSON value in other bytes: the signature covers bytes, not values.
        return (Delivery(json.dumps(base, indent=2, sort_keys=True).encode(), _with_json(signer.headers(body))),)

    def unusual_formatting() -> tuple[Delivery, ...]:
        # Spaces, a newline, its own key order and a \u escape: what `json.dumps` would never produce.
        raw = (
            '{ "status" : "complete.eligible",\n  "event": "' + str(base["event"]) + '" ,'
            '"verificationId":"' + str(base["verificationId"]) + '", "id":"caf\\u00e9-1" }\n'
        )
        return (signed(raw.encode()),)

    def stale(offset: int) -> Callable[[], tuple[Delivery, ...]]:
        return lambda: (signed(body, at=int(time.time()) + offset),)

    def without(header: str) -> Callable[[], tuple[Delivery, ...]]:
        def make() -> tuple[Delivery, ...]:
            headers = _with_json(signer.headers(body))
            del headers[header]
            return (Delivery(body, headers),)

        return make

    def standard_webhooks_names() -> tuple[Delivery, ...]:
        headers = {name.replace("svix-", "webhook-"): value for name, value in signer.headers(body).items()}
        return (Delivery(body, _with_json(headers)),)

    def rotation(valid: bool) -> Callable[[], tuple[Delivery, ...]]:
        def make() -> tuple[Delivery, ...]:
            headers = signer.headers(body)
            old = Signer(random_secret()).signature(headers["svix-id"], int(headers["svix-timestamp"]), body)
            current = (
                headers["svix-signature"]
                if valid
                else Signer(random_secret()).signature(headers["svix-id"], int(headers["svix-timestamp"]), body)
            )
            headers["svix-signature"] = f"{old} {current}"
            return (Delivery(body, _with_json(headers)),)

        return make

    def unknown_event() -> tuple[Delivery, ...]:
        unknown = {**payload("complete.eligible", environment), "event": "sandbox.verification.archived"}
        return (signed(compact(unknown)),)

    def duplicate() -> tuple[Delivery, ...]:
        msg_id = message_id()
        # A Svix retry: the same id, a new attempt timestamp and signature, the same bytes.
        return (signed(body, msg_id=msg_id), signed(body, msg_id=msg_id, at=int(time.time()) + 1))

    adversarial("bad signature", REJECT, "a v1 signature that is not the HMAC of the message", bad_signature)
    adversarial("wrong secret", REJECT, "signed with a secret that is not this endpoint's", wrong_secret)
    adversarial("body changed by one byte", REJECT, "one byte of the signed body altered", one_byte_changed)
    adversarial("re-serialized body", REJECT, "same JSON value, other bytes than were signed", reserialized)
    adversarial(
        "unusual but signed formatting", ACCEPT, "verify the raw bytes, never a re-serialization", unusual_formatting
    )
    tolerance = "outside Svix's 5-minute tolerance"
    adversarial("timestamp 6 min old", REJECT, f"{tolerance} (a replay)", stale(-OUTSIDE_TOLERANCE_SECONDS))
    adversarial("timestamp 6 min ahead", REJECT, tolerance, stale(OUTSIDE_TOLERANCE_SECONDS))
    for header in ("svix-id", "svix-timestamp", "svix-signature"):
        adversarial(f"missing {header}", REJECT, "an unsigned or unverifiable delivery", without(header))
    adversarial(
        "webhook-* header names", ACCEPT, "Standard Webhooks names; Svix libraries accept both", standard_webhooks_names
    )
    adversarial("two signatures, one valid", ACCEPT, "secret rotation: one valid v1 signature suffices", rotation(True))
    adversarial("two signatures, none valid", REJECT, "neither signature matches", rotation(False))
    adversarial("unknown event type", ACCEPT, "acknowledge and ignore, or Svix retries it for days", unknown_event)
    adversarial("same svix-id twice", ACCEPT, "a retry: acknowledge both, process once", duplicate)
    return cases


def run_cases(url: str, cases: Sequence[Case], *, timeout: float = 10.0) -> list[Outcome]:
    outcomes = []
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        for case in cases:
            outcome = Outcome(case)
            for delivery in case.deliveries:
                try:
                    response = http.post(url, content=delivery.body, headers=delivery.headers)
                    outcome.answers.append(str(response.status_code))
                except httpx.HTTPError as exc:
                    outcome.answers.append(f"error: {type(exc).__name__}")
            outcomes.append(outcome)
    return outcomes


def render_table(outcomes: Sequence[Outcome]) -> str:
    rows = [("case", "expect", "got", "result", "why")]
    for outcome in outcomes:
        rows.append(
            (
                outcome.case.name,
                outcome.case.expect,
                ",".join(outcome.answers),
                "ok" if outcome.passed else "WRONG",
                outcome.case.why,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 3)
    failed = sum(not o.passed for o in outcomes)
    lines.append("")
    summary = f"{len(outcomes) - failed} of {len(outcomes)} cases answered as expected"
    lines.append(summary + (f", {failed} wrong" if failed else ""))
    return "\n".join(lines)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "webhook-consumer",
        help="send valid and adversarial Svix-signed deliveries to a webhook endpoint",
        description="Accept = 2xx, reject = anything else; exit 1 on any wrong answer.",
    )
    p.add_argument("--url", required=True, help="the webhook endpoint under test")
    p.add_argument("--secret", required=True, help="the endpoint's signing secret (whsec_...)")
    p.add_argument("--environment", choices=("sandbox", "production"), default="sandbox", help="event name prefix")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    p.set_defaults(run=main)


def main(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    if not args.url.startswith(("http://", "https://")):
        print(f"sohar-contract webhook-consumer: --url must be http(s)://, got {args.url!r}", file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        cases = build_cases(args.secret, args.environment)
    except Exception as exc:  # svix rejects a malformed secret with its own exception types
        print(f"sohar-contract webhook-consumer: unusable --secret: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    outcomes = run_cases(args.url, cases, timeout=args.timeout)
    if all(answer.startswith("error") for o in outcomes for answer in o.answers):
        print(f"sohar-contract webhook-consumer: {args.url} did not answer ({outcomes[0].answers[0]})", file=sys.stderr)
        return EXIT_UNREACHABLE
    if args.json:
        print(
            json.dumps(
                [
                    {"case": o.case.name, "expect": o.case.expect, "answers": o.answers, "passed": o.passed}
                    for o in outcomes
                ],
                indent=2,
            )
        )
    else:
        print(render_table(outcomes))
    return 0 if all(o.passed for o in outcomes) else EXIT_WRONG_ANSWER
