"""A running mock over HTTP: its admin API (openapi/admin.yaml) and the Sohar operations
`trigger` and `discover` need. Every failure becomes one of two exceptions with a one-line message."""

from __future__ import annotations

from typing import Any

import httpx

VERSION_HEADER = "x-sohar-mock-version"


class Unreachable(Exception):
    """No mock answers at the URL (nothing listens, or something that is not the mock): exit 2."""


class Refused(Exception):
    """The mock answered, and said no (a 4xx with its error envelope): exit 1."""


class MockClient:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        # Never through a proxy: the mock is local, or a service next to the caller in compose.
        self._http = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MockClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of one request; `Unreachable` or `Refused` otherwise."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise Unreachable(f"the mock at {self.url} did not answer {method} {path} in time") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"no mock answers at {self.url} ({_reason(exc)})") from None
        if VERSION_HEADER not in response.headers:
            raise Unreachable(
                f"the server at {self.url} is not a Sohar mock (HTTP {response.status_code} without {VERSION_HEADER})"
            )
        try:
            body = response.json()
        except ValueError:
            raise Unreachable(
                f"the mock at {self.url} answered {method} {path} with something that is not JSON"
            ) from None
        if response.status_code >= 400:
            raise Refused(_refusal(response.status_code, body))
        return body

    # -- the admin API ------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return dict(self.call("GET", "/__admin/health"))

    def reset(self) -> dict[str, Any]:
        return dict(self.call("POST", "/__admin/reset"))

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self.call("POST", "/__admin/clock/advance", json={"seconds": seconds}))

    def verifications(self, **filters: Any) -> dict[str, Any]:
        return dict(self.call("GET", "/__admin/verifications", params=_present(filters)))

    def verification(self, verification_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/__admin/verifications/{verification_id}"))

    def force(self, verification_id: str, status: str, reason: str | None) -> dict[str, Any]:
        body = {"status": status, "statusReason": reason}
        return dict(self.call("POST", f"/__admin/verifications/{verification_id}/status", json=body))

    def discoveries(self, **filters: Any) -> dict[str, Any]:
        return dict(self.call("GET", "/__admin/discoveries", params=_present(filters)))

    def discovery(self, discovery_id: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/__admin/discoveries/{discovery_id}"))

    def force_discovery(self, discovery_id: str, status: str, coverages: list[dict[str, str]] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"status": status}
        if coverages is not None:
            body["coverages"] = coverages
        return dict(self.call("POST", f"/__admin/discoveries/{discovery_id}/status", json=body))

    def deliveries(self, **filters: Any) -> dict[str, Any]:
        return dict(self.call("GET", "/__admin/webhooks/deliveries", params=_present(filters)))

    def replay(self, message_id: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/__admin/webhooks/deliveries/{message_id}/replay"))

    def load_scenario(self, text: bytes, name: str) -> dict[str, Any]:
        headers = {"content-type": "application/yaml"}
        return dict(self.call("POST", "/__admin/scenarios", params={"name": name}, content=text, headers=headers))

    # -- Sohar's API, for `trigger` -----------------------------------------------------

    def token(self, client_id: str, client_secret: str) -> str:
        body = self.call("POST", "/oauth/token", json={"client_id": client_id, "client_secret": client_secret})
        return str(body["access_token"])

    def create_verification(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"}
        return dict(self.call("POST", "/v2/verifications", json=body, headers=headers))

    def create_discovery(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"}
        return dict(self.call("POST", "/v2/discovery", json=body, headers=headers))


def _present(filters: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in filters.items() if value is not None}


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:200]


def _refusal(status: int, body: Any) -> str:
    if not isinstance(body, dict):
        return f"HTTP {status}"
    parts = [f"HTTP {status}"]
    if body.get("param"):
        parts.append(f"param {body['param']}")
    if body.get("message"):
        parts.append(str(body["message"]))
    elif status == 404:
        parts.append("not found")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
