"""One frozen settings object, checked when made, and where its values come from: CLI flags,
environment variables and a config file, in that order of precedence (`resolve`)."""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from .bounded_yaml import YAMLProblem
from .bounded_yaml import read as read_yaml
from .domain.auth import ENVIRONMENTS, Credential
from .errors import InvalidRequest
from .limits import (
    DAY,
    MAX_BODY_BYTES,
    MAX_DURATION_SECONDS,
    MAX_PARTNER_API_KEY_CHARS,
    MAX_WEBHOOK_KEY_BYTES,
    MIN_WEBHOOK_KEY_BYTES,
)
from .resources import default_scenarios_dir
from .webhooks.endpoints import check_url

DEFAULT_CREDENTIALS = (
    Credential("sandbox-client-id", "sandbox-client-secret", "sandbox"),
    Credential("production-client-id", "production-client-secret", "production"),
)
# Obviously fake, documented default signing secret (base64 of "sohar-mock-default-secret!").
DEFAULT_WEBHOOK_SECRET = "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE="


class ConfigError(ValueError):
    """A configuration value is unusable; the message names it."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    scenario_paths: tuple[Path, ...] = ()
    latency: float | None = None
    seed: int | None = None
    credentials: tuple[Credential, ...] = DEFAULT_CREDENTIALS
    token_ttl: int = 3600
    validate_requests: bool = True
    validate_responses: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    journal_size: int = 10_000
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    webhook_timeout: float = 15.0
    spec_path: Path | None = None
    # Mock time moves only when advanced: nothing comes due while a slow test runs.
    freeze_clock: bool = False
    # Past this many stored verifications the oldest finished ones are dropped (None: unbounded).
    max_verifications: int | None = None
    # The same for discoveries (None: unbounded).
    max_discoveries: int | None = None
    # The partner eligibility API requires this key in its `X-API-Key` header (None: no auth).
    partner_api_key: str | None = None
    # A SQLite file that keeps the mock's state across restarts and crashes (None: memory only).
    state_path: Path | None = None

    def __post_init__(self) -> None:
        # Checked here, not by the CLI, so that `Settings(...)` and `RunningMock(...)` refuse a
        # bad value with the CLI's own message instead of failing later inside the server.
        _check_host(self.host)
        _check_port(self.port)
        _check_latency(self.latency)
        if self.seed is not None and not _is_int(self.seed):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        if not (_is_int(self.token_ttl) and 1 <= self.token_ttl <= MAX_DURATION_SECONDS):
            raise ConfigError(
                f"tokenTtl must be an integer from 1 to {MAX_DURATION_SECONDS} seconds"
                f" ({MAX_DURATION_SECONDS // DAY} days), got {self.token_ttl!r}"
            )
        if self.max_verifications is not None and not (_is_int(self.max_verifications) and self.max_verifications > 0):
            raise ConfigError(f"max verifications must be a positive integer, got {self.max_verifications!r}")
        if self.max_discoveries is not None and not (_is_int(self.max_discoveries) and self.max_discoveries > 0):
            raise ConfigError(f"max discoveries must be a positive integer, got {self.max_discoveries!r}")
        _check_webhook_urls(self.webhook_urls)
        _check_webhook_secret(self.webhook_secret)
        _check_partner_api_key(self.partner_api_key)
        _check_state_path(self.state_path)

    def scenario_files(self) -> list[Path]:
        """Every scenario file to load, folders expanded to their *.yaml / *.yml files."""
        paths = self.scenario_paths or (default_scenarios_dir(),)
        files: list[Path] = []
        for path in paths:
            try:
                if path.is_dir():
                    files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
                elif path.exists():
                    files.append(path)
                else:
                    raise ConfigError(f"scenario path {path} does not exist")
            except OSError as exc:  # a folder that cannot be listed
                raise ConfigError(f"scenario path {path}: {exc.strerror}") from None
        return files


def _check_state_path(path: object) -> None:
    if path is None:
        return
    if not isinstance(path, Path):
        raise ConfigError(f"state must be the path of a file, got {path!r}")
    if path.is_dir():
        raise ConfigError(f"state {path} is a folder; give the path of a file in it (e.g. {path / 'mock.sqlite'})")
    if not path.parent.is_dir():
        raise ConfigError(f"state {path}: the folder {path.parent} does not exist")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_host(host: object) -> None:
    if not isinstance(host, str) or not host:
        raise ConfigError(f"host must be a non-empty string, got {host!r}")


def _check_port(port: object) -> None:
    if not (_is_int(port) and 0 <= port <= 65535):
        raise ConfigError(f"port must be an integer from 0 to 65535, got {port!r}")


def _check_latency(latency: object) -> None:
    if latency is None:
        return
    if isinstance(latency, bool) or not isinstance(latency, int | float):
        raise ConfigError(f"latency must be a number of seconds, got {latency!r}")
    if latency < 0:
        raise ConfigError(f"latency must not be negative, got {latency:g}")
    if not math.isfinite(latency) or latency > MAX_DURATION_SECONDS:
        raise ConfigError(
            f"latency must be finite and at most {MAX_DURATION_SECONDS} seconds"
            f" ({MAX_DURATION_SECONDS // DAY} days), got {latency:g}"
        )


def _check_webhook_urls(urls: object) -> None:
    if isinstance(urls, str) or not isinstance(urls, tuple | list):
        kind = "a string" if isinstance(urls, str) else repr(urls)
        raise ConfigError(f"webhook URLs must be a list of URLs, got {kind}")
    for url in urls:
        try:
            check_url(url)
        except InvalidRequest:
            raise ConfigError(f"webhook URL {url!r} is not an absolute http(s) URL") from None


def _check_webhook_secret(secret: object) -> None:
    """Svix's format: `whsec_`, then strict base64 (padded, standard alphabet) of a 24..75-byte key.

    Anything else would either be refused by the `svix` library or, worse, accepted by it and
    then verify nothing the receiver checks with the secret it was given.
    """
    key = b""
    if isinstance(secret, str) and secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:  # binascii.Error: not strict base64; or not ASCII at all
            key = b""
    if not MIN_WEBHOOK_KEY_BYTES <= len(key) <= MAX_WEBHOOK_KEY_BYTES:
        raise ConfigError(
            f"webhook secret must be whsec_ followed by base64 of a {MIN_WEBHOOK_KEY_BYTES} to"
            f" {MAX_WEBHOOK_KEY_BYTES} byte key, as Svix makes them (e.g. whsec_ and 32 base64 characters)"
        )


def _check_partner_api_key(key: object) -> None:
    if key is None:
        return
    if (
        not isinstance(key, str)
        or not 1 <= len(key) <= MAX_PARTNER_API_KEY_CHARS
        or not all("!" <= c <= "~" for c in key)
    ):
        raise ConfigError(
            f"partner API key must be 1 to {MAX_PARTNER_API_KEY_CHARS} printable ASCII characters without spaces"
            " (it travels in an HTTP header)"
        )


CONFIG_KEYS = (
    "host",
    "port",
    "scenarios",
    "latency",
    "seed",
    "credentials",
    "tokenTtl",
    "validateResponses",
    "webhooks",
    "freezeClock",
    "maxVerifications",
    "maxDiscoveries",
    "partnerApiKey",
    "state",
)
WEBHOOK_KEYS = ("urls", "secret")


def load_config_file(path: Path) -> dict[str, Any]:
    """The YAML config file (`--config`, `SOHAR_MOCK_CONFIG`); see README "Configuration".

    Shapes are checked here (values by `Settings`), and `scenarios` come back as paths resolved
    from the file's own folder, so a config file works from wherever the mock is started.
    """
    try:
        data = read_yaml(path.read_text(encoding="utf-8")).data or {}
    except YAMLProblem as exc:
        raise ConfigError(f"config file {path}: line {exc.line}: {exc.problem}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML{_where(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top level")
    source = f"config file {path}"
    _refuse_unknown(data, CONFIG_KEYS, source)
    scenarios = data.get("scenarios")
    if scenarios is not None:
        if not isinstance(scenarios, list) or not all(isinstance(p, str) and p for p in scenarios):
            raise ConfigError(f"{source}: scenarios must be a list of paths, got {scenarios!r}")
        data["scenarios"] = [path.parent / p for p in scenarios]
    state = data.get("state")
    if state is not None:
        if not isinstance(state, str) or not state:
            raise ConfigError(f"{source}: state must be the path of a file, got {state!r}")
        data["state"] = str(path.parent / state)
    if data.get("partnerApiKey") is not None and not isinstance(data["partnerApiKey"], str):
        raise ConfigError(f"{source}: partnerApiKey must be a string, got {data['partnerApiKey']!r}")
    for key in ("validateResponses", "freezeClock"):
        if data.get(key) is not None and not isinstance(data[key], bool):
            raise ConfigError(f"{source}: {key} must be true or false, got {data[key]!r}")
    webhooks = data.get("webhooks")
    if webhooks is not None:
        if not isinstance(webhooks, dict):
            raise ConfigError(f"{source}: webhooks must be a mapping with urls and secret, got {webhooks!r}")
        _refuse_unknown(webhooks, WEBHOOK_KEYS, f"{source}: webhooks")
        urls = webhooks.get("urls")
        if urls is not None and (not isinstance(urls, list) or not all(isinstance(u, str) for u in urls)):
            raise ConfigError(f"{source}: webhooks.urls must be a list of URLs, got {urls!r}")
        secret = webhooks.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise ConfigError(f"{source}: webhooks.secret must be a string")
    return data


def _where(exc: yaml.YAMLError) -> str:
    """` at line N: problem`, one line, from PyYAML's multi-line message."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        return f" at line {exc.problem_mark.line + 1}: {exc.problem}"
    return f": {' '.join(str(exc).split())}"


