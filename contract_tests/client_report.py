"""`sohar-contract client-report`: what a client under test has exercised against the mock.

The mock journals every API request with its validation result (`GET /__admin/requests`).
From it this report tells a team whether their client has met every outcome Sohar can
send: each operation and the statuses it answered, each verification status a Get
Verification returned, each discovery status a Get Discovery returned, each error response
(400 by param, 403, 404), and every request that broke the spec. Run the client's tests against the mock, then this.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from .consumer_check import DISCOVERY_STATUSES, STATUSES

# How to reach each status with the packaged default scenarios (payer 60054, John Doe).
STATUS_TRIGGERS = {
    "complete.eligible": "memberId 00000000",
    "complete.ineligible": (
        "memberId 00000001 (INACTIVE), 00000002 (NON_COVERED) or 00000003 (ACTIVE_PENDING_INVESTIGATION)"
    ),
    "error.member.id": "memberId 10000000",
    "error.member.dob": "memberId 10000001",
    "error.member.name": "memberId 10000002",
    "error.payer": "memberId 20000000 or 20000001",
    "error.payer.npi": "memberId 20000002, or 20000003 with no provider enrolled",
    "pending": "memberId 30000000, or start the mock with --latency",
}
DISCOVERY_TRIGGERS = {
    "pending": "Get Discovery before the result is due (start the mock with --latency), or a pending discovery rule",
    "complete": "Create Discovery, then Get Discovery (sandbox: a state of Sohar's table, e.g. CA)",
}
NETWORK_STATUSES = ("inn", "oon", "pending")
# How to reach each network status with the packaged default scenarios.
NETWORK_TRIGGERS = {
    "inn": "any finished verification at payer 60054",
    "oon": "a finished verification at another payer, e.g. 62308",
    "pending": "ask while a verification is pending (memberId 30000000)",
}
ERROR_STATUSES = (400, 403, 404)
EXIT_MISSING = 1
# Spec-breaking requests listed in the text report; --json has them all.
MAX_LISTED = 50
EXIT_UNREACHABLE = 2


@dataclass
class Report:
    operations: dict[str, Counter[int]]
    statuses: Counter[str]
    errors: Counter[tuple[int, str | None]]
    violations: list[dict[str, Any]]
    total: int
    dropped: int
    unknown_operations: Counter[str] = field(default_factory=Counter)
    discovery_statuses: Counter[str] = field(default_factory=Counter)
    network_statuses: Counter[str] = field(default_factory=Counter)

    def missing_statuses(self, required: tuple[str, ...]) -> list[str]:
        return [status for status in required if not self.statuses[status]]

    def missing_errors(self) -> list[int]:
        seen = {status for status, _ in self.errors}
        return [status for status in ERROR_STATUSES if status not in seen]

    def to_json(self, required: tuple[str, ...]) -> dict[str, Any]:
        return {
            "requests": self.total,
            "dropped": self.dropped,
            "operations": {op: {str(k): v for k, v in sorted(c.items())} for op, c in self.operations.items()},
            "statuses": {status: self.statuses[status] for status in STATUSES},
            "missingStatuses": self.missing_statuses(required),
            "discoveryStatuses": {status: self.discovery_statuses[status] for status in DISCOVERY_STATUSES},
            "networkStatuses": {status: self.network_statuses[status] for status in NETWORK_STATUSES},
            "errors": [
                {"statusCode": status, "param": param, "count": count}
                for (status, param), count in sorted(self.errors.items(), key=_error_order)
            ],
            "missingErrors": self.missing_errors(),
            "violations": self.violations,
        }


def _error_order(item: tuple[tuple[int, str | None], int]) -> tuple[int, str]:
    (status, param), _ = item
    return status, param or ""


def build_report(records: list[dict[str, Any]], operation_ids: list[str], dropped: int = 0) -> Report:
    operations: dict[str, Counter[int]] = {op: Counter() for op in operation_ids}
    statuses: Counter[str] = Counter()
    discovery_statuses: Counter[str] = Counter()
    errors: Counter[tuple[int, str | None]] = Counter()
    unknown: Counter[str] = Counter()
    network: Counter[str] = Counter()
    violations = []
    # Another contract's operations (the partner eligibility API) are not a Sohar client's calls.
    records = [r for r in records if not r.get("operationId") or r["operationId"] in operations]
    for record in records:
        op = record.get("operationId")
        code = int(record["statusCode"])
        if op in operations:
            operations[op][code] += 1
        else:
            unknown[str(op) if op else f"{record['method']} {record['path']}"] += 1
        if record.get("verificationStatus"):
            statuses[record["verificationStatus"]] += 1
        if record.get("discoveryStatus"):
            discovery_statuses[record["discoveryStatus"]] += 1
        if record.get("networkStatus"):
            network[record["networkStatus"]] += 1
        if code >= 400:
            errors[(code, record.get("errorParam"))] += 1
        if not record.get("conforms", True):
            violations.append(record)
    return Report(operations, statuses, errors, violations, len(records), dropped, unknown, discovery_statuses, network)


def _times(count: int) -> str:
    return f"x{count}"


def render(report: Report, required: tuple[str, ...]) -> str:
    lines = [f"Client report: {report.total} API requests journaled by the mock"]
    if report.dropped:
        lines.append(f"  (the oldest {report.dropped} fell out of the journal: coverage below may be understated)")
    lines += ["", "Operations (answers seen):"]
    width = max((len(op) for op in report.operations), default=10)
    for op, counts in report.operations.items():
        seen = ", ".join(f"{code} {_times(n)}" for code, n in sorted(counts.items())) or "never called"
        lines.append(f"  {'✓' if counts else '✗'} {op.ljust(width)}  {seen}")
    lines += ["", "Verification statuses (Get Verification answers):"]
    for status in STATUSES:
        count = report.statuses[status]
        note = _times(count) if count else f"never seen — default scenarios: {STATUS_TRIGGERS[status]}"
        marker = "✓" if count else ("✗" if status in required else "-")
        lines.append(f"  {marker} {status.ljust(19)}  {note}")
    lines += ["", "Discovery statuses (Get Discovery answers):"]
    for status in DISCOVERY_STATUSES:
        count = report.discovery_statuses[status]
        note = _times(count) if count else f"never seen — {DISCOVERY_TRIGGERS[status]}"
        lines.append(f"  {'✓' if count else '-'} {status.ljust(19)}  {note}")
    lines += ["", "Network statuses (Get Network Status answers):"]
    for status in NETWORK_STATUSES:
        count = report.network_statuses[status]
        note = _times(count) if count else f"never seen — default scenarios: {NETWORK_TRIGGERS[status]}"
        lines.append(f"  {'✓' if count else '-'} {status.ljust(19)}  {note}")
    lines += ["", "Error responses:"]
    for error_status in ERROR_STATUSES:
        by_param = sorted((param, n) for (code, param), n in report.errors.items() if code == error_status)
        if not by_param:
            lines.append(f"  ✗ {error_status}  never seen")
            continue
        lines.append(f"  ✓ {error_status}  {_times(sum(n for _, n in by_param))}")
        lines += [f"        param {param} {_times(n)}" for param, n in by_param if param]
    others = sorted((code, n) for (code, _), n in report.errors.items() if code not in ERROR_STATUSES)
    if others:
        lines.append("  also: " + ", ".join(f"{code} {_times(n)}" for code, n in others))
    if report.unknown_operations:
        outside = sum(report.unknown_operations.values())
        lines += ["", f"Requests outside Sohar's operations (unknown path or method): {outside}"]
    lines += ["", f"Requests that broke the spec: {len(report.violations)}"]
    for record in report.violations[:MAX_LISTED]:
        violation = record.get("violation") or {}
        lines.append(
            f"  #{record['seq']} {record['method']} {record['path']} -> {record['statusCode']}  "
            f"[{violation.get('kind')}/{violation.get('rule')}] {violation.get('message')}"
        )
    if len(report.violations) > MAX_LISTED:
        lines.append(f"  ... and {len(report.violations) - MAX_LISTED} more (--json lists them all)")
    return "\n".join(lines)


def fetch(mock: str, params: dict[str, str]) -> tuple[list[dict[str, Any]], list[str], int]:
    with httpx.Client(base_url=mock, timeout=30, trust_env=False) as http:
        journal = http.get("/__admin/requests", params=params)
        journal.raise_for_status()
        data = journal.json()
        operation_ids = _operation_ids(http)
    return data["requests"], operation_ids, int(data.get("dropped", 0))


def _operation_ids(http: httpx.Client) -> list[str]:
    """Sohar's operations as the mock serves its contract, in the spec's order."""
    spec = http.get("/openapi.json")
    spec.raise_for_status()
    ids = []
    for methods in spec.json().get("paths", {}).values():
        for operation in methods.values():
            if isinstance(operation, dict) and "operationId" in operation:
                ids.append(operation["operationId"])
    return ids


def parse_required(text: str) -> tuple[str, ...]:
    if text == "all":
        return STATUSES
    if text == "none":
        return ()
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    unknown = [item for item in items if item not in STATUSES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown status {', '.join(unknown)}; choose all, none or from {STATUSES}")
    return items


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "client-report",
        help="which operations, statuses and errors a client under test has exercised against the mock",
        description="Reads the mock's request journal (GET /__admin/requests).",
    )
    p.add_argument("--mock", required=True, help="the mock's base URL, e.g. http://127.0.0.1:8080")
    p.add_argument(
        "--require-statuses",
        type=parse_required,
        default=(),
        help="`all`, or comma-separated statuses: exit 1 if any was never seen",
    )
    p.add_argument("--fail-on-violations", action="store_true", help="exit 1 if any request broke the spec")
    p.add_argument("--client-id", help="only requests made with this client id")
    p.add_argument("--since", type=int, help="only journal records after this sequence number")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=main)


def main(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    params = {}
    if args.client_id:
        params["clientId"] = args.client_id
    if args.since is not None:
        params["since"] = str(args.since)
    mock = args.mock.rstrip("/")
    try:
        records, operation_ids, dropped = fetch(mock, params)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        print(f"sohar-contract client-report: cannot read the journal at {mock}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    report = build_report(records, operation_ids, dropped)
    required: tuple[str, ...] = args.require_statuses
    if args.json:
        print(json.dumps(report.to_json(required), indent=2))
    else:
        print(render(report, required))
    failed = False
    missing = report.missing_statuses(required)
    if missing:
        print(f"\nFAIL: statuses never seen: {', '.join(missing)}", file=sys.stderr)
        failed = True
    if args.fail_on_violations and report.violations:
        print(f"\nFAIL: {len(report.violations)} requests broke the spec", file=sys.stderr)
        failed = True
    return EXIT_MISSING if failed else 0
