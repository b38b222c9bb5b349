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
from dataclasses import dataclass
from typing import Any

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
    # The discovery status a Get Discovery answered with.
    discovery_status: str | None = None
    client_id: str | None = None
    violation: Violation | None = None
    # The network status a Get Network Status answered with.
    network_status: str | None = None

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
            "discoveryStatus": self.discovery_status,
            "networkStatus": self.network_status,
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
