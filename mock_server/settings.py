"""One frozen settings object, from CLI flags, environment variables and a config file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .domain.auth import ENVIRONMENTS, Credential
from .limits import MAX_BODY_BYTES
from .resources import default_scenarios_dir

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

    def scenario_files(self) -> list[Path]:
        """Every scenario file to load, folders expanded to their *.yaml / *.yml files."""
        paths = self.scenario_paths or (default_scenarios_dir(),)
        files: list[Path] = []
        for path in paths:
            if path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
            elif path.exists():
                files.append(path)
            else:
                raise ConfigError(f"scenario path {path} does not exist")
        return files


def env(name: str) -> str | None:
    value = os.environ.get(f"SOHAR_MOCK_{name}")
    return value if value not in (None, "") else None


def load_config_file(path: Path) -> dict[str, Any]:
    """The YAML config file (`--config`, `SOHAR_MOCK_CONFIG`); see README "Configuration"."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top level")
    known = {
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
    }
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return data


def credentials_from(raw: Any, source: str) -> tuple[Credential, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{source}: credentials must be a non-empty list")
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not {"clientId", "clientSecret", "environment"} <= set(item):
            raise ConfigError(f"{source}: credentials[{index}] needs clientId, clientSecret and environment")
        if item["environment"] not in ENVIRONMENTS:
            raise ConfigError(f"{source}: credentials[{index}].environment must be sandbox or production")
        out.append(Credential(str(item["clientId"]), str(item["clientSecret"]), item["environment"]))
    return tuple(out)
