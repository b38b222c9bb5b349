"""Credentials and bearer tokens.

Tokens are stateless (an HMAC over environment, client and expiry), so a load test that
asks for a million tokens costs no memory; expiry is judged on the mock clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass

from ..clock import Clock
from ..errors import Unauthorized
from ..ids import IdSource

ENVIRONMENTS = ("sandbox", "production")
# Tokens already verified, so a client reusing its token (all of them do) skips the HMAC and
# the decoding on every request; bounded so a flood of distinct tokens cannot grow memory.
VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Credential:
    client_id: str
    client_secret: str
    environment: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for."""

    client_id: str
    environment: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


def _utf8(text: str) -> bytes:
    # compare_digest refuses non-ASCII str; bytes compare anything (lone surrogates from JSON included).
    return text.encode("utf-8", "surrogatepass")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, credentials: tuple[Credential, ...], clock: Clock, ids: IdSource, ttl: int) -> None:
        self._by_id = {c.client_id: c for c in credentials}
        self._clock = clock
        self._ids = ids
        self._ttl = ttl
        self._key = ids.secret_bytes(32)
        self._verified: dict[str, Principal] = {}

    def get_token(self, client_id: str, client_secret: str) -> IssuedToken:
        credential = self._by_id.get(client_id)
        if credential is None or not hmac.compare_digest(_utf8(credential.client_secret), _utf8(client_secret)):
            raise Unauthorized()
        # To the millisecond (never rounded up): a token lives `expires_in` seconds, not up to a
        # second less as whole seconds made it, nor a hair more.
        expires_at = f"{math.floor((self._clock.now() + self._ttl) * 1000) / 1000:.3f}"
        claims = f"{credential.environment}|{client_id}|{expires_at}|{self._ids.token(12)}"
        body = _b64(claims.encode())
        return IssuedToken(f"{body}.{self._sign(body)}", self._ttl)

    @property
    def key(self) -> bytes:
        """What tokens are signed with: a state file keeps it, so tokens outlive a restart."""
        return self._key

    def restore_key(self, key: bytes) -> None:
        self._key = key
        self._verified.clear()

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:24])

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an `Authorization: Bearer …` header, or 403 as Sohar answers."""
        if not authorization:
            raise Unauthorized()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized()
        principal = self._verified.get(token) or self._verify(token)
        # Expiry is judged on every request: the mock clock may have moved since the last one.
        if self._clock.now() >= principal.expires_at:
            raise Unauthorized()
        return principal

    def _verify(self, token: str) -> Principal:
        body, _, signature = token.strip().partition(".")
        if not hmac.compare_digest(_utf8(signature), _utf8(self._sign(body))):
            raise Unauthorized()
        try:
            environment, client_id, expires, _nonce = (
                base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("|")
            )
        except ValueError:
            raise Unauthorized() from None
        expires_at = float(expires)
        if client_id not in self._by_id:
            raise Unauthorized()
        principal = Principal(client_id, environment, expires_at)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = principal
        return principal
