"""Reading JSON bodies within the size limit, and answering in Sohar's shapes."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import __version__
from ..errors import InvalidRequest, PayloadTooLarge, SoharError

VERSION_HEADER = "X-Sohar-Mock-Version"


class SoharJSONResponse(JSONResponse):
    """JSON, plus the header that tells a log reader this answer came from the mock."""

    def init_headers(self, headers: Any = None) -> None:
        super().init_headers(headers)
        self.raw_headers.append((VERSION_HEADER.lower().encode(), __version__.encode()))


def error_response(error: SoharError) -> SoharJSONResponse:
    headers = {"Allow": error.detail} if error.status_code == 405 and error.detail else None
    return SoharJSONResponse(error.body(), status_code=error.status_code, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise PayloadTooLarge()
        except ValueError:
            raise InvalidRequest("body") from None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise PayloadTooLarge()
    return bytes(chunks)


async def read_json(request: Request, limit: int) -> Any:
    raw = await read_body(request, limit)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        # Malformed JSON names no field: the whole body is the offending part.
        raise InvalidRequest("body") from None
