"""`sohar-contract`: check servers, clients and webhook consumers against Sohar's contract.

    sohar-contract server --base-url URL --client-id ID --client-secret SECRET [-- schemathesis args]
    sohar-contract parity --mock URL --sandbox URL [--receiver URL]
    sohar-contract webhook-consumer --url URL --secret whsec_...
    sohar-contract client-report --mock URL [--require-statuses all]
    sohar-contract partner-eligibility --base-url URL [--api-key KEY] [--probe ...] [-- schemathesis args]

Exit codes: 0 nothing failed, 1 a check failed, 2 the run could not be set up.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict

from . import client_report, consumer_check, parity, partner, server
from .oauth import Credentials

EXIT_USAGE = 2


class _EnvDefault(argparse.Action):
    """An option that falls back to an environment variable, and is required when neither is set."""

    def __init__(self, env: str, required: bool = True, default: str | None = None, **kwargs: Any) -> None:
        value = os.environ.get(env) or default
        self.env = env
        help_text = str(kwargs.pop("help", ""))
        super().__init__(default=value, required=required and not value, help=f"{help_text} [env {env}]", **kwargs)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, *_: object
    ) -> None:
        setattr(namespace, self.dest, values)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _workers(text: str) -> str:
    if text == "auto":
        return text
    return str(_positive_int(text))


def _url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http(s):// URL, got {text!r}")
    return text.rstrip("/")


def _comma_choices(choices: Sequence[str]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)} (comma-separated), got {text!r}")
        return items

    return parse


def _add_server(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "server",
        help="run schemathesis over Sohar's contract against a server (the mock or Sohar's sandbox)",
        description=(
            "Examples, coverage, fuzzing and stateful (create -> get through OpenAPI links) phases over "
            "openapi/sohar.yaml against --base-url. Arguments after `--` go to `schemathesis run` as they are."
        ),
    )
    p.add_argument("--base-url", action=_EnvDefault, env="SOHAR_BASE_URL", type=_url, help="the server under test")
    p.add_argument("--client-id", action=_EnvDefault, env="SOHAR_CLIENT_ID", help="OAuth client id")
    p.add_argument("--client-secret", action=_EnvDefault, env="SOHAR_CLIENT_SECRET", help="OAuth client secret")
    _add_schemathesis_options(
        p,
        spec="the packaged openapi/sohar.yaml",
        phases="all; stateful only when the selected paths include both ends of an OpenAPI link",
        report_formats=server.REPORT_FORMATS,
        reports="junit (junit.xml), html (a folder)",
        report_dir=Path("sohar-contract-report"),
    )
    p.add_argument("--include-path", action="append", default=[], help="test only this path (repeatable)")
    p.add_argument("--exclude-path", action="append", default=[], help="skip this path (repeatable)")
    p.add_argument(
        "--payer-id",
        action="append",
        default=[],
        help="payer ids schema-valid creates use (default: GET /v1/payers, else Sohar's documented 60054)",
    )
    p.set_defaults(run=_run_server)


def _add_schemathesis_options(
    p: argparse.ArgumentParser,
    *,
    spec: str,
    phases: str,
    report_formats: Sequence[str],
    reports: str,
    report_dir: Path,
) -> None:
    """The options every schemathesis-backed check takes; the texts say each one's defaults."""
    p.add_argument("--spec", type=Path, default=None, help=f"the contract (default: {spec})")
    p.add_argument("--max-examples", type=_positive_int, help="test cases per operation and phase")
    p.add_argument("--seed", type=int, help="make the generated data repeatable")
    p.add_argument("--workers", type=_workers, help="concurrent workers (a number or `auto`)")
    p.add_argument(
        "--phases",
        type=_comma_choices(server.PHASES),
        default=None,
        help=f"comma-separated subset of {','.join(server.PHASES)} (default: {phases})",
    )
    p.add_argument(
        "--report",
        type=_comma_choices(report_formats),
        action="extend",
        default=[],
        help=f"write reports: {reports}; comma-separated or repeated",
    )
    p.add_argument("--report-dir", type=Path, default=report_dir, help="where reports go")
    p.add_argument("--max-failures", type=_positive_int, help="stop schemathesis after this many failures")


class _SchemathesisSettings(TypedDict):
    """What those options set, as ServerRun and PartnerRun name it."""

    max_examples: int | None
    seed: int | None
    workers: str | None
    phases: tuple[str, ...] | None
    reports: tuple[str, ...]
    report_dir: Path
    max_failures: int | None
    extra_args: tuple[str, ...]


