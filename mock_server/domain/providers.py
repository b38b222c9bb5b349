"""Enrolled providers, per environment: what a payer that needs an NPI on file looks for.

Two kinds, like webhook endpoints: those a scenario file declares (Sohar's dashboard, in
effect) stay for the life of the process; those made with Create Provider go at `reset`.
Deleting a declared one hides it until the next reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from ..errors import Conflict, InvalidRequest, NotFound
from ..ids import IdSource
from ..limits import MAX_PROVIDER_GROUP_ID_LENGTH, MAX_PROVIDERS_PER_ENVIRONMENT
from ..npi import is_valid_npi
from ..scenarios import PROVIDER_KINDS, US_STATES, DeclaredProvider, Payer, ScenarioRegistry
from .auth import ENVIRONMENTS
from .state_file import MEMORY, StateLog

DEFAULT_KIND = "rendering"
NPI_RULE = "npi must be 10 digits whose last is the NPI check digit (Luhn, with the prefix 80840)"

# environment, payer id, state, kind: what a payer's requirement is checked against.
_Key = tuple[str, str, str, str]
# Everything a Create Provider body says: the same config again is the same provider.
_Config = tuple[str, str, str, str, str, str | None]
# In the state file: providers made with Create Provider, and declared ones deleted until a reset.
PROVIDER = "provider"
WITHDRAWN = "withdrawn-provider"


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: str
    environment: str
    npi: str
    payer_id: str
    state: str
    kind: str
    provider_group_id: str | None
    source: str  # "scenario" (declared in a file) or "api"
    created: float | None = None

    @property
    def key(self) -> _Key:
        return (self.environment, self.payer_id, self.state, self.kind)

    @property
    def config(self) -> _Config:
        return (self.environment, self.npi, self.payer_id, self.state, self.kind, self.provider_group_id)

    def to_api(self) -> dict[str, Any]:
        return {
            "providerId": self.provider_id,
            "npi": self.npi,
            "payerId": self.payer_id,
            "state": self.state,
            "type": self.kind,
            "providerGroupId": self.provider_group_id,
        }


def _declared(provider: DeclaredProvider) -> Provider:
    return Provider(
        provider.provider_id,
        provider.environment,
        provider.npi,
        provider.payer_id,
        provider.state,
        provider.kind,
        provider.provider_group_id,
        "scenario",
    )


class ProviderRegistry:
    """Every lookup a verification makes is a dict access, whatever the number of providers."""

    def __init__(
        self,
        scenarios: ScenarioRegistry,
        ids: IdSource,
        clock: Clock,
        cap: int = MAX_PROVIDERS_PER_ENVIRONMENT,
        state: StateLog = MEMORY,
    ) -> None:
        self._scenarios = scenarios
        self._state = state
        self._ids = ids
        self._clock = clock
        self.cap = cap
        self._api: dict[str, dict[str, Provider]] = {environment: {} for environment in ENVIRONMENTS}
        self._by_config: dict[_Config, str] = {}
        self._enrolled: dict[_Key, int] = {}
        self._withdrawn: set[str] = set()

    # -- Sohar operations ---------------------------------------------------------------

    def create_provider(
        self,
        environment: str,
        npi: object,
        payer_id: object,
        state: object,
        kind: object = None,
        provider_group_id: object = None,
    ) -> tuple[Provider, bool]:
        """The provider for this config, and whether it is new (the same config twice is one provider)."""
        if not is_valid_npi(npi):
            raise InvalidRequest("npi", NPI_RULE)
        payer = self._scenarios.current.find_payer(payer_id) if isinstance(payer_id, str) else None
        if payer is None:
            raise InvalidRequest("payerId", f"payerId must be a payer the directory holds, got {payer_id!r}")
        if not isinstance(state, str) or state not in US_STATES:
            raise InvalidRequest("state", "state must be a two-letter US state code (CA, NY, ...)")
        if provider_group_id is not None and (
            not isinstance(provider_group_id, str) or not 0 < len(provider_group_id) <= MAX_PROVIDER_GROUP_ID_LENGTH
        ):
            raise InvalidRequest(
                "providerGroupId", f"providerGroupId must be text of 1 to {MAX_PROVIDER_GROUP_ID_LENGTH} characters"
            )
        kind = DEFAULT_KIND if kind is None else kind
        if not isinstance(kind, str) or kind not in PROVIDER_KINDS:
            raise InvalidRequest("type", f"type must be one of {', '.join(PROVIDER_KINDS)}")
        assert isinstance(npi, str)
        config: _Config = (environment, npi, payer.payer_id, state, kind, provider_group_id)
        known = self._by_config.get(config)
        if known is not None:
            return self._api[environment][known], False
        providers = self._api[environment]
        if len(providers) >= self.cap:
            raise Conflict(None, f"{environment} already holds {self.cap} providers, the most the mock keeps")
        provider = Provider(
            self._ids.uuid(), environment, npi, payer.payer_id, state, kind, provider_group_id, "api", self._clock.now()
        )
        self.restore(provider)
        self._state.save(PROVIDER, provider.provider_id, provider)
        return provider, True

    def restore(self, provider: Provider) -> None:
        """Enrol a provider made with Create Provider (just now, or read back from the state file)."""
        self._api[provider.environment][provider.provider_id] = provider
        self._by_config[provider.config] = provider.provider_id
        self._enrolled[provider.key] = self._enrolled.get(provider.key, 0) + 1

    def restore_withdrawn(self, provider_id: str) -> None:
        self._withdrawn.add(provider_id)

    def list_providers(self, environment: str | None = None) -> list[Provider]:
        """Declared ones first (in file order), then those created, oldest first."""
        declared = [
            _declared(p)
            for p in self._scenarios.current.providers.values()
            if p.provider_id not in self._withdrawn and (environment is None or p.environment == environment)
        ]
        created = [p for env in ENVIRONMENTS if environment in (None, env) for p in self._api[env].values()]
        return declared + created

    def get_provider(self, provider_id: str, environment: str | None = None) -> Provider:
        """404 for an unknown id, and for another environment's provider (as for verifications)."""
        provider = self._find(provider_id)
        if provider is None or (environment is not None and provider.environment != environment):
            raise NotFound()
        return provider

    def delete_provider(self, provider_id: str, environment: str | None = None) -> Provider:
        provider = self.get_provider(provider_id, environment)
        if provider.source == "scenario":
            self._withdrawn.add(provider_id)  # back at the next reset, like the file's other content
            self._state.save(WITHDRAWN, provider_id, provider_id)
            return provider
        del self._api[provider.environment][provider_id]
        self._state.forget(PROVIDER, provider_id)
        del self._by_config[provider.config]
        remaining = self._enrolled[provider.key] - 1
        if remaining:
            self._enrolled[provider.key] = remaining
        else:
            del self._enrolled[provider.key]
        return provider

    # -- what a payer asks --------------------------------------------------------------

    def enrolled(self, environment: str, state: str, kind: str, payer: Payer) -> bool:
        """Whether a provider of `kind` is enrolled with `payer` for patients in `state`."""
        key = (environment, payer.payer_id, state, kind)
        if self._enrolled.get(key):
            return True
        declared = self._scenarios.current.provider_index.get(key, ())
        return any(provider_id not in self._withdrawn for provider_id in declared)

    def reset(self) -> None:
        for providers in self._api.values():
            providers.clear()
        self._by_config.clear()
        self._enrolled.clear()
        self._withdrawn.clear()

    def _find(self, provider_id: str) -> Provider | None:
        for providers in self._api.values():
            found = providers.get(provider_id)
            if found is not None:
                return found
        declared = self._scenarios.current.providers.get(provider_id)
        if declared is None or provider_id in self._withdrawn:
            return None
        return _declared(declared)
