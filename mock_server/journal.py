"""Every API request the mock received, with how it fared against the contract.

The contract kit's client report reads it to tell a team which operations, statuses and
errors their client has exercised, and which of its requests broke the spec.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


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

    def to_api(self) -> dict[str, Any]:
        data = asdict(self)
        return {
            "seq": data["seq"],
            "at": data["at"],
            "method": data["method"],
            "path": data["path"],
            "operationId": data["operation_id"],
            "statusCode": data["status_code"],
            "environment": data["environment"],
            "errorParam": data["error_param"],
            "verificationStatus": data["verification_status"],
            "conforms": data["status_code"] < 400,
        }


class RequestJournal:
    def __init__(self, size: int) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=size)
        self._seq = 0

    def record(self, **fields: Any) -> None:
        self._seq += 1
        self._records.append(RequestRecord(seq=self._seq, **fields))

    def records(self) -> list[RequestRecord]:
        return list(self._records)

    def clear(self) -> None:
        self._records.clear()
