"""The scenario files a running mock has loaded, and their combination that decides outcomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .loader import Section
from .model import ScenarioFile
from .resolver import ScenarioSet


class ScenarioRegistry:
    """Start-up files stay until the process ends; files loaded at run time go at `reset`.

    Each section (another context's key in the files, e.g. the partner roster) is combined over
    the same files, in load order; `section(key)` is the combination in force.
    """

    def __init__(self, startup: Sequence[ScenarioFile], sections: Sequence[Section] = ()) -> None:
        self.sections = tuple(sections)
        self.startup: tuple[ScenarioFile, ...] = tuple(startup)
        self.runtime: tuple[ScenarioFile, ...] = ()
        self.current = ScenarioSet(self.startup)
        self._startup_combined = self._combine(self.startup)
        self._combined = self._startup_combined
        # Told of each file loaded at run time (a state file keeps them).
        self.on_add: list[Callable[[ScenarioFile, int], None]] = []

    def _combine(self, files: Sequence[ScenarioFile]) -> dict[str, Any]:
        return {s.key: s.combine([f.sections[s.key] for f in files if s.key in f.sections]) for s in self.sections}

    def section(self, key: str) -> Any:
        return self._combined[key]

    def add(self, scenario: ScenarioFile) -> None:
        """Load a file at run time; its rules go before the startup ones so they win."""
        runtime = (*self.runtime, scenario)
        # Built before anything changes, so a file with a dangling reference leaves all as it was.
        current = ScenarioSet([*self.startup, *runtime], rule_files=[*reversed(runtime), *self.startup])
        combined = self._combine([*self.startup, *runtime])
        self.current, self._combined, self.runtime = current, combined, runtime
        for listener in self.on_add:
            listener(scenario, len(runtime))

    def reset(self) -> None:
        self.runtime = ()
        self.current = ScenarioSet(self.startup)
        self._combined = self._startup_combined
