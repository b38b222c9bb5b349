"""`sohar-mock`: serve the sandbox, or check scenario files."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .listening import CannotListen, listen, url_for
from .scenarios import ScenarioError, ScenarioSet, load_file
from .settings import (
    DEFAULT_WEBHOOK_SECRET,
    ConfigError,
    Settings,
    credentials_from,
    env,
    load_config_file,
)
from .stopping import stop_on_signals

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def _env_list(name: str) -> list[str] | None:
    value = env(name)
    if value is None:
        return None
    # Paths split on the OS path separator, URLs on commas or whitespace.
    separators = os.pathsep if name == "SCENARIOS" else ","
    return [part.strip() for chunk in value.split(separators) for part in chunk.split() if part.strip()]


_KIND_NAMES: dict[type, str] = {int: "an integer", float: "a number"}


def _convert(value: str, kind: type[int] | type[float]) -> Any:
    """`value` as `kind`; ValueError worded for both flags and environment variables."""
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"must be {_KIND_NAMES[kind]}, got {value!r}") from None


def _number(value: str | None, kind: type[int] | type[float], name: str) -> Any:
    if value is None:
        return None
    try:
        return _convert(value, kind)
    except ValueError as exc:
        raise ConfigError(f"{name} {exc}") from None


def _env_flag(name: str) -> bool | None:
    value = env(name)
    if value is None:
        return None
    if value.lower() in ("1", "true"):
        return True
    if value.lower() in ("0", "false"):
        return False
    raise ConfigError(f"SOHAR_MOCK_{name} must be 1 or 0, got {value!r}")


def log_level() -> str:
    """SOHAR_MOCK_LOG_LEVEL, checked: logging and uvicorn would each fail on a bad one in their own way."""
    value = env("LOG_LEVEL") or "warning"
    if value.lower() not in LOG_LEVELS:
        raise ConfigError(f"SOHAR_MOCK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return value.lower()


def _flag_type(kind: type[int] | type[float]) -> Callable[[str], Any]:
    """argparse `type=`: the same wording as for environment variables."""

    def convert(value: str) -> Any:
        try:
            return _convert(value, kind)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def resolve_settings(args: argparse.Namespace) -> Settings:
    """CLI flag, else environment variable, else config file, else default; `Settings` checks the values."""
    config_path = _first(getattr(args, "config", None), env("CONFIG"))
    config = load_config_file(Path(config_path)) if config_path else {}
    source = f"config file {config_path}"
    scenario_args = _first(getattr(args, "scenarios", None), _env_list("SCENARIOS"), config.get("scenarios"))
    webhooks = config.get("webhooks") or {}
    kwargs: dict[str, Any] = {
        "host": _first(getattr(args, "host", None), env("HOST"), config.get("host"), "127.0.0.1"),
        "port": _first(
            getattr(args, "port", None), _number(env("PORT"), int, "SOHAR_MOCK_PORT"), config.get("port"), 8080
        ),
        "scenario_paths": tuple(Path(p) for p in scenario_args or ()),
        "latency": _first(
            getattr(args, "latency", None), _number(env("LATENCY"), float, "SOHAR_MOCK_LATENCY"), config.get("latency")
        ),
        "seed": _first(getattr(args, "seed", None), _number(env("SEED"), int, "SOHAR_MOCK_SEED"), config.get("seed")),
        "token_ttl": _first(config.get("tokenTtl"), 3600),
        "validate_requests": not getattr(args, "no_validate", False),
        "validate_responses": bool(getattr(args, "strict", False) or config.get("validateResponses")),
        "webhook_urls": tuple(
            _first(getattr(args, "webhook_url", None), _env_list("WEBHOOK_URL"), webhooks.get("urls")) or ()
        ),
        "freeze_clock": _first(
            getattr(args, "freeze_clock", False) or None, _env_flag("FREEZE_CLOCK"), config.get("freezeClock"), False
        ),
        "max_verifications": _first(
            getattr(args, "max_verifications", None),
            _number(env("MAX_VERIFICATIONS"), int, "SOHAR_MOCK_MAX_VERIFICATIONS"),
            config.get("maxVerifications"),
        ),
        "max_discoveries": _first(
            getattr(args, "max_discoveries", None),
            _number(env("MAX_DISCOVERIES"), int, "SOHAR_MOCK_MAX_DISCOVERIES"),
            config.get("maxDiscoveries"),
        ),
        "webhook_secret": _first(
            getattr(args, "webhook_secret", None), env("WEBHOOK_SECRET"), webhooks.get("secret"), DEFAULT_WEBHOOK_SECRET
        ),
    }
    if "credentials" in config:
        kwargs["credentials"] = credentials_from(config["credentials"], source)
    return Settings(**kwargs)


def banner(settings: Settings, files: Sequence[Path], url: str) -> str:
    lines = [
        f"Sohar sandbox mock {__version__} listening on {url}",
        f"  API spec:   {url}/openapi.yaml    admin: {url}/__admin/health",
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
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    # Before anything else, uvicorn included: it puts back, and re-raises into, the handlers it finds.
    with stop_on_signals() as stop:
        import uvicorn

        from .app import EVENT_LOOP, build_app
        from .core import MockCore, load_startup_scenarios

        settings = resolve_settings(args)
        level = log_level()
        files = settings.scenario_files()
        core = MockCore(settings, load_startup_scenarios(settings))
        app = build_app(core=core)
        # Bound before the banner, so that it names the port really bound (`--port 0`) and a
        # taken port is a one-line error instead of a banner followed by uvicorn's exit 3.
        sock = listen(settings.host, settings.port)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=sock.getsockname()[1],
            log_level=level,
            access_log=bool(_env_flag("ACCESS_LOG")),
            timeout_graceful_shutdown=4,
            lifespan="on",
            loop=EVENT_LOOP,
        )
        server = uvicorn.Server(config)
        stop.server = server
        print(banner(settings, files, url_for(sock)), flush=True)
        server.run(sockets=[sock])
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = resolve_settings(args)
    files = settings.scenario_files()
    loaded = []
    failed = 0
    for path in files:
        try:
            loaded.append(load_file(path))
            print(f"ok      {path}")
        except ScenarioError as exc:
            failed += 1
            print(f"error   {exc}", file=sys.stderr)
    if not failed:
        try:
            combined = ScenarioSet(loaded)
        except ScenarioError as exc:
            print(f"error   {exc}", file=sys.stderr)
            return 1
        counts = f"{len(combined.payers)} payers, {len(combined.members)} members, {len(combined.rules)} rules"
        counts += f", {len(combined.discovery_rules)} discovery rules"
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
    serve.add_argument("--no-validate", action="store_true", help="skip request validation against the spec")
    serve.add_argument("--strict", action="store_true", help="also validate every response and log violations")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check", help="validate scenario files and exit non-zero on problems")
    check.add_argument(
        "--scenarios", nargs="+", metavar="PATH", help="scenario files or folders (default: the packaged ones)"
    )
    check.add_argument("--config", metavar="FILE", help="YAML config file (SOHAR_MOCK_CONFIG)")
    check.set_defaults(func=cmd_check)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        logging.basicConfig(level=log_level().upper(), format="%(levelname)s %(name)s: %(message)s")
        return int(args.func(args))
    except (ConfigError, ScenarioError, CannotListen) as exc:
        print(f"sohar-mock: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
