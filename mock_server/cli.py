"""`sohar-mock`: serve the sandbox, check scenario files, or drive a running mock (`control/`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__
from .control import add_commands as add_control_commands
from .domain.state_file import StateFileError
from .listening import CannotListen, listen, url_for
from .scenarios import ScenarioError, ScenarioRegistry, load_file
from .settings import DEFAULT_WEBHOOK_SECRET, ConfigError, Environment, Flags, Settings, parse_number, resolve
from .stopping import stop_on_signals

if TYPE_CHECKING:
    from .core import MockCore


def _flag_type(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """argparse `type=`: the same wording as for environment variables."""

    def convert(value: str) -> int | float:
        try:
            return parse_number(value, kind)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def resolve_settings(args: argparse.Namespace) -> Settings:
    """The flags this command was given, resolved with the environment and the config file."""
    given = vars(args)
    return resolve(Flags(**{f.name: given[f.name] for f in fields(Flags) if f.name in given}))


def banner(settings: Settings, files: Sequence[Path], url: str, restored: str | None = None) -> str:
    lines = [
        f"Sohar sandbox mock {__version__} listening on {url}",
        f"  API spec:   {url}/openapi.yaml    admin: {url}/__admin/health",
        f"  console:    {url}/__admin/ui",
        "  credentials (POST /oauth/token with JSON {client_id, client_secret}):",
    ]
    for c in settings.credentials:
        lines.append(f"    {c.environment:<11} client_id={c.client_id}  client_secret={c.client_secret}")
    lines.append("  scenarios:")
    lines.extend(f"    {path}" for path in files)
    if settings.webhook_urls:
        lines.append("  webhooks (all event types):")
        lines.extend(f"    {u}" for u in settings.webhook_urls)
    secret_note = " (default, fake)" if settings.webhook_secret == DEFAULT_WEBHOOK_SECRET else ""
    lines.append(f"  webhook signing secret{secret_note}: {settings.webhook_secret}")
    if settings.latency is not None:
        lines.append(f"  latency: {settings.latency}s of mock-clock time before each result")
    if settings.seed is not None:
        lines.append(f"  seed: {settings.seed} (identifiers are repeatable)")
    if settings.state_path is not None:
        lines.append(f"  state: {settings.state_path} ({restored or 'new state file'}; survives restarts)")
    partner_auth = "X-API-Key required" if settings.partner_api_key else "no credentials"
    lines.append(f"  partner eligibility: POST {url}/v1/eligibility/search, /check ({partner_auth})")
    return "\n".join(lines)


def serving_core(settings: Settings) -> MockCore:
    """The mock `serve` runs: the process is the mock's own, so its store may freeze the collector."""
    from .core import MockCore, load_startup_scenarios

    return MockCore(settings, load_startup_scenarios(settings), freeze_gc=True)


