"""Schemathesis against the admin API of a live mock, with the admin contract (openapi/admin.yaml).

Every phase (examples, coverage, fuzzing with negative data) and every check, response
conformance included: the control plane must answer everything in its documented shapes,
and never with a 5xx.

One exception, for one operation: `POST /__admin/scenarios` takes YAML text, and no schema
can say which text is a usable scenario file (its members must name known payers, its dates
must exist, ...). So its two data checks, "schema-valid data is accepted" and "invalid data
is rejected", are replaced by what the mock documents for any text: 201 with the file's
summary, or 400 `param: scenario` (or `body` for bytes that are not UTF-8) with a message.

The contract kit's Sohar-aware checks (registered for every run once imported) are about
Sohar's API, not this one: they are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from conftest import request_for
from hypothesis import HealthCheck
from schemathesis.checks import CheckContext
from schemathesis.core.failures import Failure
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from contract_tests.checks import SOHAR_CHECKS
from contract_tests.suite_hooks import valid_npi_for
from mock_server.resources import admin_spec_path
from mock_server.testing import RunningMock

SETTINGS = hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
SCENARIO_UPLOAD = "POST /__admin/scenarios"
PROVIDER_CREATE = "POST /__admin/providers"
# (operation, status) over the whole run.
ANSWERED: set[tuple[str, int]] = set()


def scenario_upload_answer(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Any text uploaded as a scenario is loaded (201) or refused with a reason (400)."""
    body = response.json()
    if response.status_code == 201 and isinstance(body.get("members"), int):
        return None
    if response.status_code == 400 and body.get("param") in ("scenario", "body") and body.get("message"):
        return None
    raise Failure(
        operation=case.operation.label,
        title="Scenario upload answered outside its contract",
        message=f"Expected 201 with a summary or 400 with a reason, got {response.status_code}: {body}",
        code=response.status_code,
    )


@pytest.fixture(scope="module")
def admin_mock() -> Iterator[RunningMock]:
    # A mock of its own: the run resets it, loads scenarios into it and forces statuses.
    with RunningMock(validate_responses=True, seed=3) as mock:
        yield mock
        # After the run (a teardown, so test order cannot matter): the mock still answers,
        # broke none of Sohar's contract, and the run reached past the 404s and the 400s.
        assert mock.http.get("/__admin/health").json()["status"] == "ok"
    assert mock.core.contract_violations == []
    if ANSWERED:
        assert {
            ("POST /__admin/verifications/{verificationId}/status", 200),
            ("GET /__admin/verifications/{verificationId}", 200),
            ("POST /__admin/scenarios", 201),
            ("POST /__admin/providers", 201),
        } <= ANSWERED


class Verifications:
    """Real verification ids, so operations on one reach past the 404 (the run resets the mock)."""

    MEMBERS = ("00000000", "30000000", "10000000")  # eligible, pending then recovering, unknown member

    def __init__(self, mock: RunningMock) -> None:
        self.mock = mock
        self.ids: list[str] = []

    def current(self) -> list[str]:
        if not self.ids or self.mock.http.get(f"/__admin/verifications/{self.ids[0]}").status_code == 404:
            headers = self.mock.headers()
            self.ids = [
                self.mock.http.post("/v2/verifications", json=request_for(member), headers=headers).json()[
                    "verificationId"
                ]
                for member in self.MEMBERS
            ]
        return self.ids

    def point_at_one(self, case: Case) -> None:
        """Most generated ids become real ones; the rest stay, so the 404 is exercised too."""
        params = case.path_parameters
        generated = params.get("verificationId") if params else None
        if isinstance(generated, str):
            ids = self.current()
            index = len(generated) % (len(ids) + 1)
            if index < len(ids):
                params["verificationId"] = ids[index]


def enrol_for_real(case: Case) -> None:
    """A schema-valid provider is accepted only with a payer the directory holds and an NPI whose
    check digit holds, which no schema can say: positive creates get both (negative ones stay)."""
    body = case.body
    meta = case.meta
    if case.operation.label != PROVIDER_CREATE or not isinstance(body, dict):
        return
    if meta is not None and not meta.generation.mode.is_positive:
        return
    if isinstance(body.get("payerId"), str):
        body["payerId"] = "60054"
    npi = body.get("npi")
    if isinstance(npi, str) and len(npi) == 10 and npi.isascii() and npi.isdigit():
        body["npi"] = valid_npi_for(npi)


@pytest.fixture(scope="module")
def verifications(admin_mock: RunningMock) -> Verifications:
    return Verifications(admin_mock)


@pytest.fixture(scope="module")
def admin_schema(admin_mock: RunningMock) -> Any:
    schema = schemathesis.openapi.from_path(admin_spec_path())
    schema.config.update(base_url=admin_mock.base_url)
    return schema


schema = schemathesis.pytest.from_fixture("admin_schema")


@schema.parametrize()
@SETTINGS
def test_every_admin_operation_conforms(case: Any, verifications: Verifications) -> None:
    verifications.point_at_one(case)
    enrol_for_real(case)
    if case.operation.label == SCENARIO_UPLOAD:
        response = case.call_and_validate(
            excluded_checks=[*SOHAR_CHECKS, positive_data_acceptance, negative_data_rejection],
            additional_checks=[scenario_upload_answer],
        )
    else:
        response = case.call_and_validate(excluded_checks=SOHAR_CHECKS)
    ANSWERED.add((case.operation.label, response.status_code))