def _refuse_unknown(data: dict[Any, Any], known: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(key) for key in set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def credentials_from(raw: Any, source: str) -> tuple[Credential, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{source}: credentials must be a non-empty list")
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not {"clientId", "clientSecret", "environment"} <= set(item):
            raise ConfigError(f"{source}: credentials[{index}] needs clientId, clientSecret and environment")
        if item["environment"] not in ENVIRONMENTS:
            raise ConfigError(f"{source}: credentials[{index}].environment must be sandbox or production")
        for key in ("clientId", "clientSecret"):
            # Not str()-ed: `clientId: null` would otherwise become the credential "None".
            if not isinstance(item[key], str) or not item[key]:
                raise ConfigError(f"{source}: credentials[{index}].{key} must be a non-empty string")
        out.append(Credential(item["clientId"], item["clientSecret"], item["environment"]))
    return tuple(out)


# -- where the values come from -------------------------------------------------------------

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_KIND_NAMES: dict[type, str] = {int: "an integer", float: "a number"}


def parse_number(value: str, kind: type[int] | type[float]) -> int | float:
    """`value` as `kind`; the ValueError is worded for flags and environment variables alike."""
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"must be {_KIND_NAMES[kind]}, got {value!r}") from None


class Environment:
    """The `SOHAR_MOCK_*` variables, each converted and checked; a blank one counts as unset."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def get(self, name: str) -> str | None:
        value = self._environ.get(f"SOHAR_MOCK_{name}")
        return value if value not in (None, "") else None

    def number(self, name: str, kind: type[int] | type[float]) -> int | float | None:
        value = self.get(name)
        if value is None:
            return None
        try:
            return parse_number(value, kind)
        except ValueError as exc:
            raise ConfigError(f"SOHAR_MOCK_{name} {exc}") from None

    def flag(self, name: str) -> bool | None:
        value = self.get(name)
        if value is None:
            return None
        if value.lower() in ("1", "true"):
            return True
        if value.lower() in ("0", "false"):
            return False
        raise ConfigError(f"SOHAR_MOCK_{name} must be 1 or 0, got {value!r}")

    def items(self, name: str) -> list[str] | None:
        value = self.get(name)
        if value is None:
            return None
        # Paths split on the OS path separator, URLs on commas or whitespace.
        separators = os.pathsep if name == "SCENARIOS" else ","
        return [part.strip() for chunk in value.split(separators) for part in chunk.split() if part.strip()]

    def log_level(self) -> str:
        """SOHAR_MOCK_LOG_LEVEL, checked: logging and uvicorn would each fail on a bad one in their own way."""
        value = self.get("LOG_LEVEL") or "warning"
        if value.lower() not in LOG_LEVELS:
            raise ConfigError(f"SOHAR_MOCK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return value.lower()


@dataclass(frozen=True)
class Flags:
    """What the command line said: None (False for a switch) where it said nothing."""

    config: str | None = None
    host: str | None = None
    port: int | None = None
    scenarios: Sequence[str] | None = None
    latency: float | None = None
    seed: int | None = None
    webhook_url: Sequence[str] | None = None
    webhook_secret: str | None = None
    freeze_clock: bool = False
    max_verifications: int | None = None
    max_discoveries: int | None = None
    partner_api_key: str | None = None
    state: str | None = None
    no_validate: bool = False
    strict: bool = False


def _state_path(value: object) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"state must be the path of a file, got {value!r}")
    return Path(value)


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def resolve(flags: Flags | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Each setting from its flag, else its environment variable, else the config file, else its
    default (README "Configuration"); `Settings` then checks every value."""
    flags = flags or Flags()
    env = Environment(environ)
    config_path = _first(flags.config, env.get("CONFIG"))
    config = load_config_file(Path(config_path)) if config_path else {}
    scenario_args = _first(flags.scenarios, env.items("SCENARIOS"), config.get("scenarios"))
    webhooks = config.get("webhooks") or {}
    kwargs: dict[str, Any] = {
        "host": _first(flags.host, env.get("HOST"), config.get("host"), "127.0.0.1"),
        "port": _first(flags.port, env.number("PORT", int), config.get("port"), 8080),
        "scenario_paths": tuple(Path(p) for p in scenario_args or ()),
        "latency": _first(flags.latency, env.number("LATENCY", float), config.get("latency")),
        "seed": _first(flags.seed, env.number("SEED", int), config.get("seed")),
        "token_ttl": _first(config.get("tokenTtl"), 3600),
        "validate_requests": not flags.no_validate,
        "validate_responses": bool(flags.strict or config.get("validateResponses")),
        "webhook_urls": tuple(_first(flags.webhook_url, env.items("WEBHOOK_URL"), webhooks.get("urls")) or ()),
        "freeze_clock": _first(flags.freeze_clock or None, env.flag("FREEZE_CLOCK"), config.get("freezeClock"), False),
        "max_verifications": _first(
            flags.max_verifications, env.number("MAX_VERIFICATIONS", int), config.get("maxVerifications")
        ),
        "max_discoveries": _first(
            flags.max_discoveries, env.number("MAX_DISCOVERIES", int), config.get("maxDiscoveries")
        ),
        "webhook_secret": _first(
            flags.webhook_secret, env.get("WEBHOOK_SECRET"), webhooks.get("secret"), DEFAULT_WEBHOOK_SECRET
        ),
        "partner_api_key": _first(flags.partner_api_key, env.get("PARTNER_API_KEY"), config.get("partnerApiKey")),
        "state_path": _state_path(_first(flags.state, env.get("STATE"), config.get("state"))),
    }
    if "credentials" in config:
        kwargs["credentials"] = credentials_from(config["credentials"], f"config file {config_path}")
    return Settings(**kwargs)
