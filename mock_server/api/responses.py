"""Reading JSON bodies within the size limit, and answering in Sohar's shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.background import BackgroundTask
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
_VERSION_HEADERS = {VERSION_HEADER: __version__}


class SoharJSONResponse(JSONResponse):
    """JSON, plus the header that tells a log reader this answer came from the mock.

    Only Starlette's public Response API: the constructor's `headers` and `render`. Starlette
    adds content-length and content-type to whatever headers it is given.
    """

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        every = {**_VERSION_HEADERS, **headers} if headers else _VERSION_HEADERS
        super().__init__(content, status_code, every, media_type, background)

    def render(self, content: Any) -> bytes:
        try:
            return _encode(content).encode("utf-8")
        except UnicodeEncodeError:
            # Input checks keep surrogates out; should one be stored anyway, every later read
            # of it must still answer rather than fail until a reset.
            return _encode_ascii(content).encode("ascii")


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
