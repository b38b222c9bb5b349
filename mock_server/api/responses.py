"""Reading JSON bodies within the size limit, and answering in Sohar's shapes."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import __version__
from ..errors import InvalidRequest, MethodNotAllowed, PayloadTooLarge, SoharError
from .json_input import parse_json

VERSION_HEADER = "X-Sohar-Mock-Version"


# Starlette's JSONResponse options (compact, UTF-8, no NaN), with one encoder built once
# instead of one per response; our bodies are plain trees, so the cycle check is skipped.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False).encode
# For a string UTF-8 cannot encode (a lone surrogate): escaped, it is still valid JSON.
_encode_ascii = json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":"), check_circular=False).encode
_VERSION = (VERSION_HEADER.lower().encode(), __version__.encode())
_JSON_TYPE = (b"content-type", b"application/json")


class SoharJSONResponse(JSONResponse):
    """JSON, plus the header that tells a log reader this answer came from the mock."""

    def render(self, content: Any) -> bytes:
        try:
            return _encode(content).encode("utf-8")
        except UnicodeEncodeError:
            # Input checks keep surrogates out; should one be stored anyway, every later read
            # of it must still answer rather than fail until a reset.
            return _encode_ascii(content).encode("ascii")

    def init_headers(self, headers: Any = None) -> None:
        if headers is None and self.status_code >= 200 and self.status_code not in (204, 304):
            # Every answer but the 405 takes this path: the headers Starlette would build, directly.
            self.raw_headers = [(b"content-length", str(len(self.body)).encode()), _JSON_TYPE, _VERSION]
            return
        super().init_headers(headers)
        self.raw_headers.append(_VERSION)


def error_response(error: SoharError, *, message: bool = False) -> SoharJSONResponse:
    """Every error answer the mock sends: Sohar's envelope (`error`, and `param` when one is to
    blame), the human `message` the admin API adds (`message=True`), the 405's `Allow` header."""
    body = error.body()
    if message and error.detail:
        body["message"] = error.detail
    headers = {"Allow": error.detail} if isinstance(error, MethodNotAllowed) and error.detail else None
    return SoharJSONResponse(body, status_code=error.status_code, headers=headers)


def _too_large(limit: int) -> PayloadTooLarge:
    # The message shows on the admin API only; Sohar's envelope has none.
    return PayloadTooLarge(detail=f"the body is larger than the {limit} bytes the mock accepts")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError:
            raise InvalidRequest("body", "the Content-Length header is not a number") from None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise _too_large(limit)
    return bytes(chunks)


async def read_json(request: Request, limit: int) -> Any:
    return parse_json(await read_body(request, limit))
