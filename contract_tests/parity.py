"""`sohar-contract parity`: the same scripted inputs to two servers, and a semantic diff.

Meant for the mock against Sohar's real sandbox, to catch drift between them. Each step
sends one request to both sides; the answers are compared by meaning, not bytes: status
codes, the error envelope (`error`, `param`), verification `status`/`statusReason`, a
discovery's `status` and the `payerId`/`memberId` it found (Sohar's sandbox values), and
for everything else which fields are present and of which JSON type. Ids, timestamps and
names differ between any two servers and are not compared. With `--receiver URL` the
command also listens for webhooks (both servers must deliver there) and compares the
event sequence each created verification and discovery produced.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import DOCUMENTED_MEMBER

from .oauth import Credentials, TokenError, TokenSource
from .receiver import WebhookReceiver

# Compared by value; every other field only by presence and JSON type.
VALUE_FIELDS = frozenset({"error", "param", "status", "statusReason", "token_type", "event"})
# Compared by value at these paths only: what a discovery found (Sohar documents the sandbox's).
VALUE_PATHS = frozenset({"body.payerId", "body.memberId"})
PENDING = "pending"
EXIT_DIFFERENT = 1
EXIT_SETUP = 2
MOCK_DEFAULT_CREDENTIALS = Credentials("sandbox-client-id", "sandbox-client-secret")
MOCK_DEFAULT_WEBHOOK_SECRET = DEFAULT_WEBHOOK_SECRET


# Sohar's Create Provider example, with an NPI whose check digit holds (Sohar's own, 0123456789, does not).
PROVIDER = {"npi": "1234567893", "payerId": "60054", "state": "CA"}


def member(**patient: str) -> dict[str, Any]:
    return {**DOCUMENTED_MEMBER, "patient": {**DOCUMENTED_MEMBER["patient"], **patient}, "id": "parity-check"}


def patient(state: str, **changes: str) -> dict[str, Any]:
    """The documented patient as Create Discovery takes it: no payer, no member id."""
    found = {k: v for k, v in DOCUMENTED_MEMBER["patient"].items() if k != "memberId"}
    return {**found, "state": state, **changes}


def without(path: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(member()))
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    del node[last]
    return body


@dataclass(frozen=True)
class Follow:
    """How a create is read back: the id field of its 201 and the Get path it goes to."""

    id_field: str
    path: str


VERIFICATION = Follow("verificationId", "/v2/verifications/{id}")
DISCOVERY = Follow("discoveryId", "/v2/discovery/{id}")


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    auth: str = "token"  # token | none | garbage
    body: Any = None
    raw: bytes | None = None
    # For creates: read the result back until it leaves `pending`, and compare that too.
    follow: Follow | None = None


def script() -> list[Step]:
    return [
        Step("token: documented credentials", "POST", "/oauth/token", auth="credentials"),
        Step("token: wrong secret", "POST", "/oauth/token", auth="none", body={"client_id": "x", "client_secret": "y"}),
        Step("token: body not JSON", "POST", "/oauth/token", auth="none", raw=b"client_id=x"),
        Step("auth: no Authorization header", "GET", "/v2/verifications/{unknown}", auth="none"),
        Step("auth: unknown bearer token", "GET", "/v2/verifications/{unknown}", auth="garbage"),
        Step("get: unknown verification id", "GET", "/v2/verifications/{unknown}"),
        Step("create: documented member", "POST", "/v2/verifications", body=member(), follow=VERIFICATION),
        Step(
            "create: other last name", "POST", "/v2/verifications", body=member(lastName="Smith"), follow=VERIFICATION
        ),
        Step(
            "create: other birth date",
            "POST",
            "/v2/verifications",
            body=member(dateOfBirth="01/01/1990"),
            follow=VERIFICATION,
        ),
        Step(
            "create: unknown member id",
            "POST",
            "/v2/verifications",
            body=member(memberId="99999999"),
            follow=VERIFICATION,
        ),
        Step("create: unknown payer", "POST", "/v2/verifications", body={**member(), "payerId": "NOPE-000"}),
        Step("create: missing dateOfBirth", "POST", "/v2/verifications", body=without("patient.dateOfBirth")),
        Step("create: malformed dateOfBirth", "POST", "/v2/verifications", body=member(dateOfBirth="2006-09-20")),
        Step("create: missing payerId", "POST", "/v2/verifications", body=without("payerId")),
        Step("create: body not JSON", "POST", "/v2/verifications", raw=b"{not json"),
        Step("create: no Authorization header", "POST", "/v2/verifications", auth="none", body=member()),
        # Discovery: Sohar's sandbox values (the state decides), the v1 body, and its errors.
        Step(
            "discovery: documented patient in CA",
            "POST",
            "/v2/discovery",
            body={"patient": patient("CA", zipCode="90210"), "id": "parity-check"},
            follow=DISCOVERY,
        ),
        Step("discovery: DE", "POST", "/v2/discovery", body={"patient": patient("DE")}, follow=DISCOVERY),
        Step(
            "discovery: OH, nothing found", "POST", "/v2/discovery", body={"patient": patient("OH")}, follow=DISCOVERY
        ),
        Step(
            "discovery v1: TX",
            "POST",
            "/v1/discovery",
            body={**patient("TX"), "npi": "0123456789", "id": "parity-check"},
            follow=DISCOVERY,
        ),
        Step(
            "discovery: missing state",
            "POST",
            "/v2/discovery",
            body={"patient": {k: v for k, v in patient("CA").items() if k != "state"}},
        ),
        Step(
            "discovery: malformed dateOfBirth",
            "POST",
            "/v2/discovery",
            body={"patient": patient("CA", dateOfBirth="2006-09-20")},
        ),
        Step("discovery v1: empty lastName", "POST", "/v1/discovery", body={**patient("CA"), "lastName": ""}),
        Step("get: unknown discovery id", "GET", "/v2/discovery/{unknown}"),
        Step(
            "discovery: no Authorization header", "POST", "/v2/discovery", auth="none", body={"patient": patient("CA")}
        ),
        # Only NPIs Sohar must refuse: a valid one would enrol a provider on the other side's account.
        Step("provider: 9-digit npi", "POST", "/v1/providers", body={**PROVIDER, "npi": "123456789"}),
        Step("provider: npi failing the check digit", "POST", "/v1/providers", body={**PROVIDER, "npi": "1234567890"}),
        Step("provider: no Authorization header", "POST", "/v1/providers", auth="none", body=PROVIDER),
        # The network-status path is inferred: a 404 here on one side only is a finding about it.
        Step("network status: unknown verification id", "GET", "/v2/verifications/{unknown}/network-status"),
        Step("network status: documented member", "GET", "/v2/verifications/{created}/network-status"),
    ]


@dataclass
class Answer:
    status_code: int | None
    body: Any
    error: str | None = None
    followed: Answer | None = None
    # The verificationId or discoveryId a followed create returned.
    subject_id: str | None = None


@dataclass
class Side:
    name: str
    base_url: str
    credentials: Credentials
    tokens: TokenSource = field(init=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.tokens = TokenSource(self.base_url, self.credentials)


def _send(http: httpx.Client, side: Side, step: Step, unknown_id: str, created_id: str | None = None) -> Answer:
    headers: dict[str, str] = {}
    body = step.body
    if step.auth == "token":
        headers.update(side.tokens.headers())
    elif step.auth == "garbage":
        headers["Authorization"] = "Bearer not-a-token"
    elif step.auth == "credentials":
        body = {"client_id": side.credentials.client_id, "client_secret": side.credentials.client_secret}
    # `{created}`: the first verification this side created in the run (else an unknown id).
    url = side.base_url + step.path.replace("{unknown}", unknown_id).replace("{created}", created_id or unknown_id)
    kwargs: dict[str, Any] = {"headers": headers}
    if step.raw is not None:
        kwargs["content"] = step.raw
        headers["content-type"] = "application/json"
    elif body is not None:
        kwargs["json"] = body
    try:
        response = http.request(step.method, url, **kwargs)
    except httpx.HTTPError as exc:
        return Answer(None, None, error=f"{type(exc).__name__}: {exc}")
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text[:200]
    return Answer(response.status_code, parsed)


def _follow(http: httpx.Client, side: Side, follow: Follow, subject_id: str, settle: float) -> Answer:
    """Get Verification (or Get Discovery) until the status is final (or `settle` seconds pass)."""
    deadline = time.monotonic() + settle
    while True:
        step = Step("follow", "GET", follow.path.replace("{id}", subject_id))
        answer = _send(http, side, step, subject_id)
        status = answer.body.get("status") if isinstance(answer.body, dict) else None
        if status != PENDING or time.monotonic() >= deadline:
            return answer
        time.sleep(0.5)


def run_side(side: Side, steps: list[Step], settle: float) -> list[Answer]:
    unknown_id = str(uuid.uuid4())
    created_id: str | None = None
    answers = []
    with httpx.Client(timeout=30, trust_env=False) as http:
        for step in steps:
            answer = _send(http, side, step, unknown_id, created_id)
            if step.follow and answer.status_code == 201 and isinstance(answer.body, dict):
                subject_id = answer.body.get(step.follow.id_field)
                if isinstance(subject_id, str):
                    answer.subject_id = subject_id
                    answer.followed = _follow(http, side, step.follow, subject_id, settle)
                    if step.follow is VERIFICATION:
                        created_id = created_id or subject_id
            answers.append(answer)
    return answers


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def diff_json(left: Any, right: Any, path: str = "body") -> list[tuple[str, str, str]]:
    """(path, left, right) for every semantic difference."""
    name = path.rsplit(".", 1)[-1]
    if (name in VALUE_FIELDS or path in VALUE_PATHS) and not isinstance(left, dict | list):
        return [] if left == right else [(path, json.dumps(left), json.dumps(right))]
    left_type, right_type = json_type(left), json_type(right)
    if left_type != right_type:
        return [(path, left_type, right_type)]
    out: list[tuple[str, str, str]] = []
    if isinstance(left, dict):
        for key in list(dict.fromkeys([*left, *right])):
            sub = f"{path}.{key}"
            if key not in right:
                out.append((sub, f"present ({json_type(left[key])})", "absent"))
            elif key not in left:
                out.append((sub, "absent", f"present ({json_type(right[key])})"))
            else:
                out += diff_json(left[key], right[key], sub)
    elif isinstance(left, list):
        if bool(left) != bool(right):
            out.append((path, f"{len(left)} items", f"{len(right)} items"))
        elif left and right:
            # Element shapes, not counts: plans list different numbers of benefits.
            out += diff_json(left[0], right[0], f"{path}[]")
    return out


def diff_answers(left: Answer, right: Answer) -> list[tuple[str, str, str]]:
    if left.error or right.error:
        return [] if left.error == right.error else [("request", left.error or "ok", right.error or "ok")]
    out: list[tuple[str, str, str]] = []
    if left.status_code != right.status_code:
        out.append(("statusCode", str(left.status_code), str(right.status_code)))
    out += diff_json(left.body, right.body)
    if left.followed or right.followed:
        if left.followed is None or right.followed is None:
            out.append(("then GET", "read" if left.followed else "none", "read" if right.followed else "none"))
        else:
            out += [(f"then GET {path}", a, b) for path, a, b in diff_answers(left.followed, right.followed)]
    return out


def summary(answer: Answer) -> str:
    if answer.error:
        return answer.error[:40]
    text = str(answer.status_code)
    if isinstance(answer.body, dict) and "param" in answer.body:
        text += f" param={answer.body['param']}"
    if answer.followed is not None and isinstance(answer.followed.body, dict):
        text += f" -> {answer.followed.body.get('status')}"
    return text


def event_sequence(receiver: WebhookReceiver, subject_id: str | None) -> list[str]:
    """The events one verification or discovery produced, in arrival order."""
    if subject_id is None:
        return []
    return [f"{item.event}:{item.status}" for item in receiver.verified if item.subject_id == subject_id]


def _wait_for_final_events(receiver: WebhookReceiver, ids: list[str], timeout: float) -> None:
    def done(_: object) -> bool:
        return all(any(seq and not seq.endswith(":pending") for seq in event_sequence(receiver, vid)) for vid in ids)

    receiver.wait_until(done, timeout)


def _receiver_for(url: str, secrets: list[str]) -> WebhookReceiver:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"--receiver must be an http://host:port/path URL this machine can listen on, got {url!r}")
    return WebhookReceiver(*secrets, host=parts.hostname, port=parts.port or 80, path=parts.path or "/")


def compare(
    mock: Side, sandbox: Side, *, settle: float, receiver: WebhookReceiver | None, webhook_wait: float
) -> tuple[list[str], int]:
    steps = script()
    answers = {side.name: run_side(side, steps, settle) for side in (mock, sandbox)}
    rows = [("step", mock.name, sandbox.name, "")]
    differences: list[str] = []
    if receiver is not None:
        created = [a.subject_id for side in answers.values() for a in side if a.subject_id]
        _wait_for_final_events(receiver, created, webhook_wait)
    for index, step in enumerate(steps):
        left, right = answers[mock.name][index], answers[sandbox.name][index]
        found = diff_answers(left, right)
        if receiver is not None and step.follow:
            left_events = event_sequence(receiver, left.subject_id)
            right_events = event_sequence(receiver, right.subject_id)
            if left_events != right_events:
                found.append(("webhook events", " ".join(left_events) or "none", " ".join(right_events) or "none"))
        rows.append((step.name, summary(left), summary(right), "same" if not found else f"{len(found)} DIFF"))
        differences += [f"{step.name} / {path}: {mock.name} {a} | {sandbox.name} {b}" for path, a, b in found]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)) for row in rows]
    if receiver is not None and receiver.rejected:
        differences.append(f"webhooks: {len(receiver.rejected)} deliveries failed signature verification")
    lines.append("")
    if differences:
        lines.append(f"{len(differences)} differences:")
        lines += [f"  {line}" for line in differences]
    else:
        lines.append(f"no differences in {len(steps)} steps")
    return lines, len(differences)


def _credentials(prefix: str, fallback: Credentials | None) -> Credentials | None:
    client_id = os.environ.get(f"{prefix}_CLIENT_ID")
    client_secret = os.environ.get(f"{prefix}_CLIENT_SECRET")
    if client_id and client_secret:
        return Credentials(client_id, client_secret)
    return fallback


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "parity",
        help="send the same scripted inputs to the mock and Sohar's sandbox and diff the answers",
        description=(
            "Credentials from the environment: SOHAR_MOCK_CLIENT_ID/SECRET (default: the mock's documented "
            "sandbox pair) and SOHAR_SANDBOX_CLIENT_ID/SECRET (else SOHAR_CLIENT_ID/SECRET). Webhook secrets "
            "for --receiver: SOHAR_MOCK_WEBHOOK_SECRET (default: the mock's) and SOHAR_SANDBOX_WEBHOOK_SECRET."
        ),
    )
    p.add_argument("--mock", required=True, help="the mock's base URL")
    p.add_argument("--sandbox", required=True, help="the other side, e.g. https://api.soharhealth.com")
    p.add_argument("--receiver", help="listen here for both sides' webhooks (http://host:port/path) and compare events")
    p.add_argument(
        "--settle", type=float, default=60.0, help="seconds to wait for a pending verification or discovery to finish"
    )
    p.add_argument("--webhook-wait", type=float, default=30.0, help="seconds to wait for the final webhook events")
    p.set_defaults(run=main)


def main(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    mock_credentials = _credentials("SOHAR_MOCK", MOCK_DEFAULT_CREDENTIALS)
    sandbox_credentials = _credentials("SOHAR_SANDBOX", _credentials("SOHAR", None))
    if sandbox_credentials is None:
        print("sohar-contract parity: set SOHAR_SANDBOX_CLIENT_ID and SOHAR_SANDBOX_CLIENT_SECRET", file=sys.stderr)
        return EXIT_SETUP
    assert mock_credentials is not None
    mock = Side("mock", args.mock, mock_credentials)
    sandbox = Side("sandbox", args.sandbox, sandbox_credentials)
    for side in (mock, sandbox):
        try:
            side.tokens.token()
        except TokenError as exc:
            print(f"sohar-contract parity: {side.name}: {exc}", file=sys.stderr)
            return EXIT_SETUP
    receiver: WebhookReceiver | None = None
    if args.receiver:
        secrets = [os.environ.get("SOHAR_MOCK_WEBHOOK_SECRET") or MOCK_DEFAULT_WEBHOOK_SECRET]
        if os.environ.get("SOHAR_SANDBOX_WEBHOOK_SECRET"):
            secrets.append(os.environ["SOHAR_SANDBOX_WEBHOOK_SECRET"])
        try:
            receiver = _receiver_for(args.receiver, secrets).start()
        except (ValueError, OSError) as exc:
            print(f"sohar-contract parity: cannot listen on {args.receiver}: {exc}", file=sys.stderr)
            return EXIT_SETUP
    try:
        lines, differences = compare(
            mock, sandbox, settle=args.settle, receiver=receiver, webhook_wait=args.webhook_wait
        )
    finally:
        if receiver is not None:
            receiver.stop()
    print("\n".join(lines))
    return EXIT_DIFFERENT if differences else 0
