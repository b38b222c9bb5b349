"""Bad input gets Sohar's envelope with the right status and the first offending field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import JOHN_DOE, assert_conforms

from mock_server.testing import RunningMock


def mutate(path: str, value: Any) -> dict[str, Any]:
    """JOHN_DOE with `path` set to `value` (or removed, for the DELETE marker)."""
    body = copy.deepcopy(JOHN_DOE)
    *parents, leaf = path.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return body


DELETE = object()

CASES = [
    ("patient", DELETE, "patient"),
    ("patient", "John Doe", "patient"),
    ("patient.firstName", DELETE, "patient.firstName"),
    ("patient.firstName", "", "patient.firstName"),
    ("patient.lastName", 42, "patient.lastName"),
    ("patient.dateOfBirth", "2006-09-20", "patient.dateOfBirth"),
    ("patient.dateOfBirth", "9/20/2006", "patient.dateOfBirth"),
    ("patient.dateOfBirth", "13/20/2006", "patient.dateOfBirth"),
    ("patient.dateOfBirth", DELETE, "patient.dateOfBirth"),
    ("patient.state", "XX", "patient.state"),
    ("patient.state", "ca", "patient.state"),
    ("patient.state", DELETE, "patient.state"),
    ("patient.memberId", DELETE, "patient.memberId"),
    ("patient.memberId", 0, "patient.memberId"),
    ("payerId", DELETE, "payerId"),
    ("payerId", 60054, "payerId"),
    ("payerId", "", "payerId"),
    ("placeOfServiceCode", "1", "placeOfServiceCode"),
    ("placeOfServiceCode", 10, "placeOfServiceCode"),
    ("placeOfServiceCode", DELETE, "placeOfServiceCode"),
    ("specialtyCode", "XYZ", "specialtyCode"),
    ("specialtyCode", "psy", "specialtyCode"),
    ("specialtyCode", DELETE, "specialtyCode"),
    ("id", "x" * 46, "id"),
    ("id", 123456, "id"),
    ("subscriber", "parent", "subscriber"),
    ("subscriber.dateOfBirth", "01-01-1980", "subscriber.dateOfBirth"),
]


@pytest.mark.parametrize(("path", "value", "param"), CASES)
def test_invalid_create_names_the_field(mock: RunningMock, path: str, value: Any, param: str) -> None:
    response = mock.http.post("/v2/verifications", json=mutate(path, value), headers=mock.headers())
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request_error", "param": param}
    assert_conforms("InvalidRequestError", response.json())


def test_first_offending_field_is_reported_in_spec_order(mock: RunningMock) -> None:
    body = mutate("patient.dateOfBirth", "bad")
    body["specialtyCode"] = "bad"
    body.pop("payerId")
    response = mock.http.post("/v2/verifications", json=body, headers=mock.headers())
    assert response.json()["param"] == "patient.dateOfBirth"


def test_id_of_45_characters_is_accepted(mock: RunningMock) -> None:
    response = mock.http.post("/v2/verifications", json=mutate("id", "x" * 45), headers=mock.headers())
    assert response.status_code == 201
    assert response.json()["id"] == "x" * 45


@pytest.mark.parametrize("raw", [b"{", b"not json", b"", b"\xff\xfe", b'{"patient": }'])
def test_malformed_json_is_400(mock: RunningMock, raw: bytes) -> None:
    headers = {**mock.headers(), "Content-Type": "application/json"}
    response = mock.http.post("/v2/verifications", content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request_error", "param": "body"}


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_non_object_json_is_400(mock: RunningMock, raw: bytes) -> None:
    response = mock.http.post("/v2/verifications", content=raw, headers=mock.headers())
    assert response.status_code == 400
    assert response.json()["param"] == "body"


def test_body_over_one_mebibyte_is_413(mock: RunningMock) -> None:
    huge = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = mock.http.post("/v2/verifications", content=huge, headers=mock.headers())
    assert response.status_code == 413
    assert response.json() == {"error": "invalid_request_error"}


def test_chunked_body_over_the_limit_is_413(mock: RunningMock) -> None:
    def chunks():  # no Content-Length: the cap must hold while streaming
        for _ in range(17):
            yield b"x" * 65536

    response = mock.http.post("/oauth/token", content=chunks())
    assert response.status_code == 413


def test_unknown_verification_is_404(mock: RunningMock) -> None:
    for verification_id in ["fb701ac1-1246-4860-b1ec-bd916b97a990", "not-a-uuid", "%20"]:
        response = mock.http.get(f"/v2/verifications/{verification_id}", headers=mock.headers())
        assert response.status_code == 404
        assert response.json() == {"error": "invalid_request_error"}


def test_unknown_path_is_404_envelope(mock: RunningMock) -> None:
    response = mock.http.get("/v3/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "invalid_request_error"}


def test_wrong_method_is_405_with_allow(mock: RunningMock) -> None:
    response = mock.http.delete("/v2/verifications")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {"error": "invalid_request_error"}


def test_every_response_carries_the_mock_version(mock: RunningMock) -> None:
    from mock_server import __version__

    for response in (mock.http.get("/v3/nothing"), mock.http.get("/__admin/health")):
        assert response.headers["x-sohar-mock-version"] == __version__
