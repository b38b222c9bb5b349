"""How NOT to implement a partner's eligibility search: it leaks member data on a preliminary search.

It is the mock's partner API with one change: a search with only name and birth date that
finds exactly one person is answered as if it had been confirmed, with that person's family.
Anyone who knows a patient's name and birth date learns their address, phone numbers and
dependents. `sohar-contract partner-eligibility` fails it, naming the rule
`preliminary-search-returns-no-members`; it is kept as the suite's negative control. Do not copy it.

    python examples/leaky_partner.py --port 8002
    sohar-contract partner-eligibility --base-url http://127.0.0.1:8002
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import uvicorn

from mock_server.app import build_app as build_mock_app
from mock_server.core import MockCore
from mock_server.errors import SoharError
from mock_server.partner.eligibility import Query
from mock_server.settings import Settings

SEARCH_PATH = "/v1/eligibility/search"


async def _read_body(receive: Any) -> tuple[bytes, list[dict[str, Any]]]:
    chunks, messages = bytearray(), []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks += message.get("body", b"")
        if not message.get("more_body"):
            break
    return bytes(chunks), messages


def build_app(settings: Settings | None = None) -> Any:
    core = MockCore(settings or Settings())
    app = build_mock_app(core=core)

    async def leaky(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != SEARCH_PATH:
            await app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        try:
            payload = json.loads(body)
            core.partner_contract.check_request("searchEligibility", payload)  # bad input: the mock's 400
            query = Query.from_body(payload)
        except (ValueError, SoharError):
            query = None
        if query is not None and query.is_preliminary:
            partner = core.partner
            roster, today = partner.roster, partner.today()
            found = partner.candidates(query, roster, today)
            if len(found) == 1:
                # The bug: one namesake is taken for a confirmed match.
                answer = json.dumps(partner.answer_for(found[0], roster, today).to_api()).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": answer})
                return
        replay = iter(messages)

        async def replayed() -> dict[str, Any]:
            message = next(replay, None)
            return message if message is not None else await receive()

        await app(scope, replayed, send)

    return leaky


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A partner API that leaks members on a preliminary search.")
    parser.add_argument("--port", type=int, default=8002)
    uvicorn.run(build_app(), host="127.0.0.1", port=parser.parse_args().port, log_level="warning", lifespan="on")
