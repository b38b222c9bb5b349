"""A sample patient-intake app, built the way Sohar's patient-intake tutorial describes.

Collect the patient's data -> Create Verification -> receive the signed webhook -> Get
Verification -> route the patient (schedule a consultation, ask for other insurance, ask them
to review their data, or hand over to a manual workflow).

When the form has no member id, the app runs Sohar's Discovery -> Verification orchestration:
Create Discovery -> the signed `*discovery.updated` webhook -> Get Discovery -> Create
Verification with the payer and member id found -> the same routing. No coverage found routes
the patient to `no-coverage-found`.

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
# Without a member id (and so, perhaps, without a payer) discovery finds them.
REQUIRED = ("firstName", "lastName", "dateOfBirth", "state")
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
DISCOVERING = "discovering"  # no member id given: waiting for discovery to find the coverage
NO_COVERAGE = "no-coverage-found"  # discovery found nothing to verify
NEXT_STEP = {
    "schedule-consultation": "Eligible: book the initial consultation.",
    "request-alternative-insurance": "Not eligible: ask the patient for other insurance.",
    "review-intake-data": "Member error: ask the patient to check what they entered.",
    MANUAL: "Payer error or unexpected answer: a person follows up.",
    WAITING: "The payer is slow; waiting for Sohar's next event.",
    "submitted": "Waiting for Sohar's webhook.",
    DISCOVERING: "No member id given: Sohar is searching for the patient's coverage.",
    NO_COVERAGE: "Discovery found no coverage: ask the patient for their insurance card.",
}


def route_for(status: str) -> str:
    return WAITING if status == "pending" else ROUTES.get(status, MANUAL)


@dataclass
class Intake:
    verification_id: str | None
    intake_id: str | None = None
    patient: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    route: str = "submitted"
    events: list[str] = field(default_factory=list)  # svix-ids seen: deliveries may repeat
    verification: dict[str, Any] | None = None  # Sohar's latest Get Verification body
    # Discovery first, when the patient gave no member id: Sohar's Get Discovery body.
    discovery_id: str | None = None
    discovery: dict[str, Any] | None = None
    # Set once a verification is being created from the discovery, so a repeated delivery adds none.
    chained: bool = False

    @property
    def key(self) -> str:
        """How the app's pages name the patient: the verification, else the discovery."""
        return self.verification_id or self.discovery_id or self.intake_id or ""


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

    async def create_discovery(self, data: dict[str, str], intake_id: str) -> httpx.Response:
        body: dict[str, Any] = {
            "patient": {k: data[k] for k in ("firstName", "lastName", "dateOfBirth", "state")},
            "id": intake_id,
        }
        if data.get("payerId"):
            body["payerId"] = data["payerId"]  # the patient knows the payer: search it
        return await self.http.post("/v2/discovery", json=body, headers=await self._auth())

    async def get_discovery(self, discovery_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v2/discovery/{discovery_id}", headers=await self._auth())
        response.raise_for_status()
        return dict(response.json())


def create_app() -> Starlette:
    base_url = os.environ.get("SOHAR_BASE_URL", "http://127.0.0.1:8080")
    client_id = os.environ.get("SOHAR_CLIENT_ID", "sandbox-client-id")
    client_secret = os.environ.get("SOHAR_CLIENT_SECRET", "sandbox-client-secret")
    webhook = Webhook(os.environ.get("SOHAR_WEBHOOK_SECRET", "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE="))
    http = httpx.AsyncClient(base_url=base_url, timeout=30)
    sohar = Sohar(http, client_id, client_secret)
    # Each patient under every id it goes by: the app's intake id (echoed as `id` in Sohar's
    # webhooks), its discoveryId and its verificationId.
    intakes: dict[str, Intake] = {}

    def find(*ids: Any) -> Intake | None:
        return next((intakes[i] for i in ids if isinstance(i, str) and i in intakes), None)

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
        missing = [k for k in REQUIRED if not data[k]]
        if data["memberId"] and not data["payerId"]:
            missing.append("payerId")  # a member id means nothing without its payer
        if missing:
            return reply(is_json, 400, {"error": "missing fields", "fields": missing}, f"Missing: {', '.join(missing)}")
        intake_id = uuid.uuid4().hex[:12]
        if not data["memberId"]:
            return await discover(is_json, data, intake_id)
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
        intakes[intake_id] = intake
        log.info("%s %s: verification %s created", data["firstName"], data["lastName"], verification_id)
        if not is_json:
            return RedirectResponse(f"/#{verification_id}", status_code=303)
        return JSONResponse(asdict(intake), status_code=201, headers={"location": f"/patients/{verification_id}"})

    async def discover(is_json: bool, data: dict[str, str], intake_id: str) -> Response:
        """No member id: Create Discovery first; its webhook carries the patient on to a verification."""
        # Registered before the call: the discovery's webhook may arrive before its 201 does.
        intake = Intake(None, intake_id=intake_id, patient=data, route=DISCOVERING)
        intakes[intake_id] = intake
        try:
            response = await sohar.create_discovery(data, intake_id)
        except httpx.HTTPError as exc:
            del intakes[intake_id]
            return reply(is_json, 502, {"error": f"Sohar unreachable: {exc!r}"}, "Sohar is unreachable")
        if response.status_code != 201:
            del intakes[intake_id]
            answer = {"status": response.status_code, "body": response.text}
            with contextlib.suppress(ValueError):
                answer["body"] = response.json()
            param = answer["body"].get("param") if isinstance(answer["body"], dict) else None
            return reply(
                is_json,
                400 if response.status_code == 400 else 502,
                {"error": "Sohar rejected the request", "sohar": answer},
                f"Please check {param}" if param else f"Sohar answered {response.status_code}",
            )
        intake.discovery_id = response.json()["discoveryId"]
        intakes[intake.discovery_id] = intake
        log.info("%s %s: discovery %s created", data["firstName"], data["lastName"], intake.discovery_id)
        if not is_json:
            return RedirectResponse(f"/#{intake.key}", status_code=303)
        return JSONResponse(asdict(intake), status_code=201, headers={"location": f"/patients/{intake.key}"})

    async def discovered(request: Request, event: dict[str, Any]) -> Response:
        """Get Discovery, then Create Verification with the payer and member id it found."""
        discovery_id = event["discoveryId"]
        try:
            discovery = await sohar.get_discovery(discovery_id)
        except httpx.HTTPError as exc:
            return JSONResponse({"error": f"Get Discovery failed: {exc!r}"}, status_code=502)
        intake = find(event.get("id"), discovery_id)
        if intake is None:  # not one of ours (or from before a restart): nothing to carry on
            return JSONResponse({"success": True, "ignored": True})
        intake.discovery_id, intake.discovery = discovery_id, discovery
        intakes[discovery_id] = intake
        remember(request, intake)
        if discovery["status"] != "complete" or intake.chained:
            return JSONResponse({"success": True})
        if not discovery.get("payerId") or not discovery.get("memberId"):
            intake.route = NO_COVERAGE
            log.info("discovery %s: no coverage found", discovery_id)
            return JSONResponse({"success": True})
        intake.chained = True
        data = {**intake.patient, "payerId": discovery["payerId"], "memberId": discovery["memberId"]}
        try:
            response = await sohar.create_verification(data, intake.intake_id or discovery_id)
        except httpx.HTTPError as exc:
            intake.chained = False  # Sohar retries the delivery; the next one tries again
            return JSONResponse({"error": f"Create Verification failed: {exc!r}"}, status_code=502)
        if response.status_code != 201:
            intake.route = MANUAL
            return JSONResponse({"success": True})
        intake.patient = data
        intake.verification_id = response.json()["verificationId"]
        intakes[intake.verification_id] = intake
        if intake.route == DISCOVERING:  # the verification's own webhook may have come first
            intake.route = "submitted"
        log.info(
            "discovery %s found %s/%s: verification %s",
            discovery_id,
            data["payerId"],
            data["memberId"],
            intake.verification_id,
        )
        return JSONResponse({"success": True})

    def remember(request: Request, intake: Intake) -> None:
        message_id = request.headers.get("svix-id") or request.headers.get("webhook-id", "")
        if message_id not in intake.events:
            intake.events.append(message_id)

    async def receive_webhook(request: Request) -> Response:
        body = await request.body()  # verify the exact bytes sent, never re-serialized JSON
        try:
            webhook.verify(body, dict(request.headers))
            event = json.loads(body)
        except (WebhookVerificationError, ValueError):
            return JSONResponse({"error": "invalid signature"}, status_code=400)
        if isinstance(event, dict) and isinstance(event.get("discoveryId"), str):
            return await discovered(request, event)
        verification_id = event.get("verificationId") if isinstance(event, dict) else None
        if not verification_id:
            return JSONResponse({"success": True, "ignored": True})  # not a verification event
        try:
            verification = await sohar.get_verification(verification_id)
        except httpx.HTTPError as exc:
            # A non-2xx answer makes Sohar retry the delivery later.
            return JSONResponse({"error": f"Get Verification failed: {exc!r}"}, status_code=502)
        intake = find(verification_id, event.get("id"))
        if intake is None:
            intake = intakes[verification_id] = Intake(verification_id, intake_id=event.get("id"))
        intake.verification_id = verification_id
        intakes[verification_id] = intake
        intake.status, intake.verification = verification["status"], verification
        intake.route = route_for(intake.status)
        remember(request, intake)
        log.info("%s %s: %s -> %s", event.get("event"), verification_id, intake.status, intake.route)
        return JSONResponse({"success": True})

    def patients() -> list[Intake]:
        """Each patient once, in the order they came (the dict holds each under several ids)."""
        return list({id(i): i for i in intakes.values()}.values())

    async def show(request: Request) -> Response:
        intake = intakes.get(request.path_params["patient_id"])
        return JSONResponse(asdict(intake)) if intake else JSONResponse({"error": "not found"}, status_code=404)

    async def listing(request: Request) -> Response:
        return JSONResponse([asdict(i) for i in patients()])

    async def page(request: Request) -> Response:
        return HTMLResponse(render_page(patients()))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/", page),
            Route("/patients", submit, methods=["POST"]),
            Route("/patients", listing),
            Route("/patients/{patient_id}", show),
            Route("/webhooks", receive_webhook, methods=["POST"]),
            Route("/healthz", healthz),
        ],
        lifespan=lifespan,
    )


