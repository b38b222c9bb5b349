"""A running mock plus a verifying webhook receiver, for tests: what the `sohar_mock` fixture hands out.

with SoharMock() as sohar:
    httpx.post(f"{sohar.base_url}/v2/verifications", ...)
    event = sohar.wait_for_webhook(verification_id=vid, status="complete.eligible")
    found = sohar.wait_for_webhook(discovery_id=did, status="complete")
    sohar.advance(5)

`SoharMock(url="http://mock:8080")` drives a mock that is already running (a container in a
compose-based CI) with the same API: the receiver is added to it through the admin API after
every reset, at a URL the mock can reach (`receiver_host`).
"""

from __future__ import annotations

import contextlib
import ipaddress
from pathlib import Path
from typing import Any

import httpx

from mock_server.settings import DEFAULT_WEBHOOK_SECRET, Settings
from mock_server.testing import PRODUCTION_CREDENTIALS, SANDBOX_CREDENTIALS, RunningMock

from .receiver import Received, WebhookReceiver


class AdminClient:
    """The mock's control plane (`/__admin`, see openapi/admin.yaml), raising on any non-2xx."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=f"{base_url}/__admin", timeout=30, trust_env=False)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 300:
            request = response.request
            raise AssertionError(f"{request.method} {request.url} -> {response.status_code} {response.text}")
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._json(self.http.get(path, params={k: v for k, v in params.items() if v is not None}))

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self._json(self.http.post(path, json=json, **kwargs))

    def health(self) -> dict[str, Any]:
        return dict(self.get("/health"))

    def reset(self) -> None:
        self.post("/reset")

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self.post("/clock/advance", {"seconds": seconds}))

    def verifications(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.get("/verifications", **filters)["verifications"])

    def verification(self, verification_id: str) -> dict[str, Any]:
        return dict(self.get(f"/verifications/{verification_id}"))

    def force_status(self, verification_id: str, status: str, status_reason: str | None = None) -> dict[str, Any]:
        body = {"status": status, "statusReason": status_reason}
        return dict(self.post(f"/verifications/{verification_id}/status", body))

    def discoveries(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.get("/discoveries", **filters)["discoveries"])

    def discovery(self, discovery_id: str) -> dict[str, Any]:
        return dict(self.get(f"/discoveries/{discovery_id}"))

    def force_discovery_status(
        self, discovery_id: str, status: str, coverages: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        """`pending`, or `complete` with the given (payerId, memberId) coverages (else the scenario's)."""
        body: dict[str, Any] = {"status": status}
        if coverages is not None:
            body["coverages"] = [{"payerId": payer_id, "memberId": member_id} for payer_id, member_id in coverages]
        return dict(self.post(f"/discoveries/{discovery_id}/status", body))

    def deliveries(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.get("/webhooks/deliveries", **filters)["deliveries"])

    def requests(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.get("/requests", **filters)["requests"])

    def providers(self, **filters: str) -> list[dict[str, Any]]:
        return list(self.get("/providers", **filters)["providers"])

    def create_provider(self, **provider: Any) -> dict[str, Any]:
        """Enrol a provider (`npi`, `payerId`, `state`; `environment`, `type`, `providerGroupId`)."""
        return dict(self.post("/providers", provider))

    def delete_provider(self, provider_id: str) -> dict[str, Any]:
        return self._json(self.http.delete(f"/providers/{provider_id}"))  # type: ignore[no-any-return]

    def load_scenario(self, text: str, name: str | None = None) -> dict[str, Any]:
        return dict(self.post("/scenarios", params={"name": name} if name else None, content=text.encode()))

    def add_endpoint(self, url: str) -> dict[str, Any]:
        return dict(self.post("/webhooks/endpoints", {"url": url}))

    def remove_endpoint(self, endpoint_id: str) -> None:
        self._json(self.http.delete(f"/webhooks/endpoints/{endpoint_id}"))

    def close(self) -> None:
        self.http.close()


class MockNotReady(RuntimeError):
    """The running mock named by `url` cannot serve the fixture (absent, or set up otherwise)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def scenario_files(paths: tuple[Path, ...]) -> list[Path]:
    """Files, folders expanded to their *.yaml / *.yml files, in order."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")) if path.is_dir() else [path])
    return files


