"""The QA console: `GET /__admin/ui`, a page kept open while testing.

The page is a client of the admin API like any QA script: it reads and acts only through the
`/__admin` operations in openapi/admin.yaml (its force-status choices come from that contract
too), so it cannot drift from them. The files are packaged under `ui/` and served from here:
nothing is fetched from elsewhere, and the Content-Security-Policy says so to the browser.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from ..core import MockCore
from .responses import VERSION_HEADER

ASSETS = Path(__file__).resolve().parent / "ui"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def _serve(body: bytes, suffix: str) -> Callable[[Request], Awaitable[Response]]:
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "cache-control": "no-cache",
        VERSION_HEADER: __version__,
    }

    async def endpoint(request: Request) -> Response:
        return Response(body, media_type=_TYPES[suffix], headers=headers)

    return endpoint


def routes(core: MockCore) -> list[Route]:
    # Read once: the files ship with the package and do not change while it runs.
    page = Template((ASSETS / "index.html").read_text(encoding="utf-8")).substitute(version=html.escape(__version__))
    return [
        Route("/__admin/ui", _serve(page.encode(), ".html"), methods=["GET"]),
        *(
            Route(f"/__admin/ui/{name}", _serve((ASSETS / name).read_bytes(), Path(name).suffix), methods=["GET"])
            for name in ("dashboard.js", "dashboard.css")
        ),
    ]
