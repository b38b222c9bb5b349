"""Creates over raw keep-alive connections, for the rows that need an exact count or a
closed loop wrk cannot do (wrk always runs its full duration)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from . import client


def create_request(bearer: str, path: str = "/v2/verifications", payload: Any = None) -> bytes:
    """A whole create request (Create Verification unless told otherwise), ready to write."""
    body = json.dumps(client.CREATE_BODY if payload is None else payload).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {bearer}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_create_answer(reader: asyncio.StreamReader, id_field: str = "verificationId") -> str:
    """The verificationId (or `id_field`) of a 201; anything else is an error."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    length = next(
        int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:")
    )
    body = json.loads(await reader.readexactly(length))
    if status != 201:
        raise RuntimeError(f"create answered {status}: {body}")
    return str(body[id_field])


async def _create_many(port: int, bearer: str, count: int, connections: int) -> int:
    request = create_request(bearer)
    left = [count]
    done = [0]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while left[0] > 0:
                left[0] -= 1
                writer.write(request)
                await read_create_answer(reader)
                done[0] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done[0]


def create_many(port: int, bearer: str, count: int, connections: int = 32) -> int:
    """Create exactly `count` verifications; returns how many got their 201."""
    return asyncio.run(_create_many(port, bearer, count, connections))
