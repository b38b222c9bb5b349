"""A running mock plus a verifying webhook receiver, for tests: what the `sohar_mock` fixture hands out.

with SoharMock() as sohar:
    httpx.post(f"{sohar.base_url}/v2/verifications", ...)
    event = sohar.wait_for_webhook(verification_id=vid, status="complete.eligible")
    found = sohar.wait_for_webhook(discovery_id=did, status="complete")
    sohar.advance(5)
"""

from __future__ import annotations

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

    def close(self) -> None:
        self.http.close()


class SoharMock:
    """The mock on a free loopback port, subscribed to a receiver that verifies with `svix`."""

    def __init__(
        self,
        *,
        scenarios: tuple[Path, ...] = (),
        latency: float | None = None,
        seed: int | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        freeze_clock: bool = False,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.receiver = WebhookReceiver(webhook_secret)
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
        self.admin = AdminClient(self.base_url)
        self.sandbox_credentials = dict(SANDBOX_CREDENTIALS)
        self.production_credentials = dict(PRODUCTION_CREDENTIALS)

    def start(self) -> SoharMock:
        self.receiver.start()
        try:
            self._mock.start()
        except BaseException:
            self.receiver.stop()
            raise
        return self

    def stop(self) -> None:
        self._mock.stop()
        self.admin.close()
        self.receiver.stop()

    def __enter__(self) -> SoharMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to the start-up state, with an empty webhook inbox."""
        self.admin.reset()
        self.receiver.clear()

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the mock clock; answers once every transition and webhook attempt due has run."""
        return self.admin.advance(seconds)

    def token(self, environment: str = "sandbox") -> str:
        return self._mock.token(environment)

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
        """Responses of the mock that broke its own contract (checked on every response)."""
        return list(self._mock.core.contract_violations)

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
