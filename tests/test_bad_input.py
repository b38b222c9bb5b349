"""Bad input gets Sohar's envelope with the right status and the first offending field."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest
from conftest import JOHN_DOE, assert_conforms

from mock_server.api.responses import SoharJSONResponse
from mock_server.limits import MAX_JSON_DEPTH
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


# Every route that reads a JSON body, with the environment whose token it needs (None: no token).
JSON_ROUTES = [
    ("/oauth/token", None),
    ("/v2/verifications", "sandbox"),
    ("/v1/webhooks", "production"),
    ("/v1/webhooks/ep_unknown/events", "production"),
    ("/__admin/clock/advance", None),
    ("/__admin/verifications/unknown/status", None),
]


def post_raw(mock: RunningMock, path: str, environment: str | None, raw: bytes) -> httpx.Response:
    headers = {"Content-Type": "application/json", **(mock.headers(environment) if environment else {})}
    return mock.http.post(path, content=raw, headers=headers)


def nested_lists(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


DEEP_BODIES = {
    "objects-33": ('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)).encode(),
    "lists-300": b"[" * 300 + b"]" * 300,
    # Deep enough that the JSON parser itself gives up (RecursionError).
    "lists-100000": b"[" * 100_000 + b"]" * 100_000,
    "in-a-field": json.dumps({**JOHN_DOE, "extra": nested_lists(MAX_JSON_DEPTH)}).encode(),
}


@pytest.mark.parametrize(("path", "environment"), JSON_ROUTES)
@pytest.mark.parametrize("raw", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_json_nested_too_deep_is_400_body(mock: RunningMock, path: str, environment: str | None, raw: bytes) -> None:
    response = post_raw(mock, path, environment, raw)
    assert response.status_code == 400, response.text
    assert response.json()["param"] == "body"
    if path.startswith("/__admin"):
        assert f"deeper than {MAX_JSON_DEPTH} levels" in response.json()["message"]
    else:
        assert response.json() == {"error": "invalid_request_error", "param": "body"}
    assert mock.http.get("/__admin/health").status_code == 200


def test_json_nested_to_the_limit_is_accepted(mock: RunningMock) -> None:
    # The body object is one level, so its field may hold MAX_JSON_DEPTH - 1 more.
    body = {**JOHN_DOE, "extra": nested_lists(MAX_JSON_DEPTH - 1)}
    response = mock.http.post("/v2/verifications", json=body, headers=mock.headers())
    assert response.status_code == 201, response.text


def test_too_deep_body_breaks_the_spec_in_the_journal(mock: RunningMock) -> None:
    post_raw(mock, "/v2/verifications", "sandbox", DEEP_BODIES["lists-300"])
    record = mock.http.get("/__admin/requests", params={"operationId": "createVerification"}).json()["requests"][-1]
    assert record["statusCode"] == 400 and record["conforms"] is False
    assert record["violation"]["kind"] == "body"
    assert record["violation"]["rule"] == "depth"
    assert record["violation"]["param"] == "body"


LONE = "\ud800"


@pytest.mark.parametrize(
    "path", ["id", "patient.firstName", "patient.lastName", "patient.memberId", "subscriber.firstName", "payerId"]
)
def test_lone_surrogate_is_400_naming_the_field(mock: RunningMock, path: str) -> None:
    raw = json.dumps(mutate(path, f"Jo{LONE}")).encode()  # ASCII JSON: the surrogate travels as \ud800
    assert b"\\ud800" in raw
    response = post_raw(mock, "/v2/verifications", "sandbox", raw)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request_error", "param": path}
    record = mock.http.get("/__admin/requests", params={"operationId": "createVerification"}).json()["requests"][-1]
    assert record["violation"]["kind"] == "body" and record["violation"]["param"] == path
    # Nothing was stored, and every admin read still answers.
    assert mock.http.get("/__admin/verifications").json()["count"] == 0
    assert mock.http.get("/__admin/webhooks/deliveries").status_code == 200


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        # In a key: the key names no field, so the body is at fault.
        (json.dumps({**JOHN_DOE, f"x{LONE}": "y"}).encode(), "body"),
        (json.dumps({**JOHN_DOE, "extra": ["ok", {"deep": LONE.upper()}]}).encode(), "extra.1.deep"),
        (json.dumps({**JOHN_DOE, "id": "\udfff"}).encode(), "id"),
        # A surrogate encoded as raw UTF-8 bytes is not UTF-8 at all.
        (json.dumps(JOHN_DOE).replace('"John"', '"Jo\udfff"').encode("utf-8", "surrogatepass"), "body"),
        (json.dumps({**JOHN_DOE, "id": LONE}, ensure_ascii=False).encode("utf-16", "surrogatepass"), "body"),
        (json.dumps({**JOHN_DOE, "id": LONE}).encode("utf-16"), "id"),
    ],
    ids=["key", "nested", "low-half", "raw-utf8", "raw-utf16", "escaped-in-utf16"],
)
def test_lone_surrogate_anywhere_is_400(mock: RunningMock, raw: bytes, param: str) -> None:
    response = post_raw(mock, "/v2/verifications", "sandbox", raw)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request_error", "param": param}
    assert mock.http.get("/__admin/verifications").json()["count"] == 0


def test_surrogate_pairs_are_text(mock: RunningMock) -> None:
    raw = json.dumps(mutate("id", "smile \U0001f600")).encode()  # escaped as \ud83d\ude00: one character
    assert b"\\ud83d\\ude00" in raw
    response = post_raw(mock, "/v2/verifications", "sandbox", raw)
    assert response.status_code == 201, response.text
    assert response.json()["id"] == "smile \U0001f600"
    assert mock.http.get("/__admin/verifications").json()["verifications"][0]["id"] == "smile \U0001f600"


@pytest.mark.parametrize(("path", "environment"), JSON_ROUTES)
def test_lone_surrogate_is_400_on_every_json_route(mock: RunningMock, path: str, environment: str | None) -> None:
    body = {"client_id": LONE, "client_secret": "x", "url": f"http://127.0.0.1/{LONE}", "event": LONE}
    body |= {"seconds": 1, "status": LONE}
    response = post_raw(mock, path, environment, json.dumps(body).encode())
    assert response.status_code == 400, response.text
    assert response.json()["param"] != "body"
    if path.startswith("/__admin"):
        assert "surrogate" in response.json()["message"]


def test_lone_surrogate_in_a_forced_status_reason_is_refused(mock: RunningMock) -> None:
    created = mock.http.post("/v2/verifications", json=JOHN_DOE, headers=mock.headers()).json()
    body = {"status": "complete.ineligible", "statusReason": LONE}
    path = f"/__admin/verifications/{created['verificationId']}/status"
    response = post_raw(mock, path, None, json.dumps(body).encode())
    assert response.status_code == 400, response.text
    assert response.json()["param"] == "statusReason"
    assert mock.http.get("/__admin/verifications").status_code == 200
    assert mock.http.get("/__admin/webhooks/deliveries").status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v2/verifications/%ED%A0%80", 404),  # a UTF-8-encoded surrogate, percent-escaped
        ("/v2/verifications/%FF", 404),
        ("/v1/payers/%ED%A0%80", 404),
        ("/__admin/verifications/%ED%A0%80", 404),
        ("/__admin/webhooks/deliveries/%FF", 404),
        ("/__admin/verifications?status=%FF", 200),
        ("/__admin/webhooks/deliveries?event=%ED%A0%80", 200),
        ("/__admin/requests?clientId=%ED%A0%80", 200),
    ],
)
def test_odd_bytes_in_paths_and_queries_are_answered(mock: RunningMock, path: str, status: int) -> None:
    # Sent as is: httpx would re-escape a `%` the URL already holds otherwise.
    response = mock.http.get(httpx.URL(mock.base_url + path), headers=mock.headers())
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json() == {"error": "invalid_request_error"}
    assert mock.http.get("/__admin/requests").status_code == 200


def test_odd_bytes_in_headers_are_answered(mock: RunningMock) -> None:
    odd = b"\xed\xa0\x80\xff"
    assert mock.http.get("/v1/payers", headers={"Authorization": b"Bearer " + odd}).status_code == 403
    assert mock.http.get("/v1/payers", headers={**mock.headers(), "X-Odd": odd}).status_code == 200
    response = mock.http.get("/__admin/requests", headers={"X-Odd": odd})
    assert response.status_code == 200


def test_a_string_that_cannot_be_utf8_still_renders() -> None:
    # Defence in depth: whatever got stored, reading it back must not raise.
    response = SoharJSONResponse({"id": f"a{LONE}b", "name": "José"})
    assert json.loads(response.body) == {"id": f"a{LONE}b", "name": "José"}
    assert response.headers["content-length"] == str(len(response.body))
