"""Blocking one-off HTTP calls for set-up and probing (the load itself comes from wrk)."""

from __future__ import annotations

import http.client
import json
from typing import Any

from mock_server.testing import DOCUMENTED_MEMBER, SANDBOX_CREDENTIALS

CREDENTIALS = SANDBOX_CREDENTIALS
# Sohar's documented sandbox member: the create every throughput row sends, and it is eligible.
CREATE_BODY: dict[str, Any] = {**DOCUMENTED_MEMBER, "id": "123456"}
# Row 9's Create Provider body: Sohar's example with an NPI whose check digit holds. The same
# config every time, so ours answers the provider it already made (one dict lookup past the checks).
PROVIDER_BODY: dict[str, Any] = {"npi": "1234567893", "payerId": "60054", "state": "CA"}


# Row 10's Create Discovery body: the documented patient without a member id, in CA with Sohar's
# example zip; in the sandbox CA finds 60054 / 00000000.
DISCOVERY_BODY: dict[str, Any] = {
    "patient": {
        **{k: v for k, v in DOCUMENTED_MEMBER["patient"].items() if k != "memberId"},
        "state": "CA",
        "zipCode": "90210",
    },
    "id": "123456",
}


def call(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> tuple[int, Any]:
    """(status, parsed JSON body or None); raises OSError when nothing listens."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = {"content-type": "application/json", **(headers or {})}
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return response.status, parsed
    finally:
        conn.close()


def token_ok(port: int) -> bool:
    """True once POST /oauth/token answers 200: the start-up probe, the same for both servers."""
    try:
        status, _ = call(port, "POST", "/oauth/token", CREDENTIALS, timeout=2)
    except OSError:
        return False
    return status == 200


def token(port: int) -> str:
    status, body = call(port, "POST", "/oauth/token", CREDENTIALS)
    if status != 200:
        raise RuntimeError(f"POST /oauth/token answered {status}: {body}")
    return str(body["access_token"])


def create(port: int, bearer: str) -> str:
    status, body = call(port, "POST", "/v2/verifications", CREATE_BODY, {"authorization": f"Bearer {bearer}"})
    if status != 201:
        raise RuntimeError(f"POST /v2/verifications answered {status}: {body}")
    return str(body["verificationId"])
