"""`sohar-contract server`: schemathesis over Sohar's contract against a running server.

The run is schemathesis' own `run` command (its phases, workers, reports and exit codes),
driven in-process with the kit's hooks installed: the OAuth token fetched and refreshed from
the server itself, creates pointed at payers the server holds, and the Sohar-aware checks in
place of the two built-ins that contradict Sohar's documented answers.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from mock_server.resources import sohar_spec_path

from .oauth import Credentials, TokenError, TokenSource

PHASES = ("examples", "coverage", "fuzzing", "stateful")
REPORT_FORMATS = ("junit", "html")
# The built-in checks that contradict Sohar's documented answers (see contract_tests.checks).
REPLACED_CHECK_NAMES = ("missing_required_header", "positive_data_acceptance")
INSTALL_HINT = "the server suite needs schemathesis: pip install 'sohar-mock[contract]'"
# Sohar's documented sandbox payer: used when the server publishes no payer list we can read.
DOCUMENTED_SANDBOX_PAYER = "60054"
EXIT_SETUP_ERROR = 2


def run_options(
    max_examples: int | None,
    seed: int | None,
    workers: str | None,
    max_failures: int | None,
    reports: tuple[str, ...] | list[str],
    report_dir: Path,
) -> list[str]:
    """The `schemathesis run` options every suite of the kit passes the same way."""
    args: list[str] = []
    if max_examples is not None:
        args += ["--max-examples", str(max_examples)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if workers is not None:
        args += ["--workers", workers]
    if max_failures is not None:
        args += ["--max-failures", str(max_failures)]
    if reports:
        args += ["--report", ",".join(reports), "--report-dir", str(report_dir)]
        if "junit" in reports:
            args += ["--report-junit-path", str(report_dir / "junit.xml")]
    return args


@dataclass
class ServerRun:
    base_url: str
    credentials: Credentials
    spec: Path = field(default_factory=sohar_spec_path)
    max_examples: int | None = None
    seed: int | None = None
    workers: str | None = None
    # None: every phase that can run (stateful only when a link joins two selected paths).
    phases: tuple[str, ...] | None = None
    reports: tuple[str, ...] = ()
    report_dir: Path = Path("sohar-contract-report")
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    payer_ids: tuple[str, ...] = ()
    max_failures: int | None = None
    extra_args: tuple[str, ...] = ()

    def schemathesis_args(self, config_file: Path) -> list[str]:
        args = ["--config-file", str(config_file), "run", str(self.spec), "--url", self.base_url]
        args += ["--exclude-checks", ",".join(REPLACED_CHECK_NAMES)]
        phases = self.phases
        if phases is None:
            phases = PHASES if stateful_possible(self) else tuple(p for p in PHASES if p != "stateful")
        args += ["--phases", ",".join(phases)]
        args += run_options(
            self.max_examples, self.seed, self.workers, self.max_failures, self.reports, self.report_dir
        )
        for path in self.include_paths:
            args += ["--include-path", path]
        for path in self.exclude_paths:
            args += ["--exclude-path", path]
        return [*args, *self.extra_args]


def links_between(spec: Path) -> list[tuple[str, str]]:
    """(source path, target path) of every OpenAPI link in the contract."""
    document = yaml.safe_load(spec.read_text()) or {}
    paths = document.get("paths", {})
    by_id = {
        operation["operationId"]: path
        for path, methods in paths.items()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    found = []
    for path, methods in paths.items():
        for operation in methods.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                for link in (response.get("links") or {}).values():
                    target = by_id.get(link.get("operationId", ""))
                    if target is not None:
                        found.append((path, target))
    return found


def stateful_possible(config: ServerRun) -> bool:
    """Whether some link joins two selected paths; otherwise schemathesis' stateful phase has nothing to walk."""
    if not config.include_paths and not config.exclude_paths:
        return True

    def selected(path: str) -> bool:
        return (not config.include_paths or path in config.include_paths) and path not in config.exclude_paths

    return any(selected(source) and selected(target) for source, target in links_between(config.spec))


def discover_payer_ids(tokens: TokenSource) -> tuple[str, ...]:
    """The payer ids the server's directory holds (`GET /v1/payers`), or Sohar's documented one."""
    try:
        response = httpx.get(f"{tokens.base_url}/v1/payers", headers=tokens.headers(), timeout=30)
        payers = response.json() if response.status_code == 200 else []
        ids = tuple(sorted(p["payerId"] for p in payers if isinstance(p, dict) and isinstance(p.get("payerId"), str)))
    except (httpx.HTTPError, ValueError, TypeError):
        ids = ()
    return ids or (DOCUMENTED_SANDBOX_PAYER,)


# An explicit config keeps a stray schemathesis.toml in the working directory out of the run;
# no crash cache, so nothing is written into the user's checkout and every run stands alone.
SCHEMATHESIS_CONFIG = "[cache]\nenabled = false\n"


class SetupError(RuntimeError):
    """A run that cannot start (the API out of reach, credentials or options refused); the message says why: exit 2."""


def run_schemathesis(prog: str, args: Callable[[Path], list[str]]) -> int:
    """`schemathesis run` in this process with `args(config_file)`, and its exit status.

    Raises SetupError when schemathesis refuses the options. The caller installs its hooks first.
    """
    import click
    from schemathesis.cli import schemathesis as schemathesis_cli

    with tempfile.TemporaryDirectory(prefix="sohar-contract-") as scratch:
        config_file = Path(scratch) / "schemathesis.toml"
        config_file.write_text(SCHEMATHESIS_CONFIG)
        try:
            schemathesis_cli.main(args=args(config_file), prog_name=prog, standalone_mode=False)
        except SystemExit as exit_:
            return _exit_code(exit_.code)
        except click.exceptions.Exit as exit_:
            return exit_.exit_code
        except click.ClickException as exc:
            raise SetupError(exc.format_message()) from None
    return 0


def run(config: ServerRun) -> int:
    prog = "sohar-contract server"
    try:
        # Imported late: the other commands and the pytest plugin must work without schemathesis.
        from . import suite_hooks
    except ImportError:
        print(f"{prog}: {INSTALL_HINT}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    tokens = TokenSource(config.base_url, config.credentials)
    try:
        tokens.token()
    except TokenError as exc:
        print(f"{prog}: cannot get a token: {exc}", file=sys.stderr)
        return EXIT_SETUP_ERROR
    payer_ids = config.payer_ids or discover_payer_ids(tokens)
    with suite_hooks.installed(tokens, payer_ids):
        try:
            return run_schemathesis(prog, config.schemathesis_args)
        except SetupError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return EXIT_SETUP_ERROR


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1
