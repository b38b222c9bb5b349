"""The provider registry against a model, through random interleavings of creates (some repeated,
some by alias, some invalid), deletes of created and declared providers, and resets."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mock_server.clock import Clock
from mock_server.domain.providers import ProviderRegistry
from mock_server.errors import Conflict, InvalidRequest, NotFound
from mock_server.ids import IdSource
from mock_server.scenarios import ScenarioRegistry, load_text

SCENARIO = """\
payers:
  - {payerId: "P1", payerName: One, aliasPayerIds: [ONE]}
  - {payerId: "P2", payerName: Two}
providers:
  - {npi: "1558598797", payerId: ONE, state: CA}
  - {npi: "1245319599", payerId: P2, state: NY, type: group, environment: production}
"""
ENVIRONMENTS = ("sandbox", "production")
NPIS = ("1234567893", "1558598797", "1234567890")  # the last fails the check digit
PAYER_IDS = {"P1": "P1", "ONE": "P1", "one": "P1", "P2": "P2", "P9": None}
STATES = ("CA", "NY")
KINDS = ("rendering", "group")

# A provider as the model keeps it: environment, npi, payer id, state, kind.
Config = tuple[str, str, str, str, str]


class ProviderRegistryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        scenarios = ScenarioRegistry([load_text(SCENARIO, "s.yaml", date(2026, 6, 15))])
        self.registry = ProviderRegistry(scenarios, IdSource(1), Clock(frozen=True), cap=4)
        self.declared: dict[str, Config] = {
            p.provider_id: (p.environment, p.npi, p.payer_id, p.state, p.kind)
            for p in scenarios.current.providers.values()
        }
        self.withdrawn: set[str] = set()
        self.created: dict[str, Config] = {}

    def live(self) -> dict[str, Config]:
        declared = {pid: c for pid, c in self.declared.items() if pid not in self.withdrawn}
        return {**declared, **self.created}

    @rule(
        environment=st.sampled_from(ENVIRONMENTS),
        npi=st.sampled_from(NPIS),
        payer=st.sampled_from(sorted(PAYER_IDS)),
        state=st.sampled_from(STATES),
        kind=st.sampled_from(KINDS),
    )
    def create(self, environment: str, npi: str, payer: str, state: str, kind: str) -> None:
        payer_id = PAYER_IDS[payer]
        try:
            provider, new = self.registry.create_provider(environment, npi, payer, state, kind)
        except InvalidRequest as exc:
            # The npi is checked first, then the payer.
            assert exc.param == ("npi" if npi == "1234567890" else "payerId")
            assert npi == "1234567890" or payer_id is None
            return
        except Conflict:  # only when the environment already holds `cap` created providers
            assert sum(1 for c in self.created.values() if c[0] == environment) == self.registry.cap
            return
        assert payer_id is not None and npi != "1234567890"
        config = (environment, npi, payer_id, state, kind)
        assert (provider.environment, provider.npi, provider.payer_id, provider.state, provider.kind) == config
        existing = [pid for pid, c in self.created.items() if c == config]
        assert new == (not existing)
        if existing:
            assert provider.provider_id == existing[0]
        self.created[provider.provider_id] = config

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        provider_id = data.draw(st.sampled_from(sorted(self.live())))
        self.registry.delete_provider(provider_id)
        if provider_id in self.created:
            del self.created[provider_id]
        else:
            self.withdrawn.add(provider_id)
        with pytest.raises(NotFound):
            self.registry.get_provider(provider_id)

    @rule()
    def reset(self) -> None:
        self.registry.reset()
        self.created.clear()
        self.withdrawn.clear()

    @invariant()
    def enrolment_matches_the_model(self) -> None:
        payers = self.registry._scenarios.current.payers
        live = set(self.live().values())
        for environment in ENVIRONMENTS:
            for payer_id, payer in payers.items():
                for state in STATES:
                    for kind in KINDS:
                        expected = any(c[0] == environment and c[2:] == (payer_id, state, kind) for c in live)
                        assert self.registry.enrolled(environment, state, kind, payer) == expected

    @invariant()
    def listings_match_the_model(self) -> None:
        for environment in ENVIRONMENTS:
            listed = {p.provider_id for p in self.registry.list_providers(environment)}
            assert listed == {pid for pid, c in self.live().items() if c[0] == environment}
            for provider_id in listed:
                other = "production" if environment == "sandbox" else "sandbox"
                with pytest.raises(NotFound):
                    self.registry.get_provider(provider_id, other)


TestProviderRegistry = ProviderRegistryMachine.TestCase
TestProviderRegistry.settings = settings(max_examples=60, stateful_step_count=30, deadline=None, derandomize=True)
