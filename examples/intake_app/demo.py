"""Walk one patient per route of Sohar's tutorial through the intake app and print the outcome,
plus one patient without a member id, whom the app runs through discovery first.

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
# No member id or payer: discovery in CA finds 60054 / 00000000 (Sohar's sandbox values), eligible.
DISCOVERY_FIRST = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": "CA"}
DISCOVERY_EXPECTED = "schedule-consultation"
UNSETTLED = ("submitted", "waiting", "discovering")


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
        response = http.post("/patients", json=DISCOVERY_FIRST)
        response.raise_for_status()
        created["discovery"] = response.json()["discovery_id"]
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
    result = results["discovery"]
    found = result["discovery"] or {}
    ok = result["route"] == DISCOVERY_EXPECTED
    failures += not ok
    print(
        f"{'ok  ' if ok else 'FAIL'} discovery first ({DISCOVERY_FIRST['state']}): found"
        f" {found.get('payerId')}/{found.get('memberId')}, {result['status'] or '-'} -> {result['route']}"
        f" (expected {DISCOVERY_EXPECTED})"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
