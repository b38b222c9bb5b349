"""The scenario files a running mock has loaded, and their combination that decides outcomes."""

from __future__ import annotations

from collections.abc import Sequence

from .model import ScenarioFile
from .resolver import ScenarioSet


class ScenarioRegistry:
    """Start-up files stay until the process ends; files loaded at run time go at `reset`."""

    def __init__(self, startup: Sequence[ScenarioFile]) -> None:
        self.startup: tuple[ScenarioFile, ...] = tuple(startup)
        self.runtime: tuple[ScenarioFile, ...] = ()
        self.current = ScenarioSet(self.startup)

    def add(self, scenario: ScenarioFile) -> None:
        """Load a file at run time; its rules go before the startup ones so they win."""
        runtime = (*self.runtime, scenario)
        # Built before anything changes, so a file with a dangling reference leaves all as it was.
        self.current = ScenarioSet([*self.startup, *runtime], rule_files=[*reversed(runtime), *self.startup])
        self.runtime = runtime

    def reset(self) -> None:
        self.runtime = ()
        self.current = ScenarioSet(self.startup)
