"""What `sohar-contract server` adds to a schemathesis run, as schemathesis hooks.

- auth: every operation that declares security gets `Authorization: Bearer <token>`, the
  token fetched from the server's own `/oauth/token` and refreshed before it expires;
- payer ids: `payerId` is a reference into Sohar's payer directory, which no schema can
  enumerate. Positive (schema-valid) creates (verifications, and discoveries that name a payer)
  get a payer id the server actually holds, so fuzzing and the stateful create -> get links
  reach real 201s instead of 400 `payerId`; positive Create Provider bodies get a payer id
  likewise, and their `npi` the check digit its first nine digits call for (no schema can say
  it), so they reach real 200s. Negative cases are sent as generated;
- checks: the Sohar-aware replacements from `contract_tests.checks` (registered on import).

`installed` registers them for one run and removes them after it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis.auths import GLOBAL_AUTH_STORAGE

from mock_server.npi import NPI_LENGTH, check_digit

from . import checks as _checks  # noqa: F401  (registers the Sohar-aware checks)
from .oauth import TokenSource

CREATE_VERIFICATION = "POST /v2/verifications"
CREATE_DISCOVERY = "POST /v2/discovery"
CREATE_PROVIDER = "POST /v1/providers"
# Creates whose `payerId` must name a payer the server holds.
REFERENCING_PAYERS = (CREATE_VERIFICATION, CREATE_DISCOVERY, CREATE_PROVIDER)
TOKEN_OPERATION = "getToken"


@dataclass
class SuiteState:
    tokens: TokenSource
    payer_ids: tuple[str, ...]


_state: SuiteState | None = None


def _current() -> SuiteState:
    if _state is None:
        raise RuntimeError("contract_tests.suite_hooks.install() was not called")
    return _state


def real_payer_for(generated: str, payer_ids: tuple[str, ...]) -> str:
    # Deterministic in the generated value, so a seed still reproduces the same request.
    return payer_ids[zlib.crc32(generated.encode("utf-8", "surrogatepass")) % len(payer_ids)]


def valid_npi_for(generated: str) -> str:
    """A 10-digit `npi` with its last digit replaced by the check digit of the first nine."""
    return generated[:-1] + check_digit(generated[:-1])


def point_at_real_payer(case: Any, payer_ids: tuple[str, ...]) -> None:
    """Swap a positive create's generated `payerId` for one the server's directory holds, and
    give a positive Create Provider's `npi` a check digit that holds."""
    body = case.body
    if case.operation.label not in REFERENCING_PAYERS or not isinstance(body, dict):
        return
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    if payer_ids and isinstance(body.get("payerId"), str):
        body["payerId"] = real_payer_for(body["payerId"], payer_ids)
    npi = body.get("npi")
    if case.operation.label == CREATE_PROVIDER and isinstance(npi, str) and _ten_digits(npi):
        body["npi"] = valid_npi_for(npi)


def _ten_digits(text: str) -> bool:
    return len(text) == NPI_LENGTH and text.isascii() and text.isdigit()


class _SoharToken:
    """Schemathesis auth provider over a `TokenSource` (which does its own caching)."""

    def get(self, case: Any, ctx: Any) -> str:
        return _current().tokens.token()

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    point_at_real_payer(case, _current().payer_ids)


@contextmanager
def installed(tokens: TokenSource, payer_ids: tuple[str, ...]) -> Iterator[None]:
    """Point the hooks at one server for the length of a run, then take them out again.

    Schemathesis keeps auth providers and hooks process-wide; left registered, they would
    send this server's token to whatever the same process tests next (a pytest session).
    """
    global _state
    _state = SuiteState(tokens, payer_ids)
    schemathesis.auth(refresh_interval=None).skip_for(operation_id=TOKEN_OPERATION)(_SoharToken)
    schemathesis.hook("before_call")(_before_call)
    try:
        yield
    finally:
        GLOBAL_AUTH_STORAGE.unregister()
        schemathesis.hooks.unregister(_before_call)
        _state = None
