"""The control plane under the reserved prefix `/__admin` (contract: openapi/admin.yaml)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import __version__
from ..clock import AdvanceInterrupted, ClockRangeError
from ..core import MockCore
from ..domain import discovery_lifecycle
from ..domain.auth import ENVIRONMENTS
from ..domain.discovery_records import Discovery
from ..domain.discovery_render import discovery_body
from ..domain.lifecycle import public_status
from ..domain.records import Verification
from ..domain.render import iso_millis, verification_body
from ..errors import Conflict, InvalidRequest, NotFound, SoharError
from ..journal import RequestJournal
from ..limits import DAY, MAX_DISCOVERY_COVERAGES, MAX_DURATION_SECONDS, MAX_QUERY_NUMBER_DIGITS
from ..scenarios import ScenarioError, load_text
from ..webhooks.messages import STATES as MESSAGE_STATES
from .json_input import parse_json
from .responses import SoharJSONResponse, error_response, read_body

AdminHandler = Callable[[MockCore, Request], Awaitable[Response]]


def _endpoint(core: MockCore, handlers: dict[str, AdminHandler]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handlers["GET" if request.method == "HEAD" else request.method](core, request)
        except SoharError as exc:
            return error_response(exc, message=True)

    return endpoint


async def _json_object(core: MockCore, request: Request) -> dict[str, Any]:
    raw = await read_body(request, core.settings.max_body_bytes)
    if not raw.strip():
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise InvalidRequest("body", "expected a JSON object")
    return body


_BOOLEANS = {"true": True, "false": False}


def environment_filter(query: Mapping[str, str]) -> str | None:
    """The `environment` a listing is filtered by; a typo would otherwise list nothing, silently."""
    environment = query.get("environment")
    if environment is not None and environment not in ENVIRONMENTS:
        raise InvalidRequest("environment", f"environment must be one of {', '.join(ENVIRONMENTS)}")
    return environment


def count_param(query: Mapping[str, str], name: str, meaning: str, *, minimum: int = 0) -> int | None:
    """A non-negative whole number from the query string (ASCII digits only: `int()` would also
    take `²`-like digits and fail on them later), or a 400 naming it."""
    text = query.get(name)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_QUERY_NUMBER_DIGITS) or int(text) < minimum:
        raise InvalidRequest(name, f"{name} must be {meaning}")
    return int(text)


def journal_page(journal: RequestJournal, query: Mapping[str, str]) -> dict[str, Any]:
    """`GET /__admin/requests`: the records that match every filter given, oldest first."""
    conforms = query.get("conforms")
    if conforms is not None and conforms not in _BOOLEANS:
        raise InvalidRequest("conforms", "conforms must be true or false")
    since = count_param(query, "since", "a journal sequence number (a non-negative integer)")
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
        and (since is None or r.seq > since)
    ]
    return {"requests": [r.to_api() for r in records], "count": len(records), "dropped": journal.dropped}


def clock_state(core: MockCore) -> dict[str, Any]:
    now = core.clock.now()
    return {
        "now": iso_millis(now),
        "nowUnix": now,
        "offsetSeconds": core.clock.offset,
        "frozen": core.clock.frozen,
    }


def verification_summary(core: MockCore, verification: Any) -> dict[str, Any]:
    return {
        "verificationId": verification.verification_id,
        "id": verification.request.id,
        "environment": verification.environment,
        "status": public_status(verification.status),
        "statusReason": verification.status_reason,
        "created": iso_millis(verification.created),
        "updated": iso_millis(verification.updated),
        "payerId": verification.request.payer_id,
        "memberId": verification.request.member_id,
        "rule": verification.rule,
        "nextTransitionAt": iso_millis(verification.timer.due) if verification.timer else None,
        "revision": verification.revision,
    }


def discovery_summary(discovery: Discovery) -> dict[str, Any]:
    found = discovery.resolution.coverages if discovery.resolution is not None else ()
    return {
        "discoveryId": discovery.discovery_id,
        "id": discovery.request.id,
        "environment": discovery.environment,
        "status": discovery_lifecycle.public_status(discovery.status),
        "created": iso_millis(discovery.created),
        "updated": iso_millis(discovery.updated),
        "state": discovery.request.state,
        "coverages": [{"payerId": c.payer.payer_id, "memberId": c.member_id} for c in found],
        "rule": discovery.rule,
        "nextTransitionAt": iso_millis(discovery.timer.due) if discovery.timer else None,
        "revision": discovery.revision,
    }


def timeline(record: Verification | Discovery) -> list[dict[str, Any]]:
    """Its changes of status on the mock clock, from creation on; a verification's name their statusReason."""
    reasons = isinstance(record, Verification)

    def entry(at: float, status: str, status_reason: str | None, cause: str) -> dict[str, Any]:
        item: dict[str, Any] = {"at": iso_millis(at), "status": status, "cause": cause}
        if reasons:
            item["statusReason"] = status_reason
        return item

    return [entry(record.created, "pending", None, "created")] + [
        entry(step.at, step.status, step.status_reason, "forced" if step.forced else "scheduled")
        for step in record.steps()
    ]