def reply(is_json: bool, status: int, body: dict[str, Any], message: str) -> Response:
    if is_json:
        return JSONResponse(body, status_code=status)
    return HTMLResponse(render_page([], problem=message), status_code=status)


def discovery_step(intake: Intake) -> str:
    """What discovery did for this patient, for the page: nothing, searching, or what it found."""
    if intake.discovery_id is None:
        return "-"
    found = intake.discovery or {}
    if found.get("status") != "complete":
        return "searching"
    if not found.get("payerId"):
        return "no coverage found"
    return f"found {found['payerId']} / {found['memberId']}"


def render_page(intakes: list[Intake], problem: str = "") -> str:
    e = html.escape
    inputs = "".join(
        f'<label>{name} <input name="{name}" value="{value}"{" required" if name in REQUIRED else ""}></label> '
        for name, value in zip(FIELDS, ("John", "Doe", "09/20/2006", "CA", "60054", "00000000"), strict=True)
    )
    rows = "".join(
        f'<tr id="{e(i.key)}"><td>{e(i.patient.get("firstName", ""))} {e(i.patient.get("lastName", ""))}'
        f"</td><td>{e(discovery_step(i))}</td><td>{e(i.patient.get('memberId', ''))}</td><td>{e(i.status or '')}</td>"
        f"<td><b>{e(i.route)}</b> {e(NEXT_STEP.get(i.route, ''))}</td></tr>"
        for i in reversed(intakes)
    )
    # Reload while an answer is outstanding, and only then: a reload would clear the form.
    waiting = any(i.route in ("submitted", WAITING, DISCOVERING) for i in intakes)
    refresh = '<meta http-equiv="refresh" content="2">' if waiting else ""
    return f"""<!doctype html><meta charset="utf-8">{refresh}
<title>Patient intake</title><h1>Patient intake</h1>
<p style="color:#b00">{e(problem)}</p>
<form method="post" action="/patients">{inputs}<button>Check eligibility</button></form>
<p>Sandbox member ids: 00000000 eligible, 00000001 ineligible, 10000000 member error,
20000000 payer error, 30000000 slow payer. Leave the member id (and payer) empty to run
discovery first: in the sandbox the state decides what it finds (CA, DE, FL, GA, IL, KY, MA,
NY, TX; OH finds nothing).</p>
<table border="1" cellpadding="4"><tr><th>patient</th><th>discovery</th><th>member id</th><th>Sohar status</th>
<th>route</th></tr>
{rows}</table>"""


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="intake: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    host, port = os.environ.get("INTAKE_HOST", "127.0.0.1"), int(os.environ.get("INTAKE_PORT", "3000"))
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", timeout_graceful_shutdown=4)


if __name__ == "__main__":
    main()
