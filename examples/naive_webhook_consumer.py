"""How NOT to consume Sohar's webhooks: a handler that trusts every POST.

It parses the JSON and acts on it without checking the Svix signature, so anyone who knows
the URL can mark a patient eligible. `sohar-contract webhook-consumer` fails it; it is kept
as the checker's negative control. Do not copy it.

    python examples/naive_webhook_consumer.py --port 8001
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

processed: list[dict[str, Any]] = []


async def receive(request: Request) -> Response:
    event = await request.json()  # no signature check, no replay protection, no de-duplication
    processed.append(event)
    return JSONResponse({"status": "ok"})


def build_app() -> Starlette:
    return Starlette(routes=[Route("/webhooks/sohar", receive, methods=["POST"])])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A webhook consumer that skips verification (negative example).")
    parser.add_argument("--port", type=int, default=8001)
    uvicorn.run(build_app(), host="127.0.0.1", port=parser.parse_args().port, log_level="warning")
