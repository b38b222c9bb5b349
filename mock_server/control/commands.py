"""The control subcommands of `sohar-mock`: trigger, discover, listen, advance, reset,
verifications, discoveries, deliveries, replay, force, force-discovery, load-scenario. Exit codes
as elsewhere: 0 done, 1 the mock said no (or a trigger ended elsewhere than asked), 2 bad usage
or no mock at the URL."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..domain.auth import ENVIRONMENTS
from ..domain.lifecycle import FINAL, PENDING, STATUS_REASONS, STATUSES
from ..settings import DEFAULT_CREDENTIALS
from ..statuses import DISCOVERY_COMPLETE, DISCOVERY_STATUSES
from ..webhooks.messages import STATES
from . import listen, triggers
from .client import MockClient, Refused, Unreachable
from .formatting import (
    ATTEMPT_COLUMNS,
    DELIVERY_COLUMNS,
    DISCOVERY_COLUMNS,
    VERIFICATION_COLUMNS,
    clock_line,
    emit,
    table,
)

DEFAULT_URL = "http://127.0.0.1:8080"
URL_VARIABLE = "SOHAR_MOCK_URL"
EXIT_REFUSED = 1
EXIT_USAGE = 2
WAIT_POLL_SECONDS = 0.1

Run = Callable[[argparse.Namespace, MockClient], int]
REASONS = sorted({reason for reasons in STATUS_REASONS.values() for reason in reasons})


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http(s):// URL, got {text!r}")
    return text.rstrip("/")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _coverage(text: str) -> dict[str, str]:
    payer_id, _, member_id = text.partition(":")
    if not payer_id.strip() or not member_id.strip():
        raise argparse.ArgumentTypeError(f"expected PAYER_ID:MEMBER_ID, got {text!r}")
    return {"payerId": payer_id.strip(), "memberId": member_id.strip()}


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more seconds, got {text!r}")
    return value


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        type=_url,
        default=None,
        help=f"the running mock (env {URL_VARIABLE}; default {DEFAULT_URL})",
    )
    common.add_argument("--json", action="store_true", help="print the admin API's JSON instead of a table")
    return common


def _run(name: str, run: Run) -> Callable[[argparse.Namespace], int]:
    """A command with its client, its one-line errors and its exit code."""

    def command(args: argparse.Namespace) -> int:
        url = args.url
        if url is None:
            try:
                url = _url(os.environ.get(URL_VARIABLE) or DEFAULT_URL)
            except argparse.ArgumentTypeError as exc:
                print(f"sohar-mock {name}: {URL_VARIABLE}: {exc}", file=sys.stderr)
                return EXIT_USAGE
        try:
            with MockClient(url) as client:
                return run(args, client)
        except Unreachable as exc:
            print(f"sohar-mock {name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except Refused as exc:
            print(f"sohar-mock {name}: the mock refused: {exc}", file=sys.stderr)
            return EXIT_REFUSED

    return command


# -- trigger ------------------------------------------------------------------------------


def _credentials(args: argparse.Namespace) -> tuple[str, str]:
    default = next(c for c in DEFAULT_CREDENTIALS if c.environment == args.environment)
    return args.client_id or default.client_id, args.client_secret or default.client_secret


def _reached(detail: dict[str, Any], status: str) -> bool:
    """Done waiting: a final status, or (for `pending`) the outage's pending step itself,
    not the `pending` every verification shows before its result is due."""
    if status == PENDING:
        return detail["status"] in FINAL or any(
            step["status"] == PENDING and step["cause"] != "created" for step in detail["timeline"]
        )
    return detail["status"] in FINAL


def run_trigger(args: argparse.Namespace, client: MockClient) -> int:
    try:
        trigger = triggers.find(args.status, args.reason)
    except ValueError as exc:
        print(f"sohar-mock trigger: {exc}", file=sys.stderr)
        return EXIT_USAGE
    token = client.token(*_credentials(args))
    created = client.create_verification(token, triggers.request_body(trigger, args.id))
    verification_id = created["verificationId"]
    detail = client.verification(verification_id)
    if args.wait:
        waited = _wait(
            "trigger",
            args,
            detail,
            lambda: client.verification(verification_id),
            lambda d: _reached(d, trigger.status),
            _trigger_table,
        )
        if waited is None:
            return EXIT_REFUSED
        detail = waited
    detail["trigger"] = {"memberId": trigger.member_id, "status": trigger.status, "statusReason": trigger.reason}
    emit(sys.stdout, detail, args.json, _trigger_table)
    if (
        args.wait
        and trigger.status != PENDING
        and (detail["status"], detail["statusReason"])
        != (
            trigger.status,
            trigger.reason,
        )
    ):
        print(
            f"sohar-mock trigger: ended {detail['status']} / {detail['statusReason']}, not"
            f" {trigger.status} / {trigger.reason}: are the default scenarios loaded?",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    return 0


def _trigger_table(detail: dict[str, Any]) -> str:
    return table([detail], VERIFICATION_COLUMNS)


def _wait(
    name: str,
    args: argparse.Namespace,
    detail: dict[str, Any],
    fetch: Callable[[], dict[str, Any]],
    done: Callable[[dict[str, Any]], bool],
    render: Callable[[dict[str, Any]], str],
) -> dict[str, Any] | None:
    """`detail` fetched again until `done`; None (having said why) after --timeout seconds."""
    deadline = time.monotonic() + args.timeout
    while not done(detail):
        if time.monotonic() > deadline:
            emit(sys.stdout, detail, args.json, render)
            nxt = detail.get("nextTransitionAt")
            hint = f"; its next transition is due at {nxt} on the mock clock (sohar-mock advance)" if nxt else ""
            print(f"sohar-mock {name}: still {detail['status']} after {args.timeout:g} s{hint}", file=sys.stderr)
            return None
        time.sleep(WAIT_POLL_SECONDS)
        detail = fetch()
    return detail


# -- discover -------------------------------------------------------------------------------


def _discovery_table(detail: dict[str, Any]) -> str:
    return table([detail], DISCOVERY_COLUMNS)


def run_discover(args: argparse.Namespace, client: MockClient) -> int:
    token = client.token(*_credentials(args))
    created = client.create_discovery(token, triggers.discovery_body(args.state.upper(), args.id))
    discovery_id = created["discoveryId"]
    detail = client.discovery(discovery_id)
    if args.wait:
        waited = _wait(
            "discover",
            args,
            detail,
            lambda: client.discovery(discovery_id),
            lambda d: d["status"] == DISCOVERY_COMPLETE,
            _discovery_table,
        )
        if waited is None:
            return EXIT_REFUSED
        detail = waited
    emit(sys.stdout, detail, args.json, _discovery_table)
    return 0


# -- the other commands ---------------------------------------------------------------------


def run_listen(args: argparse.Namespace, client: MockClient) -> int:
    def note(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    # SIGTERM (a script's `kill`) stops it as cleanly as Ctrl-C.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        listen.follow(client, sys.stdout, note, events=args.events, as_json=args.json)
    except KeyboardInterrupt:
        note("stopped")
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def run_advance(args: argparse.Namespace, client: MockClient) -> int:
    clock = client.advance(args.seconds)
    settled = "" if clock.get("settled", True) else " (not settled: a receiver is slow; the rest runs as it comes due)"
    emit(sys.stdout, clock, args.json, lambda c: clock_line(c) + settled)
    return 0


def run_reset(args: argparse.Namespace, client: MockClient) -> int:
    emit(sys.stdout, client.reset(), args.json, lambda body: f"reset; {clock_line(body['clock'])}")
    return 0


def run_verifications(args: argparse.Namespace, client: MockClient) -> int:
    body = client.verifications(status=args.status, environment=args.environment, limit=args.limit)
    emit(sys.stdout, body, args.json, lambda b: table(b["verifications"], VERIFICATION_COLUMNS))
    return 0


def run_discoveries(args: argparse.Namespace, client: MockClient) -> int:
    body = client.discoveries(status=args.status, environment=args.environment, limit=args.limit)
    emit(sys.stdout, body, args.json, lambda b: table(b["discoveries"], DISCOVERY_COLUMNS))
    return 0


def run_deliveries(args: argparse.Namespace, client: MockClient) -> int:
    body = client.deliveries(
        state=args.state, verificationId=args.verification_id, discoveryId=args.discovery_id, event=args.event
    )
    emit(sys.stdout, body, args.json, lambda b: table(b["deliveries"], DELIVERY_COLUMNS))
    return 0


def _message(message: dict[str, Any]) -> str:
    return table([message], DELIVERY_COLUMNS) + "\n\n" + table(message["attempts"], ATTEMPT_COLUMNS)


def run_replay(args: argparse.Namespace, client: MockClient) -> int:
    emit(sys.stdout, client.replay(args.message_id), args.json, _message)
    return 0


def run_force(args: argparse.Namespace, client: MockClient) -> int:
    body = client.force(args.verification_id, args.status, args.reason)
    emit(sys.stdout, body, args.json, lambda b: table([b], VERIFICATION_COLUMNS))
    return 0


def run_force_discovery(args: argparse.Namespace, client: MockClient) -> int:
    body = client.force_discovery(args.discovery_id, args.status, args.coverage)
    emit(sys.stdout, body, args.json, _discovery_table)
    return 0


def run_load_scenario(args: argparse.Namespace, client: MockClient) -> int:
    try:
        text = args.file.read_bytes()
    except OSError as exc:
        print(f"sohar-mock load-scenario: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    body = client.load_scenario(text, args.name or args.file.name)

    def render(b: dict[str, Any]) -> str:
        rules = ", ".join(b.get("rules") or []) or "none"
        counts = f"{b.get('payers', 0)} payers, {b.get('profiles', 0)} profiles, {b.get('members', 0)} members"
        return f"loaded {b.get('name') or b.get('source')}: {counts}; rules tried first: {rules}"

    emit(sys.stdout, body, args.json, render)
    return 0


def add_commands(sub: Any) -> None:
    """Add the control subcommands to `sohar-mock`'s subparsers."""
    common = _common()

    def command(name: str, run: Run, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        parser.set_defaults(func=_run(name, run))
        return parser

    trigger = command(
        "trigger",
        run_trigger,
        "create a verification that ends in STATUS, with the documented trigger inputs of the default scenarios",
    )
    trigger.add_argument("status", metavar="STATUS", choices=sorted(STATUSES), help=", ".join(sorted(STATUSES)))
    trigger.add_argument("--reason", choices=REASONS, help="the statusReason (complete.ineligible: default INACTIVE)")
    trigger.add_argument("--environment", choices=ENVIRONMENTS, default="sandbox", help="default sandbox")
    trigger.add_argument("--id", help="your own id for the verification (the request's `id`)")
    trigger.add_argument("--wait", action="store_true", help="wait for the status, then print it")
    trigger.add_argument("--timeout", type=_seconds, default=30.0, help="seconds --wait waits (default 30)")
    trigger.add_argument("--client-id", help="credentials (default: the mock's documented ones)")
    trigger.add_argument("--client-secret")

    sandbox_values = ", ".join(f"{state} {found}" for state, found in triggers.DISCOVERY_STATES.items())
    discover = command(
        "discover",
        run_discover,
        "create a discovery for the documented patient in STATE (Sohar's sandbox values decide what is found)",
    )
    discover.add_argument(
        "state",
        metavar="STATE",
        help=f"two-letter state; with sandbox credentials {sandbox_values}; any other searches the rosters",
    )
    discover.add_argument("--environment", choices=ENVIRONMENTS, default="sandbox", help="default sandbox")
    discover.add_argument("--id", help="your own id for the discovery (the request's `id`)")
    discover.add_argument("--wait", action="store_true", help="wait until it is complete, then print it")
    discover.add_argument("--timeout", type=_seconds, default=30.0, help="seconds --wait waits (default 30)")
    discover.add_argument("--client-id", help="credentials (default: the mock's documented ones)")
    discover.add_argument("--client-secret")

    follow = command("listen", run_listen, "print every webhook delivery attempt as it happens (Ctrl-C stops)")
    follow.add_argument("--events", nargs="+", metavar="EVENT", help="only these event types")

    advance = command("advance", run_advance, "move the mock clock forward; answers once what came due has run")
    advance.add_argument("seconds", metavar="SECONDS", type=_seconds)

    command(
        "reset",
        run_reset,
        "back to the start-up state (verifications, discoveries, journals, clock, runtime scenarios)",
    )

    listing = command("verifications", run_verifications, "list verifications, oldest first")
    listing.add_argument("--status", choices=sorted(STATUSES))
    listing.add_argument("--environment", choices=ENVIRONMENTS)
    listing.add_argument("--limit", type=_positive, metavar="N", help="only the newest N")

    discoveries = command("discoveries", run_discoveries, "list discoveries, oldest first")
    discoveries.add_argument("--status", choices=DISCOVERY_STATUSES)
    discoveries.add_argument("--environment", choices=ENVIRONMENTS)
    discoveries.add_argument("--limit", type=_positive, metavar="N", help="only the newest N")

    deliveries = command("deliveries", run_deliveries, "list webhook messages and their attempts, oldest first")
    deliveries.add_argument("--state", choices=STATES)
    deliveries.add_argument("--verification-id")
    deliveries.add_argument("--discovery-id")
    deliveries.add_argument("--event")

    replay = command("replay", run_replay, "send a webhook message again (same svix-id, signed anew)")
    replay.add_argument("message_id", metavar="MSG_ID")

    force = command("force", run_force, "put a verification in STATUS now and fire its event")
    force.add_argument("verification_id", metavar="VERIFICATION_ID")
    force.add_argument("status", metavar="STATUS", choices=sorted(STATUSES), help=", ".join(sorted(STATUSES)))
    force.add_argument("--reason", choices=REASONS, help="the statusReason the status takes")

    force_discovery = command(
        "force-discovery", run_force_discovery, "put a discovery in STATUS now and fire its event"
    )
    force_discovery.add_argument("discovery_id", metavar="DISCOVERY_ID")
    force_discovery.add_argument("status", metavar="STATUS", choices=DISCOVERY_STATUSES, help="pending or complete")
    force_discovery.add_argument(
        "--coverage",
        action="append",
        type=_coverage,
        metavar="PAYER_ID:MEMBER_ID",
        help="a coverage a forced complete finds (repeat for more; none given: what the scenarios decide)",
    )

    load = command("load-scenario", run_load_scenario, "load a scenario file into the running mock (until a reset)")
    load.add_argument("file", metavar="FILE", type=Path)
    load.add_argument("--name", help="the name used in messages (default: the file name)")
