"""Schemathesis against the live mock with the project's own spec: examples, coverage, fuzzing, stateful.

Sohar's documented deviations from schemathesis' expectations (403 where it expects 401 for a
missing token; 400 `param: payerId` for a payer the directory does not hold) are handled by the
contract kit's Sohar-aware replacements of exactly those two checks; every other check runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import hypothesis
import pytest
import schemathesis
from conformance import validating_mock
from hypothesis import HealthCheck

from contract_tests.checks import REPLACED_CHECKS, SOHAR_CHECKS
from contract_tests.suite_hooks import CREATE_PROVIDER, REFERENCING_PAYERS, valid_npi_for
from mock_server.resources import sohar_spec_path
from mock_server.testing import RunningMock

SETTINGS = hypothesis.settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


def sohar_schema(mock: RunningMock, environment: str = "sandbox") -> Any:
    schema = schemathesis.openapi.from_path(sohar_spec_path())
    schema.config.update(base_url=mock.base_url)

    # Not cached: a fresh token per request, so no token outlives the mock state it was minted in.
    @schema.auth(refresh_interval=None)
    class Token:
        """Fetches a real token from the mock's /oauth/token, as a client would."""

        def get(self, case: Any, ctx: Any) -> str:
            return mock.token(environment)

        def set(self, case: Any, data: str, ctx: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


@pytest.fixture(scope="module")
def api_schema(live: RunningMock) -> Any:
    return sohar_schema(live)


@pytest.fixture(scope="module")
def management_mock() -> Iterator[RunningMock]:
    """A mock of its own for webhook management: fuzzing registers endpoints at random URLs, and
    since no verification is ever created on it, no event fires and nothing is sent to them."""
    with validating_mock(seed=2) as mock:  # seeded: resets replay the same ids
        yield mock
    assert mock.core.webhooks.journal.select() == []


@pytest.fixture(scope="module")
def management_schema(management_mock: RunningMock) -> Any:
    # Only production credentials may manage endpoints (sandbox ones get 403, tested elsewhere).
    return sohar_schema(management_mock, "production").include(tag="Webhooks")


schema = schemathesis.pytest.from_fixture("api_schema")
management = schemathesis.pytest.from_fixture("management_schema")


@schema.parametrize()
@SETTINGS
def test_every_operation_conforms(case: Any) -> None:
    case.call_and_validate(excluded_checks=REPLACED_CHECKS, additional_checks=SOHAR_CHECKS)


@management.parametrize()
@SETTINGS
def test_webhook_management_conforms(case: Any) -> None:
    case.call_and_validate(excluded_checks=REPLACED_CHECKS, additional_checks=SOHAR_CHECKS)


def sohar_workflow(mock: RunningMock, schema: Any, payer_ids: list[str] | None = None) -> Any:
    """The schema's state machine, checked with the Sohar-aware replacements."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        answered: ClassVar[set[tuple[str, int]]] = set()  # (operation, status) over every scenario

        def after_call(self, response: Any, case: Any) -> None:
            self.answered.add((case.operation.label, response.status_code))
            super().after_call(response, case)

        def setup(self) -> None:
            # Every scenario starts from the same server state, so hypothesis can replay and shrink
            # it: responses (and the values schemathesis learns from them) depend on that state.
            mock.reset()

        def before_call(self, case: Any) -> None:
            # A payerId is a reference into the payer directory, which random strings almost never
            # hit; point creates at real payers so the create -> get link is walked, not just 400s.
            # Likewise an NPI's check digit, which no schema can say.
            body = case.body
            creates = case.operation.label in REFERENCING_PAYERS
            if payer_ids and creates and isinstance(body, dict) and isinstance(body.get("payerId"), str):
                body["payerId"] = payer_ids[len(body["payerId"]) % len(payer_ids)]
            npi = body.get("npi") if isinstance(body, dict) else None
            if case.operation.label == CREATE_PROVIDER and isinstance(npi, str) and len(npi) == 10 and npi.isdigit():
                body["npi"] = valid_npi_for(npi)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(
                response,
                excluded_checks=REPLACED_CHECKS,
                additional_checks=[*SOHAR_CHECKS, *(additional_checks or [])],
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    return Workflow


STATEFUL = hypothesis.settings(SETTINGS, max_examples=25, stateful_step_count=6)


def test_webhook_management_links(management_mock: RunningMock, management_schema: Any) -> None:
    workflow = sohar_workflow(management_mock, management_schema)
    workflow.run(settings=STATEFUL)
    assert {("POST /v1/webhooks", 201), ("POST /v1/webhooks/{endpointId}/events", 201)} <= workflow.answered
    assert management_mock.core.contract_violations == []


def test_create_then_get_through_openapi_links(live: RunningMock) -> None:
    payer_ids = sorted(p["payerId"] for p in live.http.get("/v1/payers", headers=live.headers()).json())
    # Verifications only: with every operation in play, hypothesis may spend a whole run elsewhere.
    workflow = sohar_workflow(live, sohar_schema(live).include(tag="Verifications"), payer_ids)
    workflow.run(settings=STATEFUL)
    # The links were followed: a verification created in the run was read back.
    assert {("POST /v2/verifications", 201), ("GET /v2/verifications/{verificationId}", 200)} <= workflow.answered


def test_discover_then_get_through_openapi_links(live: RunningMock) -> None:
    payer_ids = sorted(p["payerId"] for p in live.http.get("/v1/payers", headers=live.headers()).json())
    workflow = sohar_workflow(live, sohar_schema(live).include(tag="Discovery"), payer_ids)
    workflow.run(settings=STATEFUL)
    # Both creates link to Get Discovery; a discovery created in the run was read back.
    assert ("GET /v2/discovery/{discoveryId}", 200) in workflow.answered
    assert {("POST /v2/discovery", 201), ("POST /v1/discovery", 201)} & workflow.answered


def test_create_provider_then_get_and_delete_through_openapi_links(live: RunningMock) -> None:
    payer_ids = sorted(p["payerId"] for p in live.http.get("/v1/payers", headers=live.headers()).json())
    workflow = sohar_workflow(live, sohar_schema(live).include(tag="Providers"), payer_ids)
    workflow.run(settings=STATEFUL)
    assert {("POST /v1/providers", 200), ("GET /v1/providers/{providerId}", 200)} <= workflow.answered
    assert ("DELETE /v1/providers/{providerId}", 200) in workflow.answered


def test_create_verification_then_network_status_through_openapi_links(live: RunningMock) -> None:
    payer_ids = sorted(p["payerId"] for p in live.http.get("/v1/payers", headers=live.headers()).json())
    selected = sohar_schema(live).include(operation_id=["createVerification", "getNetworkStatus"])
    workflow = sohar_workflow(live, selected, payer_ids)
    workflow.run(settings=STATEFUL)
    assert {("POST /v2/verifications", 201), ("GET /v2/verifications/{verificationId}/network-status", 200)} <= (
        workflow.answered
    )