def cmd_serve(args: argparse.Namespace) -> int:
    # Before anything else, uvicorn included: it puts back, and re-raises into, the handlers it finds.
    with stop_on_signals() as stop:
        import uvicorn

        from .app import EVENT_LOOP, build_app

        settings = resolve_settings(args)
        environment = Environment()
        level = environment.log_level()
        files = settings.scenario_files()
        core = serving_core(settings)
        app = build_app(core=core)
        # Bound before the banner, so that it names the port really bound (`--port 0`) and a
        # taken port is a one-line error instead of a banner followed by uvicorn's exit 3.
        sock = listen(settings.host, settings.port)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=sock.getsockname()[1],
            log_level=level,
            access_log=bool(environment.flag("ACCESS_LOG")),
            timeout_graceful_shutdown=4,
            lifespan="on",
            loop=EVENT_LOOP,
        )
        server = uvicorn.Server(config)
        stop.server = server
        print(banner(settings, files, url_for(sock), core.restored), flush=True)
        server.run(sockets=[sock])
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .core import SCENARIO_SECTIONS

    settings = resolve_settings(args)
    files = settings.scenario_files()
    loaded = []
    failed = 0
    for path in files:
        try:
            loaded.append(load_file(path, SCENARIO_SECTIONS))
            print(f"ok      {path}")
        except ScenarioError as exc:
            failed += 1
            print(f"error   {exc}", file=sys.stderr)
    if not failed:
        try:
            registry = ScenarioRegistry(loaded, SCENARIO_SECTIONS)
        except ScenarioError as exc:
            print(f"error   {exc}", file=sys.stderr)
            return 1
        combined = registry.current
        counts = (
            f"{len(combined.payers)} payers, {len(combined.members)} members, {len(combined.rules)} rules, "
            f"{len(combined.providers)} providers, {len(combined.network)} network rules, "
            f"{len(combined.discovery_rules)} discovery rules"
        )
        for section in SCENARIO_SECTIONS:
            summary = registry.section(section.key).summary()
            if any(summary.values()):
                counts += f", {section.key}: " + ", ".join(f"{n} {what}" for what, n in summary.items())
        print(f"{len(loaded)} file(s): {counts}")
    return 1 if failed else 0


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line, exit 2, like every other configuration error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sohar-mock", description="A local sandbox of the Sohar Health API.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", help="interface to listen on (SOHAR_MOCK_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=_flag_type(int), help="port, 0 for any free one (SOHAR_MOCK_PORT; default 8080)")
    serve.add_argument(
        "--scenarios", nargs="+", metavar="PATH", help="scenario files or folders (SOHAR_MOCK_SCENARIOS)"
    )
    serve.add_argument("--config", metavar="FILE", help="YAML config file (SOHAR_MOCK_CONFIG)")
    serve.add_argument(
        "--latency",
        type=_flag_type(float),
        metavar="S",
        help="mock-clock seconds before each result (SOHAR_MOCK_LATENCY)",
    )
    serve.add_argument(
        "--seed", type=_flag_type(int), metavar="N", help="make identifiers repeatable (SOHAR_MOCK_SEED)"
    )
    serve.add_argument(
        "--webhook-url", action="append", metavar="URL", help="subscribe URL to every event (SOHAR_MOCK_WEBHOOK_URL)"
    )
    serve.add_argument("--webhook-secret", metavar="whsec_...", help="signing secret (SOHAR_MOCK_WEBHOOK_SECRET)")
    serve.add_argument(
        "--freeze-clock",
        action="store_true",
        help="mock time moves only when advanced through the admin API (SOHAR_MOCK_FREEZE_CLOCK=1)",
    )
    serve.add_argument(
        "--max-verifications",
        type=_flag_type(int),
        metavar="N",
        help="keep at most N verifications, dropping the oldest finished first (SOHAR_MOCK_MAX_VERIFICATIONS)",
    )
    serve.add_argument(
        "--max-discoveries",
        type=_flag_type(int),
        metavar="N",
        help="keep at most N discoveries, dropping the oldest finished first (SOHAR_MOCK_MAX_DISCOVERIES)",
    )
    serve.add_argument(
        "--partner-api-key",
        metavar="KEY",
        help="require this key in the partner eligibility API's X-API-Key header (SOHAR_MOCK_PARTNER_API_KEY)",
    )
    serve.add_argument(
        "--state",
        metavar="PATH",
        help="keep the mock's state in this SQLite file, across restarts and crashes (SOHAR_MOCK_STATE)",
    )
    serve.add_argument("--no-validate", action="store_true", help="skip request validation against the spec")
    serve.add_argument("--strict", action="store_true", help="also validate every response and log violations")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check", help="validate scenario files and exit non-zero on problems")
    check.add_argument(
        "--scenarios", nargs="+", metavar="PATH", help="scenario files or folders (default: the packaged ones)"
    )
    check.add_argument("--config", metavar="FILE", help="YAML config file (SOHAR_MOCK_CONFIG)")
    check.set_defaults(func=cmd_check)
    add_control_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        logging.basicConfig(level=Environment().log_level().upper(), format="%(levelname)s %(name)s: %(message)s")
        return int(args.func(args))
    except (ConfigError, ScenarioError, CannotListen, StateFileError) as exc:
        print(f"sohar-mock: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
