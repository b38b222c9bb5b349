"""Get Network Status: in or out of network with a verification's payer, by the team's contract rules.

Sohar decides it from rules kept in its dashboard; the mock from the `network:` rules of the
scenario files, tried in order (files loaded at run time first). A verification no rule covers
is out of network: without a contract, a practice is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..scenarios import Label, ProviderGroup, ScenarioRegistry
from .auth import Principal
from .lifecycle import FINAL
from .records import Verification
from .verifications import VerificationBackend

PENDING = "pending"
OUT_OF_NETWORK = "oon"


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    verification_id: str
    status: str
    labels: tuple[Label, ...] = ()
    provider_groups: tuple[ProviderGroup, ...] = ()
    rule: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "verificationId": self.verification_id,
            "labels": [{"id": label.id, "color": label.color} for label in self.labels],
            "providerGroups": [
                {"id": group.id, "name": group.name, "tin": group.tin, "status": group.status}
                for group in self.provider_groups
            ],
        }


class NetworkDirectory:
    def __init__(self, verifications: VerificationBackend, scenarios: ScenarioRegistry) -> None:
        self._verifications = verifications
        self._scenarios = scenarios

    def get_network_status(self, principal: Principal, verification_id: str) -> NetworkStatus:
        """404 for an unknown id or another environment's verification, as Get Verification."""
        return self.status_of(self._verifications.get_verification(principal, verification_id))

    def status_of(self, verification: Verification) -> NetworkStatus:
        if verification.status not in FINAL:
            # The plan, and so the contract, is not known until the payer has answered.
            return NetworkStatus(verification.verification_id, PENDING)
        scenarios = self._scenarios.current
        request = verification.request
        resolution = verification.resolution
        if resolution is not None:
            payer_id = resolution.payer.payer_id
        else:
            payer = scenarios.find_payer(request.payer_id)
            payer_id = payer.payer_id if payer else request.payer_id
        coverage = resolution.coverage if resolution else None
        plan = (coverage.plan or {}).get("name") if coverage else None
        rule = scenarios.network_rule(payer_id, plan, request.state, request.specialty_code)
        if rule is None:
            return NetworkStatus(verification.verification_id, OUT_OF_NETWORK)
        return NetworkStatus(verification.verification_id, rule.status, rule.labels, rule.provider_groups, rule.name)
