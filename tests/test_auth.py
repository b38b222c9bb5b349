"""Credentials, tokens, expiry on the mock clock and sandbox/production isolation."""

from __future__ import annotations

import pytest
from conftest import OUTLASTS_ANY_TEST, assert_conforms, request_for

from mock_server.testing import PRODUCTION_CREDENTIALS, SANDBOX_CREDENTIALS, RunningMock

FORBIDDEN = {"error": "invalid_request_error"}


@pytest.mark.parametrize("credentials", [SANDBOX_CREDENTIALS, PRODUCTION_CREDENTIALS])
def test_token_for_each_environment(mock: RunningMock, credentials: dict[str, str]) -> None:
    response = mock.http.post("/oauth/token", json=credentials)
    assert response.status_code == 200
    body = response.json()
    assert_conforms("TokenResponse", body)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": "sandbox-client-id", "client_secret": "wrong"},
        {"client_id": "nobody", "client_secret": "sandbox-client-secret"},
        {"client_id": "sandbox-client-id", "client_secret": "production-client-secret"},
    ],
)
def test_bad_credentials_are_403(mock: RunningMock, credentials: dict[str, str]) -> None:
    response = mock.http.post("/oauth/token", json=credentials)
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"client_secret": "x"}, "client_id"),
        ({"client_id": "sandbox-client-id"}, "client_secret"),
        ({"client_id": "", "client_secret": "x"}, "client_id"),
        ({"client_id": 7, "client_secret": "x"}, "client_id"),
        ([], "body"),
    ],
)
def test_malformed_token_requests_name_the_field(mock: RunningMock, body: object, param: str) -> None:
    response = mock.http.post("/oauth/token", json=body)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request_error", "param": param}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nope", "Basic c2FuZGJveA==", "Bearer a.b", "Bearer " + "x" * 400],
)
def test_missing_or_unknown_tokens_are_403(mock: RunningMock, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [("GET", "/v1/payers"), ("GET", "/v2/verifications/x"), ("POST", "/v2/verifications")]:
        response = mock.http.request(method, path, headers=headers, json=request_for())
        assert response.status_code == 403, (method, path)
        assert response.json() == FORBIDDEN


def test_tampered_token_is_403(mock: RunningMock) -> None:
    token = mock.token()
    body, signature = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    response = mock.http.get("/v1/payers", headers={"Authorization": f"Bearer {forged}.{signature}"})
    assert response.status_code == 403


def test_token_expires_after_an_hour_of_mock_clock(mock: RunningMock) -> None:
    # The shared mock's clock is frozen: only these advances move it, so the edge is exact.
    headers = mock.headers()
    assert mock.http.get("/v1/payers", headers=headers).status_code == 200
    mock.advance(3599.99)
    assert mock.http.get("/v1/payers", headers=headers).status_code == 200
    mock.advance(0.01)
    expired = mock.http.get("/v1/payers", headers=headers)
    assert expired.status_code == 403 and expired.json() == FORBIDDEN
    assert mock.http.get("/v1/payers", headers=mock.headers()).status_code == 200


def test_token_expiry_on_a_running_clock_leaves_room_for_a_slow_test() -> None:
    # Real time moves the clock here too: the still-valid check leaves more mock time than any
    # test may run, and the expired one comes after the hour whatever the machine's speed.
    with RunningMock() as running:
        headers = running.headers()
        running.advance(3600 - OUTLASTS_ANY_TEST)
        assert running.http.get("/v1/payers", headers=headers).status_code == 200
        running.advance(OUTLASTS_ANY_TEST)
        assert running.http.get("/v1/payers", headers=headers).status_code == 403


@pytest.mark.parametrize(("creator", "reader"), [("sandbox", "production"), ("production", "sandbox")])
def test_environments_cannot_see_each_others_verifications(mock: RunningMock, creator: str, reader: str) -> None:
    created = mock.http.post("/v2/verifications", json=request_for(), headers=mock.headers(creator)).json()
    url = f"/v2/verifications/{created['verificationId']}"
    assert mock.http.get(url, headers=mock.headers(creator)).status_code == 200
    hidden = mock.http.get(url, headers=mock.headers(reader))
    assert hidden.status_code == 404 and hidden.json() == FORBIDDEN


def test_lowercase_bearer_scheme_is_accepted(mock: RunningMock) -> None:
    response = mock.http.get("/v1/payers", headers={"Authorization": f"bearer {mock.token()}"})
    assert response.status_code == 200
