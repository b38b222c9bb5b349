"""The partner API key setting: checked like every setting, from a flag, a variable or the config file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from test_cli import run_cli, serve

from mock_server.limits import MAX_PARTNER_API_KEY_CHARS
from mock_server.settings import ConfigError, Flags, Settings, resolve

DANA = {"firstName": "Dana", "lastName": "Whitaker", "birthDate": "1980-07-14"}


@pytest.mark.parametrize("key", ["", "has space", "tab\tkey", "naïve", "x" * (MAX_PARTNER_API_KEY_CHARS + 1), 12345])
def test_an_unusable_key_is_refused(key: object) -> None:
    with pytest.raises(ConfigError, match="partner API key must be 1 to 256 printable ASCII characters"):
        Settings(partner_api_key=key)  # type: ignore[arg-type]


@pytest.mark.parametrize("key", ["k", "x" * MAX_PARTNER_API_KEY_CHARS, "sk_live-!#$%&'*+.^_`|~0123"])
def test_a_usable_key_is_kept(key: str) -> None:
    assert Settings(partner_api_key=key).partner_api_key == key


def answers(base: str, key: str | None) -> int:
    headers = {"X-API-Key": key} if key is not None else {}
    return httpx.post(f"{base}/v1/eligibility/search", json=DANA, headers=headers, timeout=10).status_code


@pytest.mark.parametrize("via", ["flag", "env", "config"])
def test_the_key_from_a_flag_a_variable_or_the_config_file(tmp_path: Path, via: str) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("partnerApiKey: from-config\n")
    args, env, key = {
        "flag": (("--partner-api-key", "from-flag"), {}, "from-flag"),
        "env": ((), {"SOHAR_MOCK_PARTNER_API_KEY": "from-env"}, "from-env"),
        "config": (("--config", str(config)), {}, "from-config"),
    }[via]
    with serve(*args, env=env) as (base, served):
        assert (answers(base, None), answers(base, "wrong"), answers(base, key)) == (401, 401, 200)
    assert "partner eligibility: POST" in served.output() and "X-API-Key required" in served.output()
    assert key not in served.output()  # the banner names the header, not the key


def test_the_flag_beats_the_variable_and_no_setting_means_no_key() -> None:
    with serve("--partner-api-key", "from-flag", env={"SOHAR_MOCK_PARTNER_API_KEY": "from-env"}) as (base, _):
        assert (answers(base, "from-env"), answers(base, "from-flag")) == (401, 200)
    with serve() as (base, served):
        assert answers(base, None) == 200
    assert "(no credentials)" in served.output()


@pytest.mark.parametrize(
    ("args", "env", "config", "message"),
    [
        (("--partner-api-key", "two words"), {}, None, "partner API key must be 1 to 256 printable ASCII characters"),
        ((), {"SOHAR_MOCK_PARTNER_API_KEY": "x" * 300}, None, "partner API key must be 1 to 256"),
        ((), {}, "partnerApiKey: 12345\n", "partnerApiKey must be a string, got 12345"),
    ],
)
def test_a_bad_key_stops_serve_with_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], config: str | None, message: str
) -> None:
    if config is not None:
        path = tmp_path / "mock.yaml"
        path.write_text(config)
        args = ("--config", str(path))
    result = run_cli("serve", *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("sohar-mock: ") and result.stderr.count("\n") == 1, result.stderr


def test_resolve_takes_the_key_from_the_flag_then_the_variable_then_the_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("partnerApiKey: from-config\n")
    environ = {"SOHAR_MOCK_CONFIG": str(config), "SOHAR_MOCK_PARTNER_API_KEY": "from-env"}
    assert resolve(Flags(partner_api_key="from-flag"), environ).partner_api_key == "from-flag"
    assert resolve(Flags(), environ).partner_api_key == "from-env"
    assert resolve(Flags(), {**environ, "SOHAR_MOCK_PARTNER_API_KEY": ""}).partner_api_key == "from-config"
    assert resolve(Flags(), {}).partner_api_key is None


@pytest.mark.parametrize("source", ["variable", "config"])
def test_resolve_refuses_a_bad_key_as_the_cli_does(tmp_path: Path, source: str) -> None:
    config = tmp_path / "mock.yaml"
    config.write_text("partnerApiKey: 12345\n")
    environ = {"variable": {"SOHAR_MOCK_PARTNER_API_KEY": "two words"}, "config": {"SOHAR_MOCK_CONFIG": str(config)}}[
        source
    ]
    with pytest.raises(ConfigError) as raised:
        resolve(Flags(), environ)
    result = run_cli("serve", env=environ)
    assert result.returncode == 2
    assert result.stderr == f"sohar-mock: {raised.value}\n"
