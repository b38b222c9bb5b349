"""Sohar's OAuth client-credentials token, fetched and refreshed the way a client must.

`POST /oauth/token {client_id, client_secret}` -> `{access_token, token_type, expires_in}`.
A token is reused until it is close to expiry, then fetched again; the lock keeps
concurrent workers from stampeding the token endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# Fetch a new token this long before the old one expires, so no request races the expiry.
REFRESH_MARGIN_SECONDS = 60


class TokenError(RuntimeError):
    """The token endpoint did not hand out a token; the message says what it answered."""


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str


class TokenSource:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self._timeout = timeout
        # Seconds from any origin; a test hands in a clock it moves, so refreshes do not wait on real time.
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.fetched = 0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._token, lifetime = self._fetch()
                self._refresh_at = self._clock() + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2)
                self.fetched += 1
            return self._token

    def invalidate(self) -> None:
        """Forget the token (e.g. after a 403 on a call that used it); the next call fetches a new one."""
        with self._lock:
            self._token = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def _fetch(self) -> tuple[str, float]:
        url = f"{self.base_url}/oauth/token"
        body = {"client_id": self.credentials.client_id, "client_secret": self.credentials.client_secret}
        try:
            response = httpx.post(url, json=body, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise TokenError(f"POST {url} failed: {exc}") from None
        if response.status_code != 200:
            hint = " (check the client id and secret)" if response.status_code in (400, 401, 403) else ""
            raise TokenError(f"POST {url} answered {response.status_code} {response.text[:200]}{hint}")
        try:
            data = response.json()
            token = data["access_token"]
            lifetime = float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise TokenError(f"POST {url} answered 200 without an access_token: {response.text[:200]}") from None
        if not isinstance(token, str) or not token:
            raise TokenError(f"POST {url} answered an empty access_token")
        return token, lifetime
