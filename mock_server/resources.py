"""Where the packaged contract and default scenarios live.

A wheel carries them inside the package (`mock_server/_data/`); a source checkout or an
editable install reads them from the repository's top-level `openapi/` and `scenarios/`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"packaged data folder {name!r} is missing from this install")


def openapi_dir() -> Path:
    return _data_dir("openapi")


def sohar_spec_path() -> Path:
    return openapi_dir() / "sohar.yaml"


def admin_spec_path() -> Path:
    return openapi_dir() / "admin.yaml"


def default_scenarios_dir() -> Path:
    return _data_dir("scenarios")


def partner_spec_path() -> Path:
    return openapi_dir() / "partner-eligibility.yaml"
