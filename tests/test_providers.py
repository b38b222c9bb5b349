"""Providers over loopback: Create Provider and the NPI requirement it satisfies, with the
webhooks a real receiver gets checked by the official svix library."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conformance import validating_mock
from conftest import ADMIN_SPEC, assert_conforms, receiving, request_for
from svix.webhooks import Webhook

from contract_tests.receiver import WebhookReceiver
from mock_server.settings import DEFAULT_WEBHOOK_SECRET
from mock_server.testing import RunningMock

NEEDS_PROVIDER = "20000003"  # default scenarios: a 60054 plan that needs a rendering NPI on file
VALID_NPI = "1234567893"  # CMS's own worked example of the check digit
OTHER_VALID_NPI = "1558598797"
PROVIDER = {"npi": VALID_NPI, "payerId": "60054", "state": "CA"}

# Digits outside ASCII (U+FF11...): str.isdigit() says yes, an NPI says no.
FULL_WIDTH = "".join(chr(0xFF10 + int(digit)) for digit in "1234567893")


@pytest.fixture
def hook_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture
def hooked(hook_receiver: WebhookReceiver) -> Iterator[RunningMock]:
    """A mock whose start-up configuration subscribes the receiver to every event.

    Both are new for each test: a delivery a previous test's mock had already put on the wire
    cannot land in this test's receiver (a shared receiver, cleared between tests, could still
    get one after the clear)."""
    with validating_mock(webhook_urls=(hook_receiver.url,), freeze_clock=True) as running:
        yield running


def create_verification(mock: RunningMock, member_id: str, environment: str = "sandbox", **patient: str) -> str:
    response = mock.http.post(
        "/v2/verifications", json=request_for(member_id, **patient), headers=mock.headers(environment)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["verificationId"])


def status_of(mock: RunningMock, verification_id: str, environment: str = "sandbox") -> str:
    response = mock.http.get(f"/v2/verifications/{verification_id}", headers=mock.headers(environment))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def create_provider(mock: RunningMock, environment: str = "sandbox", **fields: Any) -> Any:
    return mock.http.post("/v1/providers", json={**PROVIDER, **fields}, headers=mock.headers(environment))


def verified_status(receiver: WebhookReceiver, verification_id: str, count: int) -> str:
    """The status the delivery about `verification_id` carries, once its signature verifies with svix."""
    for delivery in receiver.wait_for_count(count):
        if delivery.payload["verificationId"] == verification_id:
            Webhook(DEFAULT_WEBHOOK_SECRET).verify(delivery.body, delivery.headers)  # raises if forged
            return str(delivery.payload["status"])
    raise AssertionError(f"no delivery about {verification_id}")


def test_npi_required_until_a_provider_is_enrolled(hooked: RunningMock, hook_receiver: WebhookReceiver) -> None:
    first = create_verification(hooked, NEEDS_PROVIDER)
    assert verified_status(hook_receiver, first, 1) == "error.payer.npi"
    assert status_of(hooked, first) == "error.payer.npi"

    created = create_provider(hooked)
    assert created.status_code == 200, created.text  # Sohar documents 200 "A provider config"
    assert_conforms("CreateProviderResponse", created.json())

    again = create_verification(hooked, NEEDS_PROVIDER)
    assert verified_status(hook_receiver, again, 2) == "complete.eligible"
    assert status_of(hooked, again) == "complete.eligible"
    # The earlier verification keeps the answer it had: a payer is asked once.
    assert status_of(hooked, first) == "error.payer.npi"


def test_a_production_provider_does_not_help_a_sandbox_verification(
    hooked: RunningMock, hook_receiver: WebhookReceiver
) -> None:
    assert create_provider(hooked, "production").status_code == 200
    sandbox = create_verification(hooked, NEEDS_PROVIDER)
    assert verified_status(hook_receiver, sandbox, 1) == "error.payer.npi"
    # ... while it does help a production one.
    production = create_verification(hooked, NEEDS_PROVIDER, "production")
    assert verified_status(hook_receiver, production, 2) == "complete.eligible"


def test_the_npi_trigger_answers_error_payer_npi_whatever_is_enrolled(mock: RunningMock) -> None:
    assert create_provider(mock).status_code == 200
    assert status_of(mock, create_verification(mock, "20000002")) == "error.payer.npi"


def test_the_documented_member_needs_no_provider(mock: RunningMock) -> None:
    assert mock.http.get("/v1/providers", headers=mock.headers()).json() == []
    assert status_of(mock, create_verification(mock, "00000000")) == "complete.eligible"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"state": "NY"}, "enrolled for another state than the patient's"),
        ({"payerId": "62308"}, "enrolled with another payer"),
        ({"type": "group"}, "a group NPI where the plan needs a rendering one"),
    ],
)
def test_only_a_matching_provider_satisfies_the_payer(mock: RunningMock, fields: dict[str, str], why: str) -> None:
    assert create_provider(mock, **fields).status_code == 200, why
    assert status_of(mock, create_verification(mock, NEEDS_PROVIDER)) == "error.payer.npi", why


def test_an_alias_payer_id_enrols_with_the_payer(mock: RunningMock) -> None:
    created = create_provider(mock, payerId="aetna")
    assert created.status_code == 200
    provider = mock.http.get(f"/v1/providers/{created.json()['providerId']}", headers=mock.headers()).json()
    assert provider["payerId"] == "60054"
    assert status_of(mock, create_verification(mock, NEEDS_PROVIDER)) == "complete.eligible"


def test_the_same_config_twice_is_one_provider(mock: RunningMock) -> None:
    first = create_provider(mock).json()["providerId"]
    assert create_provider(mock).json()["providerId"] == first
    assert create_provider(mock, npi=OTHER_VALID_NPI).json()["providerId"] != first
    assert len(mock.http.get("/v1/providers", headers=mock.headers()).json()) == 2


@pytest.mark.parametrize(
    "npi",
    [
        "123456789",  # 9 digits
        "12345678931",  # 11 digits
        "12345678ab",  # letters
        "1234567890",  # fails the check digit
        "0123456789",  # Sohar's own example, a placeholder: fails the check digit
        FULL_WIDTH,  # full-width digits: not ASCII
        "",
        1234567893,  # a number, not text
        None,
    ],
)
def test_bad_npis_are_400_npi(mock: RunningMock, npi: object) -> None:
    response = create_provider(mock, npi=npi)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request_error", "param": "npi"}


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"payerId": "99999"}, "payerId"),
        ({"state": "ZZ"}, "state"),
        ({"type": "solo"}, "type"),
        ({"providerGroupId": "x" * 65}, "providerGroupId"),
    ],
)
def test_other_bad_fields_name_themselves(mock: RunningMock, fields: dict[str, str], param: str) -> None:
    response = create_provider(mock, **fields)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request_error", "param": param}


def test_bad_npis_are_refused_without_request_validation_too() -> None:
    # With --no-validate the body reaches the domain unchecked: its own check still answers 400.
    with validating_mock(validate_requests=False, freeze_clock=True) as mock:
        for npi in ("123456789", "12345678ab", "1234567890", 1234567893, ["1234567893"]):
            response = create_provider(mock, npi=npi)
            assert response.status_code == 400, (npi, response.text)
            assert response.json() == {"error": "invalid_request_error", "param": "npi"}
        assert mock.http.post("/v1/providers", json=[], headers=mock.headers()).json()["param"] == "body"
        # Fields of any JSON type are refused by name, never a 500.
        for field, value in [("state", {"a": 1}), ("state", ["CA"]), ("type", {}), ("payerId", ["60054"]),
                             ("providerGroupId", 5), ("type", ["group"])]:  # fmt: skip
            response = create_provider(mock, **{field: value})
            assert response.status_code == 400, (field, value, response.text)
            assert response.json() == {"error": "invalid_request_error", "param": field}


def test_providers_are_per_environment(mock: RunningMock) -> None:
    sandbox_id = create_provider(mock).json()["providerId"]
    production = mock.headers("production")
    assert mock.http.get("/v1/providers", headers=production).json() == []
    assert mock.http.get(f"/v1/providers/{sandbox_id}", headers=production).status_code == 404
    assert mock.http.delete(f"/v1/providers/{sandbox_id}", headers=production).status_code == 404
    listed = mock.http.get("/v1/providers", headers=mock.headers()).json()
    assert [p["providerId"] for p in listed] == [sandbox_id]
    for provider in listed:
        assert_conforms("Provider", provider)


def test_delete_withdraws_the_provider(mock: RunningMock) -> None:
    provider_id = create_provider(mock).json()["providerId"]
    deleted = mock.http.delete(f"/v1/providers/{provider_id}", headers=mock.headers())
    assert deleted.status_code == 200
    assert deleted.json() == {"providerId": provider_id, "deleted": True}
    assert mock.http.get(f"/v1/providers/{provider_id}", headers=mock.headers()).status_code == 404
    assert mock.http.delete(f"/v1/providers/{provider_id}", headers=mock.headers()).status_code == 404
    assert status_of(mock, create_verification(mock, NEEDS_PROVIDER)) == "error.payer.npi"


def test_created_providers_go_at_reset(mock: RunningMock) -> None:
    create_provider(mock)
    mock.reset()
    assert mock.http.get("/v1/providers", headers=mock.headers()).json() == []
    assert status_of(mock, create_verification(mock, NEEDS_PROVIDER)) == "error.payer.npi"


def test_provider_operations_need_a_token(mock: RunningMock) -> None:
    for method, path in [("POST", "/v1/providers"), ("GET", "/v1/providers"), ("GET", "/v1/providers/x")]:
        response = mock.http.request(method, path, json=PROVIDER if method == "POST" else None)
        assert response.status_code == 403
        assert response.json() == {"error": "invalid_request_error"}


def test_the_journal_records_provider_calls(mock: RunningMock) -> None:
    create_provider(mock)
    create_provider(mock, npi="1234567890")
    records = mock.http.get("/__admin/requests", params={"operationId": "createProvider"}).json()["requests"]
    assert [(r["statusCode"], r["errorParam"], r["conforms"]) for r in records] == [
        (200, None, True),
        (400, "npi", True),  # a failing check digit is data, not a schema violation
    ]
    create_provider(mock, npi="12345")
    last = mock.http.get("/__admin/requests", params={"operationId": "createProvider"}).json()["requests"][-1]
    assert (last["errorParam"], last["conforms"], last["violation"]["rule"]) == ("npi", False, "pattern")


# -- the admin API --------------------------------------------------------------------------


def test_admin_creates_lists_and_withdraws_providers(mock: RunningMock) -> None:
    made = mock.http.post("/__admin/providers", json={**PROVIDER, "environment": "production"})
    assert made.status_code == 201, made.text
    assert_conforms("ProviderSummary", made.json(), ADMIN_SPEC)
    assert (made.json()["environment"], made.json()["source"]) == ("production", "api")
    assert mock.http.post("/__admin/providers", json={**PROVIDER, "environment": "production"}).status_code == 200
    # It is the provider the API sees, in its own environment only.
    provider_id = made.json()["providerId"]
    assert mock.http.get(f"/v1/providers/{provider_id}", headers=mock.headers("production")).status_code == 200
    assert status_of(mock, create_verification(mock, NEEDS_PROVIDER, "production"), "production") == (
        "complete.eligible"
    )
    listed = mock.http.get("/__admin/providers", params={"environment": "production"}).json()
    assert [p["providerId"] for p in listed["providers"]] == [provider_id]
    assert mock.http.get("/__admin/providers", params={"environment": "sandbox"}).json()["count"] == 0
    assert mock.http.delete(f"/__admin/providers/{provider_id}").json()["deleted"] is True
    assert mock.http.get(f"/__admin/providers/{provider_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**PROVIDER, "npi": "1234567890"}, "npi"),
        ({**PROVIDER, "environment": "staging"}, "environment"),
        ({**PROVIDER, "payerId": 60054}, "payerId"),
        ({"payerId": "60054", "state": "CA"}, "npi"),
    ],
)
def test_admin_refuses_bad_providers_with_a_message(mock: RunningMock, body: dict[str, Any], param: str) -> None:
    response = mock.http.post("/__admin/providers", json=body)
    assert response.status_code == 400
    assert response.json()["param"] == param
    assert response.json()["message"]
    assert mock.http.get("/__admin/providers", params={"environment": "typo"}).status_code == 400


def test_the_cap_on_created_providers_is_a_409(mock: RunningMock) -> None:
    registry = mock.core.providers
    registry.cap, cap = 2, registry.cap
    try:
        for npi in (VALID_NPI, OTHER_VALID_NPI):
            assert create_provider(mock, npi=npi).status_code == 200
        full = create_provider(mock, npi="1245319599")
        assert full.status_code == 409
        assert full.json() == {"error": "invalid_request_error"}
        assert create_provider(mock, npi=VALID_NPI).status_code == 200  # the same config is no new provider
        assert mock.http.post("/__admin/providers", json={**PROVIDER, "npi": "1245319599"}).status_code == 409
    finally:
        registry.cap = cap
