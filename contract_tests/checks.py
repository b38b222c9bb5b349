"""Schemathesis checks that know Sohar's documented behaviour.

Two built-in checks assume things Sohar documents otherwise; each is replaced by a check
that makes exactly that one exception and hands every other case to the built-in logic,
so nothing is switched off wholesale:

- `missing_required_header` insists on 401 for a missing `Authorization` header; Sohar
  answers 403 `{"error": "invalid_request_error"}`.
- `positive_data_acceptance` expects any schema-valid body to be accepted; but `payerId` is
  a reference into Sohar's payer directory, which no schema can enumerate, and Sohar answers
  an unknown payer with 400 `{"param": "payerId"}` (its documented error shape). Likewise an
  NPI must pass the NPI check digit, which no schema can say: a schema-valid `npi` that fails
  it is answered 400 `{"param": "npi"}` (Create Provider's documented error).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis.checks import CheckContext
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.openapi.checks import MissingHeaderNotRejected, RejectedPositiveData
from schemathesis.specs.openapi.checks import missing_required_header, positive_data_acceptance

from mock_server.npi import is_valid_npi

# Sohar's documented answer to a request without (or with a bad) bearer token.
SOHAR_AUTH_REJECTION = 403


def _drops_authorization_header(case: Case[Any]) -> bool:
    meta = case.meta
    if meta is None:
        return False
    data = meta.phase.data
    return (
        isinstance(data, CoveragePhaseData)
        and data.scenario == CoverageScenario.MISSING_PARAMETER
        and data.parameter_location == ParameterLocation.HEADER
        and (data.parameter or "").lower() == "authorization"
    )


@schemathesis.check
def sohar_missing_required_header(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A request missing a required header is rejected; without `Authorization`, with Sohar's 403."""
    if not _drops_authorization_header(case):
        return missing_required_header(ctx, response, case)
    if response.status_code != SOHAR_AUTH_REJECTION:
        raise MissingHeaderNotRejected(
            operation=f"{case.method} {case.path}",
            header_name="Authorization",
            status_code=response.status_code,
            expected_statuses=[SOHAR_AUTH_REJECTION],
            message=(
                f"Got {response.status_code} when missing required 'Authorization' header, "
                f"expected {SOHAR_AUTH_REJECTION} (Sohar's documented answer)"
            ),
        )
    return None


def _rejected_param(response: Response) -> object:
    try:
        body: object = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or set(body) != {"error", "param"} or body["error"] != "invalid_request_error":
        return None
    return body["param"]


def _rejects_unknown_payer(response: Response, case: Case[Any]) -> bool:
    if response.status_code != 400 or not isinstance(case.body, dict) or "payerId" not in case.body:
        return False
    return _rejected_param(response) == "payerId"


def _rejects_failed_check_digit(response: Response, case: Case[Any]) -> bool:
    if response.status_code != 400 or not isinstance(case.body, dict) or is_valid_npi(case.body.get("npi")):
        return False
    return _rejected_param(response) == "npi"


@schemathesis.check
def sohar_positive_data_acceptance(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Schema-valid data is accepted, but for a `payerId` the payer directory does not hold and an
    `npi` that fails the NPI check digit."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if _rejects_unknown_payer(response, case) or _rejects_failed_check_digit(response, case):
            return None
        raise


# What a suite passes to schemathesis: the built-in it replaces, and the replacement.
REPLACED_CHECKS = [missing_required_header, positive_data_acceptance]
SOHAR_CHECKS = [sohar_missing_required_header, sohar_positive_data_acceptance]