def changes(core: MockCore) -> dict[str, int]:
    """The cursor a poller sends back as `since`, and the revision of the latest reset."""
    return {"revision": core.revisions.last, "resetRevision": core.reset_revision}


def since_param(query: Mapping[str, str]) -> int | None:
    return count_param(query, "since", "a revision (a non-negative integer) from an earlier answer")


_STARTED = time.monotonic()


async def health(core: MockCore, request: Request) -> Response:
    return SoharJSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "uptimeSeconds": round(time.monotonic() - _STARTED, 3),
            "verifications": len(core.store),
            "maxVerifications": core.settings.max_verifications,
            "discoveries": len(core.discovery_store),
            "maxDiscoveries": core.settings.max_discoveries,
            "clock": clock_state(core),
            "contractViolations": len(core.contract_violations),
            **changes(core),
        }
    )


async def reset(core: MockCore, request: Request) -> Response:
    core.reset()
    return SoharJSONResponse({"status": "reset", "clock": clock_state(core)})


async def get_clock(core: MockCore, request: Request) -> Response:
    return SoharJSONResponse(clock_state(core))


async def advance_clock(core: MockCore, request: Request) -> Response:
    body = await _json_object(core, request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
        raise InvalidRequest("seconds", "seconds must be a number")
    if seconds < 0 or seconds > MAX_DURATION_SECONDS:
        raise InvalidRequest(
            "seconds", f"seconds must be between 0 and {MAX_DURATION_SECONDS} ({MAX_DURATION_SECONDS // DAY} days)"
        )
    try:
        settled = await core.scheduler.advance(seconds, timeout=core.settings.webhook_timeout + 5)
    except ClockRangeError as exc:
        raise InvalidRequest("seconds", str(exc)) from None
    except AdvanceInterrupted as exc:
        raise Conflict("seconds", str(exc)) from None
    return SoharJSONResponse({**clock_state(core), "settled": settled})


async def list_verifications(core: MockCore, request: Request) -> Response:
    core.scheduler.run_due()
    query = request.query_params
    status = query.get("status")
    environment = environment_filter(query)
    since = since_param(query)
    limit = count_param(query, "limit", "a whole number from 1", minimum=1)
    found = [
        v
        for v in core.store
        if (status is None or public_status(v.status) == status)
        and (environment is None or v.environment == environment)
        and (since is None or v.revision > since)
    ]
    items = [verification_summary(core, v) for v in (found[-limit:] if limit else found)]
    return SoharJSONResponse({"verifications": items, "count": len(items), **changes(core)})


async def get_verification(core: MockCore, request: Request) -> Response:
    core.scheduler.run_due()
    verification = core.verifications.find(request.path_params["verificationId"])
    return SoharJSONResponse(
        {
            **verification_summary(core, verification),
            "timeline": timeline(verification),
            "body": verification_body(verification),
        }
    )


async def list_discoveries(core: MockCore, request: Request) -> Response:
    core.scheduler.run_due()
    query = request.query_params
    status = query.get("status")
    if status is not None and status not in discovery_lifecycle.STATUSES:
        # A typo would otherwise list nothing, silently.
        raise InvalidRequest("status", "status must be pending or complete")
    environment = environment_filter(query)
    since = since_param(query)
    limit = count_param(query, "limit", "a whole number from 1", minimum=1)
    found = [
        d
        for d in core.discovery_store
        if (status is None or discovery_lifecycle.public_status(d.status) == status)
        and (environment is None or d.environment == environment)
        and (since is None or d.revision > since)
    ]
    items = [discovery_summary(d) for d in (found[-limit:] if limit else found)]
    return SoharJSONResponse({"discoveries": items, "count": len(items), **changes(core)})


async def get_discovery(core: MockCore, request: Request) -> Response:
    core.scheduler.run_due()
    discovery = core.discoveries.find(request.path_params["discoveryId"])
    return SoharJSONResponse(
        {**discovery_summary(discovery), "timeline": timeline(discovery), "body": discovery_body(discovery)}
    )


def _coverage_pairs(raw: object) -> list[tuple[str, str]] | None:
    """`coverages: [{payerId, memberId}, ...]` of a forced `complete`, or None when not given."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidRequest("coverages", "coverages must be a list of {payerId, memberId}")
    if len(raw) > MAX_DISCOVERY_COVERAGES:
        raise InvalidRequest("coverages", f"coverages may list at most {MAX_DISCOVERY_COVERAGES}")
    pairs = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidRequest(f"coverages.{index}", "each coverage is an object {payerId, memberId}")
        for field in ("payerId", "memberId"):
            if not isinstance(item.get(field), str) or not item[field]:
                raise InvalidRequest(f"coverages.{index}.{field}", f"{field} must be a non-empty string")
        pairs.append((item["payerId"], item["memberId"]))
    return pairs


async def force_discovery_status(core: MockCore, request: Request) -> Response:
    body = await _json_object(core, request)
    status = body.get("status")
    if not isinstance(status, str) or status not in discovery_lifecycle.STATUSES:
        raise InvalidRequest("status", "status must be pending or complete")
    coverages = _coverage_pairs(body.get("coverages"))
    if coverages is not None and status != discovery_lifecycle.COMPLETE:
        raise InvalidRequest("coverages", "only a complete discovery has coverages")
    core.scheduler.run_due()
    discovery = core.discoveries.force_status(request.path_params["discoveryId"], status, coverages)
    return SoharJSONResponse({**discovery_summary(discovery), "body": discovery_body(discovery)})


def scenario_upload() -> AdminHandler:
    """`POST /__admin/scenarios`, one load at a time."""
    # Loads run in a worker thread: 9 000 members take about 0.4 s to parse and check,
    # and the event loop must keep answering meanwhile. One at a time, so a burst of uploads
    # cannot fill the executor that webhook deliveries also use.
    one_at_a_time = asyncio.Lock()

    async def load_scenario(core: MockCore, request: Request) -> Response:
        raw = await read_body(request, core.settings.max_body_bytes)
        name = request.query_params.get("name") or f"uploaded-{len(core.scenarios.runtime) + 1}.yaml"
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise InvalidRequest("body", "the scenario must be UTF-8 text") from None
        try:
            async with one_at_a_time:
                scenario = await asyncio.to_thread(load_text, text, name, core.clock.today(), core.scenario_sections)
            # Back on the loop: combining with the loaded files reads and replaces shared state.
            core.scenarios.add(scenario)
        except ScenarioError as exc:
            raise InvalidRequest("scenario", str(exc)) from None
        return SoharJSONResponse(scenario.summary(), status_code=201)

    return load_scenario


async def list_scenarios(core: MockCore, request: Request) -> Response:
    current = core.scenarios.current
    return SoharJSONResponse(
        {
            "files": [{**f.summary(), "loadedAt": "startup"} for f in core.scenarios.startup]
            + [{**f.summary(), "loadedAt": "runtime"} for f in core.scenarios.runtime],
            "rules": [{"name": r.name, "source": r.source, "status": r.outcome.status} for r in current.rules],
            "discoveryRules": [
                {"name": r.name, "source": r.source, "status": r.outcome.status} for r in current.discovery_rules
            ],
            "payers": sorted(current.payers),
            "members": len(current.members),
        }
    )


async def list_requests(core: MockCore, request: Request) -> Response:
    return SoharJSONResponse(journal_page(core.journal, request.query_params))


async def force_status(core: MockCore, request: Request) -> Response:
    body = await _json_object(core, request)
    status = body.get("status")
    reason = body.get("statusReason")
    if not isinstance(status, str):
        raise InvalidRequest("status", "status must be one of Sohar's verification statuses")
    if reason is not None and not isinstance(reason, str):
        raise InvalidRequest("statusReason", "statusReason must be a string or null")
    core.scheduler.run_due()
    verification = core.verifications.force_status(request.path_params["verificationId"], status, reason)
    return SoharJSONResponse({**verification_summary(core, verification), "body": verification_body(verification)})


async def list_deliveries(core: MockCore, request: Request) -> Response:
    query = request.query_params
    state = query.get("state")
    if state is not None and state not in MESSAGE_STATES:
        raise InvalidRequest("state", f"state must be one of {', '.join(MESSAGE_STATES)}")
    messages = core.webhooks.journal.select(
        verification_id=query.get("verificationId"),
        discovery_id=query.get("discoveryId"),
        event=query.get("event"),
        endpoint=query.get("endpointId") or query.get("endpoint"),
        state=state,
        since=since_param(query),
    )
    return SoharJSONResponse({"deliveries": [m.to_api() for m in messages], "count": len(messages), **changes(core)})


async def get_delivery(core: MockCore, request: Request) -> Response:
    message = core.webhooks.journal.get(request.path_params["messageId"])
    if message is None:
        raise NotFound()
    return SoharJSONResponse(message.to_api())


async def replay_delivery(core: MockCore, request: Request) -> Response:
    message = await core.webhooks.replay(request.path_params["messageId"])
    return SoharJSONResponse(message.to_api())


def endpoint_summary(endpoint: Any) -> dict[str, Any]:
    return {**endpoint.to_api(with_secret=True), "source": endpoint.source}


async def list_endpoints(core: MockCore, request: Request) -> Response:
    endpoints = [endpoint_summary(e) for e in core.webhooks.endpoints]
    return SoharJSONResponse({"endpoints": endpoints, "count": len(endpoints)})


async def add_endpoint(core: MockCore, request: Request) -> Response:
    body = await _json_object(core, request)
    url = body.get("url")
    if not isinstance(url, str):
        raise InvalidRequest("url", "url must be an absolute http(s) URL")
    try:
        endpoint = core.webhooks.endpoints.add_admin(url, core.clock.now())
    except InvalidRequest:
        raise InvalidRequest("url", "url must be an absolute http(s) URL") from None
    return SoharJSONResponse(endpoint_summary(endpoint), status_code=201)


async def remove_endpoint(core: MockCore, request: Request) -> Response:
    endpoint = core.webhooks.endpoints.remove_admin(request.path_params["endpointId"])
    return SoharJSONResponse({"endpointId": endpoint.endpoint_id, "deleted": True})


def routes(core: MockCore) -> list[Route]:
    operations: list[tuple[str, str, AdminHandler]] = [
        ("/health", "GET", health),
        ("/reset", "POST", reset),
        ("/clock", "GET", get_clock),
        ("/clock/advance", "POST", advance_clock),
        ("/verifications", "GET", list_verifications),
        ("/verifications/{verificationId}", "GET", get_verification),
        ("/verifications/{verificationId}/status", "POST", force_status),
        ("/discoveries", "GET", list_discoveries),
        ("/discoveries/{discoveryId}", "GET", get_discovery),
        ("/discoveries/{discoveryId}/status", "POST", force_discovery_status),
        ("/scenarios", "POST", scenario_upload()),
        ("/scenarios", "GET", list_scenarios),
        ("/requests", "GET", list_requests),
        ("/webhooks/endpoints", "GET", list_endpoints),
        ("/webhooks/endpoints", "POST", add_endpoint),
        ("/webhooks/endpoints/{endpointId}", "DELETE", remove_endpoint),
        ("/webhooks/deliveries", "GET", list_deliveries),
        ("/webhooks/deliveries/{messageId}", "GET", get_delivery),
        ("/webhooks/deliveries/{messageId}/replay", "POST", replay_delivery),
    ]
    by_path: dict[str, dict[str, AdminHandler]] = {}
    for path, method, handler in operations:
        by_path.setdefault(path, {})[method] = handler
    return admin_routes(core, by_path)


def admin_routes(core: MockCore, by_path: Mapping[str, dict[str, AdminHandler]]) -> list[Route]:
    """`/__admin{path}` for each path's handlers by method, errors in the admin envelope.

    One route per path, so a 405's `Allow` lists every method the path serves.
    """
    return [
        Route(f"/__admin{path}", _endpoint(core, handlers), methods=list(handlers))
        for path, handlers in by_path.items()
    ]