def _schemathesis_settings(args: argparse.Namespace, extra: list[str]) -> _SchemathesisSettings:
    return {
        "max_examples": args.max_examples,
        "seed": args.seed,
        "workers": args.workers,
        "phases": tuple(args.phases) if args.phases else None,
        "reports": tuple(dict.fromkeys(args.report)),
        "report_dir": args.report_dir,
        "max_failures": args.max_failures,
        "extra_args": tuple(extra),
    }


def _spec_is_usable(args: argparse.Namespace, command: str) -> bool:
    if args.spec is None or args.spec.is_file():
        return True
    print(f"sohar-contract {command}: --spec {args.spec} is not a file", file=sys.stderr)
    return False


def _run_server(args: argparse.Namespace, extra: list[str]) -> int:
    config = server.ServerRun(
        base_url=args.base_url,
        credentials=Credentials(args.client_id, args.client_secret),
        include_paths=tuple(args.include_path),
        exclude_paths=tuple(args.exclude_path),
        payer_ids=tuple(args.payer_id),
        **_schemathesis_settings(args, extra),
    )
    if not _spec_is_usable(args, "server"):
        return EXIT_USAGE
    if args.spec is not None:
        config.spec = args.spec
    return server.run(config)


def _probe(text: str) -> partner.Probe:
    try:
        return partner.Probe.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_partner(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "partner-eligibility",
        help="check a partner's real-time eligibility API (98point6's RTE contract), or the mock's",
        description=(
            "Probes with one known member for the rules that need data, then schemathesis (every phase) over "
            "openapi/partner-eligibility.yaml with the rules every answer keeps as checks. Arguments after `--` "
            "go to `schemathesis run` as they are."
        ),
    )
    p.add_argument(
        "--base-url", action=_EnvDefault, env="PARTNER_BASE_URL", type=_url, help="the partner API under test"
    )
    p.add_argument(
        "--api-key",
        action=_EnvDefault,
        env="PARTNER_API_KEY",
        required=False,
        help="send it in the API key header (and check a call without it is refused)",
    )
    p.add_argument("--api-key-header", default=partner.API_KEY_HEADER, help="the header (default: X-API-Key)")
    p.add_argument(
        "--probe",
        action=_EnvDefault,
        env="PARTNER_PROBE",
        required=False,
        type=_probe,
        help="a member the partner holds: firstName=..,lastName=..,birthDate=YYYY-MM-DD and one of "
        "last4Ssn=.., email=.., memberId=.. (default: the mock's Dana Whitaker; skipped if unknown)",
    )
    _add_schemathesis_options(
        p,
        spec="openapi/partner-eligibility.yaml",
        phases="all",
        report_formats=partner.REPORT_FORMATS,
        reports="junit (junit.xml, the probes a testsuite of their own), html",
        report_dir=Path("partner-contract-report"),
    )
    p.set_defaults(run=_run_partner)


def _run_partner(args: argparse.Namespace, extra: list[str]) -> int:
    config = partner.PartnerRun(
        base_url=args.base_url,
        api_key=args.api_key,
        api_key_header=args.api_key_header,
        # From PARTNER_PROBE too: argparse runs `type` over a default given as text.
        probe=args.probe,
        **_schemathesis_settings(args, extra),
    )
    if not _spec_is_usable(args, "partner-eligibility"):
        return EXIT_USAGE
    if args.spec is not None:
        config.spec = args.spec
    return partner.run(config)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sohar-contract",
        description="Check servers, API clients and webhook consumers against Sohar's contract.",
        epilog="Exit codes: 0 nothing failed, 1 a check failed, 2 the run could not be set up.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_server(commands)
    parity.add_parser(commands)
    consumer_check.add_parser(commands)
    client_report.add_parser(commands)
    _add_partner(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after a bare `--` is handed to schemathesis untouched.
    extra: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, extra = argv[:split], argv[split + 1 :]
    args = build_parser().parse_args(argv)
    if extra and args.command not in ("server", "partner-eligibility"):
        print(f"sohar-contract {args.command}: unexpected arguments after `--`: {' '.join(extra)}", file=sys.stderr)
        return EXIT_USAGE
    return int(args.run(args, extra))


if __name__ == "__main__":
    sys.exit(main())