class SoharMock:
    """The mock on a free loopback port (or the one running at `url`), subscribed to a receiver
    that verifies with `svix`."""

    def __init__(
        self,
        *,
        scenarios: tuple[Path, ...] = (),
        latency: float | None = None,
        seed: int | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        freeze_clock: bool = False,
        url: str | None = None,
        receiver_host: str | None = None,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.sandbox_credentials = dict(SANDBOX_CREDENTIALS)
        self.production_credentials = dict(PRODUCTION_CREDENTIALS)
        self._freeze_clock = freeze_clock
        self._endpoint_id: str | None = None
        self._secrets: set[str] = set()
        self._mock: RunningMock | None = None
        if url is None:
            self.receiver = WebhookReceiver(webhook_secret)  # the mock runs here: loopback reaches it
            settings = Settings(
                scenario_paths=scenarios,
                latency=latency,
                seed=seed,
                webhook_urls=(self.receiver.url,),
                webhook_secret=webhook_secret,
                freeze_clock=freeze_clock,
            )
            self._mock = RunningMock(settings, validate_responses=True)
            self.base_url = self._mock.base_url
            self._scenario_files: list[Path] = []
        else:
            # The mock runs elsewhere: its own flags decide latency, seed and start-up scenarios;
            # `scenarios` are loaded into it after every reset. The receiver listens on every
            # interface when the mock reaches it by a name other than loopback (another container).
            bind = "127.0.0.1" if receiver_host is None or _is_loopback(receiver_host) else "0.0.0.0"
            self.receiver = WebhookReceiver(host=bind, advertised_host=receiver_host)
            self.base_url = url.rstrip("/")
            self._scenario_files = scenario_files(scenarios)
        self.admin = AdminClient(self.base_url)
        self._http = httpx.Client(base_url=self.base_url, timeout=30, trust_env=False)

    @property
    def running_elsewhere(self) -> bool:
        """True when the fixture drives a mock it did not start (`url`)."""
        return self._mock is None

    def start(self) -> SoharMock:
        self.receiver.start()
        try:
            if self._mock is not None:
                self._mock.start()
            else:
                self._check_remote()
                self.reset()
        except BaseException:
            self.receiver.stop()
            raise
        return self

    def _check_remote(self) -> None:
        try:
            health = self.admin.health()
        except httpx.TransportError as exc:
            raise MockNotReady(f"no mock answers at {self.base_url} ({exc})") from None
        frozen = bool(health["clock"]["frozen"])
        if self._freeze_clock and not frozen:
            raise MockNotReady(
                f"sohar_mock_freeze_clock is on, but the mock at {self.base_url} runs on real time:"
                " start it with --freeze-clock (SOHAR_MOCK_FREEZE_CLOCK=1)"
            )

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
        elif self._endpoint_id is not None:
            # Leave the shared mock as it was: no more attempts at a receiver about to go.
            # Already gone (a reset by someone else), or the mock stopped first: nothing to leave.
            with contextlib.suppress(AssertionError, httpx.HTTPError):
                self.admin.remove_endpoint(self._endpoint_id)
        self.admin.close()
        self._http.close()
        self.receiver.stop()

    def __enter__(self) -> SoharMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to the start-up state, with an empty webhook inbox."""
        self.admin.reset()
        self.receiver.clear()
        if self._mock is None:
            # A reset drops endpoints added through the admin API and runtime scenarios: both again.
            endpoint = self.admin.add_endpoint(self.receiver.url)
            self._endpoint_id = endpoint["endpointId"]
            if endpoint["secret"] not in self._secrets:  # the same start-up secret every time
                self._secrets.add(endpoint["secret"])
                self.receiver.add_secret(endpoint["secret"])
            self.webhook_secret = endpoint["secret"]
            for path in self._scenario_files:
                self.admin.load_scenario(path.read_text(encoding="utf-8"), path.name)

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the mock clock; answers once every transition and webhook attempt due has run."""
        return self.admin.advance(seconds)

    def token(self, environment: str = "sandbox") -> str:
        credentials = self.sandbox_credentials if environment == "sandbox" else self.production_credentials
        response = self._http.post("/oauth/token", json=credentials)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def headers(self, environment: str = "sandbox") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(environment)}"}

    def create_provider(
        self,
        npi: str,
        payer_id: str = "60054",
        state: str = "CA",
        *,
        environment: str = "sandbox",
        provider_type: str | None = None,
        provider_group_id: str | None = None,
    ) -> str:
        """Enrol a provider through Sohar's Create Provider, as a client would; its `providerId`.
        Gone at the next reset, like everything a test makes."""
        body: dict[str, Any] = {"npi": npi, "payerId": payer_id, "state": state}
        if provider_type is not None:
            body["type"] = provider_type
        if provider_group_id is not None:
            body["providerGroupId"] = provider_group_id
        response = httpx.post(f"{self.base_url}/v1/providers", json=body, headers=self.headers(environment), timeout=30)
        if response.status_code != 200:
            raise AssertionError(f"Create Provider -> {response.status_code} {response.text}")
        return str(response.json()["providerId"])

    def network_status(self, verification_id: str, environment: str = "sandbox") -> dict[str, Any]:
        """Get Network Status for a verification: `status` (inn | oon | pending), `labels`, `providerGroups`."""
        response = httpx.get(
            f"{self.base_url}/v2/verifications/{verification_id}/network-status",
            headers=self.headers(environment),
            timeout=30,
        )
        if response.status_code != 200:
            raise AssertionError(f"Get Network Status -> {response.status_code} {response.text}")
        return dict(response.json())

    @property
    def webhooks(self) -> list[Received]:
        """Every verified delivery received since the last reset, in arrival order."""
        return self.receiver.verified

    @property
    def rejected_webhooks(self) -> list[Received]:
        """Deliveries whose signature did not verify (there should be none)."""
        return self.receiver.rejected

    @property
    def contract_violations(self) -> list[str]:
        """Responses of the mock that broke its own contract (checked on every response).

        A mock running elsewhere checks them only when started with `--strict`, and names them
        in its log: this lists how many there were."""
        if self._mock is not None:
            return list(self._mock.core.contract_violations)
        count = int(self.admin.health().get("contractViolations", 0))
        if not count:
            return []
        return [f"{count} response(s) of the mock at {self.base_url} broke its contract (see its log)"]

    def wait_for_webhook(
        self,
        verification_id: str | None = None,
        *,
        discovery_id: str | None = None,
        event: str | None = None,
        status: str | None = None,
        timeout: float = 5.0,
    ) -> Received:
        """The first verified delivery matching every criterion given; AssertionError after `timeout` s.

        `verification_id` or `discovery_id` picks the request the event is about.
        """
        return self.receiver.wait_for(
            verification_id=verification_id, discovery_id=discovery_id, event=event, status=status, timeout=timeout
        )
