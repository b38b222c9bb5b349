"""A minimal webhook endpoint in its own process: `python -m bench.receiver [--quiet]`.

Answers every POST with 200 at once and writes one JSON line per request to stdout: the
arrival time (time.monotonic(), which on Linux is one clock for every process), the
headers and the body, so the harness can time each verification and check its signature.
With `--quiet` it writes only its port: for a row that needs a healthy receiver and no
record of what it got (a pipe nobody reads would fill and stall it).
Raw asyncio instead of a framework: the receiver should add as little as possible.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


QUIET = "--quiet" in sys.argv[1:]


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    out = sys.stdout
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.monotonic()
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            writer.write(OK)
            if not QUIET:
                out.write(json.dumps({"t": arrived, "headers": headers, "body": body.decode()}) + "\n")
                out.flush()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"ready": port}) + "\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
