"""Every API request the mock received, with how it fared against the contract.

The contract kit's client report reads it (`GET /__admin/requests`) to tell a team which
operations, statuses and errors their client has exercised, and which of its requests broke
the spec. A request *breaks the spec* when the contract itself rules it out: a body the
schema rejects, a body that is not JSON, missing or unusable credentials, an oversized
body, a path or method that is not one of Sohar's operations. An answer that only depends
on data (an unknown payer or verification id) is an error response the client exercised,
not a broken request.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .domain.auth import ENVIRONMENTS
from .errors import InvalidRequest, MalformedBody, PayloadTooLarge, Unauthorized
from .spec import SchemaViolation

if TYPE_CHECKING:
    from .sandbox import Sandbox

# Long enough for a schema message about one field; a whole echoed body is cut.
MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True, slots=True)
class Violation:
    """How a request broke the contract."""

    # schema | body | auth | size | route
    kind: str
    # The failing JSON Schema keyword (`required`, `pattern`, `type`, ...) or a short tag.
    rule: str
    param: str | None
    message: str

    def to_api(self) -> dict[str, Any]:
        return {"kind": self.kind, "rule": self.rule, "param": self.param, "message": self.message}


def violation(kind: str, rule: str, param: str | None, message: str) -> Violation:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return Violation(kind, rule, param, message)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    seq: int
    at: float
    method: str
    path: str
    operation_id: str | None
    status_code: int
    environment: str | None
    error_param: str | None
    # The verification status a Get Verification answered with, for status coverage.
    verification_status: str | None = None
    client_id: str | None = None
    violation: Violation | None = None

    @property
    def conforms(self) -> bool:
        return self.violation is None

    def to_api(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "operationId": self.operation_id,
            "statusCode": self.status_code,
            "environment": self.environment,
            "clientId": self.client_id,
            "errorParam": self.error_param,
            "verificationStatus": self.verification_status,
            "conforms": self.conforms,
            "violation": self.violation.to_api() if self.violation else None,
        }


class RequestJournal:
    def __init__(self, size: int) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=size)
        self._seq = 0
        self.size = size

    def record(self, **fields: Any) -> RequestRecord:
        self._seq += 1
        record = RequestRecord(seq=self._seq, **fields)
        self._records.append(record)
        return record

    def records(self) -> list[RequestRecord]:
        return list(self._records)

    @property
    def dropped(self) -> int:
        """How many of the oldest records the size limit has pushed out since the last clear."""
        return self._seq - len(self._records)

    def clear(self) -> None:
        self._records.clear()
        self._seq = 0


def violation_for(stage: str, error: Exception, operation_id: str, had_authorization: bool) -> Violation | None:
    """The contract rule a failed request broke, given the pipeline stage that stopped it; None for data errors."""
    if isinstance(error, SchemaViolation):
        return violation("schema", error.rule, error.param, f"{error.param}: {error.detail}")
    if isinstance(error, PayloadTooLarge):
        return violation("size", "maxBodyBytes", "body", "the body is larger than the 1 MiB the mock accepts")
    if isinstance(error, Unauthorized):
        if stage == "auth":
            if not had_authorization:
                return violation("auth", "security", "Authorization", "no Authorization header (a bearer token)")
            return violation(
                "auth", "security", "Authorization", "the bearer token was not accepted (malformed, forged or expired)"
            )
        if operation_id == "getToken":
            return violation("auth", "credentials", None, "client_id/client_secret not accepted")
        return violation("auth", "environment", None, "these credentials may not use this operation")
    if isinstance(error, MalformedBody):
        return violation("body", error.rule, error.param, error.detail or "the body is not usable JSON")
    if isinstance(error, InvalidRequest) and stage == "body":
        return violation("body", "json", error.param, "the body is not valid JSON")
    return None


def record_unrouted(sandbox: Sandbox, method: str, path: str, status_code: int) -> None:
    """A request to a path or method outside Sohar's API: journaled, it broke the spec by definition."""
    if path.startswith("/__admin"):
        return  # the control plane is not the API under test
    if status_code == 405:
        found = violation("route", "method", None, f"{method} is not an operation of {path}")
    else:
        found = violation("route", "path", None, f"no Sohar operation at {path}")
    sandbox.journal.record(
        at=sandbox.clock.now(),
        method=method,
        path=path,
        operation_id=None,
        status_code=status_code,
        environment=None,
        error_param=None,
        violation=found,
    )


_BOOLEANS = {"true": True, "false": False}


def environment_filter(query: Mapping[str, str]) -> str | None:
    """The `environment` a listing is filtered by; a typo would otherwise list nothing, silently."""
    environment = query.get("environment")
    if environment is not None and environment not in ENVIRONMENTS:
        raise InvalidRequest("environment", f"environment must be one of {', '.join(ENVIRONMENTS)}")
    return environment


def journal_page(journal: RequestJournal, query: Mapping[str, str]) -> dict[str, Any]:
    """`GET /__admin/requests`: the records that match every filter given, oldest first."""
    conforms = query.get("conforms")
    if conforms is not None and conforms not in _BOOLEANS:
        raise InvalidRequest("conforms", "conforms must be true or false")
    since = query.get("since")
    if since is not None and not since.isdigit():
        raise InvalidRequest("since", "since must be a journal sequence number (a non-negative integer)")
    wanted = {
        "operation_id": query.get("operationId"),
        "client_id": query.get("clientId"),
        "environment": environment_filter(query),
    }
    records = [
        r
        for r in journal.records()
        if all(value is None or getattr(r, field) == value for field, value in wanted.items())
        and (conforms is None or r.conforms is _BOOLEANS[conforms])
        and (since is None or r.seq > int(since))
    ]
    return {"requests": [r.to_api() for r in records], "count": len(records), "dropped": journal.dropped}
