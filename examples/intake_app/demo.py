"""Walk one patient per route of Sohar's tutorial through the intake app and print the outcome.

    INTAKE_URL=http://127.0.0.1:3000 python examples/intake_app/demo.py

Exits 0 when every patient was routed as expected, 1 otherwise (usable as a compose smoke test).
"""

from __future__ import annotations

import os
import sys
import time

import httpx

JOHN_DOE = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA", "payerId": "60054"}
# memberId -> the route the tutorial prescribes for the status the sandbox answers with.
EXPECTED = {
    "00000000": "schedule-consultation",  # complete.eligible
    "00000001": "request-alternative-insurance",  # complete.ineligible
    "10000000": "review-intake-data",  # error.member.id
    "20000000": "manual-workflow",  # error.payer
    "30000000": "schedule-consultation",  # pending first; eligible once the payer recovers (5 s)
}
UNSETTLED = ("submitted", "waiting")


def wait_until_up(http: httpx.Client, timeout: float) -> None:
    """Compose's `service_healthy` already waits; this also covers runners that do not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if http.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the intake app at {http.base_url} did not come up within {timeout:.0f} s")
        time.sleep(0.5)


def main() -> int:
    base = os.environ.get("INTAKE_URL", "http://127.0.0.1:3000")
    timeout = float(os.environ.get("DEMO_TIMEOUT", "30"))
    with httpx.Client(base_url=base, timeout=10) as http:
        wait_until_up(http, timeout)
        created = {}
        for member_id in EXPECTED:
            response = http.post("/patients", json={**JOHN_DOE, "memberId": member_id})
            response.raise_for_status()
            created[member_id] = response.json()["verification_id"]
        deadline = time.monotonic() + timeout
        results = {m: http.get(f"/patients/{v}").json() for m, v in created.items()}
        while any(r["route"] in UNSETTLED for r in results.values()) and time.monotonic() < deadline:
            time.sleep(0.5)
            results = {m: http.get(f"/patients/{v}").json() for m, v in created.items()}
    failures = 0
    for member_id, expected in EXPECTED.items():
        result = results[member_id]
        ok = result["route"] == expected
        failures += not ok
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} memberId {member_id}: {result['status'] or '-':<20} -> {result['route']} (expected {expected})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
