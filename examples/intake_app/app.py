"""A sample patient-intake app, built the way Sohar's patient-intake tutorial describes.

Collect the patient's data -> Create Verification -> receive the signed webhook -> Get
Verification -> route the patient (schedule a consultation, ask for other insurance, ask them
to review their data, or hand over to a manual workflow).

    python examples/intake_app/app.py      # then open http://127.0.0.1:3000

Configured by environment variables: SOHAR_BASE_URL, SOHAR_CLIENT_ID, SOHAR_CLIENT_SECRET,
SOHAR_WEBHOOK_SECRET (defaults: the local mock and its documented, fake credentials), and
INTAKE_HOST / INTAKE_PORT for where it listens. Patients live in memory.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from svix.webhooks import Webhook, WebhookVerificationError

log = logging.getLogger("intake")

FIELDS = ("firstName", "lastName", "dateOfBirth", "state", "payerId", "memberId")
# The tutorial's example: a telehealth consultation (10) with a psychotherapist (PSY).
PLACE_OF_SERVICE, SPECIALTY = "10", "PSY"

# "Patient Routing" in the tutorial: Sohar's status -> the next step of the intake funnel.
ROUTES = {
    "complete.eligible": "schedule-consultation",
    "complete.ineligible": "request-alternative-insurance",
    "error.member.id": "review-intake-data",
    "error.member.name": "review-intake-data",
    "error.member.dob": "review-intake-data",
}
MANUAL = "manual-workflow"  # error.payer, error.payer.npi and anything unexpected
WAITING = "waiting"  # pending: the payer is slow, Sohar sends another event once it answers
NEXT_STEP = {
    "schedule-consultation": "Eligible: book the initial consultation.",
    "request-alternative-insurance": "Not eligible: ask the patient for other insurance.",
    "review-intake-data": "Member error: ask the patient to check what they entered.",
    MANUAL: "Payer error or unexpected answer: a person follows up.",
    WAITING: "The payer is slow; waiting for Sohar's next event.",
    "submitted": "Waiting for Sohar's webhook.",
}


def route_for(status: str) -> str:
    return WAITING if status == "pending" else ROUTES.get(status, MANUAL)


@dataclass
class Intake:
    verification_id: str
    intake_id: str | None = None
    patient: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    route: str = "submitted"
    events: list[str] = field(default_factory=list)  # svix-ids seen: deliveries may repeat
    verification: dict[str, Any] | None = None  # Sohar's latest Get Verification body


class Sohar:
    """The two calls of the tutorial, each with a fresh token as the tutorial does."""

    def __init__(self, http: httpx.AsyncClient, client_id: str, client_secret: str) -> None:
        self.http, self.client_id, self.client_secret = http, client_id, client_secret

    async def _auth(self) -> dict[str, str]:
        response = await self.http.post(
            "/oauth/token", json={"client_id": self.client_id, "client_secret": self.client_secret}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def create_verification(self, data: dict[str, str], intake_id: str) -> httpx.Response:
        patient = {k: data[k] for k in ("firstName", "lastName", "dateOfBirth", "state", "memberId")}
        body = {
            "patient": patient,
            "payerId": data["payerId"],
            "placeOfServiceCode": PLACE_OF_SERVICE,
            "specialtyCode": SPECIALTY,
            "id": intake_id,
        }
        return await self.http.post("/v2/verifications", json=body, headers=await self._auth())

    async def get_verification(self, verification_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v2/verifications/{verification_id}", headers=await self._auth())
        response.raise_for_status()
        return dict(response.json())


def create_app() -> Starlette:
    base_url = os.environ.get("SOHAR_BASE_URL", "http://127.0.0.1:8080")
    client_id = os.environ.get("SOHAR_CLIENT_ID", "sandbox-client-id")
    client_secret = os.environ.get("SOHAR_CLIENT_SECRET", "sandbox-client-secret")
    webhook = Webhook(os.environ.get("SOHAR_WEBHOOK_SECRET", "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE="))
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
    sohar = Sohar(http, client_id, client_secret)
    intakes: dict[str, Intake] = {}  # by Sohar's verificationId

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await http.aclose()

    async def submit(request: Request) -> Response:
        is_json = request.headers.get("content-type", "").startswith("application/json")
        try:
            # The page's form is urlencoded: parsed here rather than adding python-multipart.
            raw = await request.json() if is_json else dict(parse_qsl((await request.body()).decode()))
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            return JSONResponse({"error": "send a JSON object or a form"}, status_code=400)
        data = {k: str(raw.get(k) or "").strip() for k in FIELDS}
        missing = [k for k in FIELDS if not data[k]]
        if missing:
            return reply(is_json, 400, {"error": "missing fields", "fields": missing}, f"Missing: {', '.join(missing)}")
        intake_id = uuid.uuid4().hex[:12]
        try:
            response = await sohar.create_verification(data, intake_id)
        except httpx.HTTPError as exc:
            return reply(is_json, 502, {"error": f"Sohar unreachable: {exc!r}"}, "Sohar is unreachable")
        if response.status_code != 201:
            # Sohar names the offending field, e.g. {"error": ..., "param": "patient.dateOfBirth"}.
            answer = {"status": response.status_code, "body": response.text}
            with contextlib.suppress(ValueError):
                answer["body"] = response.json()
            param = answer["body"].get("param") if isinstance(answer["body"], dict) else None
            status = 400 if response.status_code == 400 else 502
            return reply(
                is_json,
                status,
                {"error": "Sohar rejected the request", "sohar": answer},
                f"Please check {param}" if param else f"Sohar answered {response.status_code}",
            )
        verification_id = response.json()["verificationId"]
        # The webhook may have arrived before this response did: fill in, never overwrite.
        intake = intakes.setdefault(verification_id, Intake(verification_id))
        intake.intake_id, intake.patient = intake_id, data
        log.info("%s %s: verification %s created", data["firstName"], data["lastName"], verification_id)
        if not is_json:
            return RedirectResponse(f"/#{verification_id}", status_code=303)
        return JSONResponse(asdict(intake), status_code=201, headers={"location": f"/patients/{verification_id}"})

    async def receive_webhook(request: Request) -> Response:
        body = await request.body()  # verify the exact bytes sent, never re-serialized JSON
        try:
            webhook.verify(body, dict(request.headers))
            event = json.loads(body)
        except (WebhookVerificationError, ValueError):
            return JSONResponse({"error": "invalid signature"}, status_code=400)
        verification_id = event.get("verificationId") if isinstance(event, dict) else None
        if not verification_id:
            return JSONResponse({"success": True, "ignored": True})  # not a verification event
        try:
            verification = await sohar.get_verification(verification_id)
        except httpx.HTTPError as exc:
            # A non-2xx answer makes Sohar retry the delivery later.
            return JSONResponse({"error": f"Get Verification failed: {exc!r}"}, status_code=502)
        intake = intakes.setdefault(verification_id, Intake(verification_id, intake_id=event.get("id")))
        intake.status, intake.verification = verification["status"], verification
        intake.route = route_for(intake.status)
        message_id = request.headers.get("svix-id") or request.headers.get("webhook-id", "")
        if message_id not in intake.events:
            intake.events.append(message_id)
        log.info("%s %s: %s -> %s", event.get("event"), verification_id, intake.status, intake.route)
        return JSONResponse({"success": True})

    async def show(request: Request) -> Response:
        intake = intakes.get(request.path_params["verification_id"])
        return JSONResponse(asdict(intake)) if intake else JSONResponse({"error": "not found"}, status_code=404)

    async def listing(request: Request) -> Response:
        return JSONResponse([asdict(i) for i in intakes.values()])

    async def page(request: Request) -> Response:
        return HTMLResponse(render_page(list(intakes.values())))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/", page),
            Route("/patients", submit, methods=["POST"]),
            Route("/patients", listing),
            Route("/patients/{verification_id}", show),
            Route("/webhooks", receive_webhook, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


def reply(is_json: bool, status: int, body: dict[str, Any], message: str) -> Response:
    if is_json:
        return JSONResponse(body, status_code=status)
    return HTMLResponse(render_page([], problem=message), status_code=status)


def render_page(intakes: list[Intake], problem: str = "") -> str:
    e = html.escape
    inputs = "".join(
        f'<label>{name} <input name="{name}" value="{value}" required></label> '
        for name, value in zip(FIELDS, ("John", "Doe", "09/20/2006", "CA", "60054", "00000000"), strict=True)
    )
    rows = "".join(
        f'<tr id="{e(i.verification_id)}"><td>{e(i.patient.get("firstName", ""))} {e(i.patient.get("lastName", ""))}'
        f"</td><td>{e(i.patient.get('memberId', ''))}</td><td>{e(i.status or '')}</td>"
        f"<td><b>{e(i.route)}</b> {e(NEXT_STEP.get(i.route, ''))}</td></tr>"
        for i in reversed(intakes)
    )
    # Reload while an answer is outstanding, and only then: a reload would clear the form.
    waiting = any(i.route in ("submitted", WAITING) for i in intakes)
    refresh = '<meta http-equiv="refresh" content="2">' if waiting else ""
    return f"""<!doctype html><meta charset="utf-8">{refresh}
<title>Patient intake</title><h1>Patient intake</h1>
<p style="color:#b00">{e(problem)}</p>
<form method="post" action="/patients">{inputs}<button>Check eligibility</button></form>
<p>Sandbox member ids: 00000000 eligible, 00000001 ineligible, 10000000 member error,
20000000 payer error, 30000000 slow payer.</p>
<table border="1" cellpadding="4"><tr><th>patient</th><th>member id</th><th>Sohar status</th><th>route</th></tr>
{rows}</table>"""


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="intake: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    host, port = os.environ.get("INTAKE_HOST", "127.0.0.1"), int(os.environ.get("INTAKE_PORT", "3000"))
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", timeout_graceful_shutdown=4)


if __name__ == "__main__":
    main()
