"""Typed errors carrying Sohar's error codes, rendered in one place as Sohar's envelope."""

from __future__ import annotations

from typing import Any


class SoharError(Exception):
    """An error the mock answers with Sohar's `{"error": "invalid_request_error", ...}`."""

    status_code = 400
    code = "invalid_request_error"

    def __init__(self, param: str | None = None, detail: str | None = None) -> None:
        super().__init__(detail or param or self.__class__.__name__)
        self.param = param
        self.detail = detail

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code}
        if self.param is not None:
            body["param"] = self.param
        return body


class InvalidRequest(SoharError):
    """400: the request names a field that is missing, malformed or unknown."""


class MalformedBody(InvalidRequest):
    """400: a body that is not usable JSON at all (`rule` tells the journal why: json, depth, unicode)."""

    def __init__(self, param: str, rule: str, detail: str) -> None:
        super().__init__(param, detail)
        self.rule = rule


class Unauthorized(SoharError):
    """403: Sohar answers bad credentials and bad tokens with 403, never 401."""

    status_code = 403


class NotFound(SoharError):
    status_code = 404


class MethodNotAllowed(SoharError):
    """405; `detail` is the path's allowed methods, which go out in the `Allow` header."""

    status_code = 405


class PayloadTooLarge(SoharError):
    status_code = 413


class Conflict(SoharError):
    """409: an admin operation that contradicts the current state."""

    status_code = 409


class UnexpectedStatus(SoharError):
    """Any other error status the routing layer answers with, in Sohar's envelope."""

    def __init__(self, status_code: int) -> None:
        super().__init__()
        self.status_code = status_code


class InternalError(SoharError):
    """500, as Sohar documents it: a bug in the mock, told to the client without any detail."""

    status_code = 500
    code = "api_error"
