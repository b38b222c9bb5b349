"""The composition root: every component of one running mock, without any HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .clock import Clock, Scheduler
from .domain.auth import TokenIssuer
from .domain.events import EventBus
from .domain.verifications import VerificationBackend
from .ids import IdSource
from .journal import RequestJournal
from .resources import admin_spec_path, sohar_spec_path
from .scenarios import ScenarioFile, ScenarioSet, load_file
from .settings import Settings
from .spec import Contract
from .store import memory_store
from .webhooks import DeliveryJournal, EndpointRegistry, WebhookDispatcher


def load_startup_scenarios(settings: Settings) -> list[ScenarioFile]:
    return [load_file(path) for path in settings.scenario_files()]


class Sandbox:
    def __init__(self, settings: Settings, startup_scenarios: list[ScenarioFile] | None = None) -> None:
        self.settings = settings
        self.contract = Contract(settings.spec_path or sohar_spec_path())
        self.admin_contract = Contract(admin_spec_path())
        self.clock = Clock(frozen=settings.freeze_clock)
        self.scheduler = Scheduler(self.clock)
        self.ids = IdSource(settings.seed)
        self.events = EventBus()
        self.journal = RequestJournal(settings.journal_size)
        self.contract_violations: list[str] = []
        self.store = memory_store(settings.max_verifications)
        self.startup_scenarios = (
            startup_scenarios if startup_scenarios is not None else load_startup_scenarios(settings)
        )
        self.runtime_scenarios: list[ScenarioFile] = []
        self.scenarios = ScenarioSet(self.startup_scenarios)
        self.reset_hooks: list[Callable[[], None]] = []
        # Async start/stop work of components that need the event loop (webhook workers).
        self.startup_hooks: list[Callable[[], Awaitable[None]]] = []
        self.shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
        self.tokens = TokenIssuer(settings.credentials, self.clock, self.ids, settings.token_ttl)
        self.verifications = VerificationBackend(
            self.store, lambda: self.scenarios, self.scheduler, self.events, self.ids, settings.latency
        )
        self.webhooks = WebhookDispatcher(
            EndpointRegistry(self.ids, settings.webhook_urls, settings.webhook_secret, self.clock.now()),
            DeliveryJournal(settings.journal_size),
            self.scheduler,
            self.ids,
            settings.webhook_timeout,
        )
        self.events.subscribe(self.webhooks.on_event)
        self.startup_hooks.append(self.webhooks.start)
        self.shutdown_hooks.append(self.webhooks.stop)
        self.reset_hooks.append(self.webhooks.reset)

    def add_scenario(self, scenario: ScenarioFile) -> None:
        """Load a file at run time; its rules go before the startup ones so they win."""
        runtime = [*self.runtime_scenarios, scenario]
        # Built before anything changes, so a file with a dangling reference leaves all as it was.
        self.scenarios = ScenarioSet(
            [*self.startup_scenarios, *runtime], rule_files=[*reversed(runtime), *self.startup_scenarios]
        )
        self.runtime_scenarios = runtime

    def reset(self) -> None:
        """Back to the state right after start-up (tokens already issued stay valid)."""
        self.scheduler.clear()
        self.store.clear()
        self.journal.clear()
        self.clock.reset()
        self.ids.reseed()
        self.runtime_scenarios.clear()
        self.scenarios = ScenarioSet(self.startup_scenarios)
        for hook in self.reset_hooks:
            hook()
