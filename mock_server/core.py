"""The composition root: every component of one running mock, without any HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from . import __version__
from .clock import Clock, Scheduler
from .contract import Contract
from .domain.auth import TokenIssuer
from .domain.discoveries import DiscoveryBackend
from .domain.discovery_records import Discovery
from .domain.events import EventBus
from .domain.network import NetworkDirectory
from .domain.providers import ProviderRegistry
from .domain.records import Verification
from .domain.state_file import SqliteState, StateLog, open_state
from .domain.store import MemoryStore, memory_store
from .domain.verifications import VerificationBackend
from .ids import IdSource
from .journal import RequestJournal
from .partner import section as partner_section
from .partner.eligibility import PartnerEligibility
from .persistence import Components, StateKeeper
from .resources import admin_spec_path, partner_spec_path, sohar_spec_path
from .revisions import Revisions
from .scenarios import ScenarioFile, ScenarioRegistry, Section, load_file
from .settings import Settings
from .webhooks import DeliveryJournal, EndpointRegistry, WebhookDispatcher

log = logging.getLogger("sohar_mock.app")


# The keys of scenario files that other contexts own, beside Sohar's payers, members and rules.
SCENARIO_SECTIONS: tuple[Section, ...] = (partner_section.SECTION,)


def load_startup_scenarios(settings: Settings) -> list[ScenarioFile]:
    return [load_file(path, SCENARIO_SECTIONS) for path in settings.scenario_files()]


class MockCore:
    """One mock's state and machinery. `start()` and `stop()` run on the event loop that serves it.

    `freeze_gc`: let the store freeze the garbage collector as it grows (domain/store.py), which
    acts on the whole process; only `sohar-mock serve`, whose process is the mock's own, asks for it.
    """

    def __init__(
        self, settings: Settings, startup_scenarios: list[ScenarioFile] | None = None, *, freeze_gc: bool = False
    ) -> None:
        self.settings = settings
        self.contract = Contract(settings.spec_path or sohar_spec_path())
        self.admin_contract = Contract(admin_spec_path())
        self.partner_contract = Contract(partner_spec_path())
        self.clock = Clock(frozen=settings.freeze_clock)
        self.scheduler = Scheduler(self.clock)
        self.ids = IdSource(settings.seed)
        self.events = EventBus()
        self.revisions = Revisions()
        # The revision the latest reset took: a poller whose cursor is older starts over.
        self.reset_revision = 0
        self.journal = RequestJournal(settings.journal_size)
        self.contract_violations: list[str] = []
        self.store: MemoryStore[Verification] = memory_store(settings.max_verifications, freeze_gc=freeze_gc)
        self.discovery_store: MemoryStore[Discovery] = memory_store(settings.max_discoveries, freeze_gc=freeze_gc)
        self.scenario_sections = SCENARIO_SECTIONS
        self.scenarios = ScenarioRegistry(
            startup_scenarios if startup_scenarios is not None else load_startup_scenarios(settings),
            SCENARIO_SECTIONS,
        )
        self.partner = PartnerEligibility(lambda: self.scenarios.section(partner_section.KEY), self.clock.today)
        self.tokens = TokenIssuer(settings.credentials, self.clock, self.ids, settings.token_ttl)
        # Last of what can refuse to start (a state file in use, corrupt, of another version).
        self.state: StateLog = open_state(settings.state_path, __version__)
        state = self.state
        self.providers = ProviderRegistry(self.scenarios, self.ids, self.clock, state=state)
        self.verifications = VerificationBackend(
            self.store,
            self.scenarios,
            self.scheduler,
            self.events,
            self.ids,
            settings.latency,
            self.providers,
            self.revisions,
            state,
        )
        self.discoveries = DiscoveryBackend(
            self.discovery_store,
            self.scenarios,
            self.scheduler,
            self.events,
            self.ids,
            settings.latency,
            self.revisions,
            state,
        )
        self.network = NetworkDirectory(self.verifications, self.scenarios)
        self.webhooks = WebhookDispatcher(
            EndpointRegistry(self.ids, settings.webhook_urls, settings.webhook_secret, self.clock.now(), state),
            DeliveryJournal(settings.journal_size, self.revisions, state),
            self.scheduler,
            self.ids,
            settings.webhook_timeout,
        )
        self.events.subscribe(self.webhooks.on_event)
        self._clock_runner: asyncio.Task[None] | None = None
        # What the state file held at start-up, for the banner (None: state in memory only).
        self.restored: str | None = None
        if isinstance(state, SqliteState):
            parts = Components(
                self.clock,
                self.scheduler,
                self.ids,
                self.revisions,
                self.tokens,
                self.scenarios,
                self.providers,
                self.verifications,
                self.discoveries,
                self.webhooks,
            )
            try:
                self.restored = StateKeeper(state, parts).start()
            except BaseException:
                state.close(flush=False)
                raise

    async def start(self) -> None:
        self._clock_runner = asyncio.create_task(self.scheduler.run_forever(), name="sohar-mock-clock")
        await self.webhooks.start()

    async def stop(self) -> None:
        undelivered, in_flight = self.webhooks.journal.unfinished()
        runner, self._clock_runner = self._clock_runner, None
        if runner is not None:
            runner.cancel()
        await self.scheduler.cancel_started()
        await self.webhooks.stop()
        if runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        if isinstance(self.state, SqliteState):
            self.state.close()
            if undelivered:
                log.info("stopped; %s kept in %s", _undelivered_phrase(undelivered, in_flight), self.state.path)
        elif undelivered:
            # State lives in memory only: say what a stop throws away instead of dropping it silently.
            log.warning("stopped with %s", _undelivered_phrase(undelivered, in_flight))

    def reset(self) -> None:
        """Back to the state right after start-up (tokens already issued stay valid)."""
        self.scheduler.clear()
        self.store.clear()
        self.discovery_store.clear()
        self.journal.clear()
        self.clock.reset()
        self.ids.reseed()
        self.scenarios.reset()
        self.partner.reset()
        self.providers.reset()
        self.webhooks.reset()
        self.reset_revision = self.revisions.next()
        self.state.clear()
        self.state.flush()


def _undelivered_phrase(undelivered: int, in_flight: int) -> str:
    phrase = f"{undelivered} webhook message{'' if undelivered == 1 else 's'} undelivered"
    if in_flight:
        phrase += f" ({in_flight} attempt{'' if in_flight == 1 else 's'} cancelled in flight)"
    return phrase
